//! What signer does over the network: `login` (the OAuth device grant with
//! the `openidconnect` crate), `enroll` (a certificate from the provider's
//! CA), and the revocation information `verify --online` fetches.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use identity_core::keys::{SecureRandom as _, SignatureAlgorithm, SigningKey, SystemRandom};
use identity_core::x509::{Certificate, CertificationRequest, Crl, OcspResponseInfo};
use openidconnect::core::{CoreClient, CoreDeviceAuthorizationResponse};
use openidconnect::reqwest::blocking::Client as Http;
use openidconnect::{
    ClientId, DeviceAuthorizationUrl, IssuerUrl, Nonce, OAuth2TokenResponse, RefreshToken, Scope,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Outcome;
use super::cades::now;
use crate::cli::{EnrollArgs, HomeArgs, LoginArgs};
use crate::io::{self, Access};
use crate::report;

/// How long any request may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// A token is refreshed when it has less than this left.
const REFRESH_MARGIN: i64 = 30;
/// The largest OCSP answer and CRL read (a signature names where to fetch
/// them: nothing it names may fill the memory).
const MAX_OCSP_BYTES: u64 = 64 * 1024;
const MAX_CRL_BYTES: u64 = 16 * 1024 * 1024;
/// Certificates whose revocation is fetched at most (a chain is short).
const MAX_FETCHED: usize = 8;

/// signer's folder: `--home`, `SIGNER_HOME`, `$XDG_CONFIG_HOME/signer` or
/// `~/.config/signer`; made (mode 0700) when missing.
fn home(args: &HomeArgs) -> Result<PathBuf> {
    let dir = match (&args.home, std::env::var_os("SIGNER_HOME")) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dir)) => PathBuf::from(dir),
        (None, None) => match std::env::var_os("XDG_CONFIG_HOME") {
            Some(config) => PathBuf::from(config).join("signer"),
            None => PathBuf::from(
                std::env::var_os("HOME").context("no HOME: give --home or SIGNER_HOME")?,
            )
            .join(".config")
            .join("signer"),
        },
    };
    if !dir.is_dir() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(dir)
}

fn http() -> Result<Http> {
    Http::builder()
        // The provider's answers are final: a redirect is never followed
        // (it could carry a token elsewhere).
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .build()
        .context("starting the HTTP client")
}

/// A login, as kept in `session.json` (mode 0600).
#[derive(Serialize, Deserialize)]
struct Session {
    issuer: String,
    client_id: String,
    access_token: String,
    refresh_token: Option<String>,
    /// When the access token expires, seconds since the epoch.
    expires_at: i64,
    /// Who logged in (the ID token's name), for messages.
    name: Option<String>,
}

const SESSION_FILE: &str = "session.json";

fn save(dir: &Path, session: &Session) -> Result<()> {
    let json = zeroize::Zeroizing::new(serde_json::to_vec_pretty(session)?);
    io::write_atomic(&dir.join(SESSION_FILE), &json, Access::Private, true)
}

/// What discovery says beyond the core metadata: the device authorization
/// endpoint (RFC 8628 §4).
#[derive(Clone, Debug, Deserialize, Serialize)]
struct DeviceEndpoint {
    device_authorization_endpoint: Option<DeviceAuthorizationUrl>,
}

impl openidconnect::AdditionalProviderMetadata for DeviceEndpoint {}

type DeviceProviderMetadata = openidconnect::ProviderMetadata<
    DeviceEndpoint,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreClientAuthMethod,
    openidconnect::core::CoreClaimName,
    openidconnect::core::CoreClaimType,
    openidconnect::core::CoreGrantType,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJweKeyManagementAlgorithm,
    openidconnect::core::CoreJsonWebKey,
    openidconnect::core::CoreResponseMode,
    openidconnect::core::CoreResponseType,
    openidconnect::core::CoreSubjectIdentifierType,
>;

/// The provider's client for signer, its endpoints from discovery.
struct Provider {
    client: CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
}

