//! The store's conformance suite: every check runs against SQLite (a file, WAL)
//! and against PostgreSQL (a fresh database on the server `DATABASE_URL` names;
//! skipped, loudly, without one).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test with its message"
)]

mod common;

use common::fresh_postgres;
use idp_server::store::{
    Backend, Client, CodeGrant, CodeTaken, Person, RefreshGrant, RefreshTaken, Store, StoredKey,
};

macro_rules! conformance {
    ($($name:ident),* $(,)?) => { $(
        #[tokio::test]
        async fn $name() {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("idp.sqlite3").display());
            let sqlite = Store::open(&url).await.unwrap();
            assert_eq!(sqlite.backend(), Backend::Sqlite);
            checks::$name(&sqlite).await;
            // Opening again applies no migration twice.
            Store::open(&url).await.unwrap();
            if let Some(url) = fresh_postgres(stringify!($name)).await {
                let postgres = Store::open(&url).await.unwrap();
                assert_eq!(postgres.backend(), Backend::Postgres);
                checks::$name(&postgres).await;
                Store::open(&url).await.unwrap();
            }
        }
    )* };
}

conformance!(
    clients,
    registry,
    codes_are_single_use_even_when_raced,
    refresh_rotation_and_family_revocation,
    access_token_revocation_and_assertions,
    signing_keys_rotate,
    expired_entries_are_purged,
    registry_import,
    logins_under_way_and_sessions,
    activation_codes,
    consents_and_their_withdrawal,
    device_grants,
    certificates_and_their_revocation,
);

#[test]
fn a_bad_database_url_is_refused_with_what_to_give() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let error = runtime
        .block_on(Store::open("mysql://localhost/idp"))
        .unwrap_err();
    assert!(error.to_string().contains("postgres://"), "{error}");
}

mod checks {
    use super::*;

