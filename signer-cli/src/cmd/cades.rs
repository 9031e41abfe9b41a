//! `signer csr|sign|cosign|verify`: certification requests and CAdES signatures.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use identity_core::cms::{self, SignOptions, SignerReport, VerifyOptions};
use identity_core::report::Indication;
use identity_core::x509::{
    Certificate, CertificationRequest, Crl, OcspResponseInfo, parse_rfc3339,
};
use identity_core::{SigningKey, VerifyingKey};
use serde_json::json;

use super::Outcome;
use super::timestamp::TimeStamper;
use crate::cli::{CosignArgs, CsrArgs, Level, SignArgs, SignFormat, SigningArgs, VerifyArgs};
use crate::io::{self, Access};
use crate::report;

/// The time now: the CLI is where the clock is read.
pub(crate) fn now() -> Result<i64> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("reading the clock")?;
    i64::try_from(since.as_secs()).context("reading the clock")
}

fn certificates(path: &Path) -> Result<Vec<Certificate>> {
    Certificate::parse_all(&io::read(path)?)
        .with_context(|| format!("reading certificates from {}", path.display()))
}

pub(crate) fn csr(args: &CsrArgs, json_output: bool) -> Result<Outcome> {
    if !args.force && args.out.exists() {
        bail!(
            "{} already exists: choose another path or pass --force",
            args.out.display()
        );
    }
    let key = io::read_signing_key(&args.key, &args.passphrase)?;
    let der = match &args.dn {
        Some(dn) => CertificationRequest::create_with_dn(&key, dn),
        None => CertificationRequest::create(&key, &args.name),
    }
    .context("making the request")?;
    let pem = der::pem::encode_string("CERTIFICATE REQUEST", der::pem::LineEnding::LF, &der)
        .context("encoding PEM")?;
    io::write_atomic(&args.out, pem.as_bytes(), Access::Public, args.force)?;
    report::done(
        json_output,
        &format!(
            "wrote a certification request for {} to {}: send it to the CA",
            args.key.display(),
            args.out.display()
        ),
        json!({"request": args.out.display().to_string()}),
    );
    Ok(Outcome::Valid)
}

/// The key, its certificate (checked to be the key's), the chain, and the
/// time-stamping authority, if one is to stamp the signatures.
struct Credentials {
    key: SigningKey,
    cert: Certificate,
    chain: Vec<Certificate>,
    stamper: Option<TimeStamper>,
}

impl Credentials {
    /// `signature` with its new signatures time-stamped, when an authority was named.
    fn stamp(&self, signature: Vec<u8>) -> Result<Vec<u8>> {
        match &self.stamper {
            Some(stamper) => stamper.stamp(&signature),
            None => Ok(signature),
        }
    }
}

fn credentials(args: &SigningArgs) -> Result<Credentials> {
    let mut in_file = certificates(&args.cert)?.into_iter();
    let cert = in_file
        .next()
        .with_context(|| format!("{} holds no certificate", args.cert.display()))?;
    // The chain: --chain, else the certificates after the first in the same
    // file (as `signer enroll` saves them).
    let chain = match &args.chain {
        Some(path) => certificates(path)?,
        None => in_file.collect(),
    };
    let key = io::read_signing_key(&args.key, &args.passphrase)?;
    let key_spki = key.verifying_key().to_spki_der();
    if cert.public_key_der() != key_spki {
        let key_is = VerifyingKey::from_spki_der(&key_spki)
            .map(|k| k.algorithm().name())
            .unwrap_or("another");
        bail!(
            "the certificate {} ({}) is not for the key {} (a {key_is} key): nothing was signed",
            args.cert.display(),
            cert.subject(),
            args.key.display()
        );
    }
    let stamper = args
        .tsa
        .as_deref()
        .map(|url| TimeStamper::new(url, args.tsa_policy.as_deref()))
        .transpose()?;
    Ok(Credentials {
        key,
        cert,
        chain,
        stamper,
    })
}