fn provider(http: &Http, issuer: &str, client_id: &str) -> Result<Provider> {
    let issuer_url = IssuerUrl::new(issuer.to_owned())
        .with_context(|| format!("{issuer:?} is not a URL: give the provider's address"))?;
    // Tokens travel to the issuer: never in clear text but to this machine.
    let url = issuer_url.url();
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if url.scheme() != "https" && !loopback {
        bail!("{issuer} is not https: the login's tokens would travel in clear text");
    }
    let metadata = DeviceProviderMetadata::discover(&issuer_url, http)
        .with_context(|| format!("reading the OpenID configuration of {issuer}"))?;
    let device = metadata
        .additional_metadata()
        .device_authorization_endpoint
        .clone()
        .with_context(|| format!("{issuer} offers no device login (RFC 8628)"))?;
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(client_id.to_owned()), None)
            .set_device_authorization_url(device);
    Ok(Provider { client })
}

/// `signer login`.
pub(crate) fn login(args: &LoginArgs, json_output: bool) -> Result<Outcome> {
    let dir = home(&args.home)?;
    let http = http()?;
    let Provider { client } = provider(&http, &args.issuer, &args.client_id)?;
    let mut request = client.exchange_device_code();
    for scope in &args.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let details: CoreDeviceAuthorizationResponse = request
        .request(&http)
        .context("asking the provider for a device code")?;
    let complete = details
        .verification_uri_complete()
        .map(|u| u.secret().clone());
    // The person reads this on the terminal (stderr: stdout stays for --json).
    eprintln!(
        "To log in, open {} in a browser, log in with your passkey and enter the code\n\n    {}\n",
        details.verification_uri().as_str(),
        details.user_code().secret()
    );
    if let Some(complete) = &complete {
        eprintln!("(or open {complete})");
    }
    eprintln!("Waiting for you to approve…");
    let tokens = client
        .exchange_device_access_token(&details)?
        .request(&http, std::thread::sleep, None)
        .map_err(|e| match e {
            openidconnect::RequestTokenError::ServerResponse(r) => anyhow::anyhow!(
                "the login did not complete: {}{}",
                r.error(),
                r.error_description()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            other => anyhow::anyhow!("the login did not complete: {other}"),
        })?;
    // The ID token, checked: signed by the provider, for signer, not expired.
    let name = match tokens.id_token() {
        Some(id_token) => {
            let claims = id_token
                .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
                .context("the provider's ID token did not verify")?;
            claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned())
        }
        None => None,
    };
    let session = Session {
        issuer: args.issuer.trim_end_matches('/').to_owned(),
        client_id: args.client_id.clone(),
        access_token: tokens.access_token().secret().clone(),
        refresh_token: tokens.refresh_token().map(|r| r.secret().clone()),
        expires_at: expires_at(&tokens)?,
        name: name.clone(),
    };
    save(&dir, &session)?;
    report::done(
        json_output,
        &format!(
            "logged in{} at {}; the login is kept in {}",
            name.as_deref()
                .map(|n| format!(" as {n}"))
                .unwrap_or_default(),
            session.issuer,
            dir.join(SESSION_FILE).display()
        ),
        json!({"issuer": session.issuer, "name": name}),
    );
    Ok(Outcome::Valid)
}

/// When the access token of `tokens` expires (five minutes when the provider
/// does not say).
fn expires_at(tokens: &impl OAuth2TokenResponse) -> Result<i64> {
    let lifetime = tokens
        .expires_in()
        .map_or(300, |d| i64::try_from(d.as_secs()).unwrap_or(300));
    Ok(now()? + lifetime)
}