    fn client(id: &str) -> Client {
        Client {
            id: id.into(),
            name: format!("Client {id}"),
            secret_hash: Some(vec![0, 1, 2, 255]),
            redirect_uris: vec![
                "https://a.example/cb".into(),
                "https://a.example/cb2".into(),
            ],
            sector: "a.example".into(),
            scopes: vec!["openid".into(), "profile".into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            jwks: None,
            post_logout_redirect_uris: vec!["https://a.example/".into()],
            id_token_signed_response_alg: "RS256".into(),
            resources: vec!["https://rs.example/api".into()],
        }
    }

    pub(super) async fn clients(store: &Store) {
        assert_eq!(store.client("a").await.unwrap(), None);
        store.put_client(&client("b"), 1).await.unwrap();
        let mut a = client("a");
        store.put_client(&a, 1).await.unwrap();
        assert_eq!(store.client("a").await.unwrap(), Some(a.clone()));
        // Replacing keeps one row and every field.
        a.secret_hash = None;
        a.jwks = Some(r#"{"keys":[]}"#.into());
        a.grant_types = vec!["client_credentials".into()];
        store.put_client(&a, 2).await.unwrap();
        assert_eq!(store.client("a").await.unwrap(), Some(a));
        let ids: Vec<String> = store
            .clients()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(store.remove_client("a").await.unwrap());
        assert!(!store.remove_client("a").await.unwrap());
        assert_eq!(store.client("a").await.unwrap(), None);
    }

    pub(super) async fn registry(store: &Store) {
        let person = |n: &str, name: &str| Person {
            personal_number: n.into(),
            full_name: name.into(),
            birth_date: Some("1985-01-02".into()),
            assurance: "substantial".into(),
        };
        store
            .put_person(&person("079185004321", "Nguyễn Văn An"))
            .await
            .unwrap();
        store
            .put_person(&person("001090012345", "Trần Thị Bình"))
            .await
            .unwrap();
        // Replacing updates in place.
        store
            .put_person(&person("079185004321", "Nguyễn Văn Anh"))
            .await
            .unwrap();
        let found = store.person("079185004321").await.unwrap().unwrap();
        assert_eq!(found.full_name, "Nguyễn Văn Anh");
        assert_eq!(store.person("000000000000").await.unwrap(), None);
        assert_eq!(store.people(1).await.unwrap().len(), 1);
        assert_eq!(
            store.people(10).await.unwrap()[0].personal_number,
            "001090012345"
        );
        store
            .put_business("0314409058", "Công ty A", &["079185004321".into()])
            .await
            .unwrap();
        // Representatives are replaced whole.
        store
            .put_business("0314409058", "Công ty A", &["001090012345".into()])
            .await
            .unwrap();
        assert!(
            store
                .represented_by("079185004321")
                .await
                .unwrap()
                .is_empty()
        );
        let represented = store.represented_by("001090012345").await.unwrap();
        assert_eq!(represented.len(), 1);
        assert_eq!(represented[0].registered_name, "Công ty A");
        // A representative who is not a resident: refused, and the business is unchanged.
        assert!(
            store
                .put_business("0314409058", "Renamed", &["999999999999".into()])
                .await
                .is_err()
        );
        assert_eq!(
            store.represented_by("001090012345").await.unwrap()[0].registered_name,
            "Công ty A"
        );
    }

    fn code_grant() -> CodeGrant {
        CodeGrant {
            client_id: "a".into(),
            redirect_uri: "https://a.example/cb".into(),
            personal_number: "079185004321".into(),
            scope: "openid".into(),
            nonce: None,
            code_challenge: "challenge".into(),
            acr: "substantial".into(),
            auth_time: 100,
            expires_at: 160,
            business: Some("0314409058".into()),
        }
    }

    pub(super) async fn codes_are_single_use_even_when_raced(store: &Store) {
        store.put_code(b"code-1", &code_grant()).await.unwrap();
        // A duplicate code hash is an error, never a silent overwrite.
        assert!(store.put_code(b"code-1", &code_grant()).await.is_err());
        let mut racers = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            racers.push(tokio::spawn(async move {
                store
                    .take_code(b"code-1", &format!("family-{i}"), 110)
                    .await
                    .unwrap()
            }));
        }
        let mut fresh = Vec::new();
        for racer in racers {
            match racer.await.unwrap() {
                CodeTaken::Fresh(grant) => fresh.push(*grant),
                CodeTaken::Replayed => {}
                CodeTaken::Unknown => panic!("a stored code was unknown"),
            }
        }
        assert_eq!(fresh, vec![code_grant()], "exactly one redemption wins");
        let family = store.code_family(b"code-1").await.unwrap().unwrap();
        assert!(family.starts_with("family-"));
        assert_eq!(
            store.take_code(b"nope", "f", 110).await.unwrap(),
            CodeTaken::Unknown
        );
    }

    fn refresh_grant(family: &str) -> RefreshGrant {
        RefreshGrant {
            family_id: family.into(),
            client_id: "a".into(),
            personal_number: "079185004321".into(),
            scope: "openid profile".into(),
            acr: "substantial".into(),
            auth_time: 100,
            expires_at: 10_000,
            business: Some("0314409058".into()),
        }
    }

    pub(super) async fn refresh_rotation_and_family_revocation(store: &Store) {
        store
            .put_refresh(b"r1", &refresh_grant("f1"))
            .await
            .unwrap();
        store
            .put_refresh(b"other", &refresh_grant("f2"))
            .await
            .unwrap();
        assert_eq!(
            store.refresh_status(b"r1").await.unwrap(),
            Some((refresh_grant("f1"), true))
        );
        assert_eq!(
            store.take_refresh(b"r1", 200, 20_000).await.unwrap(),
            RefreshTaken::Fresh(refresh_grant("f1"))
        );
        store
            .put_refresh(b"r2", &refresh_grant("f1"))
            .await
            .unwrap();
        assert!(!store.family_revoked("f1").await.unwrap());
        // Reuse of r1 revokes f1: r2 is dead too; f2 is untouched.
        assert_eq!(
            store.take_refresh(b"r1", 300, 20_000).await.unwrap(),
            RefreshTaken::Reused {
                family_id: "f1".into()
            }
        );
        assert!(store.family_revoked("f1").await.unwrap());
        assert_eq!(
            store.refresh_status(b"r2").await.unwrap(),
            Some((refresh_grant("f1"), false))
        );
        assert_eq!(
            store.take_refresh(b"r2", 300, 20_000).await.unwrap(),
            RefreshTaken::Unknown
        );
        assert!(store.refresh_status(b"other").await.unwrap().unwrap().1);
        assert_eq!(
            store.take_refresh(b"unknown", 300, 20_000).await.unwrap(),
            RefreshTaken::Unknown
        );
        // Revoking twice keeps the later expiry.
        store.revoke_family("f2", 400, 50).await.unwrap();
        store.revoke_family("f2", 401, 20_000).await.unwrap();
        store.revoke_family("f2", 402, 30).await.unwrap();
        assert!(store.family_revoked("f2").await.unwrap());
        // The three refresh tokens expire at 10 000; the revocations (f1's until the
        // revoke_until given at reuse) outlast them, to 20 000.
        assert_eq!(store.purge_expired(19_999).await.unwrap(), 3);
        assert!(store.family_revoked("f1").await.unwrap());
        assert!(store.family_revoked("f2").await.unwrap());
        assert_eq!(store.purge_expired(20_001).await.unwrap(), 2);
        assert!(!store.family_revoked("f2").await.unwrap());
    }

    pub(super) async fn access_token_revocation_and_assertions(store: &Store) {
        assert!(!store.token_revoked("jti-1").await.unwrap());
        store.revoke_token("jti-1", 500).await.unwrap();
        store.revoke_token("jti-1", 500).await.unwrap();
        assert!(store.token_revoked("jti-1").await.unwrap());
        assert!(store.record_assertion("a", "jti-x", 500).await.unwrap());
        assert!(!store.record_assertion("a", "jti-x", 500).await.unwrap());
        // jti are per client.
        assert!(store.record_assertion("b", "jti-x", 500).await.unwrap());
    }

    fn key(kid: &str, created_at: i64, not_before: i64) -> StoredKey {
        StoredKey {
            kid: kid.into(),
            alg: "ES256".into(),
            pkcs8_encrypted: vec![1, 2, 3],
            created_at,
            not_before,
            retired_at: None,
        }
    }

    pub(super) async fn signing_keys_rotate(store: &Store) {
        store.add_signing_key(&key("k1", 0, 0), None).await.unwrap();
        store
            .add_signing_key(&key("k2", 100, 700), Some(2_000))
            .await
            .unwrap();
        let at = |t| {
            let store = store.clone();
            async move {
                store
                    .signing_keys(t)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|k| (k.kid, k.retired_at))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            at(100).await,
            [("k2".to_owned(), None), ("k1".to_owned(), Some(2_000))]
        );
        assert_eq!(at(2_000).await, [("k2".to_owned(), None)]);
        // The same kid twice is an error, and the transaction leaves k1 as it was.
        assert!(
            store
                .add_signing_key(&key("k2", 200, 900), Some(1_000))
                .await
                .is_err()
        );
        assert_eq!(at(1_500).await.len(), 2);
    }

    pub(super) async fn registry_import(store: &Store) {
        use idp_server::registry::{Format, parse};
        let residents = "personal_number,full_name,birth_date\n\
                         001090012345,Nguyễn Văn An,1990-05-17\n\
                         079185004321,Trần Thị Bình,\n";
        let businesses = "enterprise_code,registered_name,legal_representatives\n\
                          0314409058,Công ty TNHH Ví Dụ,001090012345 079185004321\n\
                          0101243150,Công ty Vắng,092076000123\n";
        let people = parse(residents.as_bytes(), Format::Csv).unwrap();
        let firms = parse(businesses.as_bytes(), Format::Csv).unwrap();
        assert!(people.rejected.is_empty() && firms.rejected.is_empty());
        let all: Vec<_> = people
            .records
            .iter()
            .chain(&firms.records)
            .cloned()
            .collect();

        // A dry run reports and changes nothing.
        let dry = store.import_registry(&all, true).await.unwrap();
        assert_eq!(dry.residents.added, 2);
        assert_eq!(store.person("001090012345").await.unwrap(), None);

        let first = store.import_registry(&all, false).await.unwrap();
        assert_eq!((first.residents.added, first.businesses.added), (2, 1));
        // The business whose representative is nobody of the registry is refused
        // with its line.
        assert_eq!(first.rejected.len(), 1);
        assert_eq!(first.rejected[0].line, 3);
        assert!(first.rejected[0].reason.contains("092076000123"));
        let an = store.person("001090012345").await.unwrap().unwrap();
        assert_eq!(
            (
                an.full_name.as_str(),
                an.birth_date.as_deref(),
                an.assurance.as_str()
            ),
            ("Nguyễn Văn An", Some("1990-05-17"), "low")
        );
        let (name, representatives) = store.business("0314409058").await.unwrap().unwrap();
        assert_eq!(name, "Công ty TNHH Ví Dụ");
        assert_eq!(representatives, ["001090012345", "079185004321"]);
        assert_eq!(store.represented_by("079185004321").await.unwrap().len(), 1);

        // Again: nothing changes.
        let again = store.import_registry(&all, false).await.unwrap();
        assert_eq!(
            (again.residents.unchanged, again.businesses.unchanged),
            (2, 1)
        );
        assert_eq!((again.residents.added, again.residents.updated), (0, 0));

        // A changed name and a representative fewer are updates; an existing
        // resident keeps the assurance their logins reached.
        let mut raised = an.clone();
        raised.assurance = "substantial".into();
        store.put_person(&raised).await.unwrap();
        let changed = parse(
            "personal_number,full_name\n001090012345,Nguyễn Văn Ân\n".as_bytes(),
            Format::Csv,
        )
        .unwrap();
        let firm = parse(
            "enterprise_code,registered_name,legal_representatives\n\
             0314409058,Công ty TNHH Ví Dụ,079185004321\n"
                .as_bytes(),
            Format::Csv,
        )
        .unwrap();
        let rows: Vec<_> = changed
            .records
            .iter()
            .chain(&firm.records)
            .cloned()
            .collect();
        let update = store.import_registry(&rows, false).await.unwrap();
        assert_eq!(
            (update.residents.updated, update.businesses.updated),
            (1, 1)
        );
        let an = store.person("001090012345").await.unwrap().unwrap();
        assert_eq!(
            (an.full_name.as_str(), an.birth_date, an.assurance.as_str()),
            ("Nguyễn Văn Ân", None, "substantial")
        );
        assert!(
            store
                .represented_by("001090012345")
                .await
                .unwrap()
                .is_empty()
        );

        // Officials: residents only; a re-import is unchanged, a move an update.
        let officials = |text: &str| {
            parse(
                format!("personal_number,agency,position\n{text}").as_bytes(),
                Format::Csv,
            )
            .unwrap()
            .records
        };
        let report = store
            .import_registry(
                &officials(
                    "079185004321,Sở Tư pháp,Chuyên viên\n092076000123,Sở Tư pháp,Chuyên viên\n",
                ),
                false,
            )
            .await
            .unwrap();
        assert_eq!(report.officials.added, 1);
        assert_eq!(report.rejected.len(), 1);
        assert!(report.rejected[0].reason.contains("not a resident"));
        let again = store
            .import_registry(&officials("079185004321,Sở Tư pháp,Chuyên viên\n"), false)
            .await
            .unwrap();
        assert_eq!(again.officials.unchanged, 1);
        let moved = store
            .import_registry(
                &officials("079185004321,Sở Tài chính,Trưởng phòng\n"),
                false,
            )
            .await
            .unwrap();
        assert_eq!(moved.officials.updated, 1);
        assert_eq!(
            store.official("079185004321").await.unwrap(),
            Some(("Sở Tài chính".into(), "Trưởng phòng".into()))
        );
        assert_eq!(store.official("001090012345").await.unwrap(), None);
    }

    pub(super) async fn consents_and_their_withdrawal(store: &Store) {
        let n = "079185004321";
        assert_eq!(store.consent(n, "a").await.unwrap(), None);
        store.put_consent(n, "a", "profile", 10).await.unwrap();
        store
            .put_consent(n, "a", "national_id profile", 20)
            .await
            .unwrap();
        store.put_consent(n, "b", "profile", 30).await.unwrap();
        assert_eq!(
            store.consent(n, "a").await.unwrap().as_deref(),
            Some("national_id profile")
        );
        assert_eq!(
            store.consents_of(n).await.unwrap(),
            [
                ("a".to_owned(), "national_id profile".to_owned(), 20),
                ("b".to_owned(), "profile".to_owned(), 30)
            ]
        );
        // Withdrawing revokes the families of that client's logins, not others'.
        store
            .put_refresh(b"ra", &refresh_grant("fa"))
            .await
            .unwrap();
        let mut other = refresh_grant("fb");
        other.client_id = "b".into();
        store.put_refresh(b"rb", &other).await.unwrap();
        assert!(store.withdraw_consent(n, "a", 40, 5_000).await.unwrap());
        assert!(!store.withdraw_consent(n, "a", 40, 5_000).await.unwrap());
        assert!(store.family_revoked("fa").await.unwrap());
        assert!(!store.family_revoked("fb").await.unwrap());
        assert_eq!(store.consents_of(n).await.unwrap().len(), 1);
    }

    pub(super) async fn activation_codes(store: &Store) {
        use idp_server::enrol::Activation;
        let person = Person {
            personal_number: "001090012345".into(),
            full_name: "Nguyễn Văn An".into(),
            birth_date: None,
            assurance: "low".into(),
        };
        store.put_person(&person).await.unwrap();
        let n = "001090012345";
        // Only for a resident of the registry.
        assert!(
            !store
                .put_activation("079185004321", b"c", 0, 100)
                .await
                .unwrap()
        );
        assert_eq!(
            store.check_activation(n, b"c", 10).await.unwrap(),
            Activation::None
        );
        assert!(store.put_activation(n, b"right", 0, 100).await.unwrap());
        assert_eq!(
            store.check_activation(n, b"wrong", 10).await.unwrap(),
            Activation::Wrong { attempts_left: 4 }
        );
        assert_eq!(
            store.check_activation(n, b"right", 10).await.unwrap(),
            Activation::Valid
        );
        assert_eq!(
            store.check_activation(n, b"right", 100).await.unwrap(),
            Activation::Expired
        );
        // Wrong four more times: locked, and then even the right code fails.
        for left in [3, 2, 1] {
            assert_eq!(
                store.check_activation(n, b"wrong", 10).await.unwrap(),
                Activation::Wrong {
                    attempts_left: left
                }
            );
        }
        assert_eq!(
            store.check_activation(n, b"wrong", 10).await.unwrap(),
            Activation::Locked
        );
        assert_eq!(
            store.check_activation(n, b"right", 10).await.unwrap(),
            Activation::Locked
        );
        let passkey = |id: &[u8]| idp_server::store::StoredPasskey {
            credential_id: id.to_vec(),
            personal_number: n.into(),
            user_handle: vec![7; 16],
            passkey: "{}".into(),
            name: "phone".into(),
            created_at: 10,
            last_used_at: None,
            disabled_at: None,
        };
        assert!(
            !store
                .register_passkey(&passkey(b"k0"), Some(b"right"), 10)
                .await
                .unwrap()
        );
        assert!(store.passkey(b"k0").await.unwrap().is_none());
        // A new code replaces the locked one; using it ends it.
        assert!(store.put_activation(n, b"new", 20, 200).await.unwrap());
        assert_eq!(
            store.check_activation(n, b"new", 30).await.unwrap(),
            Activation::Valid
        );
        assert!(
            store
                .register_passkey(&passkey(b"k1"), Some(b"new"), 30)
                .await
                .unwrap()
        );
        assert!(
            !store
                .register_passkey(&passkey(b"k2"), Some(b"new"), 30)
                .await
                .unwrap()
        );
        // The passkey is saved, the low assurance raised; the second saved nothing.
        assert_eq!(store.passkeys_of(n).await.unwrap().len(), 1);
        assert_eq!(
            store.person(n).await.unwrap().unwrap().assurance,
            "substantial"
        );
        // A compare-and-swap update, and disabling.
        assert!(
            store
                .passkey_used(b"k1", "{}", "{\"n\":1}", 40)
                .await
                .unwrap()
        );
        assert!(
            !store
                .passkey_used(b"k1", "{}", "{\"n\":2}", 41)
                .await
                .unwrap()
        );
        store.disable_passkey(b"k1", 50).await.unwrap();
        assert!(store.passkeys_of(n).await.unwrap().is_empty());
        assert_eq!(
            store.passkey(b"k1").await.unwrap().unwrap().disabled_at,
            Some(50)
        );
        assert!(
            !store
                .passkey_used(b"k1", "{\"n\":1}", "{\"n\":3}", 60)
                .await
                .unwrap()
        );
        // A person logged in adds one without a code.
        assert!(
            store
                .register_passkey(&passkey(b"k3"), None, 70)
                .await
                .unwrap()
        );
        assert_eq!(store.passkeys_of(n).await.unwrap().len(), 1);
        assert_eq!(
            store.check_activation(n, b"new", 30).await.unwrap(),
            Activation::None
        );
        // Audit events, in order.
        store.audit(5, "a", Some(n), "first").await.unwrap();
        store.audit(5, "b", Some(n), "second").await.unwrap();
        store.audit(6, "c", None, "nobody's").await.unwrap();
        let events = store.audit_events(n).await.unwrap();
        assert_eq!(
            events,
            [
                (5, "a".to_owned(), "first".to_owned()),
                (5, "b".to_owned(), "second".to_owned())
            ]
        );
    }

    pub(super) async fn logins_under_way_and_sessions(store: &Store) {
        use idp_server::store::LoginSession;
        // A login under way is taken once, and not after it expired.
        store
            .put_pending_login(b"l1", "{\"a\":1}", 200)
            .await
            .unwrap();
        store.put_pending_login(b"l2", "{}", 200).await.unwrap();
        assert_eq!(
            store
                .take_pending_login(b"l1", 100)
                .await
                .unwrap()
                .as_deref(),
            Some("{\"a\":1}")
        );
        assert_eq!(store.take_pending_login(b"l1", 100).await.unwrap(), None);
        assert_eq!(store.take_pending_login(b"l2", 200).await.unwrap(), None);
        assert_eq!(store.take_pending_login(b"l2", 100).await.unwrap(), None);
        assert!(store.put_pending_login(b"l3", "{}", 200).await.is_ok());
        // Sessions: found until they expire or end.
        let session = LoginSession {
            personal_number: "001090012345".into(),
            acr: "high".into(),
            amr: "hwk user".into(),
            auth_time: 100,
            expires_at: 300,
        };
        store.put_session(b"s1", &session).await.unwrap();
        store.put_session(b"s2", &session).await.unwrap();
        assert_eq!(
            store.session(b"s1", 299).await.unwrap(),
            Some(session.clone())
        );
        assert_eq!(store.session(b"s1", 300).await.unwrap(), None);
        assert!(store.end_session(b"s1").await.unwrap());
        assert!(!store.end_session(b"s1").await.unwrap());
        assert_eq!(store.session(b"s1", 200).await.unwrap(), None);
        // The janitor removes what expired: l3 and s2.
        assert_eq!(store.purge_expired(1_000).await.unwrap(), 2);
        assert_eq!(store.session(b"s2", 200).await.unwrap(), None);
    }

    pub(super) async fn expired_entries_are_purged(store: &Store) {
        store.put_code(b"old", &code_grant()).await.unwrap();
        let mut young = code_grant();
        young.expires_at = 10_000;
        store.put_code(b"young", &young).await.unwrap();
        let mut old_refresh = refresh_grant("f");
        old_refresh.expires_at = 150;
        store.put_refresh(b"old", &old_refresh).await.unwrap();
        store.revoke_token("old", 150).await.unwrap();
        store.record_assertion("a", "old", 150).await.unwrap();
        assert_eq!(store.purge_expired(1_000).await.unwrap(), 4);
        assert_eq!(
            store.take_code(b"old", "f", 1_000).await.unwrap(),
            CodeTaken::Unknown
        );
        assert!(matches!(
            store.take_code(b"young", "f", 1_000).await.unwrap(),
            CodeTaken::Fresh(_)
        ));
        // A code used at 110: kept a day after its use, so a late replay is seen.
        store.put_code(b"used", &code_grant()).await.unwrap();
        assert!(matches!(
            store.take_code(b"used", "f-used", 110).await.unwrap(),
            CodeTaken::Fresh(_)
        ));
        assert_eq!(store.purge_expired(1_000).await.unwrap(), 0);
        assert_eq!(
            store.take_code(b"used", "f", 1_000).await.unwrap(),
            CodeTaken::Replayed
        );
        assert_eq!(
            store.code_family(b"used").await.unwrap().as_deref(),
            Some("f-used")
        );
        assert_eq!(store.purge_expired(110 + 86_400 + 1).await.unwrap(), 1);
        assert_eq!(
            store.take_code(b"used", "f", 1_000).await.unwrap(),
            CodeTaken::Unknown
        );
    }

    pub(super) async fn device_grants(store: &Store) {
        use idp_server::store::{DeviceApproval, DevicePoll};
        let (device, user) = (b"device-1".as_slice(), b"user-1".as_slice());
        store
            .put_device_grant(device, user, "signer", "openid pki:enroll", 700, 5)
            .await
            .unwrap();
        // A user code is one request's: a second with the same hash is refused.
        assert!(
            store
                .put_device_grant(b"device-2", user, "signer", "openid", 700, 5)
                .await
                .is_err()
        );
        let request = store.device_request(user, 100).await.unwrap().unwrap();
        assert_eq!(
            (request.client_id.as_str(), request.scope.as_str()),
            ("signer", "openid pki:enroll")
        );
        assert_eq!(store.device_request(user, 700).await.unwrap(), None);
        // Polls: pending, then too soon, then another client's poll is unknown.
        let poll = |client: &'static str, at: i64| {
            let store = store.clone();
            async move { store.poll_device_grant(device, client, at).await.unwrap() }
        };
        assert_eq!(
            poll("signer", 100).await,
            DevicePoll::Pending { slow_down: false }
        );
        assert_eq!(
            poll("signer", 102).await,
            DevicePoll::Pending { slow_down: true }
        );
        assert_eq!(
            poll("signer", 108).await,
            DevicePoll::Pending { slow_down: true }
        );
        assert_eq!(
            poll("signer", 123).await,
            DevicePoll::Pending { slow_down: false }
        );
        assert_eq!(poll("other", 130).await, DevicePoll::Unknown);
        // Approved once; a second decision changes nothing.
        let approval = DeviceApproval {
            personal_number: "079185004321".into(),
            acr: "substantial".into(),
            auth_time: 120,
        };
        let n = "079185004321";
        store.put_consent(n, "signer", "profile", 1).await.unwrap();
        assert!(
            store
                .decide_device_grant(user, n, Some(&approval), &request, 125)
                .await
                .unwrap()
        );
        assert!(
            !store
                .decide_device_grant(user, n, None, &request, 126)
                .await
                .unwrap()
        );
        // The approval is a consent, added to the one given before, and audited once.
        assert_eq!(
            store.consent(n, "signer").await.unwrap().as_deref(),
            Some("pki:enroll profile")
        );
        let events = store.audit_events(n).await.unwrap();
        assert_eq!(
            events
                .iter()
                .filter(|(_, k, _)| k == "device_approved")
                .count(),
            1
        );
        assert_eq!(store.device_request(user, 127).await.unwrap(), None);
        // Raced polls: exactly one gets the grant.
        let mut racers = Vec::new();
        for _ in 0..8 {
            racers.push(tokio::spawn(poll("signer", 140)));
        }
        let mut approved = 0;
        for racer in racers {
            match racer.await.unwrap() {
                DevicePoll::Approved { scope, approval: a } => {
                    assert_eq!(scope, "openid pki:enroll");
                    assert_eq!(a, approval);
                    approved += 1;
                }
                other => assert_eq!(other, DevicePoll::Unknown),
            }
        }
        assert_eq!(approved, 1);
        // Denied, expired, purged.
        store
            .put_device_grant(b"device-3", b"user-3", "signer", "openid", 700, 5)
            .await
            .unwrap();
        let third = idp_server::store::DeviceRequest {
            client_id: "signer".into(),
            scope: "openid".into(),
            expires_at: 700,
        };
        assert!(
            store
                .decide_device_grant(b"user-3", n, None, &third, 130)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .poll_device_grant(b"device-3", "signer", 140)
                .await
                .unwrap(),
            DevicePoll::Denied
        );
        assert_eq!(
            store
                .poll_device_grant(b"device-3", "signer", 700)
                .await
                .unwrap(),
            DevicePoll::Expired
        );
        assert!(store.purge_expired(701).await.unwrap() >= 1);
        assert_eq!(
            store
                .poll_device_grant(b"device-3", "signer", 701)
                .await
                .unwrap(),
            DevicePoll::Unknown
        );
    }

