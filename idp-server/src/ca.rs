//! The officials' signing CA, online: an official who logged in (a token with
//! scope `pki:enroll`) sends a PKCS#10 request to `/pki/enroll` and gets a
//! certificate whose subject is built from the registry (name, number,
//! agency, position), never from the request; `/pki/crl/official-ca.crl` and
//! `/pki/ocsp` answer from the live revocation state in the store, which
//! `idp-server cert revoke` changes.
//!
//! OCSP answers are signed once per status change and kept until shortly
//! before their nextUpdate; a request with a nonce is signed on demand. The
//! store is asked for the status on every request, so a revocation by the CLI
//! (another process) is answered at once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use identity_core::keys::{Passphrase, SigningKey, SystemRandom};
use identity_core::x509::{Certificate, CertificationRequest};
use identity_core::{CalendarDate, Citizen, Official, PersonalNumber};
use pki::{
    Authority, CaConfig, CaStore, CertState, IssueRequest, IssuedRecord, OcspQuery, Profile,
    Responder, RevocationRecord, Subject,
};
use serde_json::json;

use crate::AppState;
use crate::config::PkiConfig;
use crate::store::StoredCertificate;

/// The CA's name in URLs and in the store.
pub const CA_NAME: &str = "official-ca";
/// Seconds an OCSP answer is valid (nextUpdate − thisUpdate).
pub const OCSP_VALIDITY: i64 = 3_600;
/// An answer is signed again this long before its nextUpdate.
const OCSP_REFRESH_BEFORE: i64 = 600;
/// Seconds a CRL is valid.
pub const CRL_VALIDITY: i64 = 86_400;
/// Answers kept at most (one per certificate asked about; about 1 KiB each).
const OCSP_CACHE_LIMIT: usize = 50_000;
/// Certificates one OCSP request may ask about (RFC 5019's clients ask one).
const OCSP_MAX_CERTIFICATES: usize = 8;
/// Longest HTTP caches may keep an answer: a revocation reaches clients behind
/// a cache within this, whatever the answer's own nextUpdate.
const OCSP_HTTP_MAX_AGE: i64 = 300;

/// A signed OCSP answer kept for reuse.
struct CachedOcsp {
    statuses: Vec<CertState>,
    response: Bytes,
    signed_at: i64,
}

/// The last CRL made, and the revocations it lists.
struct CachedCrl {
    revocations: Vec<(String, i64, u8)>,
    der: Bytes,
    this_update: i64,
}

/// The CA's certificates and keys, and what it answered lately.
pub struct OnlineCa {
    ca_der: Vec<u8>,
    ca_certificate: Certificate,
    ca_key: SigningKey,
    root_der: Vec<u8>,
    root_crl: Option<Bytes>,
    responder_der: Vec<u8>,
    responder_key: SigningKey,
    config: CaConfig,
    enrolments_per_day: u32,
    ocsp: Mutex<HashMap<Vec<u8>, CachedOcsp>>,
    crl: Mutex<Option<CachedCrl>>,
    tsa: Option<TimeStamping>,
    tsa_ca_crl: Option<Bytes>,
}

/// The time-stamping authority's certificate, the CA certificates above it,
/// its key and policy.
struct TimeStamping {
    certificate: Vec<u8>,
    chain: Vec<Vec<u8>>,
    key: SigningKey,
    policy: String,
}

impl TimeStamping {
    /// Reads `folder`'s `cert.pem` (the authority's certificate first, then
    /// its CAs') and `key.pem`, checked as an authority and against the root.
    fn load(
        folder: &Path,
        policy: Option<&str>,
        root: &Certificate,
        passphrase: Option<&Passphrase>,
        now: i64,
    ) -> anyhow::Result<Self> {
        let policy = policy.with_context(|| {
            format!(
                "[pki] tsa_folder = {} needs tsa_policy, the OID of the authority's policy",
                folder.display()
            )
        })?;
        let path = folder.join("cert.pem");
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut certificates = Certificate::parse_all(&bytes)
            .with_context(|| format!("reading {}", path.display()))?
            .into_iter();
        let tsa = certificates
            .next()
            .with_context(|| format!("{} holds no certificate", path.display()))?;
        let chain: Vec<Certificate> = certificates.collect();
        let key = read_key(&folder.join("key.pem"), passphrase)?;
        let chain_der: Vec<Vec<u8>> = chain.iter().map(|c| c.der().to_vec()).collect();
        pki::TimeStampAuthority::new(tsa.der(), &chain_der, &key, policy)
            .with_context(|| format!("the time-stamping authority in {}", folder.display()))?;
        let mut params = identity_core::x509::ValidationParams::new(now);
        params.purpose = identity_core::x509::Purpose::TimeStamping;
        let report =
            identity_core::x509::validate(&tsa, &chain, std::slice::from_ref(root), &params);
        if !report.passed() {
            anyhow::bail!(
                "the time-stamping authority in {} does not validate to the root: {report}",
                folder.display()
            );
        }
        let days_left = (tsa.not_after() - now) / 86_400;
        if days_left < 30 {
            tracing::warn!(
                days_left,
                "the time-stamping certificate ends soon: issue a new one \
                 (pki issue --profile time-stamping) into {}",
                folder.display()
            );
        }
        Ok(Self {
            certificate: tsa.der().to_vec(),
            chain: chain_der,
            key,
            policy: policy.to_owned(),
        })
    }
}

