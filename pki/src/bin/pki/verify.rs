//! `pki verify`: path validation with the report printed.

use std::path::Path;

use anyhow::{Context, Result, bail};
use identity_core::x509::{
    Certificate, Crl, OcspResponseInfo, PolicyParams, ValidationParams, parse_rfc3339, validate,
};

use crate::cli::VerifyArgs;

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn certificates(paths: &[std::path::PathBuf]) -> Result<Vec<Certificate>> {
    let mut all = Vec::new();
    for path in paths {
        all.extend(
            Certificate::parse_all(&read(path)?)
                .with_context(|| format!("reading {}", path.display()))?,
        );
    }
    Ok(all)
}

/// Validates and prints; returns the exit code (0, 1 or 2).
pub(crate) fn run(args: &VerifyArgs) -> Result<u8> {
    let leaf_all = certificates(std::slice::from_ref(&args.leaf))?;
    let leaf = match leaf_all.as_slice() {
        [one] => one,
        many => bail!(
            "{} holds {} certificates: give the one to validate alone, the others with --intermediates",
            args.leaf.display(),
            many.len()
        ),
    };
    let anchors = certificates(&args.trust)?;
    let intermediates = certificates(&args.intermediates)?;
    let mut crls = Vec::new();
    for path in &args.crl {
        crls.extend(
            Crl::parse_all(&read(path)?).with_context(|| format!("reading {}", path.display()))?,
        );
    }
    let mut ocsp = Vec::new();
    for path in &args.ocsp {
        ocsp.extend(
            OcspResponseInfo::parse_all(&read(path)?)
                .with_context(|| format!("reading {}", path.display()))?,
        );
    }
    let time = match &args.at {
        Some(at) => parse_rfc3339(at).map_err(anyhow::Error::msg)?,
        None => crate::now()?,
    };
    let mut params = ValidationParams::new(time);
    params.purpose = args.purpose.parse().map_err(anyhow::Error::msg)?;
    params.dns_name = args.dns_name.clone();
    params.ip_address = args.ip;
    params.crls = &crls;
    params.ocsp = &ocsp;
    params.require_revocation = args.require_revocation;
    params.policy = PolicyParams {
        initial_policy_set: args.policies.clone(),
        explicit_policy: args.explicit_policy,
        inhibit_policy_mapping: args.inhibit_policy_mapping,
        inhibit_any_policy: args.inhibit_any_policy,
    };
    let report = validate(leaf, &intermediates, &anchors, &params);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(report.indication.exit_code())
}
