//! The crate's one error type and its sub-enums.

use std::fmt;

/// Everything that can go wrong in `identity-core`.
///
/// Related failures are grouped in sub-enums so callers can match on the kind of
/// problem (an identifier, a key, a token) without parsing messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A national identifier or identity record is invalid.
    #[error(transparent)]
    Identifier(#[from] IdentifierError),
    /// A key could not be generated, read, written or used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A JWS, JWK or JWK Set is malformed or does not verify.
    #[error(transparent)]
    Jose(#[from] JoseError),
    /// A JWT's claims do not satisfy the caller's requirements.
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    /// A certificate or CRL could not be read.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// A CMS signature could not be made or read.
    #[error(transparent)]
    Cms(#[from] CmsError),
    /// A time-stamp could not be asked for, made or read.
    #[error(transparent)]
    TimeStamp(#[from] TimeStampError),
    /// A PDF could not be signed or read.
    #[error(transparent)]
    Pdf(#[from] PdfError),
}

/// Why a PDF could not be signed, or its signatures not read at all. (Why a
/// signature is not valid is in its report.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// The file is not a PDF that can be read (or updated) safely.
    #[error("not a usable PDF: {detail}")]
    Malformed {
        /// What was wrong, and what to do.
        detail: String,
    },
    /// The PDF is encrypted.
    #[error(
        "the PDF is encrypted: save a decrypted copy (for example `qpdf --decrypt in.pdf out.pdf`) and sign or check that"
    )]
    Encrypted,
    /// The PDF has no signature to verify.
    #[error("the PDF has no signature")]
    Unsigned,
    /// The signature is larger than the room kept for it.
    #[error(
        "the signature ({size} bytes) is larger than the room kept for it ({room} bytes): keep more room"
    )]
    SignatureTooLarge {
        /// The signature's size.
        size: usize,
        /// The room.
        room: usize,
    },
    /// A visible signature's appearance cannot be made as asked.
    #[error("the visible signature cannot be drawn: {detail}")]
    Appearance {
        /// What was wrong, and what to do.
        detail: String,
    },
    /// The CMS signature could not be made.
    #[error(transparent)]
    Cms(#[from] CmsError),
}

/// Why a time-stamp (RFC 3161) could not be asked for, made or read. (Why a token
/// is not valid is in the report of the signature it stamps.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeStampError {
    /// The request, response or token is not what RFC 3161 describes.
    #[error("malformed time-stamp {what}: {detail}")]
    Malformed {
        /// `request`, `response`, `token`.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The time-stamping authority refused the request.
    #[error("the time-stamping authority refused: {status}{}{}", .text.as_deref().map(|t| format!(": {t}")).unwrap_or_default(), .failure.as_deref().map(|f| format!(" ({f})")).unwrap_or_default())]
    Refused {
        /// The PKIStatus name (`rejection`, `waiting`, …).
        status: String,
        /// The authority's own words, if any.
        text: Option<String>,
        /// The failure named in PKIFailureInfo (`badAlg`, …), if any.
        failure: Option<String>,
    },
    /// The token answers another request: its imprint, nonce or policy differs.
    #[error("the time-stamp does not answer the request: its {what} differs")]
    Mismatch {
        /// `message imprint`, `nonce`, `policy`.
        what: &'static str,
    },
    /// The token could not be encoded or signed.
    #[error("time-stamping failed: {detail}")]
    Signing {
        /// Why.
        detail: String,
    },
}

/// Why a CMS signature could not be made, or read at all. (Why one is not valid is
/// in its report.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CmsError {
    /// The input is not a CMS SignedData.
    #[error("not a CMS signature: {detail}")]
    Malformed {
        /// What the parser said.
        detail: String,
    },
    /// A detached signature was given without its document.
    #[error("the signature is detached: give the signed document too")]
    ContentMissing,
    /// The document given is not the one the signature carries or covers.
    #[error("the document given is not the signed one")]
    ContentMismatch,
    /// The certificate does not belong to the signing key.
    #[error("the certificate of {certificate} is not the signing key's: nothing was signed")]
    KeyMismatch {
        /// The certificate's subject.
        certificate: String,
    },
    /// The key could not sign.
    #[error("signing failed: {detail}")]
    Signing {
        /// Why.
        detail: String,
    },
    /// The key or algorithm cannot make CMS signatures here.
    #[error("unsupported: {detail}")]
    Unsupported {
        /// What.
        detail: String,
    },
    /// The structure could not be encoded.
    #[error("encoding failed: {detail}")]
    Encoding {
        /// Why.
        detail: String,
    },
}

