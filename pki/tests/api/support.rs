//! A test hierarchy and the OpenSSL runner.

use std::path::Path;
use std::process::Command;

use identity_core::keys::{SignatureAlgorithm, SigningKey, SystemRandom};
use identity_core::x509::CertificationRequest;
use identity_core::{Business, Citizen, Official};
use pki::{Authority, CaConfig, IssueRequest, Issued, MemoryStore, Profile, Subject};

/// 2026-11-29T00:00:00Z.
pub(crate) const NOW: i64 = 1_795_910_400;

pub(crate) fn config() -> CaConfig {
    CaConfig {
        crl_url: Some("http://pki.example.gov.vn/crl/officials.crl".into()),
        ocsp_url: Some("http://pki.example.gov.vn/ocsp".into()),
        ca_issuers_url: Some("http://pki.example.gov.vn/ca/officials.crt".into()),
        policy_oids: vec!["1.3.6.1.4.1.32473.704.1".into()],
        validity_days: None,
    }
}

pub(crate) fn key(alg: SignatureAlgorithm) -> SigningKey {
    SigningKey::generate(alg, &SystemRandom::new()).unwrap()
}

pub(crate) fn request(key: &SigningKey) -> CertificationRequest {
    CertificationRequest::from_der(&pki::certification_request(key, "anything").unwrap()).unwrap()
}

pub(crate) fn citizen() -> Citizen {
    Citizen::new("Nguyễn Thị Hoa", "079190012345".parse().unwrap(), None).unwrap()
}

pub(crate) fn subject_for(profile: Profile) -> Subject {
    match profile {
        Profile::Citizen => Subject::Citizen(citizen()),
        Profile::Business => Subject::Business(
            Business::new(
                "0314409058".parse().unwrap(),
                "Công ty TNHH Ví Dụ",
                vec!["079190012345".parse().unwrap()],
            )
            .unwrap(),
        ),
        Profile::OfficialSigning => Subject::Official(
            Official::new(citizen(), "Sở Tư pháp TP. Hồ Chí Minh", "Phó Giám đốc").unwrap(),
        ),
        Profile::TlsServer => Subject::Service {
            name: "id.example.gov.vn".into(),
            organization: "Trung tâm Dữ liệu".into(),
            dns_names: vec!["id.example.gov.vn".into()],
        },
        p if p.is_ca() => Subject::Authority {
            name: format!("{p} test"),
            organization: "Cơ quan Chứng thực".into(),
        },
        p => Subject::Service {
            name: format!("{p} test"),
            organization: "Cơ quan Chứng thực".into(),
            dns_names: vec![],
        },
    }
}

/// A root, its four issuing CAs, and their keys and stores.
pub(crate) struct Hierarchy {
    pub(crate) root_key: SigningKey,
    pub(crate) root_der: Vec<u8>,
    pub(crate) root_store: MemoryStore,
    pub(crate) cas: Vec<(Profile, SigningKey, Vec<u8>, MemoryStore)>,
}

impl Hierarchy {
    pub(crate) fn new() -> Self {
        let rng = SystemRandom::new();
        let root_key = key(SignatureAlgorithm::EcdsaP384Sha384);
        let root_der =
            Authority::self_signed_root(&subject_for(Profile::Root), &root_key, &rng, NOW - 86_400)
                .unwrap();
        let mut root_store = MemoryStore::new();
        let mut cas = Vec::new();
        {
            let root = Authority::new(&root_der, Profile::Root, &root_key, config()).unwrap();
            for profile in Profile::Root.issues() {
                let ca_key = key(SignatureAlgorithm::EcdsaP256Sha256);
                let subject = subject_for(*profile);
                let issued = root
                    .issue(
                        IssueRequest {
                            profile: *profile,
                            subject: &subject,
                            request: &request(&ca_key),
                        },
                        &mut root_store,
                        &rng,
                        NOW - 3_600,
                    )
                    .unwrap();
                cas.push((*profile, ca_key, issued.der, MemoryStore::new()));
            }
        }
        Self {
            root_key,
            root_der,
            root_store,
            cas,
        }
    }

    /// Issues a leaf of `profile` from the CA that issues it.
    pub(crate) fn leaf(&mut self, profile: Profile, leaf_key: &SigningKey) -> (Issued, Vec<u8>) {
        let (ca_profile, ca_key, ca_der, store) = self
            .cas
            .iter_mut()
            .find(|(p, ..)| p.issues().contains(&profile))
            .unwrap();
        let ca = Authority::new(ca_der, *ca_profile, &*ca_key, config()).unwrap();
        let subject = subject_for(profile);
        let issued = ca
            .issue(
                IssueRequest {
                    profile,
                    subject: &subject,
                    request: &request(leaf_key),
                },
                store,
                &SystemRandom::new(),
                NOW,
            )
            .unwrap();
        (issued, ca_der.clone())
    }
}

pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap()
}

pub(crate) fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

/// Runs openssl; returns (success, stdout + stderr).
pub(crate) fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is installed (scripts/test)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