impl std::fmt::Debug for OnlineCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineCa")
            .field("subject", &self.ca_certificate.subject().to_string())
            .finish_non_exhaustive()
    }
}

fn read_pem_certificate(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (label, der) = der::pem::decode_vec(text.as_bytes())
        .map_err(|e| anyhow::anyhow!("reading {}: not PEM: {e}", path.display()))?;
    if label != "CERTIFICATE" {
        anyhow::bail!("{} holds a {label}, not a CERTIFICATE", path.display());
    }
    Ok(der)
}

fn read_key(path: &Path, passphrase: Option<&Passphrase>) -> anyhow::Result<SigningKey> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
    SigningKey::from_pkcs8_pem(&text, passphrase).with_context(|| {
        format!(
            "reading the key {} (an encrypted key needs IDP_PKI_PASSPHRASE)",
            path.display()
        )
    })
}

/// A CRL published offline (DER or PEM), as served; `whose` names it in
/// messages. One past its nextUpdate is served with a warning.
fn read_crl(path: &Path, whose: &str, now: i64) -> anyhow::Result<Bytes> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let crl = identity_core::x509::Crl::parse_all(&bytes)
        .with_context(|| format!("reading {whose} CRL {}", path.display()))?
        .into_iter()
        .next()
        .with_context(|| format!("{} holds no CRL", path.display()))?;
    if crl.next_update().is_some_and(|next| next < now) {
        tracing::warn!(
            path = %path.display(),
            "{whose} CRL is past its nextUpdate: publish a new one from its CA"
        );
    }
    Ok(Bytes::from(crl.der().to_vec()))
}

fn pem(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap_or_default()
}

impl OnlineCa {
    /// Reads the CA's files (`config`), its certificates' URLs under `issuer`.
    /// Everything is checked here: a key that is not its certificate's, a CA
    /// that is not an officials' CA, a responder it did not issue.
    pub fn load(
        config: &PkiConfig,
        issuer: &str,
        passphrase: Option<&Passphrase>,
        now: i64,
    ) -> anyhow::Result<Self> {
        let folder = &config.ca_folder;
        let ca_der = read_pem_certificate(&folder.join("cert.pem"))?;
        let ca_key = read_key(&folder.join("key.pem"), passphrase)?;
        let responder_der = read_pem_certificate(&folder.join("ocsp-cert.pem"))?;
        let responder_key = read_key(&folder.join("ocsp-key.pem"), passphrase)?;
        let root_der = read_pem_certificate(&config.root_certificate)?;
        let root_crl = config
            .root_crl
            .as_deref()
            .map(|path| read_crl(path, "the root's", now))
            .transpose()?;
        let tsa_ca_crl = config
            .tsa_ca_crl
            .as_deref()
            .map(|path| read_crl(path, "the time-stamping CA's", now))
            .transpose()?;
        let ca_config = CaConfig {
            crl_url: Some(format!("{issuer}/pki/crl/{CA_NAME}.crl")),
            ocsp_url: Some(format!("{issuer}/pki/ocsp")),
            ca_issuers_url: Some(format!("{issuer}/pki/ca/{CA_NAME}.crt")),
            policy_oids: Vec::new(),
            validity_days: Some(config.certificate_days),
        };
        // The same checks issuing and answering make, now rather than later.
        Authority::new(&ca_der, Profile::OfficialCa, &ca_key, ca_config.clone())
            .with_context(|| format!("the CA in {}", folder.display()))?;
        Responder::new(&ca_der, &responder_der, &responder_key)
            .with_context(|| format!("the OCSP responder in {}", folder.display()))?;
        let ca_certificate = Certificate::from_der(&ca_der)?;
        let root = Certificate::from_der(&root_der)?;
        let responder = Certificate::from_der(&responder_der)?;
        if !(responder.not_before()..=responder.not_after()).contains(&now) {
            anyhow::bail!(
                "the OCSP responder certificate {} is not valid now (until {}): issue a new one \
                 (pki issue --profile ocsp-responder) into {}",
                responder.serial_hex(),
                identity_core::x509::format_rfc3339(responder.not_after()),
                folder.display()
            );
        }
        let days_left = (responder.not_after() - now) / 86_400;
        if days_left < 14 {
            tracing::warn!(
                days_left,
                "the OCSP responder certificate ends soon: issue a new one \
                 (pki issue --profile ocsp-responder) into {}",
                folder.display()
            );
        }
        if ca_certificate.issuer() != root.subject() || !ca_certificate.is_signed_by(&root) {
            anyhow::bail!(
                "the CA in {} was not issued by the root {}",
                folder.display(),
                config.root_certificate.display()
            );
        }
        let tsa = config
            .tsa_folder
            .as_deref()
            .map(|folder| {
                TimeStamping::load(folder, config.tsa_policy.as_deref(), &root, passphrase, now)
            })
            .transpose()?;
        Ok(Self {
            tsa,
            tsa_ca_crl,
            ca_der,
            ca_certificate,
            ca_key,
            root_der,
            root_crl,
            responder_der,
            responder_key,
            config: ca_config,
            enrolments_per_day: config.enrolments_per_day,
            ocsp: Mutex::new(HashMap::new()),
            crl: Mutex::new(None),
        })
    }