pub(crate) fn sign(args: &SignArgs, json_output: bool) -> Result<Outcome> {
    if args.out.is_some() && args.files.len() != 1 {
        bail!(
            "--out names one signature: with {} files, leave it out (each gets FILE.p7s)",
            args.files.len()
        );
    }
    let creds = credentials(&args.signing)?;
    let level = match (args.level, creds.stamper.is_some()) {
        (None, false) => Level::BB,
        (None, true) => Level::BT,
        (Some(Level::BB), true) => {
            bail!("--level b-b makes no time-stamp: leave out --tsa, or ask for b-t")
        }
        (Some(Level::BT | Level::BLt), false) => {
            bail!("--level b-t and b-lt need a time-stamping authority: give --tsa URL")
        }
        (Some(level), _) => level,
    };
    let options = SignOptions {
        signing_time: now()?,
        attached: args.attached,
    };
    let visible_font = args.visible.map(|_| font(args)).transpose()?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, 256);
    let files = &args.files;
    let progress = if files.len() > 1 && !json_output {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} signed, {per_sec}, {eta} left",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());
    // Two inputs that would write the same signature (a repeated name, a link) are
    // refused before any work, rather than racing each other.
    let mut seen = std::collections::HashMap::new();
    let mut duplicates = Vec::new();
    for file in files {
        let out = output_for(args, file);
        let key = std::fs::canonicalize(file)
            .map(|c| output_for(args, &c))
            .unwrap_or(out);
        if let Some(first) = seen.insert(key, file.clone()) {
            duplicates.push((
                file.clone(),
                format!("would write the same signature as {}", first.display()),
            ));
        }
    }
    if !duplicates.is_empty() {
        for (file, why) in &duplicates {
            report::error_line(&format!("{}: {why}", file.display()));
        }
        bail!(
            "{} files would overwrite each other's signatures: nothing was signed",
            duplicates.len()
        );
    }
    let sign_one = |file: &Path| -> Result<PathBuf> {
        let out = output_for(args, file);
        if file.is_dir() {
            bail!("is a directory");
        }
        // A signed PDF taking its next signature is updated in place.
        let in_place = out == file;
        if !args.force && !in_place && out.exists() {
            bail!(
                "{} already exists (pass --force to replace it)",
                out.display()
            );
        }
        let content = std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot be read: {e}"))?;
        let pades = is_pades(args, file);
        if pades && args.attached {
            bail!(
                "--attached is for CAdES: a PDF carries its PAdES signature inside anyway \
                 (--format cades makes a FILE.p7s)"
            );
        }
        if !pades && args.visible.is_some() {
            bail!("--visible is for PDFs: a CAdES signature has nothing to show it on");
        }
        let signed = if pades {
            let pdf_options = identity_core::pades::PdfSignOptions {
                name: creds.cert.subject().common_name(),
                reserve: identity_core::pades::reserve_for(
                    &creds.cert,
                    &creds.chain,
                    creds.stamper.is_some(),
                ),
                appearance: args
                    .visible
                    .map(|(page, rect)| identity_core::pades::Appearance {
                        page,
                        rect,
                        lines: appearance_lines(&creds.cert, options.signing_time),
                        font: visible_font.as_deref().unwrap_or_default(),
                    }),
                ..identity_core::pades::PdfSignOptions::at(options.signing_time)
            };
            let prepared = identity_core::pades::prepare(&content, &pdf_options)?;
            let signature =
                creds.stamp(prepared.signature(&creds.key, &creds.cert, &creds.chain)?)?;
            let signed = prepared.finish(&signature)?;
            if level == Level::BLt {
                long_term(&signed, &signature, &creds)?
            } else {
                signed
            }
        } else {
            if level == Level::BLt {
                bail!(
                    "--level b-lt is for PDFs (their DSS); a CAdES signature is made to b-t at most here"
                );
            }
            let signature = cms::sign(&content, &creds.key, &creds.cert, &creds.chain, &options)?;
            creds.stamp(signature)?
        };
        io::write_atomic(&out, &signed, Access::Public, args.force || in_place)?;
        Ok(out)
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(files.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    if let Err(e) = sign_one(file)
                        && let Ok(mut f) = failures.lock()
                    {
                        f.push((file.clone(), format!("{e:#}")));
                    }
                    progress.inc(1);
                }
            });
        }
    });
    progress.finish_and_clear();

    let mut failures = failures.into_inner().unwrap_or_default();
    failures.sort();
    let signed = files.len() - failures.len();
    for (file, why) in &failures {
        report::error_line(&format!("{}: {why}", file.display()));
    }
    report::done(
        json_output,
        &format!(
            "signed {signed} of {} files as {} ({})",
            files.len(),
            creds.cert.subject().common_name().unwrap_or("?"),
            match (args.format, args.attached, creds.stamper.is_some()) {
                (SignFormat::Pades, _, false) => "PAdES, inside each PDF",
                (SignFormat::Pades, _, true) => "PAdES, inside each PDF, time-stamped",
                (SignFormat::Auto, _, false) => "PAdES inside PDFs, CAdES FILE.p7s beside others",
                (SignFormat::Auto, _, true) =>
                    "PAdES inside PDFs, CAdES FILE.p7s beside others, time-stamped",
                (_, true, false) => "attached",
                (_, true, true) => "attached, time-stamped",
                (_, false, false) => "detached, FILE.p7s beside each",
                (_, false, true) => "detached, FILE.p7s beside each, time-stamped",
            }
        ),
        json!({
            "signed": signed,
            "failed": failures.iter().map(|(f, why)| json!({"file": f.display().to_string(), "error": why})).collect::<Vec<_>>(),
        }),
    );
    if failures.is_empty() {
        Ok(Outcome::Valid)
    } else {
        Ok(Outcome::Indeterminate)
    }
}