/// The kept login with an access token good for a while yet, refreshed when
/// it is about to expire.
fn session(dir: &Path, http: &Http) -> Result<Session> {
    let path = dir.join(SESSION_FILE);
    if !path.exists() {
        bail!("not logged in: run `signer login --issuer URL` first");
    }
    let text = io::read_secret_text(&path)?;
    let mut session: Session = serde_json::from_str(&text)
        .with_context(|| format!("{} is damaged: run `signer login` again", path.display()))?;
    if session.expires_at - REFRESH_MARGIN > now()? {
        return Ok(session);
    }
    let Some(refresh) = session.refresh_token.clone() else {
        bail!("the login has expired: run `signer login` again");
    };
    let Provider { client } = provider(http, &session.issuer, &session.client_id)?;
    let tokens = client
        .exchange_refresh_token(&RefreshToken::new(refresh))?
        .request(http)
        .map_err(|e| match e {
            openidconnect::RequestTokenError::ServerResponse(_) => {
                anyhow::anyhow!("the login has expired or was ended: run `signer login` again")
            }
            other => anyhow::anyhow!("refreshing the login failed (try again): {other}"),
        })?;
    session.access_token = tokens.access_token().secret().clone();
    if let Some(r) = tokens.refresh_token() {
        session.refresh_token = Some(r.secret().clone());
    }
    session.expires_at = expires_at(&tokens)?;
    save(dir, &session)?;
    Ok(session)
}

/// The key to certify: read, or (missing) made and saved first.
fn enrolment_key(path: &Path, args: &EnrollArgs) -> Result<(SigningKey, bool)> {
    if path.exists() {
        return Ok((io::read_signing_key(path, &args.passphrase)?, false));
    }
    let (key, pem) = super::keygen::new_key(
        SignatureAlgorithm::EcdsaP256Sha256,
        (!args.no_encrypt).then_some((&args.passphrase, "Passphrase for your new signing key: ")),
    )?;
    io::write_atomic(path, pem.as_bytes(), Access::Private, false)?;
    Ok((key, true))
}

/// `signer enroll`.
pub(crate) fn enroll(args: &EnrollArgs, json_output: bool) -> Result<Outcome> {
    let dir = home(&args.home)?;
    let http = http()?;
    // The login first: nothing is made for a login that cannot be used.
    let session = session(&dir, &http)?;
    let key_path = args.key.clone().unwrap_or_else(|| dir.join("key.pem"));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| dir.join("certificate.pem"));
    let (key, made) = enrolment_key(&key_path, args)?;
    // The request's subject is a label: the CA names the verified identity.
    let request = CertificationRequest::create(&key, "signer enrolment")
        .context("making the certification request")?;
    let response = http
        .post(format!("{}/pki/enroll", session.issuer))
        .bearer_auth(&session.access_token)
        .header("content-type", "application/pkcs10")
        .body(request)
        .send()
        .with_context(|| format!("reaching {}", session.issuer))?;
    let status = response.status();
    let body = response.text().context("reading the CA's answer")?;
    if status.as_u16() != 201 {
        let why = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error_description"].as_str().map(str::to_owned))
            .unwrap_or_else(|| body.chars().take(200).collect());
        bail!("the CA refused the enrolment ({status}): {why}");
    }
    let chain = Certificate::parse_all(body.as_bytes()).context("reading the certificates")?;
    let leaf = chain.first().context("the CA sent no certificate")?;
    if leaf.public_key_der() != key.verifying_key().to_spki_der() {
        bail!("the CA certified another key: nothing saved");
    }
    io::write_atomic(&out, body.as_bytes(), Access::Public, true)?;
    report::done(
        json_output,
        &format!(
            "certificate {} for {}, valid until {}; saved to {} (key {}{})",
            leaf.serial_hex(),
            leaf.subject(),
            identity_core::x509::format_rfc3339(leaf.not_after()),
            out.display(),
            key_path.display(),
            if made { ", new" } else { "" }
        ),
        json!({
            "serial": leaf.serial_hex(),
            "subject": leaf.subject().to_string(),
            "not_after": leaf.not_after(),
            "certificate": out.display().to_string(),
            "key": key_path.display().to_string(),
        }),
    );
    Ok(Outcome::Valid)
}