    /// The chain a certificate of this CA is sent with: the CA (the root is
    /// the relying party's own trust anchor, never taken from an answer).
    fn chain_pem(&self, leaf: &[u8]) -> String {
        pem("CERTIFICATE", leaf) + &pem("CERTIFICATE", &self.ca_der)
    }
}

/// The development time-stamping authority's policy (under the example
/// enterprise number of RFC 5612: not a real policy).
pub const DEVELOPMENT_TSA_POLICY: &str = "1.3.6.1.4.1.32473.704.99.1";

/// Makes a development CA in `dir` (once; kept for later starts): a P-384
/// root and an officials' CA with its OCSP responder, keys unencrypted with
/// mode 0600, and the root's CRL (five years: the root's key is not kept).
/// The CA certificate points at `issuer`'s /pki for the root's CRL and
/// certificate. For `idp-server demo` only.
pub fn development(dir: &Path, issuer: &str, now: i64) -> anyhow::Result<PkiConfig> {
    let root_crl = dir.join("root").join("root.crl");
    let tsa_folder = dir.join("tsa");
    let tsa_ca_crl_path = tsa_folder.join("ca.crl");
    let mut config = PkiConfig {
        ca_folder: dir.join(CA_NAME),
        root_certificate: dir.join("root").join("cert.pem"),
        root_crl: Some(root_crl.clone()),
        certificate_days: 365,
        enrolments_per_day: 20,
        tsa_folder: Some(tsa_folder.clone()),
        tsa_policy: Some(DEVELOPMENT_TSA_POLICY.into()),
        tsa_ca_crl: Some(tsa_ca_crl_path.clone()),
    };
    if config.root_certificate.exists() {
        renew_development_responder(&config, now)?;
        if !tsa_folder.join("cert.pem").exists() {
            // Made before the CA had a time-stamping authority; the root's key
            // is gone, so none can be added.
            tracing::warn!(
                "the development CA in {} has no time-stamping authority: delete the folder \
                 to make a new CA with one",
                dir.display()
            );
            config.tsa_folder = None;
            config.tsa_policy = None;
            config.tsa_ca_crl = None;
        }
        return Ok(config);
    }
    let rng = SystemRandom::new();
    let organization = "Development CA (not trusted)";
    let root_key = SigningKey::generate(
        identity_core::keys::SignatureAlgorithm::EcdsaP384Sha384,
        &rng,
    )?;
    let root_der = Authority::self_signed_root(
        &Subject::Authority {
            name: "Development Root CA".into(),
            organization: organization.into(),
        },
        &root_key,
        &rng,
        now - 3_600,
    )?;
    let root = Authority::new(
        &root_der,
        Profile::Root,
        &root_key,
        CaConfig {
            crl_url: Some(format!("{issuer}/pki/crl/root.crl")),
            ca_issuers_url: Some(format!("{issuer}/pki/ca/root.crt")),
            ..CaConfig::default()
        },
    )?;
    let mut root_store = pki::MemoryStore::new();
    let made = pki::IssuingCa::make(
        &root,
        &mut root_store,
        Profile::OfficialCa,
        "Development Officials Signing CA",
        organization,
        CaConfig::default(),
        &rng,
        now - 3_600,
    )?;
    let (public, private) = (0o644, 0o600);
    let write = |path: &Path, bytes: &[u8], mode: u32| -> anyhow::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        crate::files::write_atomic(path, bytes, mode)
    };
    let folder = &config.ca_folder;
    let certificate = |der: &[u8]| pem("CERTIFICATE", der).into_bytes();
    write(
        &folder.join("cert.pem"),
        &certificate(&made.certificate),
        public,
    )?;
    write(
        &folder.join("key.pem"),
        made.key.secret_pkcs8_pem().as_bytes(),
        private,
    )?;
    write(
        &folder.join("ocsp-cert.pem"),
        &certificate(&made.responder_certificate),
        public,
    )?;
    write(
        &folder.join("ocsp-key.pem"),
        made.responder_key.secret_pkcs8_pem().as_bytes(),
        private,
    )?;
    // The time-stamping authority, under an infrastructure CA.
    let infrastructure = pki::IssuingCa::make(
        &root,
        &mut root_store,
        Profile::InfrastructureCa,
        "Development Infrastructure CA",
        organization,
        CaConfig {
            crl_url: Some(format!("{issuer}/pki/crl/tsa-ca.crl")),
            ..CaConfig::default()
        },
        &rng,
        now - 3_600,
    )?;
    let tsa_key = SigningKey::generate(
        identity_core::keys::SignatureAlgorithm::EcdsaP256Sha256,
        &rng,
    )?;
    let infrastructure_ca = Authority::new(
        &infrastructure.certificate,
        Profile::InfrastructureCa,
        &infrastructure.key,
        CaConfig {
            crl_url: Some(format!("{issuer}/pki/crl/tsa-ca.crl")),
            ..CaConfig::default()
        },
    )?;
    let mut infrastructure_store = pki::MemoryStore::new();
    let tsa = infrastructure_ca.issue(
        pki::IssueRequest {
            profile: Profile::TimeStamping,
            subject: &Subject::Service {
                name: "Development Time-Stamping Authority".into(),
                organization: organization.into(),
                dns_names: Vec::new(),
            },
            request: &CertificationRequest::from_der(&pki::certification_request(
                &tsa_key, "tsa",
            )?)?,
        },
        &mut infrastructure_store,
        &rng,
        now - 3_600,
    )?;
    // Its CA's CRL for five years: like the root's, its key is not kept.
    let tsa_ca_crl =
        infrastructure_ca.crl(&mut infrastructure_store, now - 3_600, 5 * 365 * 86_400)?;
    write(&tsa_ca_crl_path, &tsa_ca_crl, public)?;
    write(
        &tsa_folder.join("key.pem"),
        tsa_key.secret_pkcs8_pem().as_bytes(),
        private,
    )?;
    let mut tsa_chain = certificate(&tsa.der);
    tsa_chain.extend(certificate(&infrastructure.certificate));
    write(&tsa_folder.join("cert.pem"), &tsa_chain, public)?;
    let crl = root.crl(&mut root_store, now - 3_600, 5 * 365 * 86_400)?;
    write(&root_crl, &crl, public)?;
    // The root last: its presence says the whole CA was made.
    write(&config.root_certificate, &certificate(&root_der), public)?;
    Ok(config)
}