/// Where a system keeps DejaVu Sans (Debian, Fedora, Arch).
const FONTS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// The visible signature's font: `--visible-font`, else the system's DejaVu Sans.
fn font(args: &SignArgs) -> Result<Vec<u8>> {
    let path = match &args.visible_font {
        Some(path) => path.clone(),
        None => FONTS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .with_context(|| {
                format!(
                    "no font for the visible signature in {}: install fonts-dejavu-core, or give --visible-font FILE",
                    FONTS.join(", ")
                )
            })?,
    };
    io::read(&path)
}

/// What a visible signature says: who (and for which organisation) and when,
/// in Vietnam's time.
fn appearance_lines(cert: &Certificate, signing_time: i64) -> Vec<String> {
    let subject = cert.subject();
    let mut lines = vec![format!(
        "Ký bởi / Signed by: {}",
        subject.common_name().unwrap_or("?")
    )];
    if let Some(organization) = subject.attribute("2.5.4.10") {
        lines.push(organization.to_owned());
    }
    let local = identity_core::x509::format_rfc3339(signing_time + 7 * 3_600);
    let shown = local.trim_end_matches('Z').replace('T', " ");
    lines.push(format!("Thời gian / Time: {shown} (UTC+7)"));
    lines
}

/// PAdES B-LT: the certificates of the new signature and of its time-stamp,
/// and revocation information for each, fetched now (OCSP, else CRLs) and kept
/// in the PDF's document security store, in an update of its own.
fn long_term(pdf: &[u8], signature: &[u8], creds: &Credentials) -> Result<Vec<u8>> {
    let mut carried: Vec<Certificate> = Vec::new();
    for cert in cms::certificates(signature)?
        .into_iter()
        .chain(identity_core::tsp::time_stamp_certificates(signature)?)
        .chain(creds.chain.iter().cloned())
    {
        if !carried.iter().any(|c| c.der() == cert.der()) {
            carried.push(cert);
        }
    }
    let (ocsp, crls) = super::online::fetch_revocation(&carried, &carried, None)?;
    let mut data = identity_core::pades::ValidationData {
        certificates: carried.iter().map(|c| c.der().to_vec()).collect(),
        ..Default::default()
    };
    data.ocsp = ocsp.iter().map(|o| o.der().to_vec()).collect();
    data.crls = crls.iter().map(|c| c.der().to_vec()).collect();
    Ok(identity_core::pades::add_validation_data(pdf, &data)?)
}

/// Whether `file` gets a PAdES signature (inside it) rather than a CAdES one.
fn is_pades(args: &SignArgs, file: &Path) -> bool {
    match args.format {
        SignFormat::Pades => true,
        SignFormat::Cades => false,
        SignFormat::Auto => file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pdf")),
    }
}

