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

/// Our verdicts on `pdf`'s signatures, trusting the fixtures' root, at `at`.
fn verified(f: &Fixture, pdf: &[u8], at: i64) -> Vec<pades::PdfSignature> {
    pades::verify(
        pdf,
        std::slice::from_ref(&f.root),
        &[],
        &VerifyOptions::at(at),
    )
    .unwrap()
}

/// `pdf` with a later incremental update that `change` makes, given the update
/// and its first page (id and dictionary as signed).
fn updated(
    pdf: &[u8],
    change: impl FnOnce(&mut lopdf::IncrementalDocument, lopdf::ObjectId, lopdf::Dictionary),
) -> Vec<u8> {
    let mut update: lopdf::IncrementalDocument = pdf.try_into().unwrap();
    let prev = update.get_prev_documents();
    let page = *prev.get_pages().values().next().unwrap();
    let page_dict = prev.get_dictionary(page).unwrap().clone();
    change(&mut update, page, page_dict);
    let mut out = Vec::new();
    update.save_to(&mut out).unwrap();
    out
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
    let reports = verified(&f, &theirs, NOW);
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0].signer.report.indication,
        Indication::TotalPassed,
        "{}",
        reports[0].signer.report
    );
}

#[test]
fn signatures_in_turn_and_what_changed_after_each() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let original = pades::sample(&["Quyet dinh so 43/QD-UBND", "Trang 2"]);
    let sign = |pdf: &[u8], at: i64| {
        pades::sign(
            pdf,
            &f.key,
            &f.cert,
            std::slice::from_ref(&f.ca),
            &PdfSignOptions::at(at),
        )
        .unwrap()
    };
    let once = sign(&original, NOW);
    let twice = sign(&once, NOW + 60);
    assert!(twice.starts_with(&once));
    let path = d.join("twice.pdf");
    std::fs::write(&path, &twice).unwrap();
    let (ok, out) = pyhanko_validate(&path, d);
    assert!(ok, "pyHanko: {out}");
    assert_eq!(
        out.matches("The signature is judged VALID").count(),
        2,
        "{out}"
    );
    let out = pdfsig(&path, d);
    assert_eq!(
        out.matches("Signature is Valid").count(),
        2,
        "pdfsig: {out}"
    );

    let reports = verified(&f, &twice, NOW + 120);
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| r.signer.report.passed()));
    assert_eq!(reports[0].signed_length, once.len());
    assert!(reports[0].changes_after.iter().all(|c| c.allowed));
    assert!(
        reports[0]
            .changes_after
            .iter()
            .any(|c| c.what == "a signature added"),
        "{:?}",
        reports[0].changes_after
    );
    assert!(reports[1].changes_after.is_empty());

    // An update that rewrites the page's text after both signed: both fail,
    // naming the change.
    let changed = updated(&twice, |update, _, page| {
        let content_id = page.get(b"Contents").unwrap().as_reference().unwrap();
        update.new_document.set_object(
            content_id,
            lopdf::Stream::new(
                lopdf::Dictionary::new(),
                b"BT /F1 14 Tf 72 760 Td (Quyet dinh so 44) Tj ET".to_vec(),
            ),
        );
    });
    let reports = verified(&f, &changed, NOW + 120);
    for r in &reports {
        assert_eq!(r.signer.report.indication, Indication::TotalFailed);
        assert!(
            r.signer.report.message.contains("a content stream changed"),
            "{}",
            r.signer.report
        );
    }
}

#[test]
fn an_annotation_laid_over_signed_content_is_caught() {
    let f = fixture();
    let original = pades::sample(&["Quyet dinh so 45/QD-UBND"]);
    let signed = pades::sign(
        &original,
        &f.key,
        &f.cert,
        std::slice::from_ref(&f.ca),
        &PdfSignOptions::at(NOW),
    )
    .unwrap();
    // A later update adds a text box over the decision's number.
    let changed = updated(&signed, |update, page_id, mut page| {
        let mut annotation = lopdf::Dictionary::new();
        annotation.set("Type", lopdf::Object::Name(b"Annot".to_vec()));
        annotation.set("Subtype", lopdf::Object::Name(b"FreeText".to_vec()));
        annotation.set(
            "Rect",
            lopdf::Object::Array(vec![72.into(), 750.into(), 400.into(), 780.into()]),
        );
        annotation.set(
            "Contents",
            lopdf::Object::string_literal("Quyet dinh so 99/QD-UBND"),
        );
        let annotation_id = update.new_document.add_object(annotation);
        let mut annots = page.get(b"Annots").unwrap().as_array().unwrap().clone();
        annots.push(lopdf::Object::Reference(annotation_id));
        page.set("Annots", lopdf::Object::Array(annots));
        update.new_document.set_object(page_id, page);
    });
    let reports = verified(&f, &changed, NOW + 60);
    assert_eq!(reports[0].signer.report.indication, Indication::TotalFailed);
    assert!(
        reports[0].signer.report.message.contains("a page (Annots)"),
        "{}",
        reports[0].signer.report
    );
}

