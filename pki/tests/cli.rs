//! End-to-end runs of the `pki` binary in temporary directories, with OpenSSL as
//! the other party.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

const PASSPHRASE: &str = "một cụm mật khẩu đủ dài";

fn pki(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pki"))
        .current_dir(dir)
        .env("PKI_PASSPHRASE", PASSPHRASE)
        .env_remove("PKI_DIR")
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A command that must succeed; its output, or the failure with what it said.
fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}

/// OpenSSL's reading of an OCSP response to `req.der`, checked against the root
/// with the issuing CA as the responder's issuer.
fn openssl_ocsp_check(dir: &Path, response: &str) -> String {
    text(&openssl(
        dir,
        &[
            "ocsp",
            "-reqin",
            "req.der",
            "-respin",
            response,
            "-CAfile",
            "ca/root/cert.pem",
            "-verify_other",
            "ca/official-ca/cert.pem",
            "-resp_text",
        ],
    ))
}

fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Every file under `root` with its contents, to prove a failed command wrote nothing.
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.display().to_string(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

const OFFICIAL: &str = r#"{"official": {"citizen": {"full_name": "Lê Thị Mai", "personal_number": "048195000321", "birth_date": "1995-03-08"}, "agency": "UBND TP. Đà Nẵng", "position": "Chuyên viên"}}"#;

fn init(d: &Path) {
    ok(pki(
        d,
        &[
            "init",
            "ca",
            "--publish-url",
            "http://pki.example.gov.vn",
            "--ocsp-url",
            "http://pki.example.gov.vn/ocsp",
        ],
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for ca in [
            "root",
            "citizen-ca",
            "business-ca",
            "official-ca",
            "infrastructure-ca",
        ] {
            let mode = std::fs::metadata(d.join("ca").join(ca).join("key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{ca} key");
            let key = std::fs::read_to_string(d.join("ca").join(ca).join("key.pem")).unwrap();
            assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        }
    }
    // OpenSSL opens the root key with the passphrase: P-384.
    let o = openssl(
        d,
        &[
            "pkey",
            "-in",
            "ca/root/key.pem",
            "-passin",
            &format!("pass:{PASSPHRASE}"),
            "-noout",
            "-text",
        ],
    );
    assert!(
        o.status.success() && text(&o).contains("NIST CURVE: P-384"),
        "{}",
        text(&o)
    );
}

#[test]
fn ceremony_issue_revoke_crl_ocsp_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init(d);
    assert!(
        !pki(d, &["init", "ca"]).status.success(),
        "init must refuse an existing CA directory"
    );

    ok(openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-subj",
            "/CN=whatever the requester says",
            "-out",
            "leaf.csr",
        ],
    ));
    std::fs::write(d.join("official.json"), OFFICIAL).unwrap();
    ok(pki(
        d,
        &[
            "issue",
            "--dir",
            "ca",
            "--profile",
            "official-signing",
            "--csr",
            "leaf.csr",
            "--identity",
            "official.json",
            "--out",
            "leaf.pem",
        ],
    ));

    // OpenSSL accepts the chain, strictly.
    ok(openssl(
        d,
        &[
            "verify",
            "-x509_strict",
            "-CAfile",
            "ca/root/cert.pem",
            "-untrusted",
            "ca/official-ca/cert.pem",
            "leaf.pem",
        ],
    ));
    // The subject comes from the identity, not the request.
    let o = openssl(
        d,
        &[
            "x509",
            "-in",
            "leaf.pem",
            "-noout",
            "-subject",
            "-nameopt",
            "RFC2253,utf8,-esc_msb",
        ],
    );
    let subject = text(&o);
    assert!(
        subject.contains("CN=Lê Thị Mai")
            && subject.contains("UID=CCCD:048195000321")
            && !subject.contains("whatever"),
        "{subject}"
    );

    // pki verify: exit 0 and a report; --json for machines.
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--trust",
            "ca/root/cert.pem",
            "--intermediates",
            "ca/official-ca/cert.pem",
            "--purpose",
            "document-signing",
        ];
        args.extend_from_slice(extra);
        args.push("leaf.pem");
        pki(d, &args)
    };
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).starts_with("TOTAL-PASSED"), "{}", text(&o));
    let o = verify(&["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["indication"], "TOTAL-PASSED");
    assert_eq!(report["path"].as_array().unwrap().len(), 3);
    // For a purpose the certificate lacks: INDETERMINATE, exit 2.
    let o = pki(
        d,
        &[
            "verify",
            "--trust",
            "ca/root/cert.pem",
            "--intermediates",
            "ca/official-ca/cert.pem",
            "--purpose",
            "server-auth",
            "--dns-name",
            "x.example",
            "leaf.pem",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("CHAIN_CONSTRAINTS_FAILURE"),
        "{}",
        text(&o)
    );

    // OCSP, good: OpenSSL's request, our answer, OpenSSL's check, our validator.
    ok(openssl(
        d,
        &[
            "ocsp",
            "-issuer",
            "ca/official-ca/cert.pem",
            "-cert",
            "leaf.pem",
            "-reqout",
            "req.der",
        ],
    ));
    ok(pki(
        d,
        &[
            "ocsp-respond",
            "--dir",
            "ca",
            "req.der",
            "--out",
            "good.der",
        ],
    ));
    let said = openssl_ocsp_check(d, "good.der");
    assert!(
        said.contains("Response verify OK") && said.contains("Cert Status: good"),
        "{said}"
    );
    ok(pki(
        d,
        &["crl", "--dir", "ca", "--ca", "root", "--out", "root.crl"],
    ));
    let o = verify(&["--ocsp", "good.der", "--crl", "root.crl"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Revoke; the CRL and OCSP both say so, to OpenSSL and to us.
    let serial = text(&openssl(
        d,
        &["x509", "-in", "leaf.pem", "-noout", "-serial"],
    ))
    .trim()
    .trim_start_matches("serial=")
    .to_owned();
    ok(pki(
        d,
        &[
            "revoke",
            "--dir",
            "ca",
            &serial,
            "--reason",
            "keyCompromise",
        ],
    ));
    ok(pki(
        d,
        &[
            "crl",
            "--dir",
            "ca",
            "--ca",
            "official-ca",
            "--out",
            "official.crl",
        ],
    ));
    let o = openssl(
        d,
        &[
            "crl",
            "-in",
            "official.crl",
            "-CAfile",
            "ca/official-ca/cert.pem",
            "-noout",
            "-verify",
        ],
    );
    assert!(text(&o).contains("verify OK"), "{}", text(&o));
    let o = openssl(
        d,
        &[
            "verify",
            "-crl_check_all",
            "-CAfile",
            "ca/root/cert.pem",
            "-untrusted",
            "ca/official-ca/cert.pem",
            "-CRLfile",
            "official.crl",
            "-CRLfile",
            "root.crl",
            "leaf.pem",
        ],
    );
    assert!(text(&o).contains("certificate revoked"), "{}", text(&o));
    let o = verify(&["--crl", "official.crl", "--crl", "root.crl"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("REVOKED_NO_POE"), "{}", text(&o));
    ok(pki(
        d,
        &[
            "ocsp-respond",
            "--dir",
            "ca",
            "req.der",
            "--out",
            "revoked.der",
        ],
    ));
    let said = openssl_ocsp_check(d, "revoked.der");
    assert!(said.contains("Cert Status: revoked"), "{said}");

    // A certificate OpenSSL made itself, outside the CA, fails: no path.
    ok(openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "self.key",
            "-subj",
            "/CN=self",
            "-out",
            "self.pem",
            "-days",
            "1",
        ],
    ));
    let o = pki(d, &["verify", "--trust", "ca/root/cert.pem", "self.pem"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("NO_CERTIFICATE_CHAIN_FOUND"),
        "{}",
        text(&o)
    );
}

#[test]
fn bad_input_is_one_clear_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init(d);
    std::fs::write(d.join("official.json"), OFFICIAL).unwrap();
    ok(openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "k.pem",
            "-subj",
            "/CN=x",
            "-out",
            "good.csr",
        ],
    ));
    let good = std::fs::read_to_string(d.join("good.csr")).unwrap();
    // A truncated PEM, malformed DER, and a request signed by another key.
    std::fs::write(d.join("truncated.csr"), &good[..good.len() - 40]).unwrap();
    std::fs::write(d.join("garbage.csr"), b"\x30\x82\x01\x00not a request").unwrap();
    let o = openssl(
        d,
        &[
            "req", "-in", "good.csr", "-outform", "DER", "-out", "good.der",
        ],
    );
    assert!(o.status.success());
    let mut der = std::fs::read(d.join("good.der")).unwrap();
    let len = der.len();
    der[len - 10] ^= 0x55;
    std::fs::write(d.join("forged.csr"), &der).unwrap();
    std::fs::write(
        d.join("bad-identity.json"),
        OFFICIAL.replace("048195000321", "048195000O21"),
    )
    .unwrap();

    let before = snapshot(&d.join("ca"));
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "--profile",
                "official-signing",
                "--csr",
                "truncated.csr",
                "--identity",
                "official.json",
            ],
            "PEM",
        ),
        (
            &[
                "--profile",
                "official-signing",
                "--csr",
                "garbage.csr",
                "--identity",
                "official.json",
            ],
            "malformed",
        ),
        (
            &[
                "--profile",
                "official-signing",
                "--csr",
                "forged.csr",
                "--identity",
                "official.json",
            ],
            "proof of possession",
        ),
        (
            &[
                "--profile",
                "official-signer",
                "--csr",
                "good.csr",
                "--identity",
                "official.json",
            ],
            "unknown profile",
        ),
        (
            &[
                "--profile",
                "business",
                "--csr",
                "good.csr",
                "--identity",
                "official.json",
            ],
            "profile business",
        ),
        (
            &[
                "--profile",
                "official-signing",
                "--csr",
                "good.csr",
                "--identity",
                "bad-identity.json",
            ],
            "non-digit",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["issue", "--dir", "ca", "--out", "out.pem"];
        all.extend_from_slice(args);
        let o = pki(d, &all);
        let err = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{args:?}: one line expected: {err}"
        );
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
        assert!(!d.join("out.pem").exists(), "{args:?} wrote a certificate");
    }
    // Revoking an unknown serial or with an unknown reason changes nothing either.
    let o = pki(
        d,
        &[
            "revoke",
            "--dir",
            "ca",
            "abcdef",
            "--reason",
            "keyCompromise",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = pki(
        d,
        &["revoke", "--dir", "ca", "abcdef", "--reason", "stolen"],
    );
    assert!(
        text(&o).contains("unknown revocation reason"),
        "{}",
        text(&o)
    );
    // The wrong passphrase is said plainly.
    let o = Command::new(env!("CARGO_BIN_EXE_pki"))
        .current_dir(d)
        .env("PKI_PASSPHRASE", "a wrong but long passphrase")
        .args([
            "issue",
            "--dir",
            "ca",
            "--profile",
            "official-signing",
            "--csr",
            "good.csr",
            "--identity",
            "official.json",
        ])
        .output()
        .unwrap();
    assert!(text(&o).contains("wrong passphrase"), "{}", text(&o));
    assert_eq!(
        snapshot(&d.join("ca")),
        before,
        "a failed command changed the CA directory"
    );
}