/// Where `file`'s signature goes: `--out`; for PAdES, FILE.signed.pdf (a file
/// already so named is signed in place); else FILE.p7s.
fn output_for(args: &SignArgs, file: &Path) -> PathBuf {
    if let Some(out) = &args.out {
        return out.clone();
    }
    if !is_pades(args, file) {
        return crate::io::append_extension(file, "p7s");
    }
    let name = file.to_string_lossy();
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".signed.pdf") {
        file.to_path_buf()
    } else if lower.ends_with(".pdf") {
        PathBuf::from(format!("{}.signed.pdf", &name[..name.len() - 4]))
    } else {
        crate::io::append_extension(file, "signed.pdf")
    }
}

pub(crate) fn cosign(args: &CosignArgs, json_output: bool) -> Result<Outcome> {
    let creds = credentials(&args.signing)?;
    let existing = io::read(&args.signature)?;
    let detached = cms::is_detached(&existing)
        .with_context(|| format!("reading the signature {}", args.signature.display()))?;
    let content_path = args.content.clone().or_else(|| {
        let name = args.signature.to_str()?.strip_suffix(".p7s")?;
        Some(PathBuf::from(name)).filter(|p| detached && p.is_file())
    });
    let content = content_path.as_deref().map(io::read).transpose()?;
    let updated = cms::cosign(
        &existing,
        content.as_deref(),
        &creds.key,
        &creds.cert,
        &creds.chain,
        now()?,
    )
    .with_context(|| format!("adding a signature to {}", args.signature.display()))?;
    let updated = creds.stamp(updated)?;
    io::write_atomic(&args.signature, &updated, Access::Public, true)?;
    report::done(
        json_output,
        &format!(
            "{} now also carries the signature of {}",
            args.signature.display(),
            creds.cert.subject().common_name().unwrap_or("?")
        ),
        json!({"signature": args.signature.display().to_string()}),
    );
    Ok(Outcome::Valid)
}

/// What a verification judges by: the trusted roots, more intermediates, and
/// revocation information (given, or fetched with `--online` for the
/// certificates `signatures` carry).
struct Evidence {
    anchors: Vec<Certificate>,
    intermediates: Vec<Certificate>,
    crls: Vec<Crl>,
    ocsp: Vec<OcspResponseInfo>,
}

impl Evidence {
    fn gather(args: &VerifyArgs, signatures: &[Vec<u8>]) -> Result<Self> {
        let mut anchors = Vec::new();
        for path in &args.trust {
            anchors.extend(certificates(path)?);
        }
        let mut intermediates = Vec::new();
        for path in &args.intermediates {
            intermediates.extend(certificates(path)?);
        }
        let mut crls = Vec::new();
        let mut ocsp = Vec::new();
        if args.online {
            // The certificates the signature carries, and revocation information
            // for each from where it says (OCSP, else the CRL).
            let mut carried = Vec::new();
            for signature in signatures {
                carried.extend(
                    identity_core::cms::certificates(signature)
                        .context("reading the signature's certificates")?,
                );
                carried.extend(
                    identity_core::tsp::time_stamp_certificates(signature)
                        .context("reading the time-stamps' certificates")?,
                );
            }
            let pool: Vec<Certificate> = carried
                .iter()
                .chain(&intermediates)
                .chain(&anchors)
                .cloned()
                .collect();
            let (answers, lists) =
                super::online::fetch_revocation(&carried, &pool, Some(&anchors))?;
            ocsp.extend(answers);
            crls.extend(lists);
        }
        for path in &args.crl {
            crls.extend(
                Crl::parse_all(&io::read(path)?)
                    .with_context(|| format!("reading the CRL {}", path.display()))?,
            );
        }
        for path in &args.ocsp {
            ocsp.extend(
                OcspResponseInfo::parse_all(&io::read(path)?)
                    .with_context(|| format!("reading {}", path.display()))?,
            );
        }
        Ok(Self {
            anchors,
            intermediates,
            crls,
            ocsp,
        })
    }

