//! The fixtures of tests/data/cms the signing benchmarks use: an official's key
//! and certificate, its CA and the root.

use identity_core::SigningKey;
use identity_core::x509::Certificate;

/// Within the validity of the fixtures.
pub(crate) const NOW: i64 = 1_800_000_000;

pub(crate) struct Fixtures {
    pub(crate) key: SigningKey,
    pub(crate) cert: Certificate,
    pub(crate) anchors: Vec<Certificate>,
    pub(crate) chain: Vec<Certificate>,
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/cms/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub(crate) fn fixtures() -> Fixtures {
    Fixtures {
        key: SigningKey::from_pkcs8_pem(&String::from_utf8(read("signer.key.pem")).unwrap(), None)
            .unwrap(),
        cert: Certificate::parse_all(&read("signer.pem"))
            .unwrap()
            .remove(0),
        anchors: Certificate::parse_all(&read("root.pem")).unwrap(),
        chain: Certificate::parse_all(&read("ca.pem")).unwrap(),
    }
}
