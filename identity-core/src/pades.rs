//! Signed PDFs (PAdES, ETSI EN 319 142-1): a signature is an incremental update
//! (the original bytes stay as they were) holding a signature dictionary with
//! `/SubFilter /ETSI.CAdES.detached`, a `/ByteRange` covering the whole file but
//! the signature itself, and the CMS signature in `/Contents`. Several officials
//! sign in turn, each in an update of their own; verification judges each
//! signature over the revision it signed and says what was changed after it.
//!
//! Signing is in two steps, so a key on a token or a time-stamping authority can
//! come in between: [`prepare`] makes the update with room for the signature,
//! [`Prepared::signature`] signs its byte ranges (or the caller does, and adds a
//! time-stamp), [`Prepared::finish`] puts the signature in.
//!
//! ```
//! use identity_core::pades::{self, PdfSignOptions};
//! use identity_core::cms::VerifyOptions;
//! # use identity_core::x509::Certificate;
//! # let read = |name: &str| std::fs::read(format!("{}/tests/data/cms/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
//! # let key = identity_core::SigningKey::from_pkcs8_pem(&String::from_utf8(read("signer.key.pem")).unwrap(), None)?;
//! # let cert = Certificate::parse_all(&read("signer.pem"))?.remove(0);
//! # let anchors = Certificate::parse_all(&read("root.pem"))?;
//! # let chain = Certificate::parse_all(&read("ca.pem"))?;
//! let pdf = pades::sample(&["Quyết định số 42/QĐ-UBND"]);
//! let prepared = pades::prepare(&pdf, &PdfSignOptions::at(1_800_000_000))?;
//! let signature = prepared.signature(&key, &cert, &chain)?;
//! let signed = prepared.finish(&signature)?;
//! assert!(signed.starts_with(&pdf)); // the original bytes, untouched
//! let reports = pades::verify(&signed, &anchors, &[], &VerifyOptions::at(1_800_000_100))?;
//! assert!(reports[0].signer.report.passed(), "{}", reports[0].signer.report);
//! assert!(reports[0].changes_after.is_empty());
//! # Ok::<(), identity_core::Error>(())
//! ```

use lopdf::{
    Dictionary, Document, IncrementalDocument, LoadOptions, Object, ObjectId, StringFormat,
    dictionary,
};

mod appearance;

pub use appearance::Appearance;

use crate::cms::{self, SignerReport, VerifyOptions};
use crate::error::PdfError;
use crate::keys::Signer;
use crate::report::{Indication, SubIndication, ValidationReport};
use crate::x509::{self, Certificate};

/// Room kept for the CMS signature when nothing is known of the signer: enough
/// for a signature, a long certificate chain and a time-stamp token with its own.
pub const DEFAULT_RESERVE: usize = 24 * 1024;

/// Room for a signature by `certificate` carrying `chain`, with a time-stamp
/// token if `time_stamped`: the certificates, the signed attributes and an RSA
/// 4096 signature, and 12 KiB for a token (its authority's chain inside). The
/// room is written out as hexadecimal zeros, so less room is a faster, smaller
/// PDF.
pub fn reserve_for(certificate: &Certificate, chain: &[Certificate], time_stamped: bool) -> usize {
    let certificates: usize = std::iter::once(certificate)
        .chain(chain)
        .map(|c| c.der().len())
        .sum();
    certificates + 2_048 + if time_stamped { 12 * 1024 } else { 0 }
}

/// What is put in the byte range until the real offsets are known: ten digits
/// each, so the real ones (padded with spaces) fit in the same bytes.
const BYTE_RANGE_PLACEHOLDER: &[u8] = b"0 9999999999 9999999999 9999999999";

/// How to sign a PDF.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfSignOptions<'a> {
    /// The signing time put in the signature dictionary (`/M`), Unix seconds.
    pub signing_time: i64,
    /// The signer's name (`/Name`), if given.
    pub name: Option<&'a str>,
    /// Why the document is signed (`/Reason`), if given.
    pub reason: Option<&'a str>,
    /// Where (`/Location`), if given.
    pub location: Option<&'a str>,
    /// Bytes kept for the signature.
    pub reserve: usize,
    /// What the signature shows on a page, if it is visible.
    pub appearance: Option<Appearance<'a>>,
}

impl PdfSignOptions<'_> {
    /// An invisible signature made at `signing_time`, with the default room.
    pub fn at(signing_time: i64) -> Self {
        Self {
            signing_time,
            name: None,
            reason: None,
            location: None,
            reserve: DEFAULT_RESERVE,
            appearance: None,
        }
    }
}

/// A PDF with a signature update made, waiting for its signature.
#[derive(Debug, Clone)]
pub struct Prepared {
    pdf: Vec<u8>,
    /// Where the `<…>` of `/Contents` starts and ends (exclusive).
    gap: (usize, usize),
}