    /// How to verify: at `--at` (or now), revocation required online.
    fn options(&self, args: &VerifyArgs) -> Result<VerifyOptions<'_>> {
        let at = args
            .at
            .as_deref()
            .map(parse_rfc3339)
            .transpose()
            .map_err(anyhow::Error::msg)?;
        Ok(VerifyOptions {
            at,
            now: now()?,
            crls: &self.crls,
            ocsp: &self.ocsp,
            // Online, revocation information is what was asked for: a certificate
            // whose status could not be fetched is not taken as good.
            require_revocation: args.require_revocation || args.online,
        })
    }
}

pub(crate) fn verify(args: &VerifyArgs, json_output: bool) -> Result<Outcome> {
    // A PDF carries its signatures (PAdES), unless a CAdES one is named or beside it.
    if args.sig.is_none() && !crate::io::append_extension(&args.file, "p7s").is_file() {
        let bytes = io::read(&args.file)?;
        if bytes.starts_with(b"%PDF-") {
            return verify_pdf(args, &bytes, json_output);
        }
    }
    // Which file is the signature, and which the document.
    // FILE --sig SIG; FILE with FILE.p7s beside it; or FILE.p7s itself, with the
    // document beside it when there is one.
    let (signature_path, content_path) = match &args.sig {
        Some(sig) => (sig.clone(), Some(args.file.clone())),
        None => {
            let beside = crate::io::append_extension(&args.file, "p7s");
            let stripped = args
                .file
                .to_str()
                .and_then(|n| n.strip_suffix(".p7s"))
                .map(PathBuf::from);
            if beside.is_file() {
                (beside, Some(args.file.clone()))
            } else if let Some(document) = stripped.filter(|p| p.is_file()) {
                (args.file.clone(), Some(document))
            } else {
                (args.file.clone(), None)
            }
        }
    };
    let signature = io::read(&signature_path)?;
    let content = content_path.as_deref().map(io::read).transpose()?;
    let evidence = Evidence::gather(args, std::slice::from_ref(&signature))?;
    let (anchors, intermediates) = (&evidence.anchors, &evidence.intermediates);
    let options = evidence.options(args)?;
    let reports = match cms::verify(
        &signature,
        content.as_deref(),
        anchors,
        intermediates,
        &options,
    ) {
        Ok(r) => r,
        Err(identity_core::CmsError::ContentMismatch) => {
            report::verification(
                json_output,
                Outcome::Invalid,
                &format!(
                    "{} carries a document that is not {}",
                    signature_path.display(),
                    content_path
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ),
                json!({}),
            );
            return Ok(Outcome::Invalid);
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the signature {}", signature_path.display()));
        }
    };
    let outcome = overall(&reports);
    report::signatures(json_output, &signature_path, &reports, outcome);
    Ok(outcome)
}

/// Every signature of a signed PDF, each over the revision it signed, with
/// what was changed after it.
fn verify_pdf(args: &VerifyArgs, pdf: &[u8], json_output: bool) -> Result<Outcome> {
    // The signatures' certificates are only needed to fetch their revocation.
    let contents = if args.online {
        identity_core::pades::signatures(pdf)
            .with_context(|| format!("reading {}", args.file.display()))?
    } else {
        Vec::new()
    };
    let evidence = Evidence::gather(args, &contents)?;
    let options = evidence.options(args)?;
    let signatures =
        identity_core::pades::verify(pdf, &evidence.anchors, &evidence.intermediates, &options)
            .with_context(|| format!("reading {}", args.file.display()))?;
    let reports: Vec<SignerReport> = signatures.iter().map(|s| s.signer.clone()).collect();
    let outcome = overall(&reports);
    report::pdf_signatures(json_output, &args.file, &signatures, outcome);
    Ok(outcome)
}

/// All signers valid: valid; any signature proven bad: invalid; else indeterminate.
fn overall(reports: &[SignerReport]) -> Outcome {
    if reports.iter().all(|r| r.report.passed()) {
        Outcome::Valid
    } else if reports
        .iter()
        .any(|r| r.report.indication == Indication::TotalFailed)
    {
        Outcome::Invalid
    } else {
        Outcome::Indeterminate
    }
}
