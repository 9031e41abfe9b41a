//! The authorization request (OpenID Connect Core §3.1.2.1 with RFC 7636 PKCE):
//! every rule decided here, before anyone is asked to log in.

use identity_core::AssuranceLevel;

use super::OAuthError;
use crate::store::Client;

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRequest {
    /// The client.
    pub client: Client,
    /// The redirect URI, exactly as registered.
    pub redirect_uri: String,
    /// The scopes granted (a subset of the client's).
    pub scope: String,
    /// The client's state, echoed.
    pub state: Option<String>,
    /// The client's nonce, put in the ID token.
    pub nonce: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The lowest assurance level the client accepts (`acr_values`).
    pub min_acr: Option<AssuranceLevel>,
    /// A hint of who is logging in.
    pub login_hint: Option<String>,
    /// `prompt=none`: answer from the session or fail, never ask the person.
    pub prompt_none: bool,
    /// `prompt=login`: ask the person again, whatever the session.
    pub prompt_login: bool,
    /// `prompt=consent`: ask the person's consent again, whatever they agreed to.
    pub prompt_consent: bool,
    /// `max_age`: the session's login may be at most this old (seconds).
    pub max_age: Option<i64>,
}

/// Why a request is refused, and where the answer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The client or redirect URI cannot be trusted: tell the person, never redirect.
    Show(OAuthError),
    /// The redirect URI is the client's: send the error there (RFC 6749 §4.1.2.1).
    Redirect {
        /// Where.
        redirect_uri: String,
        /// The client's state.
        state: Option<String>,
        /// The error.
        error: OAuthError,
    },
}

/// The parameters of a request, each at most once.
pub fn parameters(
    pairs: Vec<(String, String)>,
) -> Result<std::collections::HashMap<String, String>, OAuthError> {
    let mut map = std::collections::HashMap::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), v).is_some() {
            return Err(OAuthError::new(
                "invalid_request",
                format!("parameter {k} is repeated"),
            ));
        }
    }
    Ok(map)
}