/// A text string (ISO 32000-1 §7.9.2.2): ASCII as it is, anything else as
/// UTF-16BE with its byte order mark.
fn text_string(text: &str) -> Object {
    if text.is_ascii() {
        Object::String(text.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// A text string read back (UTF-16BE with its mark, else PDFDocEncoding read as
/// Latin-1, which agrees on printable ASCII).
fn read_text(bytes: &[u8]) -> String {
    match bytes.strip_prefix(&[0xFE, 0xFF]) {
        Some(utf16) => String::from_utf16_lossy(
            &utf16
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect::<Vec<_>>(),
        ),
        None => bytes.iter().map(|b| char::from(*b)).collect(),
    }
}

/// A PDF date (ISO 32000-1 §7.9.4) in Vietnam's time (UTC+7).
fn pdf_date(t: i64) -> String {
    const OFFSET: i64 = 7 * 3_600;
    let local = time::OffsetDateTime::from_unix_timestamp(t + OFFSET)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+07'00'",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// A PDF date read back, as Unix seconds.
fn read_pdf_date(text: &str) -> Option<i64> {
    let digits = text.strip_prefix("D:").unwrap_or(text);
    let field = |range: std::ops::Range<usize>| digits.get(range)?.parse::<i64>().ok();
    let year = field(0..4)?;
    let month = field(4..6).unwrap_or(1);
    let day = field(6..8).unwrap_or(1);
    let hour = field(8..10).unwrap_or(0);
    let minute = field(10..12).unwrap_or(0);
    let second = field(12..14).unwrap_or(0);
    let date = time::Date::from_calendar_date(
        i32::try_from(year).ok()?,
        time::Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let local = date
        .with_hms(
            u8::try_from(hour).ok()?,
            u8::try_from(minute).ok()?,
            u8::try_from(second).ok()?,
        )
        .ok()?
        .assume_utc()
        .unix_timestamp();
    let rest = digits.get(14..).unwrap_or("");
    let offset = match rest.as_bytes().first() {
        Some(sign @ (b'+' | b'-')) => {
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6).and_then(|m| m.parse().ok()).unwrap_or(0);
            let seconds = hours * 3_600 + minutes * 60;
            if *sign == b'+' { seconds } else { -seconds }
        }
        _ => 0,
    };
    Some(local - offset)
}

fn malformed(detail: impl std::fmt::Display) -> PdfError {
    PdfError::Malformed {
        detail: detail.to_string(),
    }
}

/// Whether the PDF is (or was, when read) encrypted.
fn is_encrypted(doc: &Document) -> bool {
    doc.was_encrypted() || doc.trailer.has(b"Encrypt")
}

/// Reads a PDF to sign it: strictly (a broken cross-reference table is not
/// guessed at: the update would point at the guess), and not encrypted.
fn load_for_signing(pdf: &[u8]) -> Result<Document, PdfError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(malformed("it does not start with %PDF-: not a PDF"));
    }
    let options = LoadOptions {
        strict: true,
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(pdf, options).map_err(|e| match e {
        lopdf::Error::Decryption(_) => PdfError::Encrypted,
        other => PdfError::Malformed {
            detail: format!(
                "{other}: repair it (for example `qpdf in.pdf repaired.pdf`) and sign the repaired copy"
            ),
        },
    })?;
    if is_encrypted(&doc) {
        return Err(PdfError::Encrypted);
    }
    if doc.xref_recovery.is_some() {
        return Err(malformed(
            "its cross-reference table is broken: repair it (for example `qpdf in.pdf repaired.pdf`) and sign the repaired copy",
        ));
    }
    Ok(doc)
}

/// The document catalog's id, and a copy of it to change.
fn catalog_of(doc: &Document) -> Result<(ObjectId, Dictionary), PdfError> {
    let id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| malformed("its trailer names no document catalog"))?;
    let catalog = doc
        .get_dictionary(id)
        .map_err(|_| malformed("its document catalog is not a dictionary"))?
        .clone();
    Ok((id, catalog))
}

/// Reads a PDF to judge it: leniently (a broken table is rebuilt, as readers
/// do; the byte ranges decide what was signed), but not an encrypted one.
fn load(pdf: &[u8]) -> Result<Document, PdfError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(malformed("it does not start with %PDF-: not a PDF"));
    }
    let doc = Document::load_mem(pdf).map_err(|e| match e {
        lopdf::Error::Decryption(_) => PdfError::Encrypted,
        other => malformed(other),
    })?;
    if is_encrypted(&doc) {
        return Err(PdfError::Encrypted);
    }
    Ok(doc)
}

/// The object a value is, following a reference.
fn resolve<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

/// Every field of the form (the terminal ones, through `/Kids`), with its id.
fn form_fields(doc: &Document) -> Vec<(Option<ObjectId>, Dictionary)> {
    let mut found = Vec::new();
    let Some(form) = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|f| resolve(doc, f))
        .and_then(|f| f.as_dict().ok())
    else {
        return found;
    };
    let mut stack: Vec<(Option<ObjectId>, &Object)> = form
        .get(b"Fields")
        .ok()
        .and_then(|f| resolve(doc, f))
        .and_then(|f| f.as_array().ok())
        .map(|a| a.iter().map(|o| (None, o)).collect())
        .unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    while let Some((_, object)) = stack.pop() {
        let id = object.as_reference().ok();
        if let Some(id) = id
            && !seen.insert(id)
        {
            continue;
        }
        if seen.len() > 10_000 {
            break;
        }
        let Some(dict) = resolve(doc, object).and_then(|o| o.as_dict().ok()) else {
            continue;
        };
        match dict
            .get(b"Kids")
            .ok()
            .and_then(|k| resolve(doc, k))
            .and_then(|k| k.as_array().ok())
        {
            Some(kids) if !dict.has(b"FT") || kids.iter().all(|k| k.as_reference().is_ok()) => {
                stack.extend(kids.iter().map(|k| (k.as_reference().ok(), k)));
                if dict.has(b"FT") {
                    found.push((id, dict.clone()));
                }
            }
            _ => found.push((id, dict.clone())),
        }
    }
    found
}

