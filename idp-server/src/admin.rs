//! What the administration commands (`idp-server client …`) check before they
//! change the store: a client is registered whole and valid, or not at all.

use crate::store::Client;

/// A client as an administrator describes it.
#[derive(Debug, Clone, Default)]
pub struct ClientRequest {
    /// `client_id`.
    pub id: String,
    /// The name people see.
    pub name: String,
    /// Redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// The pairwise subject sector; by default the redirect URIs' host.
    pub sector: Option<String>,
    /// Scopes it may ask for.
    pub scopes: Vec<String>,
    /// Grants it may use.
    pub grant_types: Vec<String>,
    /// Its public keys for `private_key_jwt` (a JWK Set, JSON); without them the
    /// client authenticates with a secret.
    pub jwks: Option<String>,
    /// Where it may send people after logout, matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// The JWS algorithm of its ID tokens (`id_token_signed_response_alg`):
    /// `ES256` by default, `RS256` for relying parties that only check RSA.
    pub id_token_signed_response_alg: Option<String>,
    /// The resource servers it may ask client_credentials tokens for (RFC 8707).
    pub resources: Vec<String>,
    /// A public client (a native application such as the signer CLI): no
    /// secret and no keys; it may not use client_credentials.
    pub public: bool,
}

const GRANTS: [&str; 4] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "device_code",
];

/// Checks a request and makes the client. Its credential is its JWK Set when the
/// request has one, else `secret_hash`.
pub fn new_client(request: ClientRequest, secret_hash: Vec<u8>) -> Result<Client, String> {
    let id = request.id.trim();
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    {
        return Err(format!(
            "client id {id:?} is not allowed: use 1 to 64 letters, digits, '-', '.' or '_'"
        ));
    }
    if id == crate::account::CLIENT_ID {
        return Err(format!(
            "client id {id} is the provider's own (its account page): choose another"
        ));
    }
    if request.name.trim().is_empty() {
        return Err("give the client a --name people will see on the login page".into());
    }
    for grant in &request.grant_types {
        if !GRANTS.contains(&grant.as_str()) {
            return Err(format!(
                "grant {grant} is not supported: use {}",
                GRANTS.join(", ")
            ));
        }
    }
    if request.grant_types.is_empty() {
        return Err("give at least one --grant".into());
    }
    // The device grant is stored by its name in RFC 8628.
    let grant_types: Vec<String> = request
        .grant_types
        .iter()
        .map(|g| {
            if g == "device_code" {
                crate::oidc::request::DEVICE_CODE.to_owned()
            } else {
                g.clone()
            }
        })
        .collect();
    let code_flow = request
        .grant_types
        .iter()
        .any(|g| g == "authorization_code");
    let device_flow = request.grant_types.iter().any(|g| g == "device_code");
    if request.grant_types.iter().any(|g| g == "refresh_token") && !code_flow && !device_flow {
        return Err(
            "refresh_token comes with a person's login: add --grant authorization_code or \
             --grant device_code"
                .into(),
        );
    }
    if request.public {
        if request.jwks.is_some() {
            return Err("a public client has no keys: drop --public or the JWK Set".into());
        }
        if request
            .grant_types
            .iter()
            .any(|g| g == "client_credentials")
        {
            return Err(
                "a public client cannot use client_credentials (anyone could act as it)".into(),
            );
        }
    }
    if device_flow && request.scopes.is_empty() {
        return Err("a device client needs the scopes it may ask for: give --scope".into());
    }
    if code_flow && request.redirect_uris.is_empty() {
        return Err("a client of the code flow needs at least one --redirect-uri".into());
    }
    let mut hosts = Vec::new();
    for uri in &request.redirect_uris {
        hosts.push(check_uri("redirect URI", uri)?);
    }
    for uri in &request.post_logout_redirect_uris {
        check_uri("post-logout redirect URI", uri)?;
    }
    for uri in &request.resources {
        check_uri("resource", uri)?;
    }
    if request
        .scopes
        .iter()
        .any(|s| s.is_empty() || s.contains(char::is_whitespace))
    {
        return Err("a scope is one word: give each with its own --scope".into());
    }
    if code_flow && !request.scopes.iter().any(|s| s == "openid") {
        return Err("a client of the code flow needs --scope openid".into());
    }
    let sector = match request.sector {
        Some(sector) if !sector.trim().is_empty() => sector.trim().to_owned(),
        Some(_) => return Err("--sector is empty".into()),
        None => match hosts.first() {
            Some(first) if hosts.iter().all(|h| h == first) => first.clone(),
            Some(_) => {
                return Err(
                    "the redirect URIs are on different hosts: give a --sector, so that the \
                     client's users keep one subject"
                        .into(),
                );
            }
            None => id.to_owned(),
        },
    };
    if let Some(jwks) = &request.jwks {
        let set = identity_core::jose::JwkSet::from_json(jwks)
            .map_err(|e| format!("the client's JWK Set is not usable: {e}"))?;
        if set.keys.is_empty() {
            return Err("the client's JWK Set has no key".into());
        }
    }
    let id_token_alg = request
        .id_token_signed_response_alg
        .unwrap_or_else(|| "ES256".into());
    if !crate::oidc::ID_TOKEN_ALGS
        .iter()
        .any(|a| a.as_str() == id_token_alg)
    {
        return Err(format!(
            "ID tokens cannot be signed {id_token_alg}: use ES256 (the default) or RS256"
        ));
    }
    let secret_hash = (request.jwks.is_none() && !request.public).then_some(secret_hash);
    Ok(Client {
        id: id.to_owned(),
        name: request.name.trim().to_owned(),
        secret_hash,
        redirect_uris: request.redirect_uris,
        sector,
        scopes: request.scopes,
        grant_types,
        jwks: request.jwks,
        post_logout_redirect_uris: request.post_logout_redirect_uris,
        id_token_signed_response_alg: id_token_alg,
        resources: request.resources,
    })
}