    pub(super) async fn certificates_and_their_revocation(store: &Store) {
        use idp_server::store::{Revocation, StoredCertificate};
        let n = "079185004321";
        let cert = |serial: &str, at: i64| StoredCertificate {
            serial: serial.into(),
            ca: "official-ca".into(),
            profile: "official-signing".into(),
            subject: "CN=Trần Thị Bình".into(),
            personal_number: Some(n.into()),
            issued_at: at,
            not_after: at + 1_000,
            der: vec![0x30, 0x03, 1, 2, 3],
            revoked_at: None,
            reason: None,
        };
        assert!(store.put_certificate(&cert("0a", 100), None).await.unwrap());
        assert!(
            store
                .put_certificate(&cert("0b", 200), Some((0, 2)))
                .await
                .unwrap()
        );
        // At the limit (two since 0): refused, nothing recorded.
        assert!(
            !store
                .put_certificate(&cert("0c", 250), Some((0, 2)))
                .await
                .unwrap()
        );
        assert!(store.certificate("0c").await.unwrap().is_none());
        // A serial used before: refused, and no audit event for it.
        assert!(store.put_certificate(&cert("0a", 300), None).await.is_err());
        let issued = |events: &[(i64, String, String)]| {
            events
                .iter()
                .filter(|(_, k, _)| k == "certificate_issued")
                .count()
        };
        assert_eq!(issued(&store.audit_events(n).await.unwrap()), 2);
        let listed = store.certificates(Some(n), 10).await.unwrap();
        assert_eq!(
            listed.iter().map(|c| c.serial.as_str()).collect::<Vec<_>>(),
            ["0b", "0a"]
        );
        assert_eq!(listed[1], cert("0a", 100));
        assert_eq!(store.certificates_issued_since(n, 150).await.unwrap(), 1);
        assert_eq!(
            store.certificate_status("0a").await.unwrap(),
            Some(("official-ca".into(), None))
        );
        assert_eq!(store.certificate_status("ff").await.unwrap(), None);
        // Revoked once, with its audit event; then it says when and why.
        assert_eq!(
            store
                .revoke_certificate("0a", 500, 1, "keyCompromise")
                .await
                .unwrap(),
            Revocation::Revoked
        );
        assert_eq!(
            store
                .revoke_certificate("0a", 600, 4, "superseded")
                .await
                .unwrap(),
            Revocation::Already { at: 500, reason: 1 }
        );
        assert_eq!(
            store
                .revoke_certificate("ff", 600, 4, "superseded")
                .await
                .unwrap(),
            Revocation::Unknown
        );
        let events = store.audit_events(n).await.unwrap();
        assert_eq!(
            events
                .iter()
                .filter(|(_, k, _)| k == "certificate_revoked")
                .count(),
            1
        );
        assert_eq!(
            store.certificate_status("0a").await.unwrap(),
            Some(("official-ca".into(), Some((500, 1))))
        );
        assert_eq!(
            store.revocations("official-ca").await.unwrap(),
            vec![("0a".to_owned(), 500, 1)]
        );
        assert!(store.revocations("other-ca").await.unwrap().is_empty());
        // CRL numbers: 1, 2, … per CA, never twice, even when raced; each with
        // the revocations as they were when it was taken.
        let mut racers = Vec::new();
        for _ in 0..6 {
            let store = store.clone();
            racers.push(tokio::spawn(async move {
                let (number, listed) = store.next_crl("official-ca").await.unwrap();
                assert_eq!(listed, vec![("0a".to_owned(), 500, 1)]);
                number
            }));
        }
        let mut numbers = Vec::new();
        for racer in racers {
            numbers.push(racer.await.unwrap());
        }
        numbers.sort_unstable();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
        assert_eq!(store.next_crl("other-ca").await.unwrap(), (1, vec![]));
    }
}
