//! Configuration: one TOML file, then `IDP_`-prefixed environment variables over it.
//! Every setting has a safe default.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The server's settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The issuer URL portals see (`iss`), without a trailing slash.
    pub issuer: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// `sqlite://FILE` (the default) or `postgres://…`.
    pub database_url: String,
    /// Seconds an authorization code lives.
    pub code_lifetime: i64,
    /// Seconds an access token lives.
    pub access_token_lifetime: i64,
    /// Seconds an ID token lives.
    pub id_token_lifetime: i64,
    /// Seconds a refresh token lives (each use replaces it).
    pub refresh_token_lifetime: i64,
    /// Seconds a single sign-on session lives: within it, the person is not asked
    /// again (unless a portal asks with prompt=login, max_age or a higher acr).
    pub session_lifetime: i64,
    /// Whether the demo authenticator (pick a fictional resident) is on: only
    /// `idp-server demo` sets it; `serve` refuses to start with it.
    #[serde(skip)]
    pub demo: bool,
    /// Requests a client address may make a minute to the pages (login,
    /// consent, activation, account), which anyone can reach and which keep
    /// state; bursts up to the same number. 0 turns the limit off.
    pub page_requests_per_minute: u32,
    /// Codes a client address may try an hour: activation codes (each try
    /// counts against the code too: five wrong ones lock it) and device user
    /// codes. 0 turns the limit off.
    pub code_attempts_per_hour: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed: behind one, the
    /// limits count the address it forwarded for rather than its own.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The officials' signing CA, online (`[pki]`): enrolment, CRL and OCSP.
    /// Without it those endpoints answer 404.
    pub pki: Option<PkiConfig>,
    /// Relying parties registered from the file at every start (`[[clients]]`),
    /// besides those `idp-server client add` registered.
    pub clients: Vec<ClientConfig>,
}

/// A relying party as the configuration file declares it. Its secret is never in
/// the file: `secret_env` names the environment variable holding it (by
/// convention `IDP_CLIENT_SECRET_<NAME>`), or `jwks_file` its public keys for
/// private_key_jwt.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// `client_id`.
    pub id: String,
    /// The name people see.
    pub name: String,
    /// Redirect URIs, matched exactly.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where it may send people after logout.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// The pairwise subject sector (default: the redirect URIs' host).
    pub sector: Option<String>,
    /// Scopes it may ask for.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Grants it may use.
    #[serde(default = "default_grants")]
    pub grant_types: Vec<String>,
    /// The environment variable holding its secret.
    pub secret_env: Option<String>,
    /// A JWK Set file with its public keys (private_key_jwt).
    pub jwks_file: Option<std::path::PathBuf>,
    /// A public client (a native application: no secret, no keys).
    #[serde(default)]
    pub public: bool,
    /// `ES256` (the default) or `RS256`: how its ID tokens are signed.
    pub id_token_signed_response_alg: Option<String>,
    /// The resource servers it may ask tokens for (RFC 8707).
    #[serde(default)]
    pub resources: Vec<String>,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into()]
}

/// The officials' signing CA online. Its keys are read at start, with the
/// passphrase in `IDP_PKI_PASSPHRASE` when they are encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PkiConfig {
    /// The CA's folder as `pki init` makes it (`…/official-ca`): `cert.pem`,
    /// `key.pem`, and its OCSP responder's `ocsp-cert.pem` and `ocsp-key.pem`.
    pub ca_folder: std::path::PathBuf,
    /// The root certificate (PEM) the CA chains to.
    pub root_certificate: std::path::PathBuf,
    /// The offline root's CRL (DER or PEM, as `pki crl --ca root` makes it),
    /// served at `/pki/crl/root.crl` for the CA certificate's revocation.
    #[serde(default)]
    pub root_crl: Option<std::path::PathBuf>,
    /// Days an official's signing certificate lives (at most the profile's).
    #[serde(default = "default_certificate_days")]
    pub certificate_days: u32,
    /// Certificates one person may enrol for in a day.
    #[serde(default = "default_enrolments_per_day")]
    pub enrolments_per_day: u32,
    /// The time-stamping authority served at `/pki/tsa` (RFC 3161), if any:
    /// a folder with `cert.pem` (its certificate, of profile time-stamping,
    /// then the CA certificates up to the root) and `key.pem`.
    #[serde(default)]
    pub tsa_folder: Option<std::path::PathBuf>,
    /// The policy (an OID) the authority's time-stamps are made under; needed
    /// with `tsa_folder`.
    #[serde(default)]
    pub tsa_policy: Option<String>,
    /// The CRL of the CA that issued the time-stamping certificate (DER or
    /// PEM, as `pki crl` makes it), served at `/pki/crl/tsa-ca.crl`.
    #[serde(default)]
    pub tsa_ca_crl: Option<std::path::PathBuf>,
}