#[test]
fn encrypted_broken_and_unsigned_pdfs_are_named_not_guessed_at() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let original = pades::sample(&["Mat"]);
    let plain = d.join("plain.pdf");
    std::fs::write(&plain, &original).unwrap();
    let encrypted = d.join("encrypted.pdf");
    run(pyhanko()
        .args(["encrypt", "--password", "mat-khau"])
        .arg(&plain)
        .arg(&encrypted));
    let encrypted = std::fs::read(&encrypted).unwrap();
    assert_eq!(
        pades::prepare(&encrypted, &PdfSignOptions::at(NOW)).unwrap_err(),
        identity_core::PdfError::Encrypted
    );
    assert_eq!(
        pades::verify(&encrypted, &[], &[], &VerifyOptions::at(NOW)).unwrap_err(),
        identity_core::PdfError::Encrypted
    );

    // A cross-reference table that points at the wrong place.
    let mut broken = original.clone();
    let at = broken.windows(9).rposition(|w| w == b"startxref").unwrap();
    let digit = at + 10;
    broken[digit] = if broken[digit] == b'1' { b'2' } else { b'1' };
    let err = pades::prepare(&broken, &PdfSignOptions::at(NOW)).unwrap_err();
    assert!(err.to_string().contains("repair"), "{err}");

    assert_eq!(
        pades::verify(&original, &[], &[], &VerifyOptions::at(NOW)).unwrap_err(),
        identity_core::PdfError::Unsigned
    );
    assert!(pades::prepare(b"not a pdf", &PdfSignOptions::at(NOW)).is_err());

    // Too little room for the signature: refused, nothing half-made.
    let prepared = pades::prepare(
        &original,
        &PdfSignOptions {
            reserve: 64,
            ..PdfSignOptions::at(NOW)
        },
    )
    .unwrap();
    let signature = prepared
        .signature(&f.key, &f.cert, std::slice::from_ref(&f.ca))
        .unwrap();
    assert!(matches!(
        prepared.finish(&signature),
        Err(identity_core::PdfError::SignatureTooLarge { .. })
    ));
}

#[test]
fn a_visible_signature_is_drawn_and_validates() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let font = std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
        .expect("DejaVu Sans (fonts-dejavu-core, installed by scripts/test)");
    let original = pades::sample(&["Cong van so 8", "Trang 2"]);
    let appearance = |page: u32, rect: [f64; 4]| pades::Appearance {
        page,
        rect,
        lines: vec![
            "Ký bởi: Nguyễn Văn An".into(),
            "Sở Tư pháp".into(),
            "Thời gian: 2026-11-30 07:53:20 (UTC+7)".into(),
        ],
        font: &font,
    };
    let signed = pades::sign(
        &original,
        &f.key,
        &f.cert,
        std::slice::from_ref(&f.ca),
        &PdfSignOptions {
            appearance: Some(appearance(2, [300.0, 60.0, 240.0, 60.0])),
            ..PdfSignOptions::at(NOW)
        },
    )
    .unwrap();
    let path = d.join("visible.pdf");
    std::fs::write(&path, &signed).unwrap();
    let (ok, out) = pyhanko_validate(&path, d);
    assert!(
        ok && out.contains("The signature is judged VALID"),
        "pyHanko: {out}"
    );
    assert!(pdfsig(&path, d).contains("Signature is Valid"));
    // The appearance is outlines: no font in the PDF, the text in every reader.
    let text = String::from_utf8_lossy(&signed[original.len()..]);
    assert!(
        text.contains("/AP") && !text.contains("/FontFile"),
        "{text}"
    );

    for (page, rect, why) in [
        (3, [0.0, 0.0, 200.0, 60.0], "no page 3"),
        (1, [0.0, 0.0, 5.0, 5.0], "too small"),
    ] {
        let err = pades::prepare(
            &original,
            &PdfSignOptions {
                appearance: Some(appearance(page, rect)),
                ..PdfSignOptions::at(NOW)
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains(why), "{err}");
    }
    let err = pades::prepare(
        &original,
        &PdfSignOptions {
            appearance: Some(pades::Appearance {
                font: b"not a font",
                ..appearance(1, [0.0, 0.0, 200.0, 60.0])
            }),
            ..PdfSignOptions::at(NOW)
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("font"), "{err}");
}
