//! `idp-server demo`: fictional residents and businesses, a demo client, and a small
//! portal at `/demo/portal` that logs in through the real code flow, as any relying
//! party would, with the `openidconnect` crate.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use zeroize::Zeroizing;

use crate::AppState;
use crate::oidc::ServerSecret;
use crate::store::{Client, Person, Store};
use crate::web::page;
use maud::html;

/// The demo client's id.
pub const CLIENT_ID: &str = "demo-portal";

/// Fictional residents: valid numbers, made-up people.
pub fn residents() -> Vec<Person> {
    let p = |n: &str, name: &str, birth: &str, level: &str| Person {
        personal_number: n.into(),
        full_name: name.into(),
        birth_date: Some(birth.into()),
        assurance: level.into(),
    };
    vec![
        p("001090012345", "Nguyễn Văn An", "1990-05-17", "high"),
        p("079185004321", "Trần Thị Bình", "1985-11-02", "substantial"),
        p(
            "048201000777",
            "Lê Hoàng Cường",
            "2001-01-23",
            "substantial",
        ),
        p("092076000123", "Phạm Thu Dung", "1976-08-30", "low"),
    ]
}

/// Puts the demo registry and client in `store`; returns the client's secret.
pub async fn seed(
    store: &Store,
    secret: &ServerSecret,
    issuer: &str,
    now: i64,
) -> anyhow::Result<Zeroizing<String>> {
    for person in residents() {
        store.put_person(&person).await?;
    }
    store
        .put_business(
            "0314409058",
            "Công ty TNHH Ví Dụ",
            &["001090012345".to_owned()],
        )
        .await?;
    // An official, who may enrol for a signing certificate.
    store
        .put_official(
            "079185004321",
            "Sở Tư pháp Thành phố Hồ Chí Minh",
            "Chuyên viên",
        )
        .await?;
    let client_secret =
        Zeroizing::new(crate::oidc::random_token().map_err(|e| anyhow::anyhow!(e.description))?);
    store
        .put_client(
            &Client {
                id: CLIENT_ID.into(),
                name: "Cổng dịch vụ công (demo)".into(),
                secret_hash: Some(secret.hash_client_secret(&client_secret)),
                redirect_uris: vec![format!("{issuer}/demo/portal/callback")],
                sector: "demo-portal".into(),
                scopes: ["openid", "profile", "national_id", "business"]
                    .map(str::to_owned)
                    .to_vec(),
                grant_types: ["authorization_code", "refresh_token"]
                    .map(str::to_owned)
                    .to_vec(),
                jwks: None,
                post_logout_redirect_uris: vec![format!("{issuer}/demo/portal")],
                id_token_signed_response_alg: "ES256".into(),
                resources: vec![],
            },
            now,
        )
        .await?;
    Ok(client_secret)
}

/// The demo service client: service-to-service (G2G) tokens by `client_credentials`.
pub const SERVICE_ID: &str = "demo-service";

/// Registers the demo service client; returns its secret.
pub async fn seed_service(
    store: &Store,
    secret: &ServerSecret,
    now: i64,
) -> anyhow::Result<Zeroizing<String>> {
    let client_secret =
        Zeroizing::new(crate::oidc::random_token().map_err(|e| anyhow::anyhow!(e.description))?);
    store
        .put_client(
            &Client {
                id: SERVICE_ID.into(),
                name: "Registry reader (demo service)".into(),
                secret_hash: Some(secret.hash_client_secret(&client_secret)),
                redirect_uris: vec![],
                sector: SERVICE_ID.into(),
                scopes: vec!["registry.read".into()],
                grant_types: vec!["client_credentials".into()],
                jwks: None,
                post_logout_redirect_uris: vec![],
                id_token_signed_response_alg: "ES256".into(),
                resources: vec![],
            },
            now,
        )
        .await?;
    Ok(client_secret)
}

/// The demo's signer CLI client: public (no secret), the device grant.
pub const SIGNER_ID: &str = "signer";

/// Registers the signer CLI as a public client of the device grant, as a
/// deployment would (`idp-server client add --id signer --public --grant
/// device_code --grant refresh_token …`).
pub async fn seed_signer(store: &Store, now: i64) -> anyhow::Result<()> {
    store
        .put_client(
            &Client {
                id: SIGNER_ID.into(),
                name: "signer (chương trình ký — the signing program)".into(),
                secret_hash: None,
                redirect_uris: vec![],
                sector: SIGNER_ID.into(),
                scopes: [
                    "openid",
                    "profile",
                    "national_id",
                    crate::device::PKI_ENROLL,
                ]
                .map(String::from)
                .to_vec(),
                grant_types: vec![
                    crate::oidc::request::DEVICE_CODE.into(),
                    "refresh_token".into(),
                ],
                jwks: None,
                post_logout_redirect_uris: vec![],
                id_token_signed_response_alg: "ES256".into(),
                resources: vec![],
            },
            now,
        )
        .await?;
    Ok(())
}

/// The demo portal's state: its credentials and the logins under way.
pub struct Portal {
    client_secret: Zeroizing<String>,
    pending: Mutex<HashMap<String, (String, String)>>,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Portal { .. }")
    }
}

