//! The only place that prints: results as text for people or JSON for machines.

use serde_json::Value;

use crate::cmd::Outcome;

/// Prints a finished step: `message` for people, `data` for machines.
pub(crate) fn done(json_output: bool, message: &str, data: Value) {
    if json_output {
        println!("{data}");
    } else {
        println!("{message}");
    }
}

/// Prints the outcome of a verification: `VALID`, `INVALID` or `INDETERMINATE`.
pub(crate) fn verification(json_output: bool, outcome: Outcome, detail: &str, data: Value) {
    let word = word(outcome);
    if json_output {
        let mut data = data;
        if let Value::Object(m) = &mut data {
            m.insert("valid".into(), (outcome == Outcome::Valid).into());
            m.insert("outcome".into(), word.into());
            m.insert("detail".into(), detail.into());
        }
        println!("{data}");
    } else {
        println!("{word}: {detail}");
    }
}

/// Prints text as it is (a key, a JWK).
pub(crate) fn text(text: &str) {
    println!("{}", text.trim_end());
}

/// Prints an error that stopped the command, with its chain of causes.
pub(crate) fn error(error: &anyhow::Error) {
    eprintln!("error: {error:#}");
}

/// Reports a demo step.
pub(crate) fn step(json_output: bool, n: usize, message: &str) {
    if !json_output {
        println!("{n}. {message}");
    }
}

/// Prints one line about a problem that did not stop the command (a file of a batch).
pub(crate) fn error_line(message: &str) {
    eprintln!("error: {message}");
}

/// Prints the verdict on each signature of a signed file.
pub(crate) fn signatures(
    json_output: bool,
    path: &std::path::Path,
    reports: &[identity_core::cms::SignerReport],
    outcome: Outcome,
) {
    if json_output {
        let value = serde_json::json!({
            "signature": path.display().to_string(),
            "valid": outcome == Outcome::Valid,
            "signers": reports,
        });
        println!("{value}");
        return;
    }
    heading(path, reports.len(), outcome);
    for (i, r) in reports.iter().enumerate() {
        println!("signature {} of {}: {}", i + 1, reports.len(), verdict(r));
        signer_lines(r);
    }
}

/// Prints the verdict on each signature inside a signed PDF, and what was
/// changed after each.
pub(crate) fn pdf_signatures(
    json_output: bool,
    path: &std::path::Path,
    signatures: &[identity_core::pades::PdfSignature],
    outcome: Outcome,
) {
    if json_output {
        let value = serde_json::json!({
            "document": path.display().to_string(),
            "valid": outcome == Outcome::Valid,
            "signatures": signatures,
        });
        println!("{value}");
        return;
    }
    heading(path, signatures.len(), outcome);
    for (i, s) in signatures.iter().enumerate() {
        let r = &s.signer;
        println!(
            "signature {} of {} ({}, {}): {}",
            i + 1,
            signatures.len(),
            s.field,
            s.sub_filter,
            verdict(r)
        );
        signer_lines(r);
        if s.changes_after.is_empty() {
            println!("  covers:      the whole document");
        } else {
            println!(
                "  covers:      the first {} bytes; changed after it:",
                s.signed_length
            );
            for change in &s.changes_after {
                println!(
                    "               - {} (object {}){}",
                    change.what,
                    change.object,
                    if change.allowed { "" } else { ": NOT ALLOWED" }
                );
            }
        }
    }
}

/// `VALID`, `INVALID` or `INDETERMINATE`.
fn word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Valid => "VALID",
        Outcome::Invalid => "INVALID",
        Outcome::Indeterminate => "INDETERMINATE",
    }
}

/// `VALID: FILE (N signatures)`.
fn heading(path: &std::path::Path, count: usize, outcome: Outcome) {
    println!(
        "{}: {} ({count} signature{})",
        word(outcome),
        path.display(),
        if count == 1 { "" } else { "s" }
    );
}

/// `INDICATION/SUB_INDICATION`.
fn verdict(r: &identity_core::cms::SignerReport) -> String {
    match r.report.sub_indication {
        Some(sub) => format!("{}/{sub}", r.report.indication),
        None => r.report.indication.to_string(),
    }
}

/// Who signed, when, with which certificate, and why the verdict.
fn signer_lines(r: &identity_core::cms::SignerReport) {
    let who = r.name.as_deref().unwrap_or("(unknown signer)");
    let id = r
        .identifier
        .as_deref()
        .map(|i| format!(" ({i})"))
        .unwrap_or_default();
    let org = r
        .organization
        .as_deref()
        .map(|o| format!(", {o}"))
        .unwrap_or_default();
    println!("  signed by:   {who}{id}{org}");
    match (&r.time_stamp, &r.signing_time) {
        (Some(stamp), claimed) => {
            let accuracy = stamp
                .accuracy_ms
                .map(|ms| format!(", within {ms} ms"))
                .unwrap_or_default();
            println!(
                "  signed at:   {} or before (time-stamp by {}{accuracy})",
                identity_core::x509::format_rfc3339(stamp.time),
                stamp.authority
            );
            if let Some(t) = claimed {
                println!("  claimed:     {t} (by the signer)");
            }
        }
        (None, Some(t)) => println!("  signed at:   {t} (claimed by the signer; no time-stamp)"),
        (None, None) => println!("  signed at:   (no signing time)"),
    }
    if let Some(cert) = r.report.path.first() {
        println!(
            "  certificate: serial {}, issued by {}",
            cert.serial, cert.issuer
        );
        println!(
            "               valid {} to {}",
            cert.not_before, cert.not_after
        );
    }
    println!("  why:         {}", r.report.message);
}
