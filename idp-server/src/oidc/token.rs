//! The token endpoint's decisions for the authorization code grant, and what tokens
//! say.

use serde_json::{Value, json};

use super::{OAuthError, pkce_matches};
use crate::store::{CodeGrant, Person, Represented};

/// Checks a redeemed code against the token request (RFC 6749 §4.1.3, RFC 7636).
pub fn check_code(
    grant: &CodeGrant,
    client_id: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: i64,
) -> Result<(), OAuthError> {
    let invalid = |why: &str| OAuthError::new("invalid_grant", why);
    if grant.client_id != client_id {
        return Err(invalid("the code was issued to another client"));
    }
    if now >= grant.expires_at {
        return Err(invalid("the code has expired"));
    }
    if redirect_uri != Some(grant.redirect_uri.as_str()) {
        return Err(invalid(
            "redirect_uri differs from the authorization request's",
        ));
    }
    let Some(verifier) = verifier else {
        return Err(OAuthError::new(
            "invalid_request",
            "code_verifier is missing",
        ));
    };
    if !pkce_matches(verifier, &grant.code_challenge) {
        return Err(invalid("code_verifier does not match the code_challenge"));
    }
    Ok(())
}

/// What tokens need to know of the login.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// The pairwise subject.
    pub sub: &'a str,
    /// The person.
    pub person: &'a Person,
    /// The businesses the person represents.
    pub businesses: &'a [Represented],
    /// The login the tokens stand for.
    pub login: &'a Login,
}

/// A person's login as tokens carry it: what was granted and how they logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The personal identification number.
    pub personal_number: String,
    /// The scope of these tokens (a refresh may narrow it).
    pub scope: String,
    /// The scope the person granted: a new refresh token keeps all of it
    /// (RFC 6749 §6).
    pub granted_scope: String,
    /// The assurance level of the login.
    pub acr: String,
    /// When the person authenticated.
    pub auth_time: i64,
    /// The client's nonce, for the ID token.
    pub nonce: Option<String>,
    /// The business the person chose to act for (scope business), if any.
    pub business: Option<String>,
}

/// The claims a scope releases (OpenID Connect Core §5.4, and ours).
pub fn scoped_claims(subject: &Subject<'_>, claims: &mut serde_json::Map<String, Value>) {
    let scopes: Vec<&str> = subject.login.scope.split(' ').collect();
    if scopes.contains(&"profile") {
        claims.insert("name".into(), subject.person.full_name.clone().into());
        if let Some(b) = &subject.person.birth_date {
            claims.insert("birthdate".into(), b.clone().into());
        }
    }
    if scopes.contains(&"national_id") {
        claims.insert(
            "national_id".into(),
            subject.person.personal_number.clone().into(),
        );
    }
    // The one business the person chose to act for, while they still represent it
    // (never the list of all they represent: the portal needs only this one).
    if let Some(b) = acting_for(subject) {
        claims.insert(
            "business".into(),
            json!({"enterprise_code": b.enterprise_code, "name": b.registered_name}),
        );
    }
}

/// The business a login acts for: the one chosen, if the scope still has
/// `business` and the person still represents it.
fn acting_for<'a>(subject: &Subject<'a>) -> Option<&'a Represented> {
    let chosen = subject.login.business.as_ref()?;
    subject
        .login
        .scope
        .split(' ')
        .any(|s| s == "business")
        .then(|| {
            subject
                .businesses
                .iter()
                .find(|b| &b.enterprise_code == chosen)
        })
        .flatten()
}

/// The ID token's claims.
pub fn id_token(
    issuer: &str,
    client_id: &str,
    subject: &Subject<'_>,
    now: i64,
    lifetime: i64,
) -> Value {
    let mut claims = serde_json::Map::new();
    claims.insert("iss".into(), issuer.into());
    claims.insert("sub".into(), subject.sub.into());
    claims.insert("aud".into(), client_id.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + lifetime).into());
    claims.insert("auth_time".into(), subject.login.auth_time.into());
    claims.insert("acr".into(), subject.login.acr.clone().into());
    if let Some(nonce) = &subject.login.nonce {
        claims.insert("nonce".into(), nonce.clone().into());
    }
    scoped_claims(subject, &mut claims);
    Value::Object(claims)
}

/// A JWT access token's claims (RFC 9068), for the userinfo endpoint as audience.
pub fn access_token(
    issuer: &str,
    client_id: &str,
    subject: &Subject<'_>,
    jti: &str,
    now: i64,
    lifetime: i64,
) -> Value {
    json!({
        "iss": issuer,
        "sub": subject.sub,
        "aud": format!("{issuer}/userinfo"),
        "client_id": client_id,
        "scope": subject.login.scope,
        "iat": now,
        "exp": now + lifetime,
        "auth_time": subject.login.auth_time,
                        "acr": subject.login.acr,
        "business": acting_for(subject).map(|b| b.enterprise_code.clone()),
        "jti": jti,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> CodeGrant {
        CodeGrant {
            client_id: "portal".into(),
            redirect_uri: "https://portal.example/cb".into(),
            personal_number: "001090012345".into(),
            scope: "openid profile".into(),
            nonce: Some("n".into()),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            acr: "substantial".into(),
            auth_time: 100,
            expires_at: 160,
            business: None,
        }
    }

    #[test]
    fn code_rules() {
        let v = Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let uri = Some("https://portal.example/cb");
        assert!(check_code(&grant(), "portal", uri, v, 120).is_ok());
        assert_eq!(
            check_code(&grant(), "portal", uri, v, 160)
                .unwrap_err()
                .code,
            "invalid_grant"
        );
        assert_eq!(
            check_code(&grant(), "other", uri, v, 120).unwrap_err().code,
            "invalid_grant"
        );
        assert_eq!(
            check_code(
                &grant(),
                "portal",
                Some("https://portal.example/cb2"),
                v,
                120
            )
            .unwrap_err()
            .code,
            "invalid_grant"
        );
        assert_eq!(
            check_code(&grant(), "portal", None, v, 120)
                .unwrap_err()
                .code,
            "invalid_grant"
        );
        assert_eq!(
            check_code(&grant(), "portal", uri, None, 120)
                .unwrap_err()
                .code,
            "invalid_request"
        );
        assert_eq!(
            check_code(&grant(), "portal", uri, Some("x".repeat(43).as_str()), 120)
                .unwrap_err()
                .code,
            "invalid_grant"
        );
    }
}
