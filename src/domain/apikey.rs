//! API keys of sending systems: their form, what they may do, how they are checked.
//!
//! A key reads `pck_<id>_<secret>`: `id` is 8 lower-case hexadecimal digits, visible in the
//! console (which key made a call), `secret` 43 characters of URL-safe base64 (256 random
//! bits). Only the SHA-256 of the whole key is stored: a key is checked on every call, so a
//! fast hash of a high-entropy secret is right here (argon2 is for passwords people choose).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Ask whether a contact may be contacted, and why.
    Decide,
    /// Read contacts, their history and the changes feed.
    Read,
    /// Create and update contacts, record consent.
    Write,
    /// Mint unsubscribe and preference links.
    Links,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Decide, Scope::Read, Scope::Write, Scope::Links];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Decide => "decide",
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Links => "links",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// What the console says about it.
    pub fn label(self) -> &'static str {
        match self {
            Scope::Decide => "Decide: may this contact be contacted, and why",
            Scope::Read => "Read: contacts, their history, the changes feed",
            Scope::Write => "Write: create and update contacts, record consent",
            Scope::Links => "Links: mint unsubscribe and preference links",
        }
    }
}

/// A set of scopes, stored as comma-separated names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn new(mut list: Vec<Scope>) -> Scopes {
        list.sort();
        list.dedup();
        Scopes(list)
    }

    /// Stored text; unknown names are dropped (a key never gains a scope by a typo).
    pub fn parse(stored: &str) -> Scopes {
        Scopes::new(
            stored
                .split(',')
                .filter_map(|s| Scope::parse(s.trim()))
                .collect(),
        )
    }

    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn has(&self, s: Scope) -> bool {
        self.0.contains(&s)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

const PREFIX: &str = "pck_";
const ID_LEN: usize = 8;
const SECRET_LEN: usize = 43;

/// A key as presented in `Authorization: Bearer …`, its form checked (not yet its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedKey<'a> {
    id: &'a str,
    whole: &'a str,
}

impl<'a> PresentedKey<'a> {
    /// The key of an `Authorization` header value, if it has the form of one.
    pub fn from_header(value: &'a str) -> Option<PresentedKey<'a>> {
        let (scheme, rest) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        PresentedKey::parse(rest.trim())
    }

    pub fn parse(key: &'a str) -> Option<PresentedKey<'a>> {
        let rest = key.strip_prefix(PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let id_ok =
            id.len() == ID_LEN && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        // The secret's alphabet is base64url, which has `_` too: split at the first `_` only.
        let secret_ok = secret.len() == SECRET_LEN
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (id_ok && secret_ok).then_some(PresentedKey { id, whole: key })
    }

    /// The visible id (what the console lists, and what the lookup is by).
    pub fn id(&self) -> &'a str {
        self.id
    }

    pub fn hash(&self) -> [u8; 32] {
        hash(self.whole)
    }
}

/// The stored hash of a whole key.
pub fn hash(whole: &str) -> [u8; 32] {
    Sha256::digest(whole.as_bytes()).into()
}

/// A new key from random bytes (4 for the id, 32 for the secret): (visible id, whole key).
pub fn mint(id_bytes: [u8; 4], secret: [u8; 32]) -> (String, String) {
    let id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let whole = format!("{PREFIX}{id}_{}", URL_SAFE_NO_PAD.encode(secret));
    (id, whole)
}

/// Whether a presented key's hash is the stored one (constant time).
pub fn matches(presented: &PresentedKey, stored: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(presented.hash().as_slice().ct_eq(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_key_is_read_back_and_checked_by_its_hash() {
        let (id, whole) = mint([0xab, 0x01, 0xff, 0x10], [7; 32]);
        assert_eq!(id, "ab01ff10");
        assert!(whole.starts_with("pck_ab01ff10_"));
        let header = format!("Bearer {whole}");
        let k = PresentedKey::from_header(&header).unwrap();
        assert_eq!(k.id(), "ab01ff10");
        assert!(matches(&k, &hash(&whole)));
        let other = mint([0xab, 0x01, 0xff, 0x10], [8; 32]).1;
        assert!(!matches(
            &PresentedKey::parse(&other).unwrap(),
            &hash(&whole)
        ));
        assert!(PresentedKey::from_header(&format!("bearer  {whole} ")).is_some());
    }

    #[test]
    fn anything_else_is_not_a_key() {
        let (_, whole) = mint([1, 2, 3, 4], [9; 32]);
        for bad in [
            String::new(),
            format!("Basic {whole}"),
            format!("Bearer {}", &whole[..whole.len() - 1]),
            format!("Bearer {whole}x"),
            format!("Bearer {}", whole.replace("pck_", "pk_")),
            format!("Bearer {}", whole.replace("01020304", "0102030G")),
            "Bearer pck_01020304_".to_owned(),
            format!("Bearer {}", whole.replace('_', "é")),
        ] {
            assert!(PresentedKey::from_header(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn scopes_round_trip_and_unknown_names_grant_nothing() {
        let s = Scopes::parse("links, decide,admin,decide");
        assert_eq!(s.to_text(), "decide,links");
        assert!(s.has(Scope::Decide) && !s.has(Scope::Write));
        assert!(Scopes::parse("").is_empty());
    }
}