/// Responder certificates live 90 days: a development CA kept across demo
/// starts gets a new one when its own ends within a week.
fn renew_development_responder(config: &PkiConfig, now: i64) -> anyhow::Result<()> {
    let folder = &config.ca_folder;
    let responder = Certificate::from_der(&read_pem_certificate(&folder.join("ocsp-cert.pem"))?)?;
    if responder.not_after() > now + 7 * 86_400 {
        return Ok(());
    }
    let ca_der = read_pem_certificate(&folder.join("cert.pem"))?;
    let ca_key = read_key(&folder.join("key.pem"), None)?;
    let ca = Authority::new(&ca_der, Profile::OfficialCa, &ca_key, CaConfig::default())?;
    let (der, key) = pki::ocsp_responder(
        &ca,
        &mut pki::MemoryStore::new(),
        "Development Officials Signing CA",
        "Development CA (not trusted)",
        &SystemRandom::new(),
        now,
    )?;
    crate::files::write_atomic(
        &folder.join("ocsp-key.pem"),
        key.secret_pkcs8_pem().as_bytes(),
        0o600,
    )?;
    crate::files::write_atomic(
        &folder.join("ocsp-cert.pem"),
        pem("CERTIFICATE", &der).as_bytes(),
        0o644,
    )
}

/// A CA state that takes one issuance or CRL at a time; the store's unique
/// serial is the final check, and the caller records what it holds.
#[derive(Default)]
struct Staged {
    issued: Option<IssuedRecord>,
    revocations: Vec<RevocationRecord>,
    crl_number: u64,
}

