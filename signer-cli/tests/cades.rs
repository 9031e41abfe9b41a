//! End-to-end: keys, requests, signatures of many files, co-signatures and
//! verification with the `signer` binary, with OpenSSL as the CA and as the other
//! verifier.

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
        .env_remove("SIGNER_PASSPHRASE")
        .args(args)
        .output()
        .unwrap()
}

fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .current_dir(dir)
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

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}

/// An OpenSSL CA in `d` that certifies `csr` (made by `signer csr`) as an official's
/// signing certificate `cert`.
fn openssl_ca(d: &Path, org: &str) {
    ok(openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "root.key",
        ],
    ));
    ok(openssl(
        d,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "root.key",
            "-days",
            "30",
            "-subj",
            &format!("/C=VN/O={org}/CN={org} Root"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            "root.pem",
        ],
    ));
}

fn certify(d: &Path, csr: &str, cert: &str, serial: &str) {
    // OpenSSL checks the request's self-signature (our proof of possession).
    let o = ok(openssl(d, &["req", "-in", csr, "-verify", "-noout"]));
    assert!(text(&o).contains("verify OK"), "{}", text(&o));
    std::fs::write(
        d.join("leaf.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=1.3.6.1.5.5.7.3.36,emailProtection\n",
    )
    .unwrap();
    ok(openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-set_serial",
            serial,
            "-days",
            "30",
            "-extfile",
            "leaf.ext",
            "-out",
            cert,
        ],
    ));
}

