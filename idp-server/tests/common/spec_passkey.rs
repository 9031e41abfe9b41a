//! A passkey authenticator written from the WebAuthn Level 2 specification
//! (§6.1 authenticator data, §6.5 attestation, §8.7 "none" attestation,
//! §5.8.1 client data), for what webauthn-authenticator-rs's software passkey
//! does not do: discoverable (resident) credentials that answer a challenge
//! with no allowed credentials and return their user handle.
//!
//! Keys are P-256 (COSE ES256) from ring; CBOR is ciborium's encoder.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use ciborium::Value;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};

/// Authenticator data flags (WebAuthn §6.1).
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED_CREDENTIAL: u8 = 0x40;

/// One resident credential.
#[derive(Clone)]
pub(crate) struct Resident {
    pub(crate) id: Vec<u8>,
    pub(crate) rp_id: String,
    pub(crate) user_handle: Vec<u8>,
    pkcs8: Vec<u8>,
    pub(crate) counter: u32,
}

/// A platform authenticator that keeps its credentials (resident keys) and
/// verifies its user.
#[derive(Clone, Default)]
pub(crate) struct SpecPasskey {
    pub(crate) credentials: Vec<Resident>,
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(text.trim_end_matches('=')).expect("base64url")
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("CBOR encoding");
    out
}

/// Client data (§5.8.1), as the browser would make it.
fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": kind,
        "challenge": challenge,
        "origin": origin,
        "crossOrigin": false,
    }))
    .expect("client data")
}

impl SpecPasskey {
    /// `navigator.credentials.create`: a new resident credential for the
    /// options' relying party and user, with "none" attestation. Answers as
    /// the browser would serialise a `PublicKeyCredential` (JSON).
    pub(crate) fn create(
        &mut self,
        options: &serde_json::Value,
        origin: &str,
    ) -> serde_json::Value {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rp"]["id"].as_str().expect("rp.id");
        let challenge = public_key["challenge"].as_str().expect("challenge");
        let user_handle = unb64(public_key["user"]["id"].as_str().expect("user.id"));
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .expect("key generation")
            .as_ref()
            .to_vec();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &rng).expect("key");
        // An uncompressed point: 0x04, x, y.
        let point = key.public_key().as_ref();
        let cose_key = Value::Map(vec![
            (Value::from(1), Value::from(2)),  // kty: EC2
            (Value::from(3), Value::from(-7)), // alg: ES256
            (Value::from(-1), Value::from(1)), // crv: P-256
            (Value::from(-2), Value::Bytes(point[1..33].to_vec())),
            (Value::from(-3), Value::Bytes(point[33..65].to_vec())),
        ]);
        let mut id = vec![0u8; 32];
        ring::rand::SecureRandom::fill(&rng, &mut id).expect("random");
        let mut auth_data = sha256(rp_id.as_bytes());
        auth_data.push(USER_PRESENT | USER_VERIFIED | ATTESTED_CREDENTIAL);
        auth_data.extend_from_slice(&0u32.to_be_bytes());
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID
        auth_data.extend_from_slice(&u16::try_from(id.len()).expect("id length").to_be_bytes());
        auth_data.extend_from_slice(&id);
        auth_data.extend_from_slice(&cbor(&cose_key));
        let attestation = cbor(&Value::Map(vec![
            (Value::from("fmt"), Value::from("none")),
            (Value::from("attStmt"), Value::Map(vec![])),
            (Value::from("authData"), Value::Bytes(auth_data)),
        ]));
        self.credentials.push(Resident {
            id: id.clone(),
            rp_id: rp_id.to_owned(),
            user_handle,
            pkcs8,
            counter: 0,
        });
        serde_json::json!({
            "id": b64(&id),
            "rawId": b64(&id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data("webauthn.create", challenge, origin)),
                "transports": ["internal"],
            },
            "extensions": {},
        })
    }

    /// `navigator.credentials.get`: an assertion by the first credential for
    /// the options' relying party that the options allow (any of this
    /// relying party's when they allow none: a discoverable login), with its
    /// user handle.
    pub(crate) fn get(&mut self, options: &serde_json::Value, origin: &str) -> serde_json::Value {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rpId"].as_str().expect("rpId").to_owned();
        let challenge = public_key["challenge"].as_str().expect("challenge");
        let allowed: Vec<Vec<u8>> = public_key["allowCredentials"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|c| unb64(c["id"].as_str().expect("credential id")))
                    .collect()
            })
            .unwrap_or_default();
        let credential = self
            .credentials
            .iter_mut()
            .find(|c| c.rp_id == rp_id && (allowed.is_empty() || allowed.contains(&c.id)))
            .expect("no credential for this relying party");
        credential.counter += 1;
        let mut auth_data = sha256(rp_id.as_bytes());
        auth_data.push(USER_PRESENT | USER_VERIFIED);
        auth_data.extend_from_slice(&credential.counter.to_be_bytes());
        let client_data = client_data("webauthn.get", challenge, origin);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&sha256(&client_data));
        let rng = SystemRandom::new();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &credential.pkcs8, &rng)
                .expect("key");
        let signature = key.sign(&rng, &signed).expect("signing");
        serde_json::json!({
            "id": b64(&credential.id),
            "rawId": b64(&credential.id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.as_ref()),
                "userHandle": b64(&credential.user_handle),
            },
            "extensions": {},
        })
    }
}
