//! Interop with the real OpenSSL: keys we write load there (plain and encrypted),
//! keys it makes load here, and signatures cross in both directions.

use std::path::Path;

use identity_core::KeyError;
use identity_core::keys::{
    Passphrase, SignatureAlgorithm, Signer, SigningKey, SystemRandom, VerifyingKey,
};

use super::support::{openssl, run};

const PASS: &str = "đúng mật khẩu 42";

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

/// The public key OpenSSL derives from a private key file.
fn openssl_public(key_path: &str, passphrase: Option<&str>) -> VerifyingKey {
    let mut cmd = openssl(&["pkey", "-in", key_path, "-pubout"]);
    if let Some(p) = passphrase {
        cmd.args(["-passin", &format!("pass:{p}")]);
    }
    VerifyingKey::from_spki_pem(&run(&mut cmd)).unwrap()
}

fn algorithms() -> [(SignatureAlgorithm, &'static [&'static str]); 4] {
    [
        (
            SignatureAlgorithm::EcdsaP256Sha256,
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
        (
            SignatureAlgorithm::EcdsaP384Sha384,
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        ),
        (SignatureAlgorithm::Ed25519, &["-algorithm", "ED25519"]),
        (
            SignatureAlgorithm::RsaPkcs1Sha256,
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        ),
    ]
}

#[test]
fn our_keys_load_in_openssl() {
    let rng = SystemRandom::new();
    let dir = tempfile::tempdir().unwrap();
    for (alg, _) in algorithms() {
        let key = SigningKey::generate(alg, &rng).unwrap();
        let plain = write(dir.path(), "plain.pem", key.secret_pkcs8_pem().as_bytes());
        assert_eq!(
            &openssl_public(&plain, None),
            key.verifying_key(),
            "{alg} plain"
        );
        let plain_der = write(dir.path(), "plain.der", key.secret_pkcs8_der().as_slice());
        let mut cmd = openssl(&["pkey", "-inform", "DER", "-in", &plain_der, "-pubout"]);
        assert_eq!(
            &VerifyingKey::from_spki_pem(&run(&mut cmd)).unwrap(),
            key.verifying_key()
        );

        let pass = Passphrase::new(PASS.into());
        let encrypted = write(
            dir.path(),
            "enc.pem",
            key.to_encrypted_pkcs8_pem(&pass, &rng).unwrap(),
        );
        assert_eq!(
            &openssl_public(&encrypted, Some(PASS)),
            key.verifying_key(),
            "{alg} encrypted"
        );
        // OpenSSL describes what we wrote: PBES2, PBKDF2 with SHA-256, AES-256-CBC.
        let asn1 = run(&mut openssl(&["asn1parse", "-in", &encrypted]));
        for part in ["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"] {
            assert!(asn1.contains(part), "{part} missing from\n{asn1}");
        }
        // And refuses it with the wrong passphrase.
        let wrong = openssl(&["pkey", "-in", &encrypted, "-passin", "pass:wrong", "-noout"])
            .output()
            .unwrap();
        assert!(!wrong.status.success());

        // Our public key file reads the same in OpenSSL.
        let spki = write(dir.path(), "pub.pem", key.verifying_key().to_spki_pem());
        let mut cmd = openssl(&["pkey", "-pubin", "-in", &spki, "-outform", "DER"]);
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, key.verifying_key().to_spki_der());
    }
}

