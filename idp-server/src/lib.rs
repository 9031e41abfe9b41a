//! The identity provider of the national identity and e-signature infrastructure:
//! the OpenID Connect provider government portals delegate login to.
//!
//! It never reads the clock except through [`clock::Clock`], keeps sessions, codes
//! and keys in its [`store::Store`], and keeps no secret in logs. `app` builds the
//! whole HTTP service, so tests drive it with or without a socket.

pub mod account;
pub mod admin;
pub mod authn;
pub mod ca;
pub mod clock;
pub mod config;
pub mod demo;
pub mod device;
pub mod enrol;
pub mod files;
mod handlers;
mod logout;
pub mod oidc;
pub mod passkey;
pub mod registry;
mod router;
pub mod server;
pub mod store;
pub mod throttle;
mod web;

use std::sync::Arc;

pub use router::app;

use config::Config;
use identity_core::jose::JwsAlgorithm;
use oidc::{ServerSecret, SigningKeys};
use store::Store;

/// Everything handlers share.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// The shared state's contents.
#[derive(Debug)]
pub struct Inner {
    /// Settings.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// Keys derived from the server secret.
    pub secret: ServerSecret,
    /// Token signing keys, reloaded from the store as they rotate.
    keys: std::sync::RwLock<Arc<SigningKeys>>,
    /// The time.
    pub clock: clock::Clock,
    /// The demo portal, under `idp-server demo` only.
    pub demo_portal: Option<demo::Portal>,
    /// How people prove who they are (the demo authenticator under `idp-server
    /// demo`); without one, logins are refused with a page that says so.
    pub authenticator: Option<Arc<dyn authn::Authenticator>>,
    /// The browser cookies' names and attributes.
    pub cookies: authn::Cookies,
    /// The WebAuthn relying party (passkeys), when the issuer can be one.
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Per-address rate limits on the pages.
    pub throttle: throttle::Throttle,
    /// The officials' signing CA, when this server runs it.
    pub ca: Option<Arc<ca::OnlineCa>>,
}

impl AppState {
    /// Opens the store, loads (or on first start makes) the signing keys (ES256,
    /// and RS256 for clients that ask for it), and assembles the state.
    pub async fn new(
        config: Config,
        secret: ServerSecret,
        clock: clock::Clock,
        demo_portal: Option<demo::Portal>,
        ca: Option<ca::OnlineCa>,
    ) -> anyhow::Result<Self> {
        let store = Store::open(&config.database_url).await?;
        let cookies = authn::Cookies::for_issuer(&config.issuer);
        let webauthn = match passkey::webauthn_for(&config.issuer) {
            Ok(w) => Some(Arc::new(w)),
            Err(e) => {
                tracing::warn!(error = %e, issuer = %config.issuer, "passkeys are off: the issuer cannot be a WebAuthn relying party");
                None
            }
        };
        let authenticator: Option<Arc<dyn authn::Authenticator>> = if config.demo {
            // The demo offers passkeys too when its issuer allows them.
            Some(match &webauthn {
                Some(w) => Arc::new(passkey::PasskeyAuthenticator::with_demo_residents(
                    Arc::clone(w),
                )),
                None => Arc::new(authn::DemoAuthenticator),
            })
        } else {
            webauthn.clone().map(|w| {
                Arc::new(passkey::PasskeyAuthenticator::new(w)) as Arc<dyn authn::Authenticator>
            })
        };

        let now = clock.now();
        // Keys retired within the refresh token lifetime still recognise old ID
        // tokens given as logout hints.
        let since = now - config.refresh_token_lifetime;
        for alg in oidc::ID_TOKEN_ALGS {
            oidc::ensure_key(&store, &secret, alg, now)
                .await
                .map_err(anyhow::Error::msg)?;
        }
        // The account page's own client, as this server's issuer needs it.
        store
            .put_client(&account::client(&config.issuer), now)
            .await?;
        let stored = store.signing_keys(since).await?;
        let keys =
            SigningKeys::from_stored(&stored, &secret, None, now).map_err(anyhow::Error::msg)?;
        Ok(Self(Arc::new(Inner {
            throttle: throttle::Throttle::new(&config),
            config,
            store,
            secret,
            keys: std::sync::RwLock::new(Arc::new(keys)),
            clock,
            demo_portal,
            authenticator,
            cookies,
            webauthn,
            ca: ca.map(Arc::new),
        })))
    }
}

impl Inner {
    /// Writes an audit event about `who`; a failure is logged, never hidden (and
    /// never fails what was being done).
    pub async fn audit(&self, who: Option<&str>, kind: &str, detail: &str) {
        if let Err(e) = self.store.audit(self.clock.now(), kind, who, detail).await {
            tracing::error!(error = %e, kind, "writing an audit event failed");
        }
    }

    /// The signing keys as of the last reload.
    pub fn keys(&self) -> Arc<SigningKeys> {
        Arc::clone(
            &self
                .keys
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// A JWT of `claims` signed with the current key of `alg`.
    pub fn sign_jwt(
        &self,
        alg: JwsAlgorithm,
        typ: &str,
        claims: &serde_json::Value,
    ) -> Result<String, oidc::OAuthError> {
        let failed = |e: identity_core::Error| {
            tracing::error!(error = %e, "signing a token failed");
            oidc::OAuthError::new("server_error", "the token could not be signed")
        };
        self.keys()
            .sign_jwt(alg, typ, claims)
            .map_err(failed)?
            .ok_or_else(|| {
                tracing::error!(%alg, "no signing key: run `idp-server keys rotate --alg {alg}`");
                oidc::OAuthError::new("server_error", format!("no {alg} signing key"))
            })
    }

    /// Reloads the signing keys from the store: a rotated key starts signing on
    /// every replica within one reload period of its `not_before`.
    pub async fn reload_keys(&self) -> anyhow::Result<()> {
        let now = self.clock.now();
        let stored = self
            .store
            .signing_keys(now - self.config.refresh_token_lifetime)
            .await?;
        let keys = SigningKeys::from_stored(&stored, &self.secret, Some(&self.keys()), now)
            .map_err(anyhow::Error::msg)?;
        *self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(keys);
        Ok(())
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
