//! Link tokens: 192 random bits, shown once in a URL, stored only as a SHA-256 hash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Random bytes in a token (192 bits, above the 128 the product requires).
pub const TOKEN_BYTES: usize = 24;
/// Length of the URL form (base64url without padding).
pub const TOKEN_CHARS: usize = 32;

/// A well-formed token as it appears in a link. Never logged: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(…)")
    }
}

/// The stored form of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// Constant-time equality, for the check after the indexed lookup.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        other.len() == 32 && bool::from(self.0.as_slice().ct_eq(other))
    }
}

impl LinkToken {
    /// Builds a token from fresh random bytes (the caller supplies OS randomness).
    pub fn from_random(bytes: [u8; TOKEN_BYTES]) -> LinkToken {
        LinkToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Parses the URL form; anything else (wrong length, wrong alphabet) is `None`.
    pub fn parse(s: &str) -> Option<LinkToken> {
        if s.len() != TOKEN_CHARS
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        // Must decode to exactly TOKEN_BYTES (rejects non-canonical trailing bits).
        let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
        (bytes.len() == TOKEN_BYTES).then(|| LinkToken(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

/// A double opt-in confirmation token: the same shape as a link token, hashed in its own domain
/// and kept in its own table, so it can never act as an unsubscribe link, nor a link token as a
/// confirmation.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfirmToken(LinkToken);

impl std::fmt::Debug for ConfirmToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfirmToken(…)")
    }
}

impl ConfirmToken {
    pub fn from_random(bytes: [u8; TOKEN_BYTES]) -> ConfirmToken {
        ConfirmToken(LinkToken::from_random(bytes))
    }

    pub fn parse(s: &str) -> Option<ConfirmToken> {
        LinkToken::parse(s).map(ConfirmToken)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn hash(&self) -> TokenHash {
        let mut h = Sha256::new();
        h.update(b"prefcenter-confirm-v1\0");
        h.update(self.0.as_str().as_bytes());
        TokenHash(h.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_hashes_stably() {
        let t = LinkToken::from_random([7u8; TOKEN_BYTES]);
        assert_eq!(t.as_str().len(), TOKEN_CHARS);
        let p = LinkToken::parse(t.as_str()).unwrap();
        assert_eq!(p.hash(), t.hash());
        assert!(t.hash().ct_eq(&t.hash().0));
        assert!(!t.hash().ct_eq(&[0u8; 32]));
        assert!(!t.hash().ct_eq(&[0u8; 5]));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "short",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",   // 31
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", // 33
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/",
            "ééééééééééééééééé",
            "../../../../../../../etc/passwd.",
        ] {
            assert!(LinkToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_confirm_token_hashes_apart_from_a_link_token() {
        let bytes = [9u8; TOKEN_BYTES];
        let link = LinkToken::from_random(bytes);
        let confirm = ConfirmToken::from_random(bytes);
        assert_eq!(link.as_str(), confirm.as_str());
        assert_ne!(link.hash(), confirm.hash());
        assert!(!format!("{confirm:?}").contains(confirm.as_str()));
    }

    #[test]
    fn debug_does_not_reveal_the_token() {
        let t = LinkToken::from_random([1u8; TOKEN_BYTES]);
        assert!(!format!("{t:?}").contains(t.as_str()));
    }
}