/// Shortest client secret accepted from the configuration: secrets are checked
/// with a keyed fast hash, so they must be random and long (32 bytes, base64).
pub const MIN_SECRET_LENGTH: usize = 32;

/// Registers (or updates) the configuration file's clients, all or none: every
/// one is checked before the first is saved. `env` reads a variable.
pub async fn apply_config_clients(
    store: &crate::store::Store,
    secret: &crate::oidc::ServerSecret,
    clients: &[crate::config::ClientConfig],
    env: impl Fn(&str) -> Option<String>,
    now: i64,
) -> anyhow::Result<usize> {
    use anyhow::{Context as _, bail};
    let mut checked = Vec::with_capacity(clients.len());
    for c in clients {
        let jwks = match &c.jwks_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("client {}: reading {}", c.id, path.display()))?,
            ),
            None => None,
        };
        let secret_hash = match &c.secret_env {
            Some(name) => {
                let value = zeroize::Zeroizing::new(env(name).with_context(|| {
                    format!(
                        "client {}: the variable {name} holding its secret is not set",
                        c.id
                    )
                })?);
                if value.len() < MIN_SECRET_LENGTH {
                    bail!(
                        "client {}: the secret in {name} is too short: give at least \
                         {MIN_SECRET_LENGTH} random characters (head -c 32 /dev/urandom | base64)",
                        c.id
                    );
                }
                secret.hash_client_secret(&value)
            }
            None => Vec::new(),
        };
        let request = ClientRequest {
            id: c.id.clone(),
            name: c.name.clone(),
            redirect_uris: c.redirect_uris.clone(),
            sector: c.sector.clone(),
            scopes: c.scopes.clone(),
            grant_types: c.grant_types.clone(),
            jwks,
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            id_token_signed_response_alg: c.id_token_signed_response_alg.clone(),
            resources: c.resources.clone(),
            public: c.public,
        };
        checked.push(
            new_client(request, secret_hash)
                .map_err(|e| anyhow::anyhow!("client {} in the configuration: {e}", c.id))?,
        );
    }

    for client in &checked {
        store.put_client(client, now).await?;
    }
    Ok(checked.len())
}

