//! `pki`: the offline root ceremony and CA operations over a CA directory.

mod cli;
mod dir;
mod verify;

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use identity_core::keys::{SignatureAlgorithm, SigningKey, SystemRandom};
use identity_core::x509::CertificationRequest;
use pki::{Authority, CaStore, IssueRequest, MemoryStore, Profile, Reason, Subject};

use cli::{Cli, Command, CrlArgs, InitArgs, IssueArgs, OcspArgs, RevokeArgs};
use dir::{CAS, CaDir, DirConfig};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init(args) => init(&args).map(|()| 0),
        Command::Issue(args) => issue(&args).map(|()| 0),
        Command::Revoke(args) => revoke(&args).map(|()| 0),
        Command::Crl(args) => crl(&args).map(|()| 0),
        Command::OcspRespond(args) => ocsp_respond(&args),
        Command::Verify(args) => verify::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The time now, the only clock `pki` reads.
fn now() -> Result<i64> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("reading the clock")?;
    i64::try_from(since.as_secs()).context("reading the clock")
}

fn init(args: &InitArgs) -> Result<()> {
    let target = &args.dir;
    if target.exists()
        && std::fs::read_dir(target)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "{} already exists and is not empty: choose a new directory",
            target.display()
        );
    }
    for p in &args.policies {
        der::asn1::ObjectIdentifier::new(p)
            .map_err(|e| anyhow::anyhow!("--policy {p:?} is not an OID: {e}"))?;
    }
    let passphrase = dir::passphrase(true)?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    // Everything is made in a temporary directory beside the target and renamed into
    // place at the end: a failure leaves no half-made CA.
    let work = tempfile::TempDir::new_in(&parent)
        .with_context(|| format!("creating a directory in {}", parent.display()))?;
    let config = DirConfig {
        organization: args.organization.clone(),
        publish_url: args.publish_url.clone(),
        ocsp_url: args.ocsp_url.clone(),
        policies: args.policies.clone(),
    };
    let ca_dir = CaDir {
        root: work.path().to_path_buf(),
        config: config.clone(),
    };
    let rng = SystemRandom::new();
    let now = now()?;
    let authority = |name: &str| Subject::Authority {
        name: name.to_owned(),
        organization: config.organization.clone(),
    };

    let root_key = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384, &rng)?;
    let root_der = Authority::self_signed_root(&authority("Root CA"), &root_key, &rng, now)?;
    let mut root_store = MemoryStore::new();
    {
        let root = Authority::new(
            &root_der,
            Profile::Root,
            &root_key,
            config.ca_config(Profile::Root),
        )?;
        for ca in CAS.iter().skip(1) {
            let name = match ca {
                Profile::CitizenCa => "Citizen CA",
                Profile::BusinessCa => "Business CA",
                Profile::OfficialCa => "Officials Signing CA",
                _ => "Infrastructure CA",
            };
            // Each issuing CA delegates OCSP to a responder of its own.
            let made = pki::IssuingCa::make(
                &root,
                &mut root_store,
                *ca,
                name,
                &config.organization,
                config.ca_config(*ca),
                &rng,
                now,
            )?;
            write_ca(
                &ca_dir,
                *ca,
                &made.certificate,
                &made.key,
                &passphrase,
                &made.records,
            )?;
            let folder = ca_dir.folder(*ca);
            dir::write_atomic(
                &folder.join("ocsp-cert.pem"),
                dir::pem("CERTIFICATE", &made.responder_certificate)?.as_bytes(),
                0o644,
                false,
            )?;
            dir::write_key(
                &folder.join("ocsp-key.pem"),
                &made.responder_key,
                &passphrase,
            )?;
        }
    }
    write_ca(
        &ca_dir,
        Profile::Root,
        &root_der,
        &root_key,
        &passphrase,
        &root_store,
    )?;
    dir::write_atomic(
        &work.path().join("config.json"),
        &serde_json::to_vec_pretty(&config)?,
        0o644,
        false,
    )?;
    let made = work.keep();
    std::fs::rename(&made, target)
        .with_context(|| format!("moving the new CA directory to {}", target.display()))?;
    println!(
        "created {}: a P-384 root and {} issuing CAs; keys are encrypted with the passphrase",
        target.display(),
        CAS.len() - 1
    );
    for ca in CAS {
        println!("  {}/{}/cert.pem", target.display(), ca.name());
    }
    Ok(())
}

fn write_ca(
    dir: &CaDir,
    ca: Profile,
    cert: &[u8],
    key: &SigningKey,
    passphrase: &identity_core::keys::Passphrase,
    store: &MemoryStore,
) -> Result<()> {
    let folder = dir.folder(ca);
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    dir::write_atomic(
        &folder.join("cert.pem"),
        dir::pem("CERTIFICATE", cert)?.as_bytes(),
        0o644,
        false,
    )?;
    dir::write_key(&folder.join("key.pem"), key, passphrase)?;
    dir.save_store(ca, store)
}

fn ca_named(name: &str) -> Result<Profile> {
    let profile: Profile = name.parse()?;
    if !CAS.contains(&profile) {
        bail!(
            "{name} is not a CA of the directory: use one of {}",
            CAS.map(|c| c.name()).join(", ")
        );
    }
    Ok(profile)
}