#[test]
fn openssl_keys_load_here() {
    let dir = tempfile::tempdir().unwrap();
    for (alg, genpkey) in algorithms() {
        let plain = dir.path().join("plain.pem").display().to_string();
        let mut cmd = openssl(&["genpkey"]);
        cmd.args(genpkey).args(["-out", &plain]);
        run(&mut cmd);
        let key =
            SigningKey::from_pkcs8_pem(&std::fs::read_to_string(&plain).unwrap(), None).unwrap();
        assert_eq!(key.algorithm(), alg);
        assert_eq!(key.verifying_key(), &openssl_public(&plain, None), "{alg}");

        // Encrypted the way `genpkey -aes256` does (PBKDF2), and with scrypt.
        let encrypted = dir.path().join("enc.pem").display().to_string();
        let mut cmd = openssl(&["genpkey"]);
        cmd.args(genpkey).args([
            "-aes256",
            "-pass",
            &format!("pass:{PASS}"),
            "-out",
            &encrypted,
        ]);
        run(&mut cmd);
        let pem = std::fs::read_to_string(&encrypted).unwrap();
        assert!(SigningKey::pem_is_encrypted(&pem));
        assert_eq!(
            SigningKey::from_pkcs8_pem(&pem, None).unwrap_err(),
            KeyError::PassphraseRequired
        );
        let wrong = SigningKey::from_pkcs8_pem(&pem, Some(&Passphrase::new("wrong".into())));
        assert_eq!(wrong.unwrap_err(), KeyError::Decrypt);
        let key = SigningKey::from_pkcs8_pem(&pem, Some(&Passphrase::new(PASS.into()))).unwrap();
        assert_eq!(
            key.verifying_key(),
            &openssl_public(&encrypted, Some(PASS)),
            "{alg} encrypted"
        );

        let scrypt = dir.path().join("scrypt.pem").display().to_string();
        run(&mut openssl(&[
            "pkcs8",
            "-topk8",
            "-in",
            &plain,
            "-scrypt",
            "-passout",
            &format!("pass:{PASS}"),
            "-out",
            &scrypt,
        ]));
        let pem = std::fs::read_to_string(&scrypt).unwrap();
        let key = SigningKey::from_pkcs8_pem(&pem, Some(&Passphrase::new(PASS.into()))).unwrap();
        assert_eq!(
            key.verifying_key(),
            &openssl_public(&plain, None),
            "{alg} scrypt"
        );
    }
}

#[test]
fn signatures_cross_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let message = "Quyết định số 42/QĐ-UBND".as_bytes();
    let msg = write(dir.path(), "msg.txt", message);
    for (alg, genpkey) in algorithms() {
        // OpenSSL signs, we verify.
        let key_path = dir.path().join("k.pem").display().to_string();
        let mut cmd = openssl(&["genpkey"]);
        cmd.args(genpkey).args(["-out", &key_path]);
        run(&mut cmd);
        let sig_path = dir.path().join("sig.bin").display().to_string();
        let digest = if alg == SignatureAlgorithm::EcdsaP384Sha384 {
            "-sha384"
        } else {
            "-sha256"
        };
        match alg {
            SignatureAlgorithm::Ed25519 => run(&mut openssl(&[
                "pkeyutl", "-sign", "-rawin", "-inkey", &key_path, "-in", &msg, "-out", &sig_path,
            ])),
            _ => run(&mut openssl(&[
                "dgst", digest, "-sign", &key_path, "-out", &sig_path, &msg,
            ])),
        };
        let sig = std::fs::read(&sig_path).unwrap();
        let public = openssl_public(&key_path, None);
        public.verify_der(message, &sig).unwrap();
        assert!(
            public.verify_der(b"another message", &sig).is_err(),
            "{alg}"
        );

        // We sign, OpenSSL verifies (DER for ECDSA; RSA is PKCS#1 v1.5 for both).
        let ours = SigningKey::generate(alg, &SystemRandom::new()).unwrap();
        let sig = ours.sign(message).unwrap().to_der().unwrap();
        let sig_path = write(dir.path(), "ours.sig", &sig);
        let pub_path = write(dir.path(), "ours.pub", ours.verifying_key().to_spki_pem());
        let verify = |input: &str| {
            let mut cmd = match alg {
                SignatureAlgorithm::Ed25519 => openssl(&[
                    "pkeyutl", "-verify", "-pubin", "-inkey", &pub_path, "-rawin", "-in", input,
                    "-sigfile", &sig_path,
                ]),
                _ => openssl(&[
                    "dgst",
                    digest,
                    "-verify",
                    &pub_path,
                    "-signature",
                    &sig_path,
                    input,
                ]),
            };
            cmd.output().unwrap().status.success()
        };
        assert!(verify(&msg), "OpenSSL refused our {alg} signature");
        let other = write(dir.path(), "other.txt", b"Quyet dinh so 43");
        assert!(
            !verify(&other),
            "OpenSSL accepted our {alg} signature on another message"
        );
    }
}
