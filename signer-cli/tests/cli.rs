//! End-to-end runs of the `signer` binary in temporary folders.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

use std::path::Path;
use std::process::{Command, Output};

fn signer(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signer"))
        .current_dir(dir)
        .env("SIGNER_PASSPHRASE", "mật khẩu thử")
        .args(args)
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn keygen_sign_verify_and_tamper() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (alg, name) in [("p256", "ec"), ("ed25519", "ed")] {
        let key = format!("{name}.pem");
        let o = signer(
            d,
            &["keygen", "--encrypt", "--algorithm", alg, "--out", &key],
        );
        assert_eq!(code(&o), 0, "{}", text(&o));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.join(&key))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "private key must be owner-only");
            let mode = std::fs::metadata(d.join(format!("{name}.pub.pem")))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o644);
        }
        let pem = std::fs::read_to_string(d.join(&key)).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));

        // OpenSSL reads the encrypted key with the passphrase and derives the same public key.
        let openssl = Command::new("openssl")
            .args([
                "pkey",
                "-in",
                &key,
                "-passin",
                "env:SIGNER_PASSPHRASE",
                "-pubout",
            ])
            .env("SIGNER_PASSPHRASE", "mật khẩu thử")
            .current_dir(d)
            .output()
            .unwrap();
        assert!(openssl.status.success(), "{}", text(&openssl));
        assert_eq!(
            String::from_utf8(openssl.stdout).unwrap(),
            std::fs::read_to_string(d.join(format!("{name}.pub.pem"))).unwrap()
        );

        std::fs::write(d.join("decision.txt"), "Quyết định 42/QĐ-UBND").unwrap();
        let o = signer(
            d,
            &[
                "jws",
                "sign",
                "--key",
                &key,
                "decision.txt",
                "--out",
                "decision.jws",
                "--force",
            ],
        );
        assert_eq!(code(&o), 0, "{}", text(&o));
        let o = signer(
            d,
            &[
                "--json",
                "jws",
                "verify",
                "--public",
                &format!("{name}.pub.pem"),
                "decision.jws",
                "--payload-out",
                "out.txt",
                "--force",
            ],
        );
        assert_eq!(code(&o), 0, "{}", text(&o));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(report["valid"], true);
        assert_eq!(
            std::fs::read_to_string(d.join("out.txt")).unwrap(),
            "Quyết định 42/QĐ-UBND"
        );

        // The same check against a JWK of the key.
        let o = signer(d, &["pubkey", "--key", &key, "--format", "jwk"]);
        assert_eq!(code(&o), 0, "{}", text(&o));
        std::fs::write(d.join("key.jwk"), &o.stdout).unwrap();
        let o = signer(d, &["jws", "verify", "--public", "key.jwk", "decision.jws"]);
        assert_eq!(code(&o), 0, "{}", text(&o));

        // A tampered payload is INVALID, exit 1.
        let token = std::fs::read_to_string(d.join("decision.jws")).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].replacen(|c: char| c.is_ascii_alphabetic(), "Z", 1);
        std::fs::write(d.join("tampered.jws"), parts.join(".")).unwrap();
        let o = signer(
            d,
            &[
                "jws",
                "verify",
                "--public",
                &format!("{name}.pub.pem"),
                "tampered.jws",
            ],
        );
        assert_eq!(code(&o), 1, "{}", text(&o));
        assert!(text(&o).starts_with("INVALID"), "{}", text(&o));
    }
}

#[test]
fn no_matching_key_is_indeterminate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for key in ["a.pem", "b.pem"] {
        let o = signer(d, &["keygen", "--out", key]);
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
    std::fs::write(d.join("doc.txt"), "x").unwrap();
    let o = signer(d, &["jws", "sign", "--key", "a.pem", "doc.txt"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // A JWK Set holding only b's key: a's kid is not there, so nothing can be said.
    let o = signer(d, &["--json", "pubkey", "--key", "b.pem"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let b: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let set = serde_json::json!({"keys": [b["jwk"]]});
    std::fs::write(d.join("b.jwks"), set.to_string()).unwrap();
    let o = signer(d, &["jws", "verify", "--public", "b.jwks", "doc.txt.jws"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).starts_with("INDETERMINATE"), "{}", text(&o));
    // With b's PEM key (no kid to go by) the signature is simply invalid.
    let o = signer(
        d,
        &["jws", "verify", "--public", "b.pub.pem", "doc.txt.jws"],
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A missing key file names the file.
    let o = signer(d, &["jws", "sign", "--key", "nope.pem", "x.txt"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("nope.pem"), "{}", text(&o));

    // A certificate where a key should be: the label is named.
    std::fs::write(
        d.join("cert.pem"),
        "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::write(d.join("x.txt"), "x").unwrap();
    let o = signer(d, &["jws", "sign", "--key", "cert.pem", "x.txt"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("CERTIFICATE"), "{}", text(&o));
    assert!(!d.join("x.txt.jws").exists());

    // keygen refuses to overwrite and leaves the old file alone.
    std::fs::write(d.join("k.pem"), "keep me").unwrap();
    let o = signer(d, &["keygen", "--out", "k.pem"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(d.join("k.pem")).unwrap(), "keep me");
    assert!(!d.join("k.pub.pem").exists());

    // The private and public key may not be the same file.
    let o = signer(
        d,
        &[
            "keygen",
            "--out",
            "same.pem",
            "--public-out",
            "same.pem",
            "--force",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("must differ"), "{}", text(&o));
    assert!(!d.join("same.pem").exists());

    // The wrong passphrase says so.
    let o = signer(d, &["keygen", "--encrypt", "--out", "real.pem"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_signer"))
        .current_dir(d)
        .env("SIGNER_PASSPHRASE", "wrong")
        .args(["pubkey", "--key", "real.pem"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("wrong passphrase"), "{}", text(&o));

    // Usage errors exit 2.
    let o = signer(d, &["jws", "verify"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn demo_runs() {
    let dir = tempfile::tempdir().unwrap();
    let o = signer(dir.path(), &["--json", "demo"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["jwk"]["kty"], "EC");
}

#[test]
fn login_and_enroll_refuse_what_would_leak_or_cannot_work() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let home = home.to_str().unwrap();
    // Tokens never go to an issuer in clear text (loopback aside).
    let out = signer(
        dir.path(),
        &[
            "login",
            "--issuer",
            "http://id.example.gov.vn",
            "--home",
            home,
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(text(&out).contains("not https"), "{}", text(&out));
    // Enrolling before logging in says what to do, and makes no key.
    let out = signer(dir.path(), &["enroll", "--home", home]);
    assert_eq!(code(&out), 2);
    assert!(text(&out).contains("signer login"), "{}", text(&out));
    assert!(!Path::new(home).join("key.pem").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(home).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "signer's folder is the owner's alone");
    }
}