#[test]
fn keys_requests_batch_signing_cosigning_and_verification() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_ca(d, "Test");

    // An unencrypted key that OpenSSL reads, with 0600 permissions.
    ok(signer(d, &["keygen", "--out", "an.key"]));
    ok(openssl(d, &["pkey", "-in", "an.key", "-noout"]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(d.join("an.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    ok(signer(
        d,
        &[
            "csr",
            "--key",
            "an.key",
            "--out",
            "an.csr",
            "--dn",
            "CN=Nguyễn Văn An,UID=CCCD:001090012345,O=Bộ Tư pháp,C=VN",
        ],
    ));
    certify(d, "an.csr", "an.pem", "10");

    // A batch: ten documents, a directory and a missing file.
    for i in 0..10 {
        std::fs::write(
            d.join(format!("doc{i}.txt")),
            format!("Quyết định số {i}/QĐ"),
        )
        .unwrap();
    }
    std::fs::create_dir(d.join("folder")).unwrap();
    let mut args = vec!["sign", "--key", "an.key", "--cert", "an.pem"];
    let names: Vec<String> = (0..10).map(|i| format!("doc{i}.txt")).collect();
    args.extend(names.iter().map(String::as_str));
    args.extend(["folder", "missing.txt"]);
    let o = signer(d, &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let said = text(&o);
    assert!(
        said.contains("folder: is a directory") && said.contains("missing.txt: cannot be read"),
        "{said}"
    );
    assert!(said.contains("signed 10 of 12 files"), "{said}");
    for i in 0..10 {
        assert!(d.join(format!("doc{i}.txt.p7s")).is_file());
    }
    assert!(!d.join("folder.p7s").exists() && !d.join("missing.txt.p7s").exists());
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".signer-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // OpenSSL accepts what we signed; so do we, naming the signer.
    let o = ok(openssl(
        d,
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "doc3.txt.p7s",
            "-content",
            "doc3.txt",
            "-CAfile",
            "root.pem",
            "-out",
            "/dev/null",
        ],
    ));
    assert!(text(&o).contains("Verification successful"), "{}", text(&o));
    let o = signer(d, &["verify", "doc3.txt", "--trust", "root.pem"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let said = text(&o);
    assert!(
        said.starts_with("VALID") && said.contains("Nguyễn Văn An (CCCD:001090012345), Bộ Tư pháp"),
        "{said}"
    );
    let o = signer(d, &["--json", "verify", "doc3.txt", "--trust", "root.pem"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["signers"][0]["report"]["indication"], "TOTAL-PASSED");

    // A changed document: INVALID (HASH_FAILURE), exit 1.
    std::fs::write(d.join("doc3.txt"), "Quyết định số 4/QĐ").unwrap();
    let o = signer(d, &["verify", "doc3.txt", "--trust", "root.pem"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("HASH_FAILURE"), "{}", text(&o));
    // Not a signature at all: exit 2 with the reason.
    std::fs::write(d.join("fake.p7s"), "not CMS").unwrap();
    let o = signer(
        d,
        &[
            "verify", "doc5.txt", "--sig", "fake.p7s", "--trust", "root.pem",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not a CMS signature"), "{}", text(&o));

    // Attached: the document travels inside.
    ok(signer(
        d,
        &[
            "sign",
            "--attached",
            "--key",
            "an.key",
            "--cert",
            "an.pem",
            "--out",
            "att.p7s",
            "doc7.txt",
        ],
    ));
    let o = ok(openssl(
        d,
        &[
            "cms", "-verify", "-binary", "-inform", "DER", "-in", "att.p7s", "-CAfile", "root.pem",
            "-out", "att.out",
        ],
    ));
    assert!(text(&o).contains("Verification successful"));
    assert_eq!(
        std::fs::read_to_string(d.join("att.out")).unwrap(),
        "Quyết định số 7/QĐ"
    );
    let o = signer(d, &["verify", "att.p7s", "--trust", "root.pem"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // A co-signer: an encrypted key, the passphrase from the environment.
    let o = Command::new(env!("CARGO_BIN_EXE_signer"))
        .current_dir(d)
        .env("SIGNER_PASSPHRASE", "mật khẩu thứ hai")
        .args(["keygen", "--encrypt", "--out", "binh.key"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_signer"))
        .current_dir(d)
        .env("SIGNER_PASSPHRASE", "mật khẩu thứ hai")
        .args([
            "csr",
            "--key",
            "binh.key",
            "--out",
            "binh.csr",
            "--dn",
            "CN=Trần Thị Bình,UID=CCCD:001190054321,O=Bộ Tư pháp,C=VN",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    certify(d, "binh.csr", "binh.pem", "11");
    let o = Command::new(env!("CARGO_BIN_EXE_signer"))
        .current_dir(d)
        .env("SIGNER_PASSPHRASE", "mật khẩu thứ hai")
        .args([
            "cosign",
            "--key",
            "binh.key",
            "--cert",
            "binh.pem",
            "doc1.txt.p7s",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = signer(d, &["verify", "doc1.txt", "--trust", "root.pem"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let said = text(&o);
    assert!(
        said.contains("2 signatures")
            && said.contains("Trần Thị Bình")
            && said.contains("Nguyễn Văn An"),
        "{said}"
    );
    let o = ok(openssl(
        d,
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "doc1.txt.p7s",
            "-content",
            "doc1.txt",
            "-CAfile",
            "root.pem",
            "-out",
            "/dev/null",
        ],
    ));
    assert!(text(&o).contains("Verification successful"));

    // Naming the signature itself finds the document beside it.
    let o = signer(d, &["verify", "doc2.txt.p7s", "--trust", "root.pem"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // An attached signature with a different document given: INVALID, not the carried one.
    let o = signer(
        d,
        &[
            "verify", "doc8.txt", "--sig", "att.p7s", "--trust", "root.pem",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // Two inputs that would write one signature: refused before any signing.
    let o = signer(
        d,
        &[
            "sign",
            "--force",
            "--key",
            "an.key",
            "--cert",
            "an.pem",
            "doc9.txt",
            "./doc9.txt",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("same signature"), "{}", text(&o));

    // A certificate that is not the key's is refused before signing anything.
    let o = signer(
        d,
        &[
            "sign", "--key", "an.key", "--cert", "binh.pem", "doc8.txt", "--force",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is not for the key"), "{}", text(&o));
}

#[test]
fn pdfs_are_signed_in_turn_and_a_change_after_signing_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_ca(d, "Test");
    for (who, dn, serial) in [
        (
            "an",
            "CN=Nguyễn Văn An,UID=CCCD:001090012345,O=Bộ Tư pháp,C=VN",
            "20",
        ),
        (
            "binh",
            "CN=Trần Thị Bình,UID=CCCD:079185004321,O=Bộ Tư pháp,C=VN",
            "21",
        ),
    ] {
        ok(signer(d, &["keygen", "--out", &format!("{who}.key")]));
        let csr = format!("{who}.csr");
        ok(signer(
            d,
            &[
                "csr",
                "--key",
                &format!("{who}.key"),
                "--out",
                &csr,
                "--dn",
                dn,
            ],
        ));
        certify(d, &csr, &format!("{who}.pem"), serial);
    }
    let original = identity_core::pades::sample(&["Quyet dinh so 7/QD-UBND"]);
    std::fs::write(d.join("decision.pdf"), &original).unwrap();

    // An signs: decision.signed.pdf, the original left as it was.
    let o = ok(signer(
        d,
        &[
            "sign",
            "--key",
            "an.key",
            "--cert",
            "an.pem",
            "decision.pdf",
        ],
    ));
    assert!(text(&o).contains("signed 1 of 1"), "{}", text(&o));
    assert_eq!(std::fs::read(d.join("decision.pdf")).unwrap(), original);
    let once = std::fs::read(d.join("decision.signed.pdf")).unwrap();
    assert!(once.starts_with(&original));
    // Bình signs the signed PDF: her signature is added in place, after An's.
    ok(signer(
        d,
        &[
            "sign",
            "--key",
            "binh.key",
            "--cert",
            "binh.pem",
            "decision.signed.pdf",
        ],
    ));
    let twice = std::fs::read(d.join("decision.signed.pdf")).unwrap();
    assert!(
        twice.starts_with(&once),
        "An's revision stays as she signed it"
    );
    let o = signer(d, &["verify", "decision.signed.pdf", "--trust", "root.pem"]);
    let said = text(&o);
    assert_eq!(o.status.code(), Some(0), "{said}");
    assert!(
        said.contains("VALID: decision.signed.pdf (2 signatures)"),
        "{said}"
    );
    assert!(
        said.contains("Nguyễn Văn An") && said.contains("Trần Thị Bình"),
        "{said}"
    );
    assert!(said.contains("a signature added"), "{said}");
    assert!(said.contains("the whole document"), "{said}");
    assert!(!said.contains("NOT ALLOWED"), "{said}");
    let o = ok(signer(
        d,
        &[
            "--json",
            "verify",
            "decision.signed.pdf",
            "--trust",
            "root.pem",
        ],
    ));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["signatures"].as_array().unwrap().len(), 2);

    // A visible signature: drawn where asked (poppler renders the page), and
    // as valid as an invisible one.
    std::fs::write(d.join("notice.pdf"), &original).unwrap();
    ok(signer(
        d,
        &[
            "sign",
            "--key",
            "an.key",
            "--cert",
            "an.pem",
            "--visible",
            "1,300,60,240,60",
            "notice.pdf",
        ],
    ));
    let o = signer(d, &["verify", "notice.signed.pdf", "--trust", "root.pem"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dark = |pdf: &str| {
        ok(Command::new("pdftoppm")
            .current_dir(d)
            .args(["-r", "72", "-f", "1", "-l", "1", "-gray", pdf, "render"])
            .output()
            .unwrap());
        let image = std::fs::read(d.join("render-1.pgm")).unwrap();
        // P5 WIDTH HEIGHT 255, then one byte a pixel, top row first.
        let header: Vec<&[u8]> = image.splitn(5, |b| b.is_ascii_whitespace()).collect();
        let width: usize = std::str::from_utf8(header[1]).unwrap().parse().unwrap();
        let height: usize = std::str::from_utf8(header[2]).unwrap().parse().unwrap();
        let pixels = &image[image.len() - width * height..];
        // The box: x 300..540, y 60..120 from the bottom.
        (height - 120..height - 60)
            .flat_map(|row| (300..540).map(move |col| (row, col)))
            .filter(|(row, col)| pixels[row * width + col] < 128)
            .count()
    };
    assert_eq!(dark("decision.pdf"), 0, "nothing there before");
    let drawn = dark("notice.signed.pdf");
    assert!(
        drawn > 200,
        "the signature's text and frame: {drawn} dark pixels"
    );
    let o = signer(
        d,
        &[
            "sign",
            "--key",
            "an.key",
            "--cert",
            "an.pem",
            "--visible",
            "9,0,0,200,60",
            "decision.pdf",
            "--out",
            "nine.pdf",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("there is no page 9"), "{}", text(&o));
    assert!(!d.join("nine.pdf").exists());

    // A byte of the signed page changed: both signatures fail (exit 1).
    let mut changed = twice.clone();
    let at = changed.windows(7).position(|w| w == b"Quyet d").unwrap();
    changed[at] = b'X';
    std::fs::write(d.join("changed.pdf"), &changed).unwrap();
    let o = signer(d, &["verify", "changed.pdf", "--trust", "root.pem"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("TOTAL-FAILED/HASH_FAILURE"),
        "{}",
        text(&o)
    );

    // Not a PDF that can be signed safely: said, and nothing written.
    std::fs::write(d.join("broken.pdf"), b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n").unwrap();
    let o = signer(
        d,
        &["sign", "--key", "an.key", "--cert", "an.pem", "broken.pdf"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("broken.pdf: not a usable PDF"),
        "{}",
        text(&o)
    );
    assert!(!d.join("broken.signed.pdf").exists());
}