/// A field name not yet used: `Signature1`, `Signature2`, ….
fn new_field_name(doc: &Document) -> String {
    let used: Vec<Vec<u8>> = form_fields(doc)
        .iter()
        .filter_map(|(_, f)| {
            f.get(b"T")
                .ok()
                .and_then(|t| t.as_str().ok())
                .map(<[u8]>::to_vec)
        })
        .collect();
    (1..)
        .map(|n| format!("Signature{n}"))
        .find(|name| !used.iter().any(|u| u == name.as_bytes()))
        .unwrap_or_else(|| "Signature".into())
}

/// Makes the signature update of `pdf`: a signature field (on the first page
/// and invisible, or where its appearance says), its signature dictionary with room for the signature, the
/// form's field list and signature flags. Refused: not a PDF, a broken one, an
/// encrypted one.
pub fn prepare(pdf: &[u8], options: &PdfSignOptions<'_>) -> Result<Prepared, PdfError> {
    let doc = load_for_signing(pdf)?;
    let (root_id, catalog) = catalog_of(&doc)?;
    let pages = doc.get_pages();
    let wanted = options.appearance.as_ref().map_or(1, |a| a.page);
    let page_id = *pages.get(&wanted).ok_or_else(|| match options.appearance {
        Some(_) => PdfError::Appearance {
            detail: format!(
                "there is no page {wanted}: the document has {}",
                pages.len()
            ),
        },
        None => malformed("it has no page"),
    })?;
    let field_name = new_field_name(&doc);
    let form_ref = catalog.get(b"AcroForm").ok().cloned();
    let page = doc
        .get_dictionary(page_id)
        .map_err(|_| malformed("its first page is not a dictionary"))?
        .clone();
    let mut update = IncrementalDocument::create_from(pdf.to_vec(), doc);
    let new = &mut update.new_document;

    // The signature dictionary, with placeholders the real values replace.
    let mut signature = Dictionary::new();
    signature.set("Type", Object::Name(b"Sig".to_vec()));
    signature.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    signature.set("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec()));
    signature.set(
        "ByteRange",
        Object::Array(vec![
            Object::Integer(0),
            Object::Integer(9_999_999_999),
            Object::Integer(9_999_999_999),
            Object::Integer(9_999_999_999),
        ]),
    );
    signature.set(
        "Contents",
        Object::String(vec![0; options.reserve], StringFormat::Hexadecimal),
    );
    signature.set(
        "M",
        Object::String(
            pdf_date(options.signing_time).into_bytes(),
            StringFormat::Literal,
        ),
    );
    for (key, value) in [
        ("Name", options.name),
        ("Reason", options.reason),
        ("Location", options.location),
    ] {
        if let Some(value) = value {
            signature.set(key, text_string(value));
        }
    }
    let signature_id = new.add_object(signature);

    // Its appearance, when it is visible.
    let (rect, shown) = match &options.appearance {
        Some(appearance) => {
            let [x, y, width, height] = appearance.rect;
            let content = appearance::content(appearance)?;
            let mut form = Dictionary::new();
            form.set("Type", Object::Name(b"XObject".to_vec()));
            form.set("Subtype", Object::Name(b"Form".to_vec()));
            form.set(
                "BBox",
                Object::Array(vec![
                    Object::Real(0.0),
                    Object::Real(0.0),
                    Object::Real(width as f32),
                    Object::Real(height as f32),
                ]),
            );
            form.set("Resources", Object::Dictionary(Dictionary::new()));
            let form_id = new.add_object(lopdf::Stream::new(form, content));
            let rect = [x, y, x + width, y + height].map(|v| Object::Real(v as f32));
            (rect.to_vec(), Some(form_id))
        }
        None => (vec![Object::Integer(0); 4], None),
    };

    // The field, merged with its widget on its page.
    let mut field = Dictionary::new();
    field.set("Type", Object::Name(b"Annot".to_vec()));
    field.set("Subtype", Object::Name(b"Widget".to_vec()));
    field.set("FT", Object::Name(b"Sig".to_vec()));
    field.set("T", text_string(&field_name));
    field.set("V", Object::Reference(signature_id));
    field.set("F", Object::Integer(132));
    field.set("Rect", Object::Array(rect));
    if let Some(form_id) = shown {
        let mut normal = Dictionary::new();
        normal.set("N", Object::Reference(form_id));
        field.set("AP", Object::Dictionary(normal));
    }
    field.set("P", Object::Reference(page_id));
    let field_id = new.add_object(field);

    // The page lists the widget among its annotations.
    let mut page = page;
    match page.get(b"Annots").ok().cloned() {
        Some(Object::Reference(annots_id)) => {
            let mut annots = update
                .get_prev_documents()
                .get_object(annots_id)
                .ok()
                .and_then(|a| a.as_array().ok())
                .cloned()
                .ok_or_else(|| malformed("the first page's annotations are not a list"))?;
            annots.push(Object::Reference(field_id));
            update
                .new_document
                .set_object(annots_id, Object::Array(annots));
        }
        Some(Object::Array(mut annots)) => {
            annots.push(Object::Reference(field_id));
            page.set("Annots", Object::Array(annots));
            update.new_document.set_object(page_id, page);
        }
        _ => {
            page.set("Annots", Object::Array(vec![Object::Reference(field_id)]));
            update.new_document.set_object(page_id, page);
        }
    }

    // The form lists the field; signature flags: signatures exist, append only.
    let add_to_form =
        |form: &mut Dictionary, prev: &Document| -> Result<Option<(ObjectId, Object)>, PdfError> {
            form.set("SigFlags", Object::Integer(3));
            match form.get(b"Fields").ok().cloned() {
                Some(Object::Reference(fields_id)) => {
                    let mut fields = prev
                        .get_object(fields_id)
                        .ok()
                        .and_then(|f| f.as_array().ok())
                        .cloned()
                        .ok_or_else(|| malformed("the form's field list is not a list"))?;
                    fields.push(Object::Reference(field_id));
                    Ok(Some((fields_id, Object::Array(fields))))
                }
                Some(Object::Array(mut fields)) => {
                    fields.push(Object::Reference(field_id));
                    form.set("Fields", Object::Array(fields));
                    Ok(None)
                }
                _ => {
                    form.set("Fields", Object::Array(vec![Object::Reference(field_id)]));
                    Ok(None)
                }
            }
        };
    match form_ref {
        Some(Object::Reference(form_id)) => {
            let mut form = update
                .get_prev_documents()
                .get_dictionary(form_id)
                .map_err(|_| malformed("the form is not a dictionary"))?
                .clone();
            if let Some((id, fields)) = add_to_form(&mut form, update.get_prev_documents())? {
                update.new_document.set_object(id, fields);
            }
            update.new_document.set_object(form_id, form);
        }
        other => {
            let mut form = match other {
                Some(Object::Dictionary(form)) => form,
                _ => Dictionary::new(),
            };
            if let Some((id, fields)) = add_to_form(&mut form, update.get_prev_documents())? {
                update.new_document.set_object(id, fields);
            }
            let mut catalog = catalog;
            catalog.set("AcroForm", Object::Dictionary(form));
            update.new_document.set_object(root_id, catalog);
        }
    }

    let mut out = Vec::with_capacity(pdf.len() + options.reserve * 2 + 4_096);
    update
        .save_to(&mut out)
        .map_err(|e| malformed(format!("the update could not be written: {e}")))?;
    // Where the placeholders ended up, in the update alone.
    let appended = pdf.len();
    let find_one = |needle: &[u8]| -> Result<usize, PdfError> {
        let mut hits = out[appended..]
            .windows(needle.len())
            .enumerate()
            .filter(|(_, w)| *w == needle)
            .map(|(i, _)| appended + i);
        match (hits.next(), hits.next()) {
            (Some(at), None) => Ok(at),
            _ => Err(malformed(
                "the signature's placeholder is not where it belongs",
            )),
        }
    };
    let mut contents = Vec::with_capacity(options.reserve * 2 + 2);
    contents.push(b'<');
    contents.extend(std::iter::repeat_n(b'0', options.reserve * 2));
    contents.push(b'>');
    let start = find_one(&contents)?;
    let end = start + contents.len();
    let range_at = find_one(BYTE_RANGE_PLACEHOLDER)?;
    let range = format!("0 {start} {end} {}", out.len() - end);
    if range.len() > BYTE_RANGE_PLACEHOLDER.len() {
        return Err(malformed("the document is too large to sign (over 9 GB)"));
    }
    let padded = format!("{range:<width$}", width = BYTE_RANGE_PLACEHOLDER.len());
    out[range_at..range_at + padded.len()].copy_from_slice(padded.as_bytes());
    Ok(Prepared {
        pdf: out,
        gap: (start, end),
    })
}

impl Prepared {
    /// The bytes the signature covers: the whole file but the `/Contents` value.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let (start, end) = self.gap;
        let mut bytes = Vec::with_capacity(self.pdf.len() - (end - start));
        bytes.extend_from_slice(&self.pdf[..start]);
        bytes.extend_from_slice(&self.pdf[end..]);
        bytes
    }

    /// The CAdES signature (detached, over [`Prepared::signed_bytes`]; no
    /// signing-time attribute: the dictionary's `/M` claims the time, as PAdES
    /// baseline has it).
    pub fn signature(
        &self,
        signer: &dyn Signer,
        certificate: &Certificate,
        chain: &[Certificate],
    ) -> Result<Vec<u8>, PdfError> {
        Ok(cms::sign_detached_untimed(
            &self.signed_bytes(),
            signer,
            certificate,
            chain,
        )?)
    }

    /// The signed PDF: `signature` (a CMS signature over the signed bytes, with
    /// a time-stamp if wanted) put in the room kept for it.
    pub fn finish(mut self, signature: &[u8]) -> Result<Vec<u8>, PdfError> {
        let (start, end) = self.gap;
        let room = (end - start - 2) / 2;
        if signature.len() > room {
            return Err(PdfError::SignatureTooLarge {
                size: signature.len(),
                room,
            });
        }
        let hex = x509::hex(signature);
        self.pdf[start + 1..start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(self.pdf)
    }
}

/// Signs `pdf` in one step (PAdES B-B): [`prepare`], [`Prepared::signature`],
/// [`Prepared::finish`]. The room is sized for this signature
/// ([`reserve_for`]), whatever `options.reserve` says.
pub fn sign(
    pdf: &[u8],
    signer: &dyn Signer,
    certificate: &Certificate,
    chain: &[Certificate],
    options: &PdfSignOptions<'_>,
) -> Result<Vec<u8>, PdfError> {
    let options = PdfSignOptions {
        reserve: reserve_for(certificate, chain, false),
        ..options.clone()
    };
    let prepared = prepare(pdf, &options)?;
    let signature = prepared.signature(signer, certificate, chain)?;
    prepared.finish(&signature)
}

/// Validation data kept in a PDF's document security store (DSS, ETSI EN 319
/// 142-1 §5.4.2): certificates, CRLs and OCSP responses, each DER, so the
/// signatures can be validated offline (PAdES B-LT).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationData {
    /// Certificates (the signers' chains, the time-stamping authorities').
    pub certificates: Vec<Vec<u8>>,
    /// CRLs.
    pub crls: Vec<Vec<u8>>,
    /// OCSP responses (`OCSPResponse`).
    pub ocsp: Vec<Vec<u8>>,
}