/// Checks an authorization request against its client. `client` is the registered
/// client named by `client_id`, if any.
pub fn validate(
    params: &std::collections::HashMap<String, String>,
    client: Option<&Client>,
) -> Result<ValidRequest, Refusal> {
    let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
    let show = |code, why: &str| Refusal::Show(OAuthError::new(code, why));
    if get("client_id").is_none() {
        return Err(show("invalid_request", "client_id is missing"));
    }
    let Some(client) = client else {
        return Err(show("invalid_client", "unknown client_id"));
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return Err(show("invalid_request", "redirect_uri is missing"));
    };
    // Exact string comparison: no prefix, no normalisation.
    if !client.redirect_uris.iter().any(|r| r == &redirect_uri) {
        return Err(show(
            "invalid_request",
            "redirect_uri is not registered for this client",
        ));
    }
    let state = get("state");
    let redirect = |code, why: String| Refusal::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error: OAuthError::new(code, why),
    };
    match get("response_type").as_deref() {
        Some("code") => {}
        Some(other) => {
            return Err(redirect(
                "unsupported_response_type",
                format!("response_type {other} is not supported: use code"),
            ));
        }
        None => {
            return Err(redirect(
                "invalid_request",
                "response_type is missing".into(),
            ));
        }
    }
    if params.contains_key("request") || params.contains_key("request_uri") {
        return Err(redirect(
            "request_not_supported",
            "request objects are not supported".into(),
        ));
    }
    let scope = get("scope").unwrap_or_default();
    let scopes: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
    if !scopes.contains(&"openid") {
        return Err(redirect(
            "invalid_scope",
            "scope must include openid".into(),
        ));
    }
    if let Some(extra) = scopes
        .iter()
        .find(|s| !client.scopes.iter().any(|c| c == *s))
    {
        return Err(redirect(
            "invalid_scope",
            format!("scope {extra} is not allowed for this client"),
        ));
    }
    let Some(code_challenge) = get("code_challenge") else {
        return Err(redirect(
            "invalid_request",
            "PKCE is required: code_challenge is missing".into(),
        ));
    };
    match get("code_challenge_method").as_deref() {
        Some("S256") => {}
        _ => {
            return Err(redirect(
                "invalid_request",
                "code_challenge_method must be S256".into(),
            ));
        }
    }
    let challenge_ok = code_challenge.len() == 43
        && code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !challenge_ok {
        return Err(redirect(
            "invalid_request",
            "code_challenge is not a base64url SHA-256".into(),
        ));
    }
    let prompt = get("prompt").unwrap_or_default();
    let prompts: Vec<&str> = prompt.split(' ').filter(|p| !p.is_empty()).collect();
    if let Some(other) = prompts
        .iter()
        .find(|p| !["none", "login", "consent", "select_account"].contains(p))
    {
        return Err(redirect(
            "invalid_request",
            format!("prompt {other} is not understood"),
        ));
    }
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return Err(redirect(
            "invalid_request",
            "prompt none cannot be combined with other values".into(),
        ));
    }
    let max_age = match get("max_age") {
        None => None,
        Some(v) => match v.parse::<u32>() {
            Ok(seconds) => Some(i64::from(seconds)),
            Err(_) => {
                return Err(redirect(
                    "invalid_request",
                    "max_age is not a number of seconds".into(),
                ));
            }
        },
    };
    let min_acr = get("acr_values").and_then(|v| {
        v.split(' ')
            .filter_map(|a| a.parse::<AssuranceLevel>().ok())
            .min()
    });
    Ok(ValidRequest {
        scope: scopes.join(" "),
        client: client.clone(),
        redirect_uri,
        state,
        nonce: get("nonce"),
        code_challenge,
        min_acr,
        login_hint: get("login_hint"),
        prompt_none,
        // max_age=0 asks for a fresh login, as prompt=login does (OIDC Core §3.1.2.1).
        prompt_login: prompts.contains(&"login") || max_age == Some(0),
        prompt_consent: prompts.contains(&"consent"),
        max_age,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client {
            id: "portal".into(),
            name: "Portal".into(),
            secret_hash: None,
            redirect_uris: vec!["https://portal.example/cb".into()],
            sector: "portal.example".into(),
            scopes: vec!["openid".into(), "profile".into()],
            grant_types: vec!["authorization_code".into()],
            jwks: None,
            post_logout_redirect_uris: vec![],
            id_token_signed_response_alg: "ES256".into(),
            resources: vec![],
        }
    }

    fn request(extra: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
        let mut m: std::collections::HashMap<String, String> = [
            ("client_id", "portal"),
            ("redirect_uri", "https://portal.example/cb"),
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("state", "s1"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (k, v) in extra {
            if v.is_empty() {
                m.remove(*k);
            } else {
                m.insert((*k).to_owned(), (*v).to_owned());
            }
        }
        m
    }

    fn code_of(r: Result<ValidRequest, Refusal>) -> (&'static str, bool) {
        match r {
            Ok(_) => ("ok", false),
            Err(Refusal::Show(e)) => (e.code, false),
            Err(Refusal::Redirect { error, .. }) => (error.code, true),
        }
    }

    #[test]
    fn rules() {
        let c = client();
        assert_eq!(code_of(validate(&request(&[]), Some(&c))), ("ok", false));
        // Untrusted redirect: shown, never redirected.
        assert_eq!(
            code_of(validate(
                &request(&[("redirect_uri", "https://portal.example/cb/")]),
                Some(&c)
            )),
            ("invalid_request", false)
        );
        assert_eq!(
            code_of(validate(
                &request(&[("redirect_uri", "https://evil.example/cb")]),
                Some(&c)
            )),
            ("invalid_request", false)
        );
        assert_eq!(
            code_of(validate(&request(&[]), None)),
            ("invalid_client", false)
        );
        // Redirected errors.
        assert_eq!(
            code_of(validate(&request(&[("response_type", "token")]), Some(&c))),
            ("unsupported_response_type", true)
        );
        assert_eq!(
            code_of(validate(&request(&[("code_challenge", "")]), Some(&c))),
            ("invalid_request", true)
        );
        assert_eq!(
            code_of(validate(
                &request(&[("code_challenge_method", "plain")]),
                Some(&c)
            )),
            ("invalid_request", true)
        );
        assert_eq!(
            code_of(validate(
                &request(&[("code_challenge_method", "")]),
                Some(&c)
            )),
            ("invalid_request", true)
        );
        assert_eq!(
            code_of(validate(&request(&[("scope", "profile")]), Some(&c))),
            ("invalid_scope", true)
        );
        assert_eq!(
            code_of(validate(
                &request(&[("scope", "openid national_id")]),
                Some(&c)
            )),
            ("invalid_scope", true)
        );
        let silent = validate(&request(&[("prompt", "none")]), Some(&c)).unwrap();
        assert!(silent.prompt_none && !silent.prompt_login);
        assert_eq!(
            code_of(validate(&request(&[("prompt", "none login")]), Some(&c))),
            ("invalid_request", true)
        );
        assert_eq!(
            code_of(validate(&request(&[("prompt", "sometimes")]), Some(&c))),
            ("invalid_request", true)
        );
        let again = validate(
            &request(&[("prompt", "login consent"), ("max_age", "0")]),
            Some(&c),
        );
        let again = again.unwrap();
        assert!(again.prompt_login && again.max_age == Some(0));
        assert_eq!(
            code_of(validate(&request(&[("max_age", "-1")]), Some(&c))),
            ("invalid_request", true)
        );
        assert_eq!(
            code_of(validate(&request(&[("max_age", "soon")]), Some(&c))),
            ("invalid_request", true)
        );
        let ok = validate(&request(&[("acr_values", "high substantial")]), Some(&c)).unwrap();
        assert_eq!(ok.min_acr, Some(AssuranceLevel::Substantial));
        assert!(parameters(vec![("a".into(), "1".into()), ("a".into(), "2".into())]).is_err());
    }
}