impl CaStore for Staged {
    fn serial_exists(&self, _serial: &str) -> Result<bool, pki::Error> {
        // 16 random bytes; a collision is refused by the store's primary key.
        Ok(false)
    }
    fn record_issued(&mut self, record: IssuedRecord) -> Result<(), pki::Error> {
        self.issued = Some(record);
        Ok(())
    }
    fn issued(&self, serial: &str) -> Result<Option<IssuedRecord>, pki::Error> {
        Ok(self.issued.clone().filter(|i| i.serial == serial))
    }
    fn record_revocation(&mut self, _revocation: RevocationRecord) -> Result<(), pki::Error> {
        Err(pki::Error::Store("revocations go to the database".into()))
    }
    fn revocations(&self) -> Result<Vec<RevocationRecord>, pki::Error> {
        Ok(self.revocations.clone())
    }
    fn revocation(&self, serial: &str) -> Result<Option<RevocationRecord>, pki::Error> {
        Ok(self
            .revocations
            .iter()
            .find(|r| r.serial == serial)
            .cloned())
    }
    fn next_crl_number(&mut self) -> Result<u64, pki::Error> {
        Ok(self.crl_number)
    }
}

/// A JSON error, as the OAuth endpoints answer.
fn refused(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    response
}

fn unavailable() -> Response {
    refused(
        StatusCode::NOT_FOUND,
        "not_found",
        "this server runs no CA: configure [pki]",
    )
}

fn internal(what: &str, error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "{what}");
    refused(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "the server could not complete the request; nothing was issued",
    )
}

