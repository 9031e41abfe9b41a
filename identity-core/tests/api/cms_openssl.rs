//! CMS interop with the real OpenSSL, both ways: OpenSSL verifies our CAdES
//! signatures, we verify what `openssl cms -sign` makes, and tampering is caught.

use std::path::Path;

use identity_core::cms::{self, SignOptions, VerifyOptions};
use identity_core::keys::{SignatureAlgorithm, SigningKey, SystemRandom};
use identity_core::report::{Indication, SubIndication};
use identity_core::x509::Certificate;

use super::support::{openssl, run};

fn now() -> i64 {
    // The OpenSSL-made certificates start now; signatures are judged a minute later.
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_secs()).unwrap() + 60
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// A root, a CA and a signer certificate for `key_args` (an `openssl genpkey`
/// algorithm), all made by OpenSSL in `dir`.
fn pki(dir: &Path, key_args: &[&str]) {
    named_pki(dir, key_args, "Test");
}

/// As [`pki`], with `org` in every name (two PKIs must not share names).
fn named_pki(dir: &Path, key_args: &[&str], org: &str) {
    let p = |n: &str| path(dir, n);
    let genkey = |out: &str, args: &[&str]| {
        let mut cmd = openssl(&["genpkey"]);
        cmd.args(args).args(["-out", out]);
        run(&mut cmd);
    };
    let ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
    genkey(&p("root.key"), &ec);
    genkey(&p("ca.key"), &ec);
    genkey(&p("signer.key"), key_args);
    run(&mut openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        &p("root.key"),
        "-days",
        "30",
        "-subj",
        &format!("/C=VN/O={org}/CN={org} Root"),
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        &p("root.pem"),
    ]));
    std::fs::write(
        dir.join("ca.ext"),
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )
    .unwrap();
    run(&mut openssl(&[
        "req",
        "-new",
        "-key",
        &p("ca.key"),
        "-subj",
        &format!("/C=VN/O={org}/CN={org} CA"),
        "-out",
        &p("ca.csr"),
    ]));
    run(&mut openssl(&[
        "x509",
        "-req",
        "-in",
        &p("ca.csr"),
        "-CA",
        &p("root.pem"),
        "-CAkey",
        &p("root.key"),
        "-set_serial",
        "2",
        "-days",
        "30",
        "-extfile",
        &p("ca.ext"),
        "-out",
        &p("ca.pem"),
    ]));
    std::fs::write(
        dir.join("signer.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=1.3.6.1.5.5.7.3.36,emailProtection\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )
    .unwrap();
    run(&mut openssl(&[
        "req",
        "-new",
        "-key",
        &p("signer.key"),
        "-utf8",
        "-subj",
        "/C=VN/O=Bộ Tư pháp/UID=CCCD:001090012345/CN=Nguyễn Văn An",
        "-out",
        &p("signer.csr"),
    ]));
    run(&mut openssl(&[
        "x509",
        "-req",
        "-in",
        &p("signer.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-set_serial",
        "3",
        "-days",
        "30",
        "-extfile",
        &p("signer.ext"),
        "-out",
        &p("signer.pem"),
    ]));
}

/// A P-256 PKI made by OpenSSL in `dir`: the signer's key and certificate (the
/// chain is in ca.pem, the root in root.pem).
fn p256_signer(dir: &Path) -> (SigningKey, Certificate) {
    pki(
        dir,
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let key = SigningKey::from_pkcs8_pem(
        &std::fs::read_to_string(dir.join("signer.key")).unwrap(),
        None,
    )
    .unwrap();
    (key, certs(dir, "signer.pem").remove(0))
}

fn certs(dir: &Path, name: &str) -> Vec<Certificate> {
    Certificate::parse_all(&std::fs::read(dir.join(name)).unwrap()).unwrap()
}

#[test]
fn openssl_verifies_our_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, cert) = p256_signer(d);
    let chain = certs(d, "ca.pem");
    let document = "Quyết định số 42/QĐ-UBND về việc phê duyệt".repeat(100);
    std::fs::write(d.join("doc.txt"), &document).unwrap();
    for attached in [false, true] {
        let options = SignOptions {
            signing_time: now(),
            attached,
        };
        let sig = cms::sign(document.as_bytes(), &key, &cert, &chain, &options).unwrap();
        std::fs::write(d.join("doc.p7s"), &sig).unwrap();
        let (sig_path, content, root, out) = (
            path(d, "doc.p7s"),
            path(d, "doc.txt"),
            path(d, "root.pem"),
            path(d, "out.txt"),
        );
        let mut args = vec![
            "cms", "-verify", "-binary", "-inform", "DER", "-in", &sig_path,
        ];
        if !attached {
            args.extend(["-content", content.as_str()]);
        }
        args.extend(["-CAfile", root.as_str(), "-out", out.as_str()]);
        let o = openssl(&args).output().unwrap();
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success() && said.contains("Verification successful"),
            "attached={attached}: {said}"
        );
        assert_eq!(
            std::fs::read_to_string(d.join("out.txt")).unwrap(),
            document
        );
        // OpenSSL sees the CAdES attributes.
        let printed = run(&mut openssl(&[
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            &path(d, "doc.p7s"),
        ]));
        for attr in [
            "contentType",
            "messageDigest",
            "signingTime",
            "id-smime-aa-signingCertificateV2",
        ] {
            assert!(printed.contains(attr), "{attr} missing:\n{printed}");
        }
        // And refuses our signature over another document.
        if !attached {
            std::fs::write(d.join("other.txt"), "Quyết định số 43").unwrap();
            let o = openssl(&[
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                &path(d, "doc.p7s"),
                "-content",
                &path(d, "other.txt"),
                "-CAfile",
                &path(d, "root.pem"),
            ])
            .output()
            .unwrap();
            assert!(!o.status.success(), "OpenSSL accepted a changed document");
        }
    }
}