fn issue(args: &IssueArgs) -> Result<()> {
    let profile: Profile = args.profile.parse()?;
    let ca = match &args.ca {
        Some(name) => ca_named(name)?,
        None => *CAS
            .iter()
            .find(|ca| ca.issues().contains(&profile))
            .with_context(|| format!("no CA of the directory issues {profile}"))?,
    };
    // Read and check every input before touching the CA's key or state.
    let csr_bytes =
        std::fs::read(&args.csr).with_context(|| format!("reading {}", args.csr.display()))?;
    let request = CertificationRequest::from_pem_or_der(&csr_bytes)
        .with_context(|| format!("reading the request {}", args.csr.display()))?;
    let identity_text = std::fs::read_to_string(&args.identity)
        .with_context(|| format!("reading {}", args.identity.display()))?;
    let subject: Subject = serde_json::from_str(&identity_text)
        .with_context(|| format!("reading the identity {}", args.identity.display()))?;
    let dir = CaDir::open(&args.dir.dir)?;
    let _lock = dir.lock()?;
    let (ca_der, key) = dir.ca_and_key(ca)?;
    let authority = Authority::new(&ca_der, ca, &key, dir.config.ca_config(ca))?;
    let mut store = dir.store(ca)?;
    let issued = authority.issue(
        IssueRequest {
            profile,
            subject: &subject,
            request: &request,
        },
        &mut store,
        &SystemRandom::new(),
        now()?,
    )?;
    // The record is saved before the certificate is handed out.
    dir.save_store(ca, &store)?;
    dir::output(
        args.out.as_deref(),
        dir::pem("CERTIFICATE", &issued.der)?.as_bytes(),
    )?;
    eprintln!(
        "issued {profile} certificate {} from {}",
        issued.serial,
        ca.name()
    );
    Ok(())
}

fn revoke(args: &RevokeArgs) -> Result<()> {
    let reason: Reason = args.reason.parse()?;
    let serial = pki::normalize_serial(&args.serial)
        .with_context(|| format!("{:?} is not a hexadecimal serial number", args.serial))?;
    let dir = CaDir::open(&args.dir.dir)?;
    let _lock = dir.lock()?;
    for ca in CAS {
        let mut store = dir.store(ca)?;
        if store.issued(&serial)?.is_none() {
            continue;
        }
        let (ca_der, key) = dir.ca_and_key(ca)?;
        let authority = Authority::new(&ca_der, ca, &key, dir.config.ca_config(ca))?;
        let record = authority.revoke(&mut store, &serial, reason, now()?)?;
        dir.save_store(ca, &store)?;
        println!(
            "revoked {} ({}) issued by {}; publish a new CRL with `pki crl --ca {}`",
            record.serial,
            reason.name(),
            ca.name(),
            ca.name()
        );
        return Ok(());
    }
    bail!(
        "no certificate with serial {serial} was issued from {}",
        args.dir.dir.display()
    )
}

fn crl(args: &CrlArgs) -> Result<()> {
    let ca = ca_named(&args.ca)?;
    let dir = CaDir::open(&args.dir.dir)?;
    let _lock = dir.lock()?;
    let (ca_der, key) = dir.ca_and_key(ca)?;
    let authority = Authority::new(&ca_der, ca, &key, dir.config.ca_config(ca))?;
    let mut store = dir.store(ca)?;
    let der = authority.crl(&mut store, now()?, i64::from(args.hours) * 3_600)?;
    dir.save_store(ca, &store)?;
    let bytes = if args.der {
        der
    } else {
        dir::pem("X509 CRL", &der)?.into_bytes()
    };
    dir::output(args.out.as_deref(), &bytes)?;
    eprintln!(
        "CRL of {} with {} revoked certificates",
        ca.name(),
        store.revocations()?.len()
    );
    Ok(())
}

fn ocsp_respond(args: &OcspArgs) -> Result<u8> {
    let bytes = std::fs::read(&args.request)
        .with_context(|| format!("reading {}", args.request.display()))?;
    let query = match pki::OcspQuery::from_der(&bytes) {
        Ok(q) => q,
        Err(e) => {
            dir::output(args.out.as_deref(), &pki::malformed_request_response())?;
            eprintln!(
                "error: {} is not an OCSP request ({e}); answered malformedRequest",
                args.request.display()
            );
            return Ok(2);
        }
    };
    let dir = CaDir::open(&args.dir.dir)?;
    let passphrase = dir::passphrase(false)?;
    for ca in CAS.iter().skip(1) {
        let ca_der = dir.certificate(*ca)?;
        let responder_der = dir::read_pem(&dir.folder(*ca).join("ocsp-cert.pem"), "CERTIFICATE")?;
        let key = dir.key(*ca, "ocsp-key.pem", &passphrase)?;
        let responder = pki::Responder::new(&ca_der, &responder_der, &key)?;
        if !(0..query.requests.len()).any(|i| responder.answers(&query, i)) {
            continue;
        }
        let store = dir.store(*ca)?;
        let mut statuses = Vec::new();
        for i in 0..query.requests.len() {
            let serial = query.serial(i).unwrap_or_default();
            let status = match (store.issued(&serial)?, store.revocation(&serial)?) {
                (None, _) => pki::CertState::Unknown,
                (Some(_), Some(r)) => pki::CertState::Revoked {
                    time: r.time,
                    reason: r.reason,
                },
                (Some(_), None) => pki::CertState::Good,
            };
            statuses.push(status);
        }
        let response =
            responder.respond(&query, &statuses, now()?, i64::from(args.hours) * 3_600)?;
        dir::output(args.out.as_deref(), &response)?;
        eprintln!(
            "answered {} for {} by {}",
            pki::describe_request(&query),
            ca.name(),
            responder.certificate().subject()
        );
        return Ok(0);
    }
    bail!(
        "no CA of {} issued the certificates asked about: {}",
        args.dir.dir.display(),
        pki::describe_request(&query)
    )
}