/// Why a certificate or CRL could not be read. (Why one is not valid is a
/// [`crate::report::ValidationReport`], not an error.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The DER is malformed.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being read: "certificate", "CRL".
        what: &'static str,
        /// What the parser said.
        detail: String,
    },
    /// The PEM text is malformed or holds no block of the expected kind.
    #[error("{what} PEM: {detail}")]
    Pem {
        /// What was being read.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The input is empty.
    #[error("no {what} found: the input is empty")]
    Empty {
        /// What was being read.
        what: &'static str,
    },
    /// A certification request's signature does not verify with its own key: the
    /// requester has not shown it holds the private key.
    #[error(
        "the certification request's signature does not verify with its public key (no proof of possession)"
    )]
    ProofOfPossession,
    /// The key, or the algorithm that signed, is too weak or not supported.
    #[error("key or algorithm not accepted: {detail}")]
    WeakKey {
        /// Which key or algorithm, and the rule.
        detail: String,
    },
}

/// Why a national identifier, a date or an identity record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// The identifier has the wrong number of digits.
    #[error("{kind} must have {expected} digits, found {found}")]
    Length {
        /// Which identifier was being read.
        kind: IdentifierKind,
        /// The number of digits required.
        expected: usize,
        /// The number of characters found.
        found: usize,
    },
    /// A character that is not an ASCII digit.
    #[error("{kind} has a non-digit character at position {position} (counting from 1)")]
    NonDigit {
        /// Which identifier was being read.
        kind: IdentifierKind,
        /// The 1-based position of the offending character.
        position: usize,
    },
    /// The leading province code is not on the official list.
    #[error("{kind} starts with {code}, which is not a province code")]
    Province {
        /// Which identifier was being read.
        kind: IdentifierKind,
        /// The code found.
        code: String,
    },
    /// The sex and century digit of a personal identification number is outside 0–9.
    ///
    /// Every digit 0–9 is assigned today, so this only arises for a birth date
    /// outside 1900–2399 passed to [`crate::PersonalNumber::check_birth_date`].
    #[error("no century digit covers a birth year of {year} (1900-2399 are defined)")]
    CenturyDigit {
        /// The year that has no century digit.
        year: u16,
    },
    /// An enterprise code's serial part (digits 3 to 9) is all zeros.
    #[error("enterprise code digits 3 to 9 must not all be zero")]
    ZeroSerial,
    /// The check digit does not match.
    #[error("{kind} check digit is wrong: found {found}, {}", expected.map_or_else(|| "but no digit fits the first nine (weighted sum is 0 mod 11)".to_owned(), |d| format!("expected {d}")))]
    Checksum {
        /// Which identifier was being read.
        kind: IdentifierKind,
        /// The check digit the other digits require, if any digit can satisfy them.
        expected: Option<u8>,
        /// The check digit found.
        found: u8,
    },
    /// A branch suffix is not `-001` to `-999`.
    #[error("branch suffix must be '-' and three digits from 001 to 999, found {found:?}")]
    Branch {
        /// The suffix found, after the ten digits.
        found: String,
    },
    /// The birth date does not agree with the century and year in the number.
    #[error("personal number says born in {number_year}, but the birth date is in {date_year}")]
    BirthYearMismatch {
        /// The year encoded in the personal number.
        number_year: u16,
        /// The year of the given birth date.
        date_year: u16,
    },
    /// A calendar date that does not exist or is not written `YYYY-MM-DD`.
    #[error("{found:?} is not a calendar date written YYYY-MM-DD")]
    Date {
        /// The text or numbers given.
        found: String,
    },
    /// A required text field (a name, an agency, a position) is empty or holds
    /// control characters.
    #[error("{field} must be non-empty text without control characters")]
    Text {
        /// The field's name.
        field: &'static str,
    },
    /// A business lists no legal representative.
    #[error("a business must have at least one legal representative")]
    NoRepresentative,
}

/// Which kind of identifier an [`IdentifierError`] concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentifierKind {
    /// The 12-digit personal identification number.
    PersonalNumber,
    /// The 10-digit enterprise code (tax code).
    EnterpriseCode,
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PersonalNumber => "personal identification number",
            Self::EnterpriseCode => "enterprise code",
        })
    }
}