/// Whether `cert` chains to one of `anchors` through `pool` (issuer names and
/// signatures only: path validation judges the rest). Only such certificates'
/// URLs are fetched: a made-up certificate in a signature cannot make the
/// verifier fetch what it names.
fn chains_to_anchor(cert: &Certificate, pool: &[Certificate], anchors: &[Certificate]) -> bool {
    let mut current = cert.clone();
    for _ in 0..MAX_FETCHED {
        if anchors
            .iter()
            .any(|a| a.subject() == current.issuer() && current.is_signed_by(a))
        {
            return true;
        }
        match pool.iter().find(|i| {
            i.subject() == current.issuer() && current.is_signed_by(i) && i.der() != current.der()
        }) {
            Some(next) => current = next.clone(),
            None => return false,
        }
    }
    false
}

/// Reads an answer of at most `limit` bytes.
pub(crate) fn body(
    response: openidconnect::reqwest::blocking::Response,
    limit: u64,
) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let response = response.error_for_status()?;
    if response.content_length().is_some_and(|n| n > limit) {
        bail!("the answer is larger than {limit} bytes");
    }
    let mut bytes = Vec::new();
    response.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        bail!("the answer is larger than {limit} bytes");
    }
    Ok(bytes)
}

/// Revocation information for the certificates `carried` (a signature's),
/// their issuers found among `pool`: an OCSP answer from each certificate's
/// responder (with a fresh nonce), else its CRL. With `anchors` (a verifier's
/// trusted roots) only certificates that chain to them are fetched for: a
/// signature's certificates name the URLs, so an untrusted one could name any;
/// without (a signer's own chain), all are. Certificates without either are
/// left for verification to judge. What could not be fetched is said on stderr.
pub(crate) fn fetch_revocation(
    carried: &[Certificate],
    pool: &[Certificate],
    anchors: Option<&[Certificate]>,
) -> Result<(Vec<OcspResponseInfo>, Vec<Crl>)> {
    let http = http()?;
    let rng = SystemRandom::new();
    let mut ocsp = Vec::new();
    let mut crls = Vec::new();
    for cert in carried.iter().take(MAX_FETCHED) {
        if let Some(anchors) = anchors
            && !chains_to_anchor(cert, pool, anchors)
        {
            report::error_line(&format!(
                "{} does not chain to a trusted root: its revocation is not fetched",
                cert.subject()
            ));
            continue;
        }
        // OCSP needs the issuer (its name and key identify the certificate);
        // a CRL does not. A root is judged by being trusted, not revoked.
        let issuer = pool
            .iter()
            .find(|i| i.subject() == cert.issuer() && cert.is_signed_by(i));
        if issuer.is_some_and(|i| i.der() == cert.der()) {
            continue;
        }
        let mut answered = false;
        let responders = issuer
            .map(|issuer| cert.ocsp_urls().into_iter().map(move |url| (url, issuer)))
            .into_iter()
            .flatten();
        for (url, issuer) in responders {
            let mut nonce = [0u8; 16];
            rng.fill(&mut nonce)
                .map_err(|_| anyhow::anyhow!("no randomness"))?;
            let request = identity_core::x509::ocsp_request_der(cert, issuer, Some(&nonce))?;
            let fetched = http
                .post(url)
                .header("content-type", "application/ocsp-request")
                .body(request)
                .send()
                .map_err(anyhow::Error::from)
                .and_then(|r| body(r, MAX_OCSP_BYTES))
                .and_then(|b| Ok(OcspResponseInfo::from_der(&b)?));
            match fetched {
                Ok(answer) if answer.nonce().as_deref() == Some(&nonce[..]) => {
                    ocsp.push(answer);
                    answered = true;
                    break;
                }
                Ok(_) => report::error_line(&format!(
                    "the OCSP answer from {url} does not carry our nonce: not used"
                )),
                Err(e) => report::error_line(&format!("OCSP at {url}: {e}")),
            }
        }
        if answered {
            continue;
        }
        for url in cert.crl_urls() {
            let fetched = http
                .get(url)
                .send()
                .map_err(anyhow::Error::from)
                .and_then(|r| body(r, MAX_CRL_BYTES))
                .and_then(|b| Ok(Crl::parse_all(&b)?));
            match fetched {
                Ok(list) => {
                    crls.extend(list);
                    break;
                }
                Err(e) => report::error_line(&format!("the CRL at {url}: {e}")),
            }
        }
    }
    Ok((ocsp, crls))
}
