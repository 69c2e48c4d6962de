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

/// A token of the same shape as a link token, hashed in a domain of its own and kept in a
/// table of its own, so it can never act as another kind of token.
macro_rules! domain_token {
    ($(#[$doc:meta])* $name:ident, $domain:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(LinkToken);

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(…)"))
            }
        }

        impl $name {
            pub fn from_random(bytes: [u8; TOKEN_BYTES]) -> $name {
                $name(LinkToken::from_random(bytes))
            }

            pub fn parse(s: &str) -> Option<$name> {
                LinkToken::parse(s).map($name)
            }

            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            pub fn hash(&self) -> TokenHash {
                let mut h = Sha256::new();
                h.update($domain);
                h.update(self.0.as_str().as_bytes());
                TokenHash(h.finalize().into())
            }
        }
    };
}

domain_token!(
    /// A double opt-in confirmation token: never an unsubscribe link, nor a link token a
    /// confirmation.
    ConfirmToken,
    b"prefcenter-confirm-v1\0"
);

domain_token!(
    /// A console invitation's token (sets the invited user's first password).
    InviteToken,
    b"prefcenter-invite-v1\0"
);

domain_token!(
    /// The emailed link of a contact's data request: the download of their data package, or
    /// the page that confirms an erasure.
    RequestToken,
    b"prefcenter-data-request-v1\0"
);

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
        let invite = InviteToken::from_random(bytes);
        assert_ne!(invite.hash(), confirm.hash());
        assert_ne!(invite.hash(), link.hash());
        assert_eq!(format!("{invite:?}"), "InviteToken(…)");
    }

    #[test]
    fn debug_does_not_reveal_the_token() {
        let t = LinkToken::from_random([1u8; TOKEN_BYTES]);
        assert!(!format!("{t:?}").contains(t.as_str()));
    }
}