/// The DSS's three lists, by their keys.
const DSS_LISTS: [&[u8]; 3] = [b"Certs", b"CRLs", b"OCSPs"];

impl ValidationData {
    fn list(&self, key: &[u8]) -> &[Vec<u8>] {
        match key {
            b"Certs" => &self.certificates,
            b"CRLs" => &self.crls,
            _ => &self.ocsp,
        }
    }

    fn list_mut(&mut self, key: &[u8]) -> &mut Vec<Vec<u8>> {
        match key {
            b"Certs" => &mut self.certificates,
            b"CRLs" => &mut self.crls,
            _ => &mut self.ocsp,
        }
    }
}

/// The DSS dictionary of a document, and its object id when it is one.
fn dss_of(doc: &Document) -> (Option<ObjectId>, Option<Dictionary>) {
    let Some(entry) = doc.catalog().ok().and_then(|c| c.get(b"DSS").ok()) else {
        return (None, None);
    };
    let id = entry.as_reference().ok();
    let dict = resolve(doc, entry).and_then(|d| d.as_dict().ok()).cloned();
    (id, dict)
}

/// What a document's DSS holds (nothing if it has none).
pub fn validation_data(pdf: &[u8]) -> Result<ValidationData, PdfError> {
    Ok(stored_validation_data(&load(pdf)?))
}