fn default_certificate_days() -> u32 {
    365
}

fn default_enrolments_per_day() -> u32 {
    5
}

fn default_grants() -> Vec<String> {
    vec!["authorization_code".into(), "refresh_token".into()]
}

impl Default for Config {
    fn default() -> Self {
        Self {
            issuer: "http://127.0.0.1:8080".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://idp.sqlite3".into(),
            code_lifetime: 60,
            access_token_lifetime: 300,
            id_token_lifetime: 300,
            refresh_token_lifetime: 30 * 86_400,
            session_lifetime: 3_600,
            demo: false,
            page_requests_per_minute: 300,
            code_attempts_per_hour: 30,
            trusted_proxies: Vec::new(),
            pki: None,
            clients: Vec::new(),
        }
    }
}

impl Config {
    /// Reads `path` (if given), then applies `IDP_*` variables from `env`.
    pub fn load(path: Option<&Path>, env: impl Iterator<Item = (String, String)>) -> Result<Self> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?
            }
            None => Self::default(),
        };
        for (name, value) in env {
            let Some(key) = name.strip_prefix("IDP_") else {
                continue;
            };
            let bad = |what: &str| format!("{name}={value:?} is not {what}");
            match key {
                "ISSUER" => config.issuer = value,
                "LISTEN" => {
                    config.listen = value
                        .parse()
                        .with_context(|| bad("an address such as 127.0.0.1:8080"))?
                }
                "DATABASE_URL" => config.database_url = value,
                "CODE_LIFETIME" => {
                    config.code_lifetime =
                        value.parse().with_context(|| bad("a number of seconds"))?
                }
                "ACCESS_TOKEN_LIFETIME" => {
                    config.access_token_lifetime =
                        value.parse().with_context(|| bad("a number of seconds"))?;
                }
                "ID_TOKEN_LIFETIME" => {
                    config.id_token_lifetime =
                        value.parse().with_context(|| bad("a number of seconds"))?;
                }
                "REFRESH_TOKEN_LIFETIME" => {
                    config.refresh_token_lifetime =
                        value.parse().with_context(|| bad("a number of seconds"))?;
                }
                "PAGE_REQUESTS_PER_MINUTE" => {
                    config.page_requests_per_minute = value
                        .parse()
                        .with_context(|| bad("a number (0: no limit)"))?;
                }
                "CODE_ATTEMPTS_PER_HOUR" => {
                    config.code_attempts_per_hour = value
                        .parse()
                        .with_context(|| bad("a number (0: no limit)"))?;
                }
                "TRUSTED_PROXIES" => {
                    config.trusted_proxies = value
                        .split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::parse)
                        .collect::<Result<_, _>>()
                        .with_context(|| bad("a comma-separated list of IP addresses"))?;
                }
                "SESSION_LIFETIME" => {
                    config.session_lifetime =
                        value.parse().with_context(|| bad("a number of seconds"))?;
                }
                // Secrets read elsewhere (IDP_SECRET_KEY, client secrets) and log
                // settings are not config.
                "SECRET_KEY" | "LOG" | "PKI_PASSPHRASE" => {}
                client_secret if client_secret.starts_with("CLIENT_SECRET_") => {}
                other => bail!("unknown setting IDP_{other}"),
            }
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&mut self) -> Result<()> {
        let url = url::Url::parse(&self.issuer)
            .with_context(|| format!("issuer {:?} is not a URL", self.issuer))?;
        let loopback = url
            .host_str()
            .is_some_and(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]");
        if url.scheme() != "https" && !loopback {
            bail!(
                "issuer {} must use https (plain http only on loopback)",
                self.issuer
            );
        }
        if url.query().is_some() || url.fragment().is_some() {
            bail!("issuer {} must not have a query or fragment", self.issuer);
        }
        self.issuer = self.issuer.trim_end_matches('/').to_owned();
        for (name, value, max) in [
            ("code_lifetime", self.code_lifetime, 600),
            ("access_token_lifetime", self.access_token_lifetime, 3_600),
            ("id_token_lifetime", self.id_token_lifetime, 3_600),
            (
                "refresh_token_lifetime",
                self.refresh_token_lifetime,
                90 * 86_400,
            ),
            ("session_lifetime", self.session_lifetime, 12 * 3_600),
        ] {
            if !(1..=max).contains(&value) {
                bail!("{name} must be between 1 and {max} seconds, not {value}");
            }
        }
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|scheme| self.database_url.starts_with(scheme))
        {
            bail!(
                "database_url {:?} must be sqlite://FILE or postgres://…",
                self.database_url
            );
        }
        for client in &self.clients {
            match (&client.secret_env, &client.jwks_file, client.public) {
                (Some(_), None, false) | (None, Some(_), false) | (None, None, true) => {}
                _ => bail!(
                    "client {}: give exactly one of secret_env (a variable holding its secret), \
                     jwks_file (its public keys) and public = true (a native application)",
                    client.id
                ),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn the_example_file_is_a_valid_configuration() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("idp.example.toml");
        let c = Config::load(
            Some(&example),
            env(&[
                ("IDP_CODE_ATTEMPTS_PER_HOUR", "0"),
                ("IDP_TRUSTED_PROXIES", "10.0.0.2, ::1"),
            ]),
        )
        .unwrap();
        assert_eq!(c.page_requests_per_minute, 300);
        assert_eq!(c.code_attempts_per_hour, 0);
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(!c.clients.is_empty());
    }

    #[test]
    fn environment_overrides_and_validation() {
        let c = Config::load(
            None,
            env(&[
                ("IDP_ISSUER", "https://id.gov.vn/"),
                ("IDP_CODE_LIFETIME", "30"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(c.issuer, "https://id.gov.vn");
        assert_eq!(c.code_lifetime, 30);
        assert!(Config::load(None, env(&[("IDP_ISSUER", "http://id.gov.vn")])).is_err());
        assert!(Config::load(None, env(&[("IDP_CODE_LIFETIME", "0")])).is_err());
        assert!(Config::load(None, env(&[("IDP_TYPO", "x")])).is_err());
        assert!(Config::load(None, env(&[("IDP_LISTEN", "nowhere")])).is_err());
        let pg = Config::load(
            None,
            env(&[("IDP_DATABASE_URL", "postgres://idp@db.internal/idp")]),
        )
        .unwrap();
        assert_eq!(pg.database_url, "postgres://idp@db.internal/idp");
        assert!(Config::load(None, env(&[("IDP_DATABASE_URL", "mysql://db/idp")])).is_err());
        // Client secrets by convention in IDP_CLIENT_SECRET_*: not settings, not errors.
        assert!(Config::load(None, env(&[("IDP_CLIENT_SECRET_TAX", "s")])).is_ok());
    }

    #[test]
    fn clients_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idp.toml");
        std::fs::write(
            &path,
            r#"
issuer = "https://id.gov.vn"
database_url = "postgres://idp@db/idp"

[[clients]]
id = "tax-portal"
name = "Cổng thuế"
redirect_uris = ["https://thue.gov.vn/callback"]
secret_env = "IDP_CLIENT_SECRET_TAX"
id_token_signed_response_alg = "RS256"
"#,
        )
        .unwrap();
        let c = Config::load(Some(&path), env(&[])).unwrap();
        assert_eq!(c.clients.len(), 1);
        assert_eq!(c.clients[0].scopes, ["openid", "profile"]);
        assert_eq!(
            c.clients[0].id_token_signed_response_alg.as_deref(),
            Some("RS256")
        );
        assert_eq!(
            c.clients[0].grant_types,
            ["authorization_code", "refresh_token"]
        );
        // Neither a secret nor keys: refused at load.
        std::fs::write(&path, "[[clients]]\nid = \"x\"\nname = \"X\"\n").unwrap();
        let error = Config::load(Some(&path), env(&[])).unwrap_err();
        assert!(format!("{error:#}").contains("secret_env"), "{error:#}");
        // A secret in the file itself is not a field.
        std::fs::write(
            &path,
            "[[clients]]\nid = \"x\"\nname = \"X\"\nsecret = \"s\"\n",
        )
        .unwrap();
        assert!(Config::load(Some(&path), env(&[])).is_err());
    }
}
