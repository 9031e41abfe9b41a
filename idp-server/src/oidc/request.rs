//! The requests of the token endpoint and its neighbours (introspection,
//! revocation, device authorization) read into types, free of HTTP and storage:
//! who the client says it is, and what it asks for. Handlers then look the
//! client up, check its credentials and carry the request out.

use std::collections::HashMap;

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use zeroize::Zeroizing;

use super::OAuthError;
use super::authorize::parameters;

/// The client assertion type of RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The device code grant type of RFC 8628 §3.4.
pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How a client says who it is. Nothing here is checked against a registered
/// client yet: that is the handler's job, with the store.
pub enum ClientAuth {
    /// `client_secret_basic` or `client_secret_post`.
    Secret {
        /// The client named.
        client_id: String,
        /// The secret given, wiped when dropped.
        secret: Zeroizing<String>,
    },
    /// `private_key_jwt` (RFC 7523 §2.2): a JWT whose `sub` names the client.
    Assertion {
        /// The client the assertion's `sub` names, read before any signature
        /// is checked only to find that client's keys.
        client_id: String,
        /// The compact JWT.
        assertion: String,
    },
    /// A public client (`none`) naming itself by its `client_id` alone.
    Public {
        /// The client named.
        client_id: String,
    },
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret { client_id, .. } => f
                .debug_struct("Secret")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::Assertion { client_id, .. } => f
                .debug_struct("Assertion")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::Public { client_id } => f
                .debug_struct("Public")
                .field("client_id", client_id)
                .finish(),
        }
    }
}

impl ClientAuth {
    /// The client this request names.
    pub fn client_id(&self) -> &str {
        match self {
            Self::Secret { client_id, .. }
            | Self::Assertion { client_id, .. }
            | Self::Public { client_id } => client_id,
        }
    }
}

/// Reads the client's authentication from the request's `Authorization`
/// header (as sent, if any) and form: exactly one method, well formed.
pub fn client_auth(
    authorization: Option<&[u8]>,
    form: &HashMap<String, String>,
) -> Result<ClientAuth, OAuthError> {
    let invalid = |why: &str| OAuthError::new("invalid_client", why);
    let two_methods = || {
        OAuthError::new(
            "invalid_request",
            "use one client authentication method, not two",
        )
    };
    if form.contains_key("client_assertion") || form.contains_key("client_assertion_type") {
        if authorization.is_some() || form.contains_key("client_secret") {
            return Err(two_methods());
        }
        if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
            return Err(OAuthError::new(
                "invalid_request",
                format!("client_assertion_type must be {JWT_BEARER}"),
            ));
        }
        let assertion = required(form, "client_assertion")?;
        let named = unverified_subject(assertion)
            .ok_or_else(|| invalid("the client assertion is not a JWT with a sub"))?;
        if form.get("client_id").is_some_and(|id| *id != named) {
            return Err(invalid("client_id and the client assertion's sub differ"));
        }
        return Ok(ClientAuth::Assertion {
            client_id: named,
            assertion: assertion.to_owned(),
        });
    }
    let posted = form.get("client_secret");
    match (authorization, posted) {
        (Some(_), Some(_)) => Err(two_methods()),
        (None, None) => match form.get("client_id") {
            Some(client_id) => Ok(ClientAuth::Public {
                client_id: client_id.clone(),
            }),
            None => Err(invalid("client authentication is required")),
        },
        (None, Some(secret)) => Ok(ClientAuth::Secret {
            client_id: form.get("client_id").cloned().unwrap_or_default(),
            secret: Zeroizing::new(secret.clone()),
        }),
        (Some(header), None) => {
            let basic = std::str::from_utf8(header)
                .ok()
                .and_then(|h| strip_scheme(h, "Basic"))
                .ok_or_else(|| invalid("client authentication is required: use Basic"))?;
            let (client_id, secret) =
                basic_credentials(basic).ok_or_else(|| invalid("malformed Basic credentials"))?;
            if form.get("client_id").is_some_and(|id| *id != client_id) {
                return Err(invalid(
                    "client_id and the Basic credentials' client differ",
                ));
            }
            Ok(ClientAuth::Secret { client_id, secret })
        }
    }
}