fn stored_validation_data(doc: &Document) -> ValidationData {
    let mut data = ValidationData::default();
    let (_, Some(dss)) = dss_of(doc) else {
        return data;
    };
    for key in DSS_LISTS {
        let Some(list) = dss
            .get(key)
            .ok()
            .and_then(|l| resolve(doc, l))
            .and_then(|l| l.as_array().ok())
        else {
            continue;
        };
        for item in list.iter().take(10_000) {
            if let Some(stream) = resolve(doc, item).and_then(|s| s.as_stream().ok()) {
                let bytes = stream
                    .decompressed_content()
                    .unwrap_or_else(|_| stream.content.clone());
                data.list_mut(key).push(bytes);
            }
        }
    }
    data
}

/// Adds `data` to the PDF's document security store, in an incremental update
/// that leaves the signatures' bytes as they are (PAdES B-LT): what is already
/// there is kept and not repeated.
pub fn add_validation_data(pdf: &[u8], data: &ValidationData) -> Result<Vec<u8>, PdfError> {
    let doc = load_for_signing(pdf)?;
    let (root_id, mut catalog) = catalog_of(&doc)?;
    let stored = stored_validation_data(&doc);
    let (dss_id, dss) = dss_of(&doc);
    let mut dss = dss.unwrap_or_default();
    // Lists held in objects of their own become direct in the new DSS.
    let mut lists: Vec<(&[u8], Vec<Object>)> = DSS_LISTS
        .iter()
        .map(|key| {
            let items = dss
                .get(key)
                .ok()
                .and_then(|l| resolve(&doc, l))
                .and_then(|l| l.as_array().ok())
                .cloned()
                .unwrap_or_default();
            (*key, items)
        })
        .collect();
    let mut update = IncrementalDocument::create_from(pdf.to_vec(), doc);
    let mut added = 0;
    for (key, items) in &mut lists {
        let mut kept: Vec<&[u8]> = stored.list(key).iter().map(Vec::as_slice).collect();
        for der in data.list(key) {
            if kept.contains(&der.as_slice()) {
                continue;
            }
            kept.push(der);
            let id = update
                .new_document
                .add_object(lopdf::Stream::new(Dictionary::new(), der.clone()));
            items.push(Object::Reference(id));
            added += 1;
        }
    }
    if added == 0 {
        return Ok(pdf.to_vec());
    }
    for (key, items) in lists {
        dss.set(key, Object::Array(items));
    }
    dss.set("Type", Object::Name(b"DSS".to_vec()));
    match dss_id {
        Some(id) => update.new_document.set_object(id, dss),
        None => {
            let id = update.new_document.add_object(dss);
            catalog.set("DSS", Object::Reference(id));
            update.new_document.set_object(root_id, catalog);
        }
    }
    let mut out = Vec::with_capacity(pdf.len() + 16 * 1024);
    update
        .save_to(&mut out)
        .map_err(|e| malformed(format!("the update could not be written: {e}")))?;
    Ok(out)
}

/// One signature of a PDF, judged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PdfSignature {
    /// The signature field's name.
    pub field: String,
    /// How the signature is encoded (`ETSI.CAdES.detached`, `adbe.pkcs7.detached`).
    pub sub_filter: String,
    /// The bytes of the file this signature signed (its revision ends there).
    pub signed_length: usize,
    /// What was changed in the document after this signature, oldest first;
    /// empty when it signed the whole file.
    pub changes_after: Vec<Change>,
    /// The signature's verdict. A change after it that is not a signature, a
    /// form field for one or validation data makes it TOTAL-FAILED.
    pub signer: SignerReport,
}

/// A change made to a PDF after a signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The object, as `number generation`.
    pub object: String,
    /// What it is and what happened to it.
    pub what: String,
    /// Whether such a change leaves what was signed as it was shown (another
    /// signature, its field, the form's list, validation data).
    pub allowed: bool,
}