impl Portal {
    /// A portal with the demo client's secret.
    pub fn new(client_secret: Zeroizing<String>) -> Self {
        Self {
            client_secret,
            pending: Mutex::new(HashMap::new()),
        }
    }
}

fn http() -> Result<openidconnect::reqwest::Client, String> {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())
}

/// The portal's OpenID Connect client, configured from the provider's discovery
/// document as any relying party would be.
async fn portal_client(
    state: &AppState,
    portal: &Portal,
    http: &openidconnect::reqwest::Client,
) -> Result<
    CoreClient<
        EndpointSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointMaybeSet,
        EndpointMaybeSet,
    >,
    String,
> {
    let issuer = IssuerUrl::new(state.config.issuer.clone()).map_err(|e| e.to_string())?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| e.to_string())?;
    let redirect = RedirectUrl::new(format!("{}/demo/portal/callback", state.config.issuer))
        .map_err(|e| e.to_string())?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(portal.client_secret.to_string())),
    )
    .set_redirect_uri(redirect))
}

/// `GET /demo/portal`.
pub(crate) async fn home(State(state): State<AppState>) -> Response {
    if state.demo_portal.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    Html(page(
        "Cổng dịch vụ công (demo portal)",
        html! {
            p {
                "A relying party, as any government portal would be. It logs in through \
                 this identity provider with the authorization code flow and PKCE, then shows \
                 what it learnt."
            }
            p {
                a href="/demo/portal/login" {
                    button { "Đăng nhập bằng định danh quốc gia (log in with the national identity)" }
                }
            }
        },
    ))
    .into_response()
}

/// `GET /demo/portal/login`: off to the identity provider.
pub(crate) async fn login(State(state): State<AppState>) -> Response {
    let Some(portal) = state.demo_portal.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let result = async {
        let http = http()?;
        let client = portal_client(&state, portal, &http).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("national_id".into()))
            .add_scope(Scope::new("business".into()))
            .set_pkce_challenge(challenge)
            .url();
        let mut pending = portal.pending.lock().map_err(|_| "lock".to_owned())?;
        if pending.len() > 10_000 {
            pending.clear();
        }
        pending.insert(
            csrf.secret().clone(),
            (verifier.secret().clone(), nonce.secret().clone()),
        );
        Ok::<_, String>(url)
    }
    .await;
    match result {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            Html(crate::web::error(
                "The portal could not reach the identity provider",
                &e,
            )),
        )
            .into_response(),
    }
}

/// `GET /demo/portal/callback`: exchange the code, check the ID token, ask userinfo.
pub(crate) async fn callback(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(portal) = state.demo_portal.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(error) = params.get("error") {
        let detail = params.get("error_description").cloned().unwrap_or_default();
        return Html(crate::web::error(
            "Login refused",
            &format!("{error}: {detail}"),
        ))
        .into_response();
    }
    let result = async {
        let code = params.get("code").ok_or("no code")?.clone();
        let csrf = params.get("state").ok_or("no state")?;
        let (verifier, nonce) = portal
            .pending
            .lock()
            .map_err(|_| "lock")?
            .remove(csrf)
            .ok_or("unknown or reused state")?;
        let http = http()?;
        let client = portal_client(&state, portal, &http).await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| e.to_string())?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&http)
            .await
            .map_err(|e| format!("token exchange: {e}"))?;
        let id_token = tokens.id_token().ok_or("no ID token")?;
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce))
            .map_err(|e| format!("ID token: {e}"))?;
        let id_json = serde_json::to_string_pretty(claims).map_err(|e| e.to_string())?;
        let userinfo: serde_json::Value = http
            .get(format!("{}/userinfo", state.config.issuer))
            .bearer_auth(tokens.access_token().secret())
            .send()
            .await
            .map_err(|e| e.to_string())?
            .bytes()
            .await
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))?;
        let userinfo_json = serde_json::to_string_pretty(&userinfo).map_err(|e| e.to_string())?;
        // RP-initiated logout: the ID token as the hint, back to the portal after.
        let mut logout = url::Url::parse(&format!("{}/logout", state.config.issuer))
            .map_err(|e| e.to_string())?;
        logout
            .query_pairs_mut()
            .append_pair("id_token_hint", &id_token.to_string())
            .append_pair(
                "post_logout_redirect_uri",
                &format!("{}/demo/portal", state.config.issuer),
            );
        Ok::<_, String>((id_json, userinfo_json, logout.to_string()))
    }
    .await;
    match result {
        Ok((id_json, userinfo_json, logout)) => Html(page(
            "Welcome — the portal now knows who you are",
            html! {
                p {
                    "The ID token's signature and claims were checked by the portal's \
                     OpenID Connect library."
                }
                h2 { "ID token claims" }
                pre { (id_json) }
                h2 { "Userinfo" }
                pre { (userinfo_json) }
                p {
                    a href=(logout) { "Log out" }
                    " (RP-initiated logout: this login's tokens end) · "
                    a href="/demo/portal" { "Again" }
                }
            },
        ))
        .into_response(),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            Html(crate::web::error("Login failed at the portal", &e)),
        )
            .into_response(),
    }
}