/// `POST /pki/enroll`: a PKCS#10 request (PEM or DER) with a bearer token of
/// scope `pki:enroll`; answers the certificate and its CA, PEM.
pub(crate) async fn enroll(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(ca) = state.ca.clone() else {
        return unavailable();
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| crate::oidc::request::strip_scheme(h, "Bearer"));
    let Some(token) = token else {
        return refused(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "log in first (signer login): enrolment needs an access token",
        );
    };
    let claims = match crate::handlers::live_access_token(&state, token).await {
        Ok(Some(claims)) => claims,
        Ok(None) => {
            return refused(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is not valid (expired or revoked): log in again",
            );
        }
        Err(e) => return internal("checking an access token failed", e.description),
    };
    let scopes = claims
        .get("scope")
        .and_then(|s| s.as_str())
        .unwrap_or_default();
    if !scopes.split(' ').any(|s| s == crate::device::PKI_ENROLL) {
        return refused(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the token lacks scope pki:enroll: log in asking for it",
        );
    }
    let acr = claims
        .get("acr")
        .and_then(|a| a.as_str())
        .unwrap_or_default();
    if !matches!(acr, "substantial" | "high") {
        return refused(
            StatusCode::FORBIDDEN,
            "insufficient_user_authentication",
            "a signing certificate needs a login of assurance substantial or high (a passkey)",
        );
    }
    let auth_time = claims
        .get("auth_time")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    if !crate::account::recent(state.clock.now(), auth_time) {
        return refused(
            StatusCode::FORBIDDEN,
            "insufficient_user_authentication",
            "a signing certificate needs a login of the last ten minutes: log in again \
             (signer login), then enrol",
        );
    }
    let Some(number) = claims
        .get("ref")
        .and_then(|r| r.as_str())
        .and_then(|r| state.secret.open_reference(r))
    else {
        return refused(
            StatusCode::FORBIDDEN,
            "invalid_token",
            "this token does not act for a person",
        );
    };
    let person = match state.store.person(&number).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return refused(
                StatusCode::FORBIDDEN,
                "access_denied",
                "the person is no longer in the registry",
            );
        }
        Err(e) => return internal("reading a resident failed", e),
    };
    let (agency, position) = match state.store.official(&number).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            state
                .audit(Some(&number), "certificate_refused", "not an official")
                .await;
            return refused(
                StatusCode::FORBIDDEN,
                "access_denied",
                "signing certificates are for officials: ask your agency to register you \
                 in the civil service register",
            );
        }
        Err(e) => return internal("reading an official failed", e),
    };
    let now = state.clock.now();
    match state
        .store
        .certificates_issued_since(&number, now - 86_400)
        .await
    {
        Ok(n) if n >= i64::from(ca.enrolments_per_day) => {
            state
                .audit(Some(&number), "certificate_refused", "daily limit reached")
                .await;
            let mut response = refused(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                &format!(
                    "{} certificates in the last 24 hours is the limit: revoke the ones you \
                     do not use, or wait",
                    ca.enrolments_per_day
                ),
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from_static("3600"),
            );
            return response;
        }
        Ok(_) => {}
        Err(e) => return internal("counting certificates failed", e),
    }
    let request = match CertificationRequest::from_pem_or_der(&body) {
        Ok(r) => r,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("the body is not a usable PKCS#10 request (PEM or DER): {e}"),
            );
        }
    };
    // The subject, from the registry alone.
    let subject = (|| {
        let citizen = Citizen::new(
            person.full_name.clone(),
            number.parse::<PersonalNumber>()?,
            person
                .birth_date
                .as_deref()
                .map(str::parse::<CalendarDate>)
                .transpose()?,
        )?;
        Official::new(citizen, agency, position)
    })();
    let subject = match subject {
        Ok(o) => Subject::Official(o),
        Err(e) => return internal("the registry's record does not make a subject", e),
    };
    let mut staged = Staged::default();
    let issued = Authority::new(
        &ca.ca_der,
        Profile::OfficialCa,
        &ca.ca_key,
        ca.config.clone(),
    )
    .and_then(|authority| {
        authority.issue(
            IssueRequest {
                profile: Profile::OfficialSigning,
                subject: &subject,
                request: &request,
            },
            &mut staged,
            &SystemRandom::new(),
            now,
        )
    });
    let (issued, record) = match (issued, staged.issued) {
        (Ok(issued), Some(record)) => (issued, record),
        (Err(e @ (pki::Error::Request(_) | pki::Error::Identity(_))), _) => {
            return refused(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string());
        }
        (Err(e), _) => return internal("issuing a certificate failed", e),
        (Ok(_), None) => return internal("issuing a certificate failed", "nothing recorded"),
    };
    // Recorded before it is handed out: a failure here issues nothing.
    let stored = StoredCertificate {
        serial: record.serial.clone(),
        ca: CA_NAME.into(),
        profile: record.profile,
        subject: record.subject,
        personal_number: Some(number.clone()),
        issued_at: record.issued_at,
        not_after: record.not_after,
        der: issued.der.clone(),
        revoked_at: None,
        reason: None,
    };
    // Counted again under a lock as it is recorded: parallel enrolments cannot
    // pass the limit together (the one over it is signed, never recorded or sent).
    let limit = (now - 86_400, i64::from(ca.enrolments_per_day));
    match state.store.put_certificate(&stored, Some(limit)).await {
        Ok(true) => {}
        Ok(false) => {
            return refused(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                "the daily limit of certificates was reached meanwhile: nothing was issued",
            );
        }
        Err(e) => return internal("recording a certificate failed", e),
    }
    tracing::info!(serial = %issued.serial, "certificate issued");
    (
        StatusCode::CREATED,
        [
            (header::CONTENT_TYPE, "application/pem-certificate-chain"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        ca.chain_pem(&issued.der),
    )
        .into_response()
}

/// `GET /pki/ca/{name}`: the CA's certificate (`official-ca.crt`, the AIA's
/// caIssuers) or the root's (`root.crt`), DER.
pub(crate) async fn certificate(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    let Some(ca) = state.ca.clone() else {
        return unavailable();
    };
    let der = match name.as_str() {
        "official-ca.crt" => ca.ca_der.clone(),
        "root.crt" => ca.root_der.clone(),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, "application/pkix-cert"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        der,
    )
        .into_response()
}

/// `GET /pki/crl/official-ca.crl`: a CRL of the store's revocations, made
/// again when they change or half its validity has passed.
pub(crate) async fn crl(State(state): State<AppState>, UrlPath(name): UrlPath<String>) -> Response {
    let Some(ca) = state.ca.clone() else {
        return unavailable();
    };
    // The offline root's, as its ceremony published it; the time-stamping
    // authority's CA's, as its operator did.
    let published = match name.as_str() {
        "root.crl" => Some(&ca.root_crl),
        "tsa-ca.crl" => Some(&ca.tsa_ca_crl),
        _ => None,
    };
    if let Some(published) = published {
        return match published {
            Some(der) => (
                [
                    (header::CONTENT_TYPE, "application/pkix-crl"),
                    (header::CACHE_CONTROL, "public, max-age=3600"),
                ],
                der.clone(),
            )
                .into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    if name != format!("{CA_NAME}.crl") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let now = state.clock.now();
    let revocations = match state.store.revocations(CA_NAME).await {
        Ok(r) => r,
        Err(e) => return internal("reading revocations failed", e),
    };
    let cached = ca.crl.lock().ok().and_then(|c| {
        c.as_ref()
            .filter(|c| c.revocations == revocations && now - c.this_update < CRL_VALIDITY / 2)
            .map(|c| (c.der.clone(), c.this_update))
    });
    let (der, this_update) = match cached {
        Some(hit) => hit,
        None => {
            // The number and the revocations it lists, read together.
            let (number, revocations) = match state.store.next_crl(CA_NAME).await {
                Ok(n) => n,
                Err(e) => return internal("numbering a CRL failed", e),
            };
            let mut staged = Staged {
                revocations: revocations
                    .iter()
                    .map(|(serial, time, reason)| RevocationRecord {
                        serial: serial.clone(),
                        time: *time,
                        reason: *reason,
                    })
                    .collect(),
                crl_number: u64::try_from(number).unwrap_or(0),
                ..Staged::default()
            };
            let made = Authority::new(
                &ca.ca_der,
                Profile::OfficialCa,
                &ca.ca_key,
                ca.config.clone(),
            )
            .and_then(|a| a.crl(&mut staged, now, CRL_VALIDITY));
            let der = match made {
                Ok(der) => Bytes::from(der),
                Err(e) => return internal("making a CRL failed", e),
            };
            if let Ok(mut slot) = ca.crl.lock() {
                *slot = Some(CachedCrl {
                    revocations,
                    der: der.clone(),
                    this_update: now,
                });
            }
            (der, now)
        }
    };
    let max_age = (this_update + CRL_VALIDITY / 2 - now).max(0);
    (
        [
            (header::CONTENT_TYPE, "application/pkix-crl".to_owned()),
            (header::CACHE_CONTROL, format!("public, max-age={max_age}")),
        ],
        der,
    )
        .into_response()
}

fn ocsp_response(body: Bytes, max_age: Option<i64>) -> Response {
    let cache = match max_age {
        Some(age) => format!("public, max-age={age}, no-transform, must-revalidate"),
        None => "no-store".to_owned(),
    };
    (
        [
            (header::CONTENT_TYPE, "application/ocsp-response".to_owned()),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

/// The largest time-stamp request read (one is about a hundred bytes).
const TSA_MAX_REQUEST: usize = 8 * 1024;

/// `POST /pki/tsa` (RFC 3161 §3.4): an `application/timestamp-query`, answered
/// with an `application/timestamp-reply`, granted or rejected with the reason.
pub(crate) async fn time_stamp(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(tsa) = state.ca.as_ref().and_then(|ca| ca.tsa.as_ref()) else {
        return refused(
            StatusCode::NOT_FOUND,
            "not_found",
            "this server runs no time-stamping authority: set [pki] tsa_folder",
        );
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.eq_ignore_ascii_case("application/timestamp-query") {
        return refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "send a DER TimeStampReq as application/timestamp-query",
        );
    }
    let answer = if body.len() > TSA_MAX_REQUEST {
        identity_core::tsp::rejected(
            identity_core::tsp::Failure::BadDataFormat,
            "the request is too large for a TimeStampReq",
        )
        .map_err(|e| e.to_string())
    } else {
        pki::TimeStampAuthority::new(&tsa.certificate, &tsa.chain, &tsa.key, &tsa.policy)
            .and_then(|authority| authority.respond(&body, &SystemRandom::new(), state.clock.now()))
            .map_err(|e| e.to_string())
    };
    match answer {
        Ok(der) => (
            [
                (header::CONTENT_TYPE, "application/timestamp-reply"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            der,
        )
            .into_response(),
        Err(e) => internal("time-stamping failed", e),
    }
}

/// `POST /pki/ocsp` (RFC 6960 §A.1, `application/ocsp-request`).
pub(crate) async fn ocsp_post(State(state): State<AppState>, body: Bytes) -> Response {
    ocsp(&state, &body).await
}

/// `GET /pki/ocsp/{base64 request}` (RFC 6960 §A.1: the DER, base64, URL-encoded).
pub(crate) async fn ocsp_get(
    State(state): State<AppState>,
    UrlPath(encoded): UrlPath<String>,
) -> Response {
    use base64ct::{Base64, Encoding as _};
    let text: String = url::form_urlencoded::parse(format!("r={encoded}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    // A '+' became a space on the way ('+' needs no escaping in a path).
    let text = text.replace(' ', "+");
    match Base64::decode_vec(text.trim()) {
        Ok(der) => ocsp(&state, &der).await,
        Err(_) => ocsp_response(Bytes::from(pki::malformed_request_response()), None),
    }
}

/// An OCSP answer without a signature (RFC 6960 §2.3): the server failed.
fn ocsp_failure(what: &str, error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "{what}");
    let der = der::Encode::to_der(&identity_core::x509::OcspResponse {
        response_status: identity_core::x509::OcspResponseStatus::InternalError,
        response_bytes: None,
    })
    .unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, 0x02]);
    ocsp_response(Bytes::from(der), None)
}

async fn ocsp(state: &AppState, der: &[u8]) -> Response {
    let Some(ca) = state.ca.clone() else {
        return unavailable();
    };
    let query = match OcspQuery::from_der(der) {
        Ok(q) if q.requests.len() <= OCSP_MAX_CERTIFICATES => q,
        _ => return ocsp_response(Bytes::from(pki::malformed_request_response()), None),
    };
    let now = state.clock.now();
    // Each certificate's status as the store has it now.
    let mut statuses = Vec::with_capacity(query.requests.len());
    for (i, id) in query.requests.iter().enumerate() {
        let ours = id.matches(&ca.ca_certificate, id.serial_number.as_bytes());
        let status = match (ours, query.serial(i)) {
            (true, Some(serial)) => match state.store.certificate_status(&serial).await {
                Ok(Some((issuer, revoked))) if issuer == CA_NAME => match revoked {
                    None => CertState::Good,
                    Some((time, reason)) => CertState::Revoked { time, reason },
                },
                Ok(_) => CertState::Unknown,
                Err(e) => return ocsp_failure("reading a certificate's status failed", e),
            },
            _ => CertState::Unknown,
        };
        statuses.push(status);
    }
    // Without a nonce, the answer for these certificates in these states is
    // the same until shortly before its nextUpdate: signed once.
    // (Cached: answers about one certificate we know, without a nonce.)
    let key: Option<Vec<u8>> = match (query.requests.as_slice(), statuses.as_slice()) {
        ([id], [status]) if !query.has_nonce() && *status != CertState::Unknown => {
            der::Encode::to_der(id).ok()
        }
        _ => None,
    };
    let fresh_until = |signed_at: i64| signed_at + OCSP_VALIDITY - OCSP_REFRESH_BEFORE;
    if let Some(key) = &key
        && let Ok(cache) = ca.ocsp.lock()
        && let Some(hit) = cache.get(key)
        && hit.statuses == statuses
        && now < fresh_until(hit.signed_at)
    {
        let max_age = (fresh_until(hit.signed_at) - now).min(OCSP_HTTP_MAX_AGE);
        return ocsp_response(hit.response.clone(), Some(max_age));
    }
    let signed = Responder::new(&ca.ca_der, &ca.responder_der, &ca.responder_key)
        .and_then(|r| r.respond(&query, &statuses, now, OCSP_VALIDITY));
    let response = match signed {
        Ok(der) => Bytes::from(der),
        Err(e) => return ocsp_failure("signing an OCSP answer failed", e),
    };
    let Some(key) = key else {
        return ocsp_response(response, None);
    };
    if let Ok(mut cache) = ca.ocsp.lock() {
        if cache.len() >= OCSP_CACHE_LIMIT {
            cache.retain(|_, c| now < fresh_until(c.signed_at));
            if cache.len() >= OCSP_CACHE_LIMIT {
                cache.clear();
            }
        }
        cache.insert(
            key,
            CachedOcsp {
                statuses,
                response: response.clone(),
                signed_at: now,
            },
        );
    }
    ocsp_response(
        response,
        Some((fresh_until(now) - now).min(OCSP_HTTP_MAX_AGE)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_development_ca_is_kept_and_its_responder_renewed_before_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = 1_800_000_000;
        let config = development(dir.path(), "http://localhost:8080", t0).unwrap();
        let issuer = "http://localhost:8080";
        let first = OnlineCa::load(&config, issuer, None, t0).unwrap();
        let responder = std::fs::read(config.ca_folder.join("ocsp-cert.pem")).unwrap();
        // A later start keeps the CA and, while it lasts, the responder.
        development(dir.path(), "http://localhost:8080", t0 + 86_400).unwrap();
        assert_eq!(
            std::fs::read(config.ca_folder.join("ocsp-cert.pem")).unwrap(),
            responder
        );
        // Within a week of its end: a new responder, the same CA.
        let later = t0 + 85 * 86_400;
        development(dir.path(), "http://localhost:8080", later).unwrap();
        assert_ne!(
            std::fs::read(config.ca_folder.join("ocsp-cert.pem")).unwrap(),
            responder
        );
        let renewed = OnlineCa::load(&config, issuer, None, later).unwrap();
        assert_eq!(renewed.ca_der, first.ca_der);
        // Private keys are the owner's alone.
        #[cfg(unix)]
        for key in ["key.pem", "ocsp-key.pem"] {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(config.ca_folder.join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
    }
}
