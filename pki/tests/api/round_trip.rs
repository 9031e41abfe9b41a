//! What we build reads back as built: certificates issued for any identity and
//! signatures over any content are canonical DER (decoding and encoding again
//! gives the same bytes), carry the identity they were made for, and verify.

use identity_core::cms::{self, SignOptions, VerifyOptions};
use identity_core::keys::{SignatureAlgorithm, SystemRandom};
use identity_core::report::Indication;
use identity_core::x509::{Certificate, CertificationRequest};
use identity_core::{Citizen, Official};
use pki::{Authority, IssueRequest, MemoryStore, Profile, Subject};
use proptest::prelude::*;

use super::support::*;

/// Province codes of the personal number (a sample of the 63).
const PROVINCES: [&str; 6] = ["001", "031", "048", "079", "092", "096"];

fn personal_number() -> impl Strategy<Value = String> {
    (0..PROVINCES.len(), 0u8..4, 0u8..100, 0u32..1_000_000)
        .prop_map(|(p, c, y, s)| format!("{}{c}{y:02}{s:06}", PROVINCES[p]))
}

/// Text as people type it: Vietnamese letters, Latin, digits, punctuation and
/// spaces inside, within RFC 5280's 64-character upper bound.
fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9ĐđƯưƠơÂâÊêÔôĂăÁÀẢÃẠáàảãạếềểễệốồổỗộứừửữựíìỉĩịýỳỷỹỵ][A-Za-z0-9ĐđƯưƠơÂâÊêÔôĂăáàảãạếềểễệốồổỗộứừửữự .,'&()/-]{0,62}[A-Za-z0-9Đđươâêôăáàảãạếềểễệốồổỗộứừửữựỹỵ.)]"
}

fn algorithm() -> impl Strategy<Value = SignatureAlgorithm> {
    prop_oneof![
        Just(SignatureAlgorithm::EcdsaP256Sha256),
        Just(SignatureAlgorithm::EcdsaP384Sha384),
        Just(SignatureAlgorithm::Ed25519),
    ]
}

/// Decodes and encodes again: the same bytes, or what differed.
fn canonical<T: for<'a> der::Decode<'a> + der::Encode>(der: &[u8]) -> Result<(), TestCaseError> {
    let again = T::from_der(der)
        .map_err(|e| TestCaseError::fail(format!("does not decode: {e}")))?
        .to_der()
        .map_err(|e| TestCaseError::fail(format!("does not encode: {e}")))?;
    prop_assert_eq!(again, der.to_vec());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn certificates_and_signatures_read_back_as_built(
        name in text(),
        agency in text(),
        position in text(),
        number in personal_number(),
        alg in algorithm(),
        content in proptest::collection::vec(any::<u8>(), 0..4096),
        attached in any::<bool>(),
    ) {
        static HIERARCHY: std::sync::OnceLock<Hierarchy> = std::sync::OnceLock::new();
        let h = HIERARCHY.get_or_init(Hierarchy::new);
        let (ca_profile, ca_key, ca_der, _) = h
            .cas
            .iter()
            .find(|(p, ..)| *p == Profile::OfficialCa)
            .unwrap();
        let ca = Authority::new(ca_der, *ca_profile, ca_key, config()).unwrap();
        let official = Official::new(
            Citizen::new(name.clone(), number.parse().unwrap(), None).unwrap(),
            agency.clone(),
            position.clone(),
        )
        .unwrap();

        // The request, as a signer builds it.
        let leaf_key = key(alg);
        let csr = pki::certification_request(&leaf_key, &name).unwrap();
        canonical::<x509_cert::request::CertReq>(&csr)?;
        let csr = CertificationRequest::from_der(&csr).unwrap();

        // The certificate, as the CA issues it.
        let issued = ca
            .issue(
                IssueRequest {
                    profile: Profile::OfficialSigning,
                    subject: &Subject::Official(official),
                    request: &csr,
                },
                &mut MemoryStore::new(),
                &SystemRandom::new(),
                NOW,
            )
            .unwrap();
        canonical::<x509_cert::Certificate>(&issued.der)?;
        let leaf = Certificate::from_der(&issued.der).unwrap();
        let subject = leaf.subject();
        prop_assert_eq!(subject.common_name(), Some(name.as_str()));
        let uid = format!("CCCD:{number}");
        prop_assert_eq!(subject.user_id(), Some(uid.as_str()));
        prop_assert_eq!(subject.attribute("2.5.4.10"), Some(agency.as_str()));
        prop_assert_eq!(subject.attribute("2.5.4.12"), Some(position.as_str()));
        prop_assert_eq!(leaf.public_key_der(), leaf_key.verifying_key().to_spki_der());
        prop_assert_eq!(leaf.serial_hex().to_lowercase(), issued.serial.to_lowercase());

        // A signature over the content, as the signer makes it.
        let ca_cert = Certificate::from_der(ca_der).unwrap();
        let options = SignOptions { signing_time: NOW + 60, attached };
        let signature = cms::sign(&content, &leaf_key, &leaf, std::slice::from_ref(&ca_cert), &options).unwrap();
        canonical::<::cms::content_info::ContentInfo>(&signature)?;
        prop_assert_eq!(cms::is_detached(&signature).unwrap(), !attached);
        let carried = cms::certificates(&signature).unwrap();
        prop_assert!(carried.iter().any(|c| c.der() == issued.der.as_slice()));
        let root = Certificate::from_der(&h.root_der).unwrap();
        let reports = cms::verify(
            &signature,
            (!attached).then_some(content.as_slice()),
            &[root],
            &[],
            &VerifyOptions::at(NOW + 120),
        )
        .unwrap();
        prop_assert_eq!(reports.len(), 1);
        let report = &reports[0];
        prop_assert_eq!(report.report.indication, Indication::TotalPassed, "{}", report.report);
        prop_assert_eq!(report.name.as_deref(), Some(name.as_str()));
        prop_assert_eq!(report.identifier.clone(), Some(format!("CCCD:{number}")));
        prop_assert_eq!(report.organization.as_deref(), Some(agency.as_str()));
    }
}
