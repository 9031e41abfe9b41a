#![no_main]
//! The authorization request: a query string read into parameters, checked
//! against a registered client (and against none), and the PKCE verifier check.

use idp_server::oidc::{authorize, pkce_matches};
use idp_server::store::Client;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(data).into_owned().collect();
    let client = Client {
        id: "portal".into(),
        name: "Portal".into(),
        secret_hash: None,
        redirect_uris: vec!["https://portal.example/cb".into()],
        sector: "portal.example".into(),
        scopes: vec!["openid".into(), "profile".into(), "national_id".into()],
        grant_types: vec!["authorization_code".into()],
        jwks: None,
        post_logout_redirect_uris: vec![],
        id_token_signed_response_alg: "ES256".into(),
        resources: vec![],
    };
    if let Ok(params) = authorize::parameters(pairs) {
        if let Ok(valid) = authorize::validate(&params, Some(&client)) {
            // What passed is what the rules say.
            assert_eq!(valid.redirect_uri, "https://portal.example/cb");
            assert!(valid.scope.split(' ').any(|s| s == "openid"));
            assert_eq!(valid.code_challenge.len(), 43);
        }
        let _ = authorize::validate(&params, None);
    }
    if let Ok(verifier) = std::str::from_utf8(data) {
        let _ = pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }
});