/// Why a key could not be generated, read, written or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key's algorithm is not one this crate handles.
    #[error("unsupported key algorithm {oid} (supported: ECDSA P-256, Ed25519)")]
    UnsupportedAlgorithm {
        /// The algorithm's object identifier, or its name.
        oid: String,
    },
    /// The encoding (DER or PEM) is malformed.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being read: "PKCS#8", "SubjectPublicKeyInfo", "PEM", …
        what: &'static str,
        /// What was wrong, as far as the parser could tell.
        detail: String,
    },
    /// A PEM block has a label other than the ones expected.
    #[error("expected a PEM block labelled {expected}, found {found:?}")]
    PemLabel {
        /// The labels that would have been accepted.
        expected: &'static str,
        /// The label found.
        found: String,
    },
    /// The key is encrypted and no passphrase was given.
    #[error("the private key is encrypted: a passphrase is needed")]
    PassphraseRequired,
    /// Decryption failed: the passphrase is wrong or the data is damaged.
    #[error("could not decrypt the private key: wrong passphrase or damaged file")]
    Decrypt,
    /// The encryption scheme of an encrypted key is not supported.
    #[error("unsupported key encryption: {detail}")]
    UnsupportedEncryption {
        /// What the scheme was, as far as it could be told.
        detail: String,
    },
    /// The key material itself was refused (wrong length, not on the curve, mismatched
    /// public key).
    #[error("key rejected: {reason}")]
    Rejected {
        /// ring's short reason.
        reason: String,
    },
    /// The system's random number generator failed.
    #[error("the random number generator failed")]
    Random,
    /// Signing failed.
    #[error("signing failed")]
    Sign,
    /// A signature does not verify with this key. Deliberately says nothing more.
    #[error("signature invalid")]
    BadSignature,
}

/// Why a JWS, JWK or JWK Set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JoseError {
    /// The compact serialisation or a JSON member is malformed.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being read: "JWS", "JWS header", "JWK", …
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The token is unsecured (`alg: none`), which is never accepted.
    #[error("unsecured JWS (alg \"none\") refused")]
    Unsecured,
    /// The header's algorithm is unknown or not in the caller's allowed list.
    #[error("algorithm {alg:?} is not allowed here")]
    AlgorithmNotAllowed {
        /// The `alg` the token declared.
        alg: String,
    },
    /// The header's algorithm does not match the key's.
    #[error("token algorithm {alg} does not match the key (a {key} key)")]
    KeyMismatch {
        /// The token's algorithm.
        alg: &'static str,
        /// The key's algorithm.
        key: &'static str,
    },
    /// The header has a `crit` member naming extensions this implementation does not
    /// understand (RFC 7515 §4.1.11).
    #[error("critical header extension {name:?} is not understood")]
    CriticalExtension {
        /// The first extension not understood.
        name: String,
    },
    /// No key in the set matches the token's `kid` (or the token has no `kid` and the
    /// set has several candidate keys).
    #[error("no key found for kid {kid:?}")]
    UnknownKey {
        /// The `kid` looked for, if the token had one.
        kid: Option<String>,
    },
    /// A JWK uses a key type or curve this crate does not handle.
    #[error("unsupported JWK: kty {kty:?}, crv {crv:?}")]
    UnsupportedKey {
        /// The key type.
        kty: String,
        /// The curve, if any.
        crv: Option<String>,
    },
    /// The signature does not verify. Deliberately says nothing more.
    #[error("signature invalid")]
    BadSignature,
}

/// Why a JWT's claims were refused. Times are seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// The claims are not a JSON object, or a registered claim has the wrong type.
    #[error("malformed claims: {detail}")]
    Malformed {
        /// What was wrong.
        detail: String,
    },
    /// A claim the caller requires is absent.
    #[error("required claim {name:?} is missing")]
    Missing {
        /// The claim's name.
        name: String,
    },
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired at {exp} (now {now}, leeway {leeway}s)")]
    Expired {
        /// The token's `exp`.
        exp: i64,
        /// The time the caller gave.
        now: i64,
        /// The leeway allowed.
        leeway: u64,
    },
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not valid before {nbf} (now {now}, leeway {leeway}s)")]
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The time the caller gave.
        now: i64,
        /// The leeway allowed.
        leeway: u64,
    },
    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future at {iat} (now {now}, leeway {leeway}s)")]
    IssuedInFuture {
        /// The token's `iat`.
        iat: i64,
        /// The time the caller gave.
        now: i64,
        /// The leeway allowed.
        leeway: u64,
    },
    /// `iat` is older than the maximum age the caller allows.
    #[error("token issued at {iat} is older than {max_age}s (now {now})")]
    TooOld {
        /// The token's `iat`.
        iat: i64,
        /// The time the caller gave.
        now: i64,
        /// The maximum age allowed.
        max_age: u64,
    },
    /// `iss` is not the expected issuer.
    #[error("issuer {found:?} is not the expected {expected:?}")]
    Issuer {
        /// The issuer required.
        expected: String,
        /// The issuer in the token.
        found: String,
    },
    /// The header's `typ` is not the one the caller requires.
    #[error("token type {found:?} is not the expected {expected:?}")]
    Type {
        /// The type required.
        expected: String,
        /// The `typ` in the header, if any.
        found: Option<String>,
    },
    /// `aud` does not contain any of the expected audiences.
    #[error("audience {found:?} does not include any of {expected:?}")]
    Audience {
        /// The audiences accepted.
        expected: Vec<String>,
        /// The audiences in the token.
        found: Vec<String>,
    },
}