/// Each signature of a PDF (in the order they were made), verified over the
/// revision it signed, with what was changed after it. An error means the file
/// cannot be read as a PDF at all, or holds no signature.
pub fn verify(
    pdf: &[u8],
    anchors: &[Certificate],
    intermediates: &[Certificate],
    options: &VerifyOptions<'_>,
) -> Result<Vec<PdfSignature>, PdfError> {
    let doc = load(pdf)?;
    let mut found: Vec<(String, Dictionary)> = form_fields(&doc)
        .into_iter()
        .filter(|(_, f)| f.get(b"FT").ok().and_then(|t| t.as_name().ok()) == Some(b"Sig"))
        .filter_map(|(_, f)| {
            let name = f
                .get(b"T")
                .ok()
                .and_then(|t| t.as_str().ok())
                .map(read_text)
                .unwrap_or_default();
            let value = f.get(b"V").ok().and_then(|v| resolve(&doc, v))?;
            Some((name, value.as_dict().ok()?.clone()))
        })
        .collect();
    if found.is_empty() {
        return Err(PdfError::Unsigned);
    }
    // Oldest first: the one whose revision ends earliest.
    let end_of = |d: &Dictionary| byte_range(d).map(|r| r[2] + r[3]).unwrap_or(usize::MAX);
    found.sort_by_key(|(_, d)| end_of(d));
    // What the document keeps for offline validation (B-LT) joins what the
    // caller gives.
    let stored = stored_validation_data(&doc);
    let pool: Vec<Certificate> = intermediates
        .iter()
        .cloned()
        .chain(
            stored
                .certificates
                .iter()
                .filter_map(|der| Certificate::from_der(der).ok()),
        )
        .collect();
    let crls: Vec<x509::Crl> = options
        .crls
        .iter()
        .cloned()
        .chain(
            stored
                .crls
                .iter()
                .filter_map(|der| x509::Crl::from_der(der).ok()),
        )
        .collect();
    let ocsp: Vec<x509::OcspResponseInfo> = options
        .ocsp
        .iter()
        .cloned()
        .chain(
            stored
                .ocsp
                .iter()
                .filter_map(|der| x509::OcspResponseInfo::from_der(der).ok()),
        )
        .collect();
    let options = VerifyOptions {
        crls: &crls,
        ocsp: &ocsp,
        ..options.clone()
    };
    Ok(found
        .iter()
        .map(|(name, dict)| verify_one(pdf, &doc, name, dict, anchors, &pool, &options))
        .collect())
}

/// The CMS signature (DER) of each signature field of a PDF, as it sits in
/// `/Contents`: what a verifier fetches revocation information for.
pub fn signatures(pdf: &[u8]) -> Result<Vec<Vec<u8>>, PdfError> {
    let doc = load(pdf)?;
    Ok(form_fields(&doc)
        .iter()
        .filter_map(|(_, f)| f.get(b"V").ok().and_then(|v| resolve(&doc, v)))
        .filter_map(|v| v.as_dict().ok()?.get(b"Contents").ok()?.as_str().ok())
        .filter_map(|contents| der_prefix(contents).map(<[u8]>::to_vec))
        .collect())
}

/// `/ByteRange` as four offsets, if it is four non-negative integers.
fn byte_range(dict: &Dictionary) -> Option<[usize; 4]> {
    let array = dict.get(b"ByteRange").ok()?.as_array().ok()?;
    let values: Vec<usize> = array
        .iter()
        .map(|o| o.as_i64().ok().and_then(|v| usize::try_from(v).ok()))
        .collect::<Option<_>>()?;
    values.try_into().ok()
}

/// The DER object at the start of `bytes` (the `/Contents` string is padded
/// with zeros after it).
fn der_prefix(bytes: &[u8]) -> Option<&[u8]> {
    use der::Reader as _;
    let mut reader = der::SliceReader::new(bytes).ok()?;
    let _: der::asn1::AnyRef<'_> = reader.decode().ok()?;
    let used = usize::try_from(u32::from(reader.position())).ok()?;
    bytes.get(..used)
}

fn failure(sub: SubIndication, message: String, time: i64) -> ValidationReport {
    ValidationReport {
        indication: Indication::TotalFailed,
        sub_indication: Some(sub),
        message,
        validation_time: x509::format_rfc3339(time),
        path: Vec::new(),
        policies: Vec::new(),
    }
}