#[test]
fn we_verify_openssl_signatures_and_catch_tampering() {
    for (label, key_args) in [
        (
            "P-256",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
        ),
        (
            "RSA-2048",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        pki(d, key_args);
        let document =
            b"Gi\xe1\xba\xa5y ph\xc3\xa9p x\xc3\xa2y d\xe1\xbb\xb1ng s\xe1\xbb\x91 7".repeat(50);
        std::fs::write(d.join("doc.bin"), &document).unwrap();
        let anchors = certs(d, "root.pem");
        for (cades, attached) in [(true, false), (true, true), (false, false), (false, true)] {
            let what = format!("{label} cades={cades} attached={attached}");
            let mut cmd = openssl(&[
                "cms",
                "-sign",
                "-binary",
                "-md",
                "sha256",
                "-outform",
                "DER",
                "-in",
                &path(d, "doc.bin"),
                "-signer",
                &path(d, "signer.pem"),
                "-inkey",
                &path(d, "signer.key"),
                "-certfile",
                &path(d, "ca.pem"),
                "-out",
                &path(d, "doc.p7s"),
            ]);
            if cades {
                cmd.arg("-cades");
            }
            if attached {
                cmd.arg("-nodetach");
            }
            run(&mut cmd);
            let sig = std::fs::read(d.join("doc.p7s")).unwrap();
            let detached = (!attached).then_some(document.as_slice());
            let reports =
                cms::verify(&sig, detached, &anchors, &[], &VerifyOptions::at(now())).unwrap();
            assert_eq!(reports.len(), 1, "{what}");
            let r = &reports[0];
            assert_eq!(
                r.report.indication,
                Indication::TotalPassed,
                "{what}: {}",
                r.report
            );
            assert_eq!(r.name.as_deref(), Some("Nguyễn Văn An"), "{what}");
            assert_eq!(r.identifier.as_deref(), Some("CCCD:001090012345"), "{what}");

            if !attached {
                // One flipped byte in the document: the digest no longer matches.
                let mut changed = document.clone();
                changed[7] ^= 1;
                let r = &cms::verify(
                    &sig,
                    Some(&changed),
                    &anchors,
                    &[],
                    &VerifyOptions::at(now()),
                )
                .unwrap()[0];
                assert_eq!(
                    (r.report.indication, r.report.sub_indication),
                    (Indication::TotalFailed, Some(SubIndication::HashFailure)),
                    "{what}: {}",
                    r.report
                );
                // One flipped byte inside the signing-time attribute: the signature fails.
                let at = find_utc_time(&sig).expect("a UTCTime in the signed attributes");
                let mut forged = sig.clone();
                forged[at] = if forged[at] == b'1' { b'2' } else { b'1' };
                let r = &cms::verify(
                    &forged,
                    Some(&document),
                    &anchors,
                    &[],
                    &VerifyOptions::at(now()),
                )
                .unwrap()[0];
                assert_eq!(
                    (r.report.indication, r.report.sub_indication),
                    (
                        Indication::TotalFailed,
                        Some(SubIndication::SigCryptoFailure)
                    ),
                    "{what}: {}",
                    r.report
                );
            }
        }
    }
}

/// The position of the first digit of the last UTCTime (tag 0x17, 13 bytes) — the
/// signing time, inside the signed attributes.
fn find_utc_time(der: &[u8]) -> Option<usize> {
    der.windows(2)
        .rposition(|w| w == [0x17, 0x0d])
        .map(|i| i + 2 + 11)
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, cert) = p256_signer(d);
    let anchors = certs(d, "root.pem");
    // Not CMS, and a truncated signature.
    assert!(matches!(
        cms::verify(
            b"hello",
            Some(b"x"),
            &anchors,
            &[],
            &VerifyOptions::at(now())
        ),
        Err(identity_core::CmsError::Malformed { .. })
    ));
    let sig = cms::sign(
        b"doc",
        &key,
        &cert,
        &certs(d, "ca.pem"),
        &SignOptions::detached(now()),
    )
    .unwrap();
    assert!(
        cms::verify(
            &sig[..sig.len() / 2],
            Some(b"doc"),
            &anchors,
            &[],
            &VerifyOptions::at(now())
        )
        .is_err()
    );
    // A detached signature without its document.
    assert_eq!(
        cms::verify(&sig, None, &anchors, &[], &VerifyOptions::at(now())).unwrap_err(),
        identity_core::CmsError::ContentMissing
    );
    // A certificate that is not the key's: refused before signing.
    let other =
        SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, &SystemRandom::new()).unwrap();
    assert!(matches!(
        cms::sign(b"doc", &other, &cert, &[], &SignOptions::detached(now())),
        Err(identity_core::CmsError::KeyMismatch { .. })
    ));
    // A signing time in the future is refused.
    let future = cms::sign(
        b"doc",
        &key,
        &cert,
        &[],
        &SignOptions::detached(now() + 86_400),
    )
    .unwrap();
    let r = &cms::verify(
        &future,
        Some(b"doc"),
        &anchors,
        &certs(d, "ca.pem"),
        &VerifyOptions::at(now()),
    )
    .unwrap()[0];
    assert_eq!(
        r.report.sub_indication,
        Some(SubIndication::FormatFailure),
        "{}",
        r.report
    );
    // Forty days on the certificate has expired: valid when the signer says it signed,
    // but nothing proves that, so INDETERMINATE, not TOTAL-PASSED.
    let later = &cms::verify(
        &sig,
        Some(b"doc"),
        &anchors,
        &[],
        &VerifyOptions::at(now() + 40 * 86_400),
    )
    .unwrap()[0];
    assert_eq!(
        later.report.sub_indication,
        Some(SubIndication::OutOfBoundsNoPoe),
        "{}",
        later.report
    );
    assert!(
        later.report.message.contains("nothing proves"),
        "{}",
        later.report
    );
    // An attached signature checked against another document; co-signing the wrong one.
    let attached = cms::sign(
        b"doc",
        &key,
        &cert,
        &[],
        &SignOptions {
            signing_time: now(),
            attached: true,
        },
    )
    .unwrap();
    assert_eq!(
        cms::verify(
            &attached,
            Some(b"other"),
            &anchors,
            &[],
            &VerifyOptions::at(now())
        )
        .unwrap_err(),
        identity_core::CmsError::ContentMismatch
    );
    assert!(
        cms::verify(
            &attached,
            Some(b"doc"),
            &anchors,
            &certs(d, "ca.pem"),
            &VerifyOptions::at(now())
        )
        .unwrap()[0]
            .report
            .passed()
    );
    assert_eq!(
        cms::cosign(&sig, Some(b"other"), &key, &cert, &[], now()).unwrap_err(),
        identity_core::CmsError::ContentMismatch
    );

    // Against an unrelated trust anchor: no chain.
    let unrelated =
        Certificate::parse_all(&std::fs::read(super::support::data_path("cms/root.pem")).unwrap())
            .unwrap();
    let r = &cms::verify(
        &sig,
        Some(b"doc"),
        &unrelated,
        &[],
        &VerifyOptions::at(now()),
    )
    .unwrap()[0];
    assert_eq!(
        r.report.sub_indication,
        Some(SubIndication::NoCertificateChainFound),
        "{}",
        r.report
    );
}

