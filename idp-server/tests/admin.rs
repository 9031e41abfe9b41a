//! Administration: key rotation as relying parties see it, and the `idp-server`
//! commands (`client add|list|remove`, `keys rotate|list`) run as a binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;

use std::process::Command;

use base64ct::Encoding as _;
use common::*;
use identity_core::jose::JwsAlgorithm;
use idp_server::clock::Clock;

fn kid_of(jwt: &str) -> String {
    let header = jwt.split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&base64ct::Base64UrlUnpadded::decode_vec(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// The kids of the published keys of `alg`.
async fn published_kids(server: &Server, alg: &str) -> Vec<String> {
    let jwks: serde_json::Value = serde_json::from_slice(
        &http()
            .get(format!("{}/jwks", server.issuer))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["alg"] == alg)
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_rotated_key_is_published_before_it_signs_and_the_old_one_until_its_tokens_expire() {
    let server = start(Clock::fixed(1_800_000_000)).await;
    let state = &server.state;
    let old = published_kids(&server, "ES256").await;
    assert_eq!(old.len(), 1);
    let rsa = published_kids(&server, "RS256").await;
    assert_eq!(rsa.len(), 1, "RS256 is offered from the first start");
    let before = tokens_for(&server, "079185004321").await;
    assert_eq!(kid_of(before["id_token"].as_str().unwrap()), old[0]);

    // Too short a publication time is refused, and nothing changes.
    let error = idp_server::oidc::rotate_keys(
        &state.store,
        &state.secret,
        &state.config,
        JwsAlgorithm::Es256,
        state.clock.now(),
        60,
    )
    .await
    .unwrap_err();
    assert!(error.contains("--activate-in"), "{error}");
    state.reload_keys().await.unwrap();
    assert_eq!(published_kids(&server, "ES256").await, old);

    let rotation = idp_server::oidc::rotate_keys(
        &state.store,
        &state.secret,
        &state.config,
        JwsAlgorithm::Es256,
        state.clock.now(),
        600,
    )
    .await
    .unwrap();
    state.reload_keys().await.unwrap();
    // Published at once, not signing yet.
    let both = published_kids(&server, "ES256").await;
    assert_eq!(both.len(), 2);
    assert!(both.contains(&rotation.kid));
    let during = tokens_for(&server, "079185004321").await;
    assert_eq!(kid_of(during["id_token"].as_str().unwrap()), old[0]);

    // The last token of the old key, a second before the new one signs.
    state.clock.advance(599);
    state.reload_keys().await.unwrap();
    let last_old = tokens_for(&server, "079185004321").await;
    assert_eq!(kid_of(last_old["access_token"].as_str().unwrap()), old[0]);
    state.clock.advance(1);
    state.reload_keys().await.unwrap();
    let after = tokens_for(&server, "079185004321").await;
    assert_eq!(kid_of(after["id_token"].as_str().unwrap()), rotation.kid);
    assert_eq!(
        kid_of(after["access_token"].as_str().unwrap()),
        rotation.kid
    );
    // Tokens of the old key still verify while they live.
    let (status, info) = post_as_client(
        &server,
        "/introspect",
        &server.client_secret,
        &[("token", last_old["access_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(
        (status, &info["active"]),
        (200, &serde_json::Value::Bool(true))
    );

    // Once every token it signed has expired, the old key is withdrawn.
    state
        .clock
        .advance(rotation.old_retire_at - state.clock.now());
    state.reload_keys().await.unwrap();
    assert_eq!(
        published_kids(&server, "ES256").await,
        vec![rotation.kid.clone()]
    );
    // Rotating ES256 left the RS256 key alone.
    assert_eq!(published_kids(&server, "RS256").await, rsa);

    // An ID token of the withdrawn key is still a good logout hint: the login it
    // names ends.
    let mut logout = url::Url::parse(&format!("{}/logout", server.issuer)).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", before["id_token"].as_str().unwrap());
    assert_eq!(http().get(logout).send().await.unwrap().status(), 200);
    let (status, _) = post_as_client(
        &server,
        "/token",
        &server.client_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", before["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 400, "the login survived its logout");
}

fn idp(args: &[&str], data: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_idp-server"))
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn client_and_keys_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    // Before the demo has made its data: a clear error.
    let (ok, _, err) = idp(&["client", "list"], &data);
    assert!(!ok);
    assert!(err.contains("idp-server demo --data"), "{err}");

    // The demo makes the data directory; stop it once it is serving.
    let (mut demo, _) = spawn_demo(&data, "warn", None);
    demo.kill().unwrap();
    demo.wait().unwrap();
    #[cfg(unix)]
    for name in ["secret.key", "demo-portal.secret", "demo-service.secret"] {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }

    let (ok, out, err) = idp(
        &[
            "client",
            "add",
            "--id",
            "tax-portal",
            "--name",
            "Tax portal",
            "--redirect-uri",
            "https://tax.example/callback",
        ],
        &data,
    );
    assert!(ok, "{err}");
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .unwrap();
    assert!(secret.len() >= 43, "{out}");
    // A second add of the same id, and a bad one, change nothing.
    let (ok, _, err) = idp(
        &[
            "client",
            "add",
            "--id",
            "tax-portal",
            "--name",
            "Again",
            "--redirect-uri",
            "https://tax.example/cb",
        ],
        &data,
    );
    assert!(!ok && err.contains("already registered"), "{err}");
    let (ok, _, err) = idp(
        &[
            "client",
            "add",
            "--id",
            "bad",
            "--name",
            "Bad",
            "--redirect-uri",
            "http://bad.example/cb",
        ],
        &data,
    );
    assert!(!ok && err.contains("must be https"), "{err}");
    let (ok, out, _) = idp(&["client", "list"], &data);
    assert!(ok);
    assert!(out.contains("tax-portal\tTax portal"), "{out}");
    assert!(out.contains("demo-portal") && !out.contains("bad"), "{out}");
    assert!(!out.contains(secret));

    let (ok, out, err) = idp(&["client", "remove", "tax-portal"], &data);
    assert!(ok, "{err}");
    assert!(out.contains("removed"));
    let (ok, _, err) = idp(&["client", "remove", "tax-portal"], &data);
    assert!(!ok && err.contains("no client tax-portal"), "{err}");

    // A service that authenticates with its own key (private_key_jwt).
    let (_, jwks) = client_key();
    let jwks_file = dir.path().join("svc.jwks.json");
    std::fs::write(&jwks_file, jwks).unwrap();
    let service = |file: &std::path::Path| {
        idp(
            &[
                "client",
                "add",
                "--id",
                "svc",
                "--name",
                "Service",
                "--grant",
                "client_credentials",
                "--scope",
                "registry.read",
                "--resource",
                "https://registry.example/v1",
                "--jwks-file",
                file.to_str().unwrap(),
            ],
            &data,
        )
    };
    let bad_file = dir.path().join("bad.json");
    std::fs::write(&bad_file, "{\"keys\": 1}").unwrap();
    let (ok, _, err) = service(&bad_file);
    assert!(!ok && err.contains("JWK Set"), "{err}");
    let (ok, out, err) = service(&jwks_file);
    assert!(ok, "{err}");
    assert!(
        out.contains("private_key_jwt") && !out.contains("client_secret"),
        "{out}"
    );
    let (_, out, _) = idp(&["client", "list"], &data);
    assert!(
        out.contains("resources: https://registry.example/v1"),
        "{out}"
    );

    // A portal whose library only checks RS256.
    let rs256 = |alg: &str| {
        idp(
            &[
                "client",
                "add",
                "--id",
                "old-portal",
                "--name",
                "Old portal",
                "--redirect-uri",
                "https://old.example/cb",
                "--id-token-alg",
                alg,
            ],
            &data,
        )
    };
    let (ok, _, err) = rs256("HS256");
    assert!(
        !ok && err.contains("ES256") && err.contains("RS256"),
        "{err}"
    );
    let (ok, out, err) = rs256("RS256");
    assert!(ok && out.contains("ID tokens RS256"), "{out}{err}");
    let (_, out, _) = idp(&["client", "list"], &data);
    assert!(out.contains("ID tokens: RS256"), "{out}");

    // Rotation makes a key of each algorithm, or of the one named.
    let (ok, out, err) = idp(&["keys", "rotate"], &data);
    assert!(ok, "{err}");
    assert!(out.contains("new ES256 signing key"), "{out}");
    assert!(out.contains("new RS256 signing key"), "{out}");
    let (ok, out, err) = idp(&["keys", "rotate", "--alg", "RS256"], &data);
    assert!(ok && !out.contains("ES256"), "{out}{err}");
    let (ok, out, _) = idp(&["keys", "list"], &data);
    assert!(ok);
    assert_eq!(out.lines().count(), 5, "{out}");
    assert_eq!(out.matches("\tRS256\t").count(), 3, "{out}");
    assert!(out.contains("published until"), "{out}");
}

#[test]
fn registry_import_and_show_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let (mut demo, _) = spawn_demo(&data, "warn", None);
    demo.kill().unwrap();
    demo.wait().unwrap();

    let residents = dir.path().join("residents.csv");
    std::fs::write(
        &residents,
        "personal_number,full_name,birth_date\n\
         036099001234,Lê Văn Cường,1999-02-03\n\
         03609900123,Short Number,\n",
    )
    .unwrap();
    // A bad row: listed with its line, the good row imported, a failing status.
    let (ok, out, err) = idp(&["registry", "import", residents.to_str().unwrap()], &data);
    assert!(!ok, "{out}");
    assert!(out.contains("residents 1 added"), "{out}");
    assert!(out.contains("residents.csv:3: personal number"), "{out}");
    assert!(err.contains("1 row(s) rejected"), "{err}");
    // Fixed and imported again: the good row is unchanged, the fixed one added.
    std::fs::write(
        &residents,
        "personal_number,full_name,birth_date\n\
         036099001234,Lê Văn Cường,1999-02-03\n\
         036099001235,Lê Thị Dung,\n",
    )
    .unwrap();
    let (ok, out, err) = idp(&["registry", "import", residents.to_str().unwrap()], &data);
    assert!(ok, "{out}{err}");
    assert!(out.contains("1 added, 0 updated, 1 unchanged"), "{out}");

    // JSON Lines, a business of both; a dry run first changes nothing.
    let businesses = dir.path().join("businesses.jsonl");
    std::fs::write(
        &businesses,
        r#"{"type":"business","enterprise_code":"0314409058","registered_name":"Công ty Cường Dung","legal_representatives":["036099001234","036099001235"]}"#,
    )
    .unwrap();
    let path = businesses.to_str().unwrap();
    let (ok, out, _) = idp(&["registry", "import", "--dry-run", path], &data);
    assert!(ok && out.contains("would import"), "{out}");
    let (ok, out, _) = idp(&["registry", "import", path], &data);
    assert!(ok && out.contains("businesses 0 added, 1 updated"), "{out}");
    let (ok, out, _) = idp(&["registry", "show", "036099001234"], &data);
    assert!(ok, "{out}");
    assert!(
        out.contains("Lê Văn Cường") && out.contains("1999-02-03"),
        "{out}"
    );
    assert!(out.contains("legal representative of 0314409058"), "{out}");
    let (ok, out, _) = idp(&["registry", "show", "0314409058"], &data);
    assert!(
        ok && out.contains("legal representative: 036099001235"),
        "{out}"
    );
    let (ok, _, err) = idp(&["registry", "show", "999999999999"], &data);
    assert!(!ok && err.contains("no resident or business"), "{err}");

    // An activation code for a proofed resident: shown once, in a readable form.
    let (ok, out, err) = idp(&["registry", "activate", "036099001234"], &data);
    assert!(ok, "{err}");
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix("activation code for 036099001234: "))
        .unwrap();
    assert!(idp_server::enrol::normalise(code).is_some(), "{code}");
    assert!(out.contains("72 hours"), "{out}");
    let (ok, _, err) = idp(&["registry", "activate", "036099009999"], &data);
    assert!(!ok && err.contains("no resident 036099009999"), "{err}");
    // A file whose layout is unknown is refused whole.
    let other = dir.path().join("other.txt");
    std::fs::write(&other, "x").unwrap();
    let (ok, _, err) = idp(&["registry", "import", other.to_str().unwrap()], &data);
    assert!(!ok && err.contains("--format"), "{err}");
}