fn verify_one(
    pdf: &[u8],
    doc: &Document,
    field: &str,
    dict: &Dictionary,
    anchors: &[Certificate],
    intermediates: &[Certificate],
    options: &VerifyOptions<'_>,
) -> PdfSignature {
    let time = options.at.unwrap_or(options.now);
    let claimed = dict
        .get(b"M")
        .ok()
        .and_then(|m| m.as_str().ok())
        .and_then(|m| read_pdf_date(&String::from_utf8_lossy(m)));
    let sub_filter = dict
        .get(b"SubFilter")
        .ok()
        .and_then(|s| s.as_name().ok())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .unwrap_or_default();
    let mut out = PdfSignature {
        field: field.to_owned(),
        sub_filter: sub_filter.clone(),
        signed_length: 0,
        changes_after: Vec::new(),
        signer: SignerReport {
            name: dict
                .get(b"Name")
                .ok()
                .and_then(|n| n.as_str().ok())
                .map(read_text),
            identifier: None,
            organization: None,
            signing_time: claimed.map(x509::format_rfc3339),
            digest_algorithm: None,
            time_stamp: None,
            report: failure(SubIndication::FormatFailure, String::new(), time),
        },
    };
    let fail = |mut out: PdfSignature, why: String| {
        out.signer.report = failure(SubIndication::FormatFailure, why, time);
        out
    };
    if !matches!(
        sub_filter.as_str(),
        "ETSI.CAdES.detached" | "adbe.pkcs7.detached"
    ) {
        return fail(
            out,
            format!(
                "SubFilter {sub_filter:?} is not supported (ETSI.CAdES.detached and adbe.pkcs7.detached are)"
            ),
        );
    }
    let Some([zero, start, end, tail]) = byte_range(dict) else {
        return fail(out, "its /ByteRange is not four offsets".into());
    };
    // The range must be the whole revision but for exactly this signature's
    // /Contents: from the start, around the `<…>`, to the end of its revision.
    let contents = dict
        .get(b"Contents")
        .ok()
        .and_then(|c| c.as_str().ok())
        .unwrap_or_default();
    let framed = zero == 0
        && end.checked_add(tail).is_some_and(|e| e <= pdf.len())
        && start + 2 <= end
        && pdf.get(start) == Some(&b'<')
        && pdf.get(end - 1) == Some(&b'>')
        && hex_decode(&pdf[start + 1..end - 1]).as_deref() == Some(contents);
    if !framed {
        return fail(
            out,
            "its /ByteRange does not cover the file around this signature's /Contents: what it signs is not this document".into(),
        );
    }
    out.signed_length = end + tail;
    let Some(cms_der) = der_prefix(contents) else {
        return fail(out, "its /Contents holds no DER signature".into());
    };
    let mut signed = Vec::with_capacity(start + tail);
    signed.extend_from_slice(&pdf[..start]);
    signed.extend_from_slice(&pdf[end..end + tail]);
    match cms::verify(cms_der, Some(&signed), anchors, intermediates, options) {
        Ok(mut reports) if reports.len() == 1 => {
            let mut report = reports.remove(0);
            if report.signing_time.is_none() {
                report.signing_time = claimed.map(x509::format_rfc3339);
            }
            if report.name.is_none() {
                report.name = out.signer.name.clone();
            }
            out.signer = report;
        }
        Ok(reports) => {
            return fail(
                out,
                format!(
                    "its CMS signature has {} signers; a PDF signature has one",
                    reports.len()
                ),
            );
        }
        Err(e) => return fail(out, format!("its signature cannot be read: {e}")),
    }
    if out.signed_length < pdf.len() {
        out.changes_after = changes_after(&pdf[..out.signed_length], doc);
        let not_allowed: Vec<&Change> = out.changes_after.iter().filter(|c| !c.allowed).collect();
        if !not_allowed.is_empty() {
            out.signer.report = ValidationReport {
                indication: Indication::TotalFailed,
                sub_indication: Some(SubIndication::HashFailure),
                message: format!(
                    "the document was changed after this signature: {}",
                    not_allowed
                        .iter()
                        .map(|c| format!("{} ({})", c.what, c.object))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                ..out.signer.report
            };
        }
    }
    out
}

fn hex_decode(hex: &[u8]) -> Option<Vec<u8>> {
    let digits: Vec<u8> = hex
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let mut bytes: Vec<u8> = digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            let text = if text.len() == 1 {
                format!("{text}0")
            } else {
                text.to_owned()
            };
            u8::from_str_radix(&text, 16).ok()
        })
        .collect::<Option<_>>()?;
    bytes.shrink_to_fit();
    Some(bytes)
}

/// The keys whose values differ between two dictionaries.
fn changed_keys(old: &Dictionary, new: &Dictionary) -> Vec<String> {
    let mut keys: Vec<String> = new
        .iter()
        .filter(|(k, v)| old.get(k).ok() != Some(*v))
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .chain(
            old.iter()
                .filter(|(k, _)| !new.has(k))
                .map(|(k, _)| String::from_utf8_lossy(k).into_owned()),
        )
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// What was added or changed after the revision `signed` (the file's first
/// bytes) in the document as it is now.
fn changes_after(signed: &[u8], now: &Document) -> Vec<Change> {
    let Ok(then) = Document::load_mem(signed) else {
        return vec![Change {
            object: "-".into(),
            what: "the signed revision cannot be read on its own".into(),
            allowed: false,
        }];
    };
    let mut changes = Vec::new();
    for (id, object) in &now.objects {
        let before = then.objects.get(id);
        if before == Some(object) {
            continue;
        }
        let (what, allowed) = describe(before, object, &then, now);
        changes.push(Change {
            object: format!("{} {}", id.0, id.1),
            what,
            allowed,
        });
    }
    for id in then
        .objects
        .keys()
        .filter(|id| !now.objects.contains_key(id))
    {
        changes.push(Change {
            object: format!("{} {}", id.0, id.1),
            what: "an object of the signed revision was removed".into(),
            allowed: false,
        });
    }
    changes
}

/// A list (of annotations, of fields) a dictionary holds, directly or by
/// reference.
fn list_in<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> &'a [Object] {
    dict.get(key)
        .ok()
        .and_then(|l| resolve(doc, l))
        .and_then(|l| l.as_array().ok())
        .map_or(&[], Vec::as_slice)
}