#[test]
fn cosigned_documents_report_each_signer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, cert) = p256_signer(d);
    let chain = certs(d, "ca.pem");
    let anchors = certs(d, "root.pem");
    let first = cms::sign(
        b"joint decision",
        &key,
        &cert,
        &chain,
        &SignOptions::detached(now()),
    )
    .unwrap();
    // A second signer whose certificate no anchor vouches for.
    let stranger_dir = tempfile::tempdir().unwrap();
    named_pki(
        stranger_dir.path(),
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "Other",
    );
    let key2 = SigningKey::from_pkcs8_pem(
        &std::fs::read_to_string(stranger_dir.path().join("signer.key")).unwrap(),
        None,
    )
    .unwrap();
    let cert2 = certs(stranger_dir.path(), "signer.pem").remove(0);
    let both = cms::cosign(
        &first,
        Some(b"joint decision"),
        &key2,
        &cert2,
        &certs(stranger_dir.path(), "ca.pem"),
        now(),
    )
    .unwrap();
    let reports = cms::verify(
        &both,
        Some(b"joint decision"),
        &anchors,
        &[],
        &VerifyOptions::at(now()),
    )
    .unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(
        reports.iter().filter(|r| r.report.passed()).count(),
        1,
        "{reports:?}"
    );
    // OpenSSL checks both signatures' math and our first signer's chain.
    std::fs::write(d.join("both.p7s"), &both).unwrap();
    std::fs::write(d.join("doc"), b"joint decision").unwrap();
    std::fs::write(
        d.join("roots.pem"),
        [
            std::fs::read(d.join("root.pem")).unwrap(),
            std::fs::read(stranger_dir.path().join("root.pem")).unwrap(),
        ]
        .concat(),
    )
    .unwrap();
    let o = openssl(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        &path(d, "both.p7s"),
        "-content",
        &path(d, "doc"),
        "-CAfile",
        &path(d, "roots.pem"),
    ])
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