/// A URI a client may register (`what`: a redirect URI, a resource): absolute, no
/// fragment, `https` (or `http` on a loopback host, for development). Returns its
/// host.
fn check_uri(what: &str, uri: &str) -> Result<String, String> {
    let parsed = url::Url::parse(uri).map_err(|e| format!("{what} {uri:?} is not a URL: {e}"))?;
    if parsed.fragment().is_some() {
        return Err(format!("{what} {uri} has a fragment, which OAuth forbids"));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("{what} {uri} has no host"))?
        .to_owned();
    let loopback = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]");
    match parsed.scheme() {
        "https" => Ok(host),
        "http" if loopback => Ok(host),
        _ => Err(format!(
            "{what} {uri} must be https (http only on a loopback host)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ClientRequest {
        ClientRequest {
            id: "tax-portal".into(),
            name: "Tax portal".into(),
            redirect_uris: vec!["https://tax.example/callback".into()],
            sector: None,
            scopes: vec!["openid".into(), "profile".into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            jwks: None,
            post_logout_redirect_uris: vec!["https://tax.example/".into()],
            id_token_signed_response_alg: None,
            resources: vec![],
            public: false,
        }
    }

    #[test]
    fn a_public_device_client_has_no_secret_and_no_client_credentials() {
        let signer = ClientRequest {
            id: "signer".into(),
            name: "signer".into(),
            redirect_uris: vec![],
            scopes: vec!["openid".into(), "pki:enroll".into()],
            grant_types: vec!["device_code".into(), "refresh_token".into()],
            public: true,
            ..request()
        };
        let client = new_client(signer.clone(), vec![1]).unwrap();
        assert!(client.is_public());
        assert_eq!(client.secret_hash, None);
        assert_eq!(
            client.grant_types,
            [crate::oidc::request::DEVICE_CODE, "refresh_token"]
        );
        for (change, says) in [
            (
                (|r: &mut ClientRequest| r.grant_types.push("client_credentials".into()))
                    as fn(&mut ClientRequest),
                "cannot use client_credentials",
            ),
            (|r| r.scopes.clear(), "needs the scopes"),
            (|r| r.jwks = Some("{}".into()), "has no keys"),
            (
                |r| r.grant_types = vec!["refresh_token".into()],
                "comes with a person's login",
            ),
        ] {
            let mut bad = signer.clone();
            change(&mut bad);
            let error = new_client(bad, vec![1]).unwrap_err();
            assert!(error.contains(says), "{error}");
        }
    }

    #[test]
    fn a_good_client_gets_its_host_as_sector() {
        let client = new_client(request(), vec![1]).unwrap();
        assert_eq!(client.sector, "tax.example");
        assert_eq!(client.secret_hash, Some(vec![1]));
    }

    #[test]
    fn bad_clients_are_refused_with_the_reason() {
        type Change = fn(&mut ClientRequest);
        let cases: [(Change, &str); 12] = [
            (|r| r.id = "tax portal".into(), "not allowed"),
            (|r| r.name = " ".into(), "--name"),
            (
                |r| r.redirect_uris = vec!["http://tax.example/cb".into()],
                "must be https",
            ),
            (
                |r| r.redirect_uris = vec!["https://tax.example/cb#x".into()],
                "fragment",
            ),
            (|r| r.redirect_uris = vec!["/cb".into()], "not a URL"),
            (|r| r.redirect_uris.clear(), "--redirect-uri"),
            (|r| r.scopes = vec!["profile".into()], "--scope openid"),
            (|r| r.grant_types = vec!["password".into()], "not supported"),
            (
                |r| r.id_token_signed_response_alg = Some("HS256".into()),
                "use ES256",
            ),
            (
                |r| r.resources = vec!["https://rs.example/#x".into()],
                "resource https://rs.example/#x has a fragment",
            ),
            (
                |r| r.resources = vec!["registry".into()],
                "resource \"registry\" is not a URL",
            ),
            (
                |r| r.redirect_uris.push("https://other.example/cb".into()),
                "--sector",
            ),
        ];
        for (change, expected) in cases {
            let mut r = request();
            change(&mut r);
            let error = new_client(r, vec![1]).unwrap_err();
            assert!(error.contains(expected), "{error} (expected {expected})");
        }
    }

    #[test]
    fn service_clients_need_no_redirect_uri_and_loopback_http_is_allowed() {
        let service = ClientRequest {
            id: "registry-sync".into(),
            name: "Registry sync".into(),
            scopes: vec!["registry.read".into()],
            grant_types: vec!["client_credentials".into()],
            ..ClientRequest::default()
        };
        assert_eq!(
            new_client(service, vec![1]).unwrap().sector,
            "registry-sync"
        );
        let mut local = request();
        local.redirect_uris = vec!["http://127.0.0.1:3000/cb".into()];
        assert!(new_client(local, vec![1]).is_ok());
    }

    #[tokio::test]
    async fn configuration_clients_are_registered_all_or_none() {
        let store = crate::store::Store::open("sqlite::memory:").await.unwrap();
        let secret = crate::oidc::ServerSecret::new(&[9; 32]).unwrap();
        let good = crate::config::ClientConfig {
            id: "tax-portal".into(),
            name: "Tax portal".into(),
            redirect_uris: vec!["https://tax.example/cb".into()],
            post_logout_redirect_uris: vec![],
            sector: None,
            scopes: vec!["openid".into()],
            grant_types: vec!["authorization_code".into()],
            secret_env: Some("IDP_CLIENT_SECRET_TAX".into()),
            jwks_file: None,
            id_token_signed_response_alg: Some("RS256".into()),
            resources: vec!["https://registry.example/".into()],
            public: false,
        };
        let mut bad = good.clone();
        bad.id = "bad".into();
        bad.redirect_uris = vec!["http://bad.example/cb".into()];
        let long = "s".repeat(40);
        let env = |name: &str| (name == "IDP_CLIENT_SECRET_TAX").then(|| long.clone());
        let error = apply_config_clients(&store, &secret, &[good.clone(), bad], env, 0)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("client bad"), "{error}");
        assert_eq!(
            store.client("tax-portal").await.unwrap(),
            None,
            "none saved"
        );
        let error = apply_config_clients(&store, &secret, std::slice::from_ref(&good), |_| None, 0)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("IDP_CLIENT_SECRET_TAX"),
            "{error}"
        );
        let error = apply_config_clients(
            &store,
            &secret,
            std::slice::from_ref(&good),
            |_| Some("short".into()),
            0,
        )
        .await
        .unwrap_err();
        assert!(error.to_string().contains("too short"), "{error}");
        assert_eq!(
            apply_config_clients(&store, &secret, &[good], env, 0)
                .await
                .unwrap(),
            1
        );
        let saved = store.client("tax-portal").await.unwrap().unwrap();
        assert!(secret.client_secret_matches(&long, saved.secret_hash.as_deref().unwrap()));
    }
}
