#![no_main]
//! The token endpoint's request: an `Authorization` header (the input's first
//! line, if it has one) and a form body read into a client authentication and
//! a grant, as the endpoint reads them before touching the store.

use idp_server::oidc::request::{ClientAuth, Grant, token_request};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (authorization, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (Some(&data[..i]), &data[i + 1..]),
        None => (None, data),
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let Ok(request) = token_request(authorization, pairs.clone()) else {
        return;
    };
    let given = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    // What was read is what was sent, and every rule held.
    assert_eq!(
        given("grant_type").map(String::as_str),
        Some(request.grant.grant_type())
    );
    assert!(pairs.iter().filter(|(k, _)| k == "resource").count() <= 1);
    match &request.client {
        ClientAuth::Secret { client_id, secret } => {
            if authorization.is_none() {
                assert_eq!(given("client_secret"), Some(&**secret));
                assert_eq!(
                    given("client_id").map(String::as_str).unwrap_or(""),
                    client_id
                );
            } else {
                assert!(given("client_secret").is_none());
            }
        }
        ClientAuth::Assertion { assertion, .. } => {
            assert!(authorization.is_none());
            assert_eq!(given("client_assertion"), Some(assertion));
        }
        ClientAuth::Public { client_id } => {
            assert!(authorization.is_none() && given("client_secret").is_none());
            assert_eq!(given("client_id"), Some(client_id));
        }
    }
    match &request.grant {
        Grant::AuthorizationCode { code, .. } => assert_eq!(given("code"), Some(code)),
        Grant::RefreshToken { refresh_token, .. } => {
            assert_eq!(given("refresh_token"), Some(refresh_token))
        }
        Grant::DeviceCode { device_code } => assert_eq!(given("device_code"), Some(device_code)),
        Grant::ClientCredentials { .. } => assert!(given("audience").is_none()),
    }
    if !matches!(request.grant, Grant::ClientCredentials { .. }) {
        assert!(given("resource").is_none());
    }
});