/// Whether everything `after` has that `before` had not is a signature field or
/// its widget, or data (a stream): what signing and validation data add. An
/// annotation of another kind (a stamp, a text box over the signed content)
/// is not.
fn only_signatures_added(before: &[Object], after: &[Object], now: &Document) -> bool {
    after
        .iter()
        .filter(|item| !before.contains(item))
        .all(|item| match resolve(now, item) {
            Some(Object::Stream(_)) => true,
            Some(Object::Dictionary(d)) => {
                let is_sig = |d: &Dictionary| {
                    d.get(b"FT").ok().and_then(|t| t.as_name().ok()) == Some(b"Sig")
                };
                is_sig(d)
                    || d.get(b"Parent")
                        .ok()
                        .and_then(|p| resolve(now, p))
                        .and_then(|p| p.as_dict().ok())
                        .is_some_and(is_sig)
            }
            _ => false,
        })
}

/// A change in words, and whether it leaves the signed content as it was.
fn describe(
    before: Option<&Object>,
    after: &Object,
    then: &Document,
    now: &Document,
) -> (String, bool) {
    let dict = match after {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    };
    let name_of = |d: &Dictionary, key: &[u8]| {
        d.get(key)
            .ok()
            .and_then(|n| n.as_name().ok())
            .map(<[u8]>::to_vec)
    };
    let kind = dict.and_then(|d| name_of(d, b"Type"));
    let field_type = dict.and_then(|d| name_of(d, b"FT"));
    let added = before.is_none();
    match (kind.as_deref(), field_type.as_deref(), dict, before) {
        (Some(b"Sig"), ..) | (Some(b"DocTimeStamp"), ..) if added => {
            ("a signature added".into(), true)
        }
        (_, Some(b"Sig"), ..) if added => ("a signature field added".into(), true),
        (Some(b"Catalog"), _, Some(new), Some(Object::Dictionary(old))) => {
            let keys = changed_keys(old, new);
            let form = |doc: &'_ Document, catalog: &Dictionary| {
                catalog
                    .get(b"AcroForm")
                    .ok()
                    .and_then(|f| resolve(doc, f))
                    .and_then(|f| f.as_dict().ok())
                    .map(|f| list_in(doc, f, b"Fields").to_vec())
                    .unwrap_or_default()
            };
            let allowed = keys.iter().all(|k| k == "AcroForm" || k == "DSS")
                && only_signatures_added(&form(then, old), &form(now, new), now);
            (
                format!("the document catalog ({})", keys.join(", ")),
                allowed,
            )
        }
        (Some(b"Page"), _, Some(new), Some(Object::Dictionary(old))) => {
            let keys = changed_keys(old, new);
            let allowed = keys.iter().all(|k| k == "Annots")
                && only_signatures_added(
                    list_in(then, old, b"Annots"),
                    list_in(now, new, b"Annots"),
                    now,
                );
            (format!("a page ({})", keys.join(", ")), allowed)
        }
        (Some(b"DSS"), ..) => ("validation data (DSS)".into(), true),
        (None, None, Some(new), Some(Object::Dictionary(old)))
            if new.has(b"Fields") || old.has(b"Fields") =>
        {
            let keys = changed_keys(old, new);
            let allowed = keys
                .iter()
                .all(|k| matches!(k.as_str(), "Fields" | "SigFlags" | "DR" | "DA"))
                && only_signatures_added(
                    list_in(then, old, b"Fields"),
                    list_in(now, new, b"Fields"),
                    now,
                );
            (format!("the form ({})", keys.join(", ")), allowed)
        }
        (None, None, Some(new), None)
            if new.has(b"Certs") || new.has(b"CRLs") || new.has(b"OCSPs") || new.has(b"VRI") =>
        {
            ("validation data (DSS)".into(), true)
        }
        _ => match (before, after) {
            // A list (of annotations, of fields) that only grew by signatures.
            (Some(Object::Array(old)), Object::Array(new)) if new.starts_with(old) => (
                "a list extended".into(),
                only_signatures_added(old, new, now),
            ),
            // New objects nothing signed points at: appearances, fonts,
            // validation data; a change to what was signed shows as a change
            // to an object that was there.
            (None, _) => ("an object added".into(), true),
            (Some(_), Object::Stream(_)) => ("a content stream changed".into(), false),
            (Some(_), _) => (
                format!(
                    "{} changed",
                    kind.map(|k| String::from_utf8_lossy(&k).into_owned())
                        .unwrap_or_else(|| "an object".into())
                ),
                false,
            ),
        },
    }
}

/// A PDF of one page per text (Helvetica, what fits on a line), for examples,
/// tests and benchmarks.
pub fn sample(pages: &[&str]) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let mut kids = Vec::new();
    for text in pages {
        let latin: Vec<u8> = text
            .chars()
            .map(|c| match u8::try_from(u32::from(c)) {
                Ok(b) if b.is_ascii_graphic() || b == b' ' => b,
                _ => b'?',
            })
            .collect();
        let content = lopdf::content::Content {
            operations: vec![
                lopdf::content::Operation::new("BT", vec![]),
                lopdf::content::Operation::new("Tf", vec!["F1".into(), 14.into()]),
                lopdf::content::Operation::new("Td", vec![72.into(), 760.into()]),
                lopdf::content::Operation::new(
                    "Tj",
                    vec![Object::String(latin, StringFormat::Literal)],
                ),
                lopdf::content::Operation::new("ET", vec![]),
            ],
        };
        let encoded = content.encode().unwrap_or_default();
        let content_id = doc.add_object(lopdf::Stream::new(Dictionary::new(), encoded));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => dictionary! {
                "Font" => dictionary! { "F1" => font_id },
            },
        });
        kids.push(Object::Reference(page_id));
    }
    let count = i64::try_from(kids.len()).unwrap_or(i64::MAX);
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    // Writing to memory does not fail.
    let _ = doc.save_to(&mut out);
    out
}