/// `client_id:client_secret`, each form-urlencoded (RFC 6749 §2.3.1), in base64.
fn basic_credentials(b64: &str) -> Option<(String, Zeroizing<String>)> {
    let decoded = Zeroizing::new(Base64::decode_vec(b64.trim()).ok()?);
    let text = std::str::from_utf8(&decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| -> Zeroizing<String> {
        Zeroizing::new(
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default(),
        )
    };
    Some((unescape(id).to_string(), unescape(secret)))
}

/// A JWT's `sub`, read without checking anything.
fn unverified_subject(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = Base64UrlUnpadded::decode_vec(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// The credentials of an `Authorization` header of `scheme`, which is matched
/// without regard to case (RFC 9110 §11.1).
pub fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = header.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// A request parameter the endpoint cannot do without.
pub fn required<'a>(form: &'a HashMap<String, String>, name: &str) -> Result<&'a str, OAuthError> {
    form.get(name)
        .map(String::as_str)
        .ok_or_else(|| OAuthError::new("invalid_request", format!("{name} is missing")))
}

/// What a token request asks for (RFC 6749 §4.1.3, §4.4.2, §6; RFC 8628 §3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// A code for tokens.
    AuthorizationCode {
        /// The code.
        code: String,
        /// Must be the authorization request's.
        redirect_uri: Option<String>,
        /// The PKCE verifier.
        code_verifier: Option<String>,
    },
    /// A refresh token for new tokens.
    RefreshToken {
        /// The refresh token.
        refresh_token: String,
        /// A narrower scope, if asked.
        scope: Option<String>,
    },
    /// The client's own token (service to service).
    ClientCredentials {
        /// Space-separated scopes.
        scope: Option<String>,
        /// The resource server the token is for (RFC 8707).
        resource: Option<String>,
    },
    /// A device's poll.
    DeviceCode {
        /// The device code.
        device_code: String,
    },
}

impl Grant {
    /// The `grant_type` of this grant.
    pub fn grant_type(&self) -> &'static str {
        match self {
            Self::AuthorizationCode { .. } => "authorization_code",
            Self::RefreshToken { .. } => "refresh_token",
            Self::ClientCredentials { .. } => "client_credentials",
            Self::DeviceCode { .. } => DEVICE_CODE,
        }
    }
}

/// A token request, read.
#[derive(Debug)]
pub struct TokenRequest {
    /// Who the client says it is.
    pub client: ClientAuth,
    /// What it asks for.
    pub grant: Grant,
}

