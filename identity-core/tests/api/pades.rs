//! Signed PDFs judged by independent validators: pyHanko (`pyhanko sign
//! validate`) and poppler's `pdfsig` accept ours, and we accept pyHanko's.

use std::path::Path;
use std::process::Command;

use identity_core::SigningKey;
use identity_core::cms::VerifyOptions;
use identity_core::pades::{self, PdfSignOptions};
use identity_core::report::Indication;
use identity_core::x509::Certificate;

use super::support::*;

/// 2026-11-30: inside the fixtures' validity.
const NOW: i64 = 1_796_000_000;

struct Fixture {
    key: SigningKey,
    cert: Certificate,
    ca: Certificate,
    root: Certificate,
}

fn fixture() -> Fixture {
    let key = SigningKey::from_pkcs8_pem(&data("cms/signer.key.pem"), None).unwrap();
    let one = |name: &str| {
        Certificate::parse_all(data(name).as_bytes())
            .unwrap()
            .remove(0)
    };
    Fixture {
        key,
        cert: one("cms/signer.pem"),
        ca: one("cms/ca.pem"),
        root: one("cms/root.pem"),
    }
}

fn pyhanko() -> Command {
    let mut c = python();
    c.args(["-m", "pyhanko"]);
    c
}

/// pyHanko's verdict on every signature of `pdf`: (exit success, its words).
fn pyhanko_validate(pdf: &Path, dir: &Path) -> (bool, String) {
    let out = pyhanko()
        .args([
            "sign",
            "validate",
            "--pretty-print",
            "--trust-replace",
            "--trust",
        ])
        .arg(data_path("cms/root.pem"))
        .arg("--other-certs")
        .arg(data_path("cms/ca.pem"))
        .arg("--no-revocation-check")
        .arg(pdf)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// poppler's verdict, with the root trusted in an NSS database.
fn pdfsig(pdf: &Path, dir: &Path) -> String {
    let nss = dir.join("nss");
    if !nss.exists() {
        std::fs::create_dir_all(&nss).unwrap();
        let db = format!("sql:{}", nss.display());
        run(Command::new("certutil").args(["-N", "--empty-password", "-d", &db]));
        run(Command::new("certutil")
            .args(["-A", "-n", "root", "-t", "CT,C,C", "-d", &db, "-i"])
            .arg(data_path("cms/root.pem")));
        run(Command::new("certutil")
            .args(["-A", "-n", "ca", "-t", ",,", "-d", &db, "-i"])
            .arg(data_path("cms/ca.pem")));
    }
    let out = Command::new("pdfsig")
        .arg("-nssdir")
        .arg(format!("sql:{}", nss.display()))
        .arg(pdf)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn pyhanko_and_pdfsig_accept_ours_and_we_accept_pyhanko_s() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let original = pades::sample(&["Quyet dinh so 42/QD-UBND"]);
    let signed = pades::sign(
        &original,
        &f.key,
        &f.cert,
        std::slice::from_ref(&f.ca),
        &PdfSignOptions {
            name: Some("Nguyễn Văn An"),
            reason: Some("Phê duyệt"),
            ..PdfSignOptions::at(NOW)
        },
    )
    .unwrap();
    assert!(signed.starts_with(&original), "the original bytes stay");
    let path = d.join("signed.pdf");
    std::fs::write(&path, &signed).unwrap();
    let (ok, out) = pyhanko_validate(&path, d);
    assert!(ok, "pyHanko: {out}");
    assert!(
        out.contains("The signature is judged VALID")
            && out.contains("The signature covers the entire file"),
        "pyHanko: {out}"
    );
    let out = pdfsig(&path, d);
    assert!(
        out.contains("Signature is Valid") && out.contains("Certificate is Trusted"),
        "pdfsig: {out}"
    );

    // pyHanko signs the same document; we verify its signature.
    let original_path = d.join("original.pdf");
    std::fs::write(&original_path, &original).unwrap();
    let by_pyhanko = d.join("by-pyhanko.pdf");
    run(pyhanko()
        .args([
            "sign",
            "addsig",
            "--field",
            "Sig1",
            "pemder",
            "--no-pass",
            "--key",
        ])
        .arg(data_path("cms/signer.key.pem"))
        .arg("--cert")
        .arg(data_path("cms/signer.pem"))
        .arg("--chain")
        .arg(data_path("cms/ca.pem"))
        .arg(&original_path)
        .arg(&by_pyhanko));
    let theirs = std::fs::read(&by_pyhanko).unwrap();
    let reports = pades::verify(
        &theirs,
        std::slice::from_ref(&f.root),
        &[],
        &VerifyOptions::at(NOW),
    )
    .unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0].signer.report.indication,
        Indication::TotalPassed,
        "{}",
        reports[0].signer.report
    );
}
