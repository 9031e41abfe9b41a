//! The CA's state behind a small trait: what was issued, what was revoked, CRL
//! numbers. The `pki` binary keeps it in a directory, the daemon in its database.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedRecord {
    /// The serial number in lower-case hexadecimal (as the DER INTEGER's content).
    pub serial: String,
    /// The profile used.
    pub profile: String,
    /// The subject, as text.
    pub subject: String,
    /// Issued at, seconds since the Unix epoch.
    pub issued_at: i64,
    /// End of validity, seconds since the Unix epoch.
    pub not_after: i64,
    /// The certificate, DER.
    #[serde(with = "hex_bytes")]
    pub der: Vec<u8>,
}

/// A revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationRecord {
    /// The serial number, hexadecimal.
    pub serial: String,
    /// When, seconds since the Unix epoch.
    pub time: i64,
    /// The RFC 5280 reason code.
    pub reason: u8,
}

/// Where a CA keeps its state. Every method is one atomic step: an implementation
/// either does all of it or none.
pub trait CaStore {
    /// Whether a serial number was ever used.
    fn serial_exists(&self, serial: &str) -> Result<bool, Error>;
    /// Records an issued certificate.
    fn record_issued(&mut self, record: IssuedRecord) -> Result<(), Error>;
    /// The issued certificate with this serial.
    fn issued(&self, serial: &str) -> Result<Option<IssuedRecord>, Error>;
    /// Records a revocation.
    fn record_revocation(&mut self, revocation: RevocationRecord) -> Result<(), Error>;
    /// Every revocation, in serial order.
    fn revocations(&self) -> Result<Vec<RevocationRecord>, Error>;
    /// The revocation of this serial, if any.
    fn revocation(&self, serial: &str) -> Result<Option<RevocationRecord>, Error>;
    /// Takes the next CRL number (1, 2, …): never the same twice.
    fn next_crl_number(&mut self) -> Result<u64, Error>;
}

/// State in memory: for tests, benchmarks and short-lived tools.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryStore {
    issued: BTreeMap<String, IssuedRecord>,
    revoked: BTreeMap<String, RevocationRecord>,
    crl_number: u64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many certificates were issued.
    pub fn issued_count(&self) -> usize {
        self.issued.len()
    }
}

impl CaStore for MemoryStore {
    fn serial_exists(&self, serial: &str) -> Result<bool, Error> {
        Ok(self.issued.contains_key(serial))
    }

    fn record_issued(&mut self, record: IssuedRecord) -> Result<(), Error> {
        if self.issued.contains_key(&record.serial) {
            return Err(Error::Store(format!(
                "serial {} is already used",
                record.serial
            )));
        }
        self.issued.insert(record.serial.clone(), record);
        Ok(())
    }

    fn issued(&self, serial: &str) -> Result<Option<IssuedRecord>, Error> {
        Ok(self.issued.get(serial).cloned())
    }

    fn record_revocation(&mut self, revocation: RevocationRecord) -> Result<(), Error> {
        if self.revoked.contains_key(&revocation.serial) {
            return Err(Error::AlreadyRevoked {
                serial: revocation.serial,
            });
        }
        self.revoked.insert(revocation.serial.clone(), revocation);
        Ok(())
    }

    fn revocations(&self) -> Result<Vec<RevocationRecord>, Error> {
        Ok(self.revoked.values().cloned().collect())
    }

    fn revocation(&self, serial: &str) -> Result<Option<RevocationRecord>, Error> {
        Ok(self.revoked.get(serial).cloned())
    }

    fn next_crl_number(&mut self) -> Result<u64, Error> {
        self.crl_number += 1;
        Ok(self.crl_number)
    }
}

/// Hexadecimal for byte strings in JSON.
pub(crate) mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hex(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        crate::unhex(&text).ok_or_else(|| serde::de::Error::custom("not hexadecimal"))
    }
}
