//! Enrolment: after identity proofing in person, an operator issues a one-time
//! activation code (`idp-server registry activate NUMBER`); the resident enters
//! it with their number to register a passkey. Codes are stored as a keyed hash,
//! live [`ACTIVATION_LIFETIME`] seconds, and [`MAX_ATTEMPTS`] wrong entries lock
//! them (a new code must then be issued).

use crate::oidc::ServerSecret;

/// Seconds an activation code lives: 72 hours.
pub const ACTIVATION_LIFETIME: i64 = 72 * 3_600;
/// Wrong entries that lock a code.
pub const MAX_ATTEMPTS: i64 = 5;

/// Crockford's base32 alphabet: no I, L, O or U, so nothing is misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code: 12, 60 bits, shown as `XXXX-XXXX-XXXX`.
const CODE_CHARS: usize = 12;

/// A fresh activation code, `XXXX-XXXX-XXXX` (60 random bits).
pub fn new_code() -> Result<String, String> {
    let mut bytes = [0u8; CODE_CHARS];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| "no randomness".to_owned())?;
    // 256 is a multiple of 32: the low five bits of a random byte are uniform.
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// A code as a person typed it, in the canonical form: capitals, no spaces or
/// dashes, and the letters people confuse with digits read as those digits.
/// `None` if it cannot be a code.
pub fn normalise(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_CHARS);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if ALPHABET.contains(&(c as u8)) && c.is_ascii() => c,
            _ => return None,
        };
        out.push(c);
    }
    (out.len() == CODE_CHARS).then_some(out)
}

/// The keyed hash a code is stored under (of its canonical form).
pub fn hash_code(secret: &ServerSecret, code: &str) -> Option<Vec<u8>> {
    normalise(code).map(|c| secret.hash_handle("activation", &c))
}

/// What checking an activation code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// The code is right: the resident may register a passkey.
    Valid,
    /// The code is wrong; this many attempts are left before it locks.
    Wrong {
        /// Attempts left.
        attempts_left: i64,
    },
    /// Too many wrong attempts: a new code must be issued.
    Locked,
    /// The code has expired: a new code must be issued.
    Expired,
    /// No code was issued for this number (or it was used).
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_read_back_forgivingly() {
        let code = new_code().unwrap();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        let canonical = normalise(&code).unwrap();
        assert_eq!(canonical, code.replace('-', ""));
        // Lower case, spaces, and the confusable letters.
        assert_eq!(normalise("abcd efgh jk0o").as_deref(), Some("ABCDEFGHJK00"));
        assert_eq!(normalise("1IL1-2222-3333").as_deref(), Some("111122223333"));
        assert_eq!(normalise("ABCD-EFGH-JKM"), None);
        assert_eq!(normalise("ABCD-EFGH-JKMU"), None);
        assert_eq!(normalise("ABCD-EFGH-JKMÄ"), None);
        assert_ne!(new_code().unwrap(), new_code().unwrap());
        let secret = ServerSecret::new(&[3; 32]).unwrap();
        assert_eq!(
            hash_code(&secret, "abcd-efgh-jk0o"),
            hash_code(&secret, "ABCDEFGHJK00")
        );
    }
}