/// Reads a token request from its `Authorization` header (as sent, if any) and
/// its form's pairs: each parameter once, one client authentication method, a
/// supported grant with what that grant needs.
pub fn token_request(
    authorization: Option<&[u8]>,
    pairs: Vec<(String, String)>,
) -> Result<TokenRequest, OAuthError> {
    if pairs.iter().filter(|(k, _)| k == "resource").count() > 1 {
        return Err(OAuthError::new(
            "invalid_target",
            "one resource per token: ask a token for each resource server",
        ));
    }
    let form = parameters(pairs)?;
    let client = client_auth(authorization, &form)?;
    let get = |name: &str| form.get(name).cloned();
    let grant = match required(&form, "grant_type")? {
        "authorization_code" => Grant::AuthorizationCode {
            code: required(&form, "code")?.to_owned(),
            redirect_uri: get("redirect_uri"),
            code_verifier: get("code_verifier"),
        },
        "refresh_token" => Grant::RefreshToken {
            refresh_token: required(&form, "refresh_token")?.to_owned(),
            scope: get("scope"),
        },
        "client_credentials" => {
            // Resource indicators (RFC 8707), not the non-standard `audience`.
            if form.contains_key("audience") {
                return Err(OAuthError::new(
                    "invalid_target",
                    "audience is not understood: name the resource server with resource (RFC 8707)",
                ));
            }
            Grant::ClientCredentials {
                scope: get("scope"),
                resource: get("resource"),
            }
        }
        DEVICE_CODE => Grant::DeviceCode {
            device_code: required(&form, "device_code")?.to_owned(),
        },
        other => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                format!("grant_type {other} is not supported"),
            ));
        }
    };
    if !matches!(grant, Grant::ClientCredentials { .. }) && form.contains_key("resource") {
        return Err(OAuthError::new(
            "invalid_target",
            "resource indicators are for client_credentials; a person's tokens are for the \
             userinfo endpoint",
        ));
    }
    Ok(TokenRequest { client, grant })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn basic_credentials_are_form_decoded_and_kept_from_debug() {
        let header = format!("basic {}", Base64::encode_string(b"a%3Ab:s%20qx7+z"));
        let request = token_request(
            Some(header.as_bytes()),
            pairs(&[("grant_type", "client_credentials")]),
        )
        .unwrap();
        let ClientAuth::Secret { client_id, secret } = &request.client else {
            panic!("expected a secret, got {:?}", request.client);
        };
        assert_eq!(client_id, "a:b");
        assert_eq!(secret.as_str(), "s qx7 z");
        assert!(!format!("{request:?}").contains("qx7"));
    }

    #[test]
    fn one_method_and_one_of_each_parameter() {
        let refused = |auth: Option<&str>, list: &[(&str, &str)]| {
            token_request(auth.map(str::as_bytes), pairs(list))
                .unwrap_err()
                .code
        };
        let basic = Some("Basic YTpi");
        let grant = ("grant_type", "client_credentials");
        assert_eq!(
            refused(basic, &[grant, ("client_secret", "s")]),
            "invalid_request"
        );
        assert_eq!(
            refused(None, &[grant, ("client_id", "a"), ("client_id", "a")]),
            "invalid_request"
        );
        assert_eq!(
            refused(
                None,
                &[
                    grant,
                    ("client_assertion_type", JWT_BEARER),
                    ("client_secret", "s")
                ]
            ),
            "invalid_request"
        );
        assert_eq!(refused(None, &[grant]), "invalid_client");
        assert_eq!(refused(Some("Bearer x"), &[grant]), "invalid_client");
        assert_eq!(refused(Some("Basic !!"), &[grant]), "invalid_client");
        assert_eq!(
            refused(basic, &[grant, ("client_id", "other")]),
            "invalid_client"
        );
        assert_eq!(
            refused(basic, &[("grant_type", "password")]),
            "unsupported_grant_type"
        );
        assert_eq!(
            refused(basic, &[grant, ("resource", "a"), ("resource", "b")]),
            "invalid_target"
        );
        assert_eq!(
            refused(basic, &[grant, ("audience", "a")]),
            "invalid_target"
        );
        assert_eq!(
            refused(
                basic,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "r"),
                    ("resource", "a")
                ]
            ),
            "invalid_target"
        );
        assert_eq!(
            refused(basic, &[("grant_type", "authorization_code")]),
            "invalid_request"
        );
    }

    #[test]
    fn grants_carry_what_they_need() {
        let request = token_request(
            None,
            pairs(&[
                ("grant_type", DEVICE_CODE),
                ("device_code", "d"),
                ("client_id", "signer"),
            ]),
        )
        .unwrap();
        assert_eq!(request.client.client_id(), "signer");
        assert!(matches!(request.client, ClientAuth::Public { .. }));
        assert_eq!(
            request.grant,
            Grant::DeviceCode {
                device_code: "d".into()
            }
        );
        assert_eq!(request.grant.grant_type(), DEVICE_CODE);
        // {"sub":"portal"}
        let assertion = format!(
            "e30.{}.sig",
            Base64UrlUnpadded::encode_string(br#"{"sub":"portal"}"#)
        );
        let request = token_request(
            None,
            pairs(&[
                ("grant_type", "authorization_code"),
                ("code", "c"),
                ("code_verifier", "v"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &assertion),
            ]),
        )
        .unwrap();
        assert_eq!(request.client.client_id(), "portal");
        assert_eq!(
            request.grant,
            Grant::AuthorizationCode {
                code: "c".into(),
                redirect_uri: None,
                code_verifier: Some("v".into())
            }
        );
    }
}
