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
    /// `sqlite://FILE` (the default) or, later, `postgres://…`.
    pub database_url: String,
    /// Seconds an authorization code lives.
    pub code_lifetime: i64,
    /// Seconds an access token lives.
    pub access_token_lifetime: i64,
    /// Seconds an ID token lives.
    pub id_token_lifetime: i64,
    /// Seconds a refresh token lives (each use replaces it).
    pub refresh_token_lifetime: i64,
    /// Whether the demo authenticator (pick a fictional resident) is on: only
    /// `idp-server demo` sets it; `serve` refuses to start with it.
    #[serde(skip)]
    pub demo: bool,
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
            demo: false,
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
                // Secrets read elsewhere (IDP_SECRET_KEY) and log settings are not config.
                "SECRET_KEY" | "LOG" => {}
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
        ] {
            if !(1..=max).contains(&value) {
                bail!("{name} must be between 1 and {max} seconds, not {value}");
            }
        }
        if !self.database_url.starts_with("sqlite:") {
            bail!(
                "database_url {:?}: only sqlite:// is supported so far",
                self.database_url
            );
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
    }
}
