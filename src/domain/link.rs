//! Signed links: unsubscribe and subscription-center links minted for a sending system's
//! messages, a million at a time, with no row written. The token carries what it leads to
//! (the contact point, optionally a topic), the point's link generation and an expiry, under
//! a MAC made with a key derived from the deployment secret and a signing key's id (named in
//! the token by a short tag).
//!
//! - Revocable per contact point: the point's generation is raised (erasure does it), and
//!   every link minted before stops working.
//! - Key rotation: a new key mints from then on; a link names its key, and every key ever
//!   started is still derivable, so earlier links keep working until they expire.
//! - Not confusable with the stored link tokens (32 characters) or any other token: another
//!   length, and a MAC in a domain of its own.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::proof::KeyId;
use super::Subject;

const VERSION: u8 = 1;
/// version, key tag, point, generation, subject, expiry.
const BODY: usize = 1 + 4 + 8 + 4 + 4 + 4;
/// The MAC's first 128 bits.
const MAC: usize = 16;
const BYTES: usize = BODY + MAC;
/// Length of the URL form (base64url without padding).
pub const SIGNED_CHARS: usize = (BYTES * 4).div_ceil(3);

/// What a link leads to, as it was when minted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkClaims {
    pub contact_point_id: i64,
    /// The point's link generation when the link was minted.
    pub generation: u32,
    /// The purpose or topic a one-click unsubscribes from; `None`: everything optional the
    /// point receives.
    pub subject: Option<Subject>,
    /// Seconds since the Unix epoch; the link works before it.
    pub expires: u32,
}

/// A link key: the keyed MAC of one signing key id, ready to clone per token.
#[derive(Clone)]
pub struct LinkKey {
    tag: [u8; 4],
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LinkKey({:02x?})", self.tag)
    }
}

impl LinkKey {
    /// The link key of signing key `id` under the deployment secret.
    pub fn derive(secret: &[u8], id: &KeyId) -> LinkKey {
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
        m.update(b"prefcenter-link-key-v1\0");
        m.update(id.as_str().as_bytes());
        let key: [u8; 32] = m.finalize().into_bytes().into();
        LinkKey {
            tag: tag_of(id),
            mac: <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length"),
        }
    }

    pub fn tag(&self) -> [u8; 4] {
        self.tag
    }

    fn mac_of(&self, body: &[u8]) -> [u8; 32] {
        let mut m = self.mac.clone();
        m.update(body);
        m.finalize().into_bytes().into()
    }

    /// The link token for `claims`.
    pub fn mint(&self, claims: &LinkClaims) -> String {
        let mut b = [0u8; BYTES];
        b[0] = VERSION;
        b[1..5].copy_from_slice(&self.tag);
        b[5..13].copy_from_slice(&(claims.contact_point_id as u64).to_be_bytes());
        b[13..17].copy_from_slice(&claims.generation.to_be_bytes());
        b[17..21].copy_from_slice(&encode_subject(claims.subject).to_be_bytes());
        b[21..25].copy_from_slice(&claims.expires.to_be_bytes());
        let mac = self.mac_of(&b[..BODY]);
        b[BODY..].copy_from_slice(&mac[..MAC]);
        URL_SAFE_NO_PAD.encode(b)
    }
}

/// A subject in 32 bits: 0 none, else its id times two, plus one for a topic. Ids are
/// positive and below 2^31 (a larger one, or the erasure subject, is minted as none).
fn encode_subject(s: Option<Subject>) -> u32 {
    let (id, topic) = match s {
        Some(Subject::Purpose(id)) => (id, 0),
        Some(Subject::Topic(id)) => (id, 1),
        _ => return 0,
    };
    match u32::try_from(id) {
        Ok(id) if id > 0 && id < (1 << 31) => (id << 1) | topic,
        _ => 0,
    }
}

fn decode_subject(v: u32) -> Option<Subject> {
    let id = i64::from(v >> 1);
    match (v, v & 1) {
        (0, _) => None,
        (_, 1) => Some(Subject::Topic(id)),
        _ => Some(Subject::Purpose(id)),
    }
}

/// The tag a token names its key by: the first 32 bits of a hash of the key's id.
pub fn tag_of(id: &KeyId) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(b"prefcenter-link-tag-v1\0");
    h.update(id.as_str().as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A token of the signed form, not checked yet: its key's tag says which key checks it.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedLink([u8; BYTES]);

impl std::fmt::Debug for SignedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignedLink(…)")
    }
}

impl SignedLink {
    /// Parses the URL form; anything of another length, alphabet or version is `None`.
    pub fn parse(s: &str) -> Option<SignedLink> {
        if s.len() != SIGNED_CHARS
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
        let b: [u8; BYTES] = bytes.try_into().ok()?;
        (b[0] == VERSION).then_some(SignedLink(b))
    }

    pub fn tag(&self) -> [u8; 4] {
        [self.0[1], self.0[2], self.0[3], self.0[4]]
    }

    /// What the link leads to, if `key` made it and it has not expired at `now` (Unix
    /// seconds). The MAC is compared in constant time.
    pub fn verify(&self, key: &LinkKey, now: i64) -> Option<LinkClaims> {
        if key.tag != self.tag() {
            return None;
        }
        let mac = key.mac_of(&self.0[..BODY]);
        if !bool::from(mac[..MAC].ct_eq(&self.0[BODY..])) {
            return None;
        }
        let u32_at =
            |i: usize| u32::from_be_bytes([self.0[i], self.0[i + 1], self.0[i + 2], self.0[i + 3]]);
        let mut point = [0u8; 8];
        point.copy_from_slice(&self.0[5..13]);
        let claims = LinkClaims {
            contact_point_id: i64::try_from(u64::from_be_bytes(point)).ok()?,
            generation: u32_at(13),
            subject: decode_subject(u32_at(17)),
            expires: u32_at(21),
        };
        (now < i64::from(claims.expires)).then_some(claims)
    }
}

/// The expiry of a link minted at `now` (Unix seconds) to work `ttl_days`, as the token holds
/// it (the largest a token can hold, in 2106, if later).
pub fn expiry(now: i64, ttl_days: i64) -> u32 {
    let at = now.saturating_add(ttl_days.saturating_mul(86_400));
    u32::try_from(at.max(0)).unwrap_or(u32::MAX)
}

/// The `List-Unsubscribe` and `List-Unsubscribe-Post` header values of a message whose
/// one-click unsubscribe URL is `url` (RFC 2369, RFC 8058): the URL in angle brackets, and the
/// fixed one-click body.
pub fn list_unsubscribe_headers(url: &str) -> (String, &'static str) {
    (format!("<{url}>"), "List-Unsubscribe=One-Click")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> LinkKey {
        LinkKey::derive(
            b"a deployment secret of 32 chars!",
            &KeyId::parse(id).unwrap(),
        )
    }

    fn claims() -> LinkClaims {
        LinkClaims {
            contact_point_id: 42,
            generation: 3,
            subject: Some(Subject::Topic(7)),
            expires: 2_000_000_000,
        }
    }

    #[test]
    fn a_minted_link_verifies_with_its_key_until_it_expires() {
        let k = key("sig-20261125-00000001");
        let t = k.mint(&claims());
        assert_eq!(t.len(), SIGNED_CHARS);
        let s = SignedLink::parse(&t).unwrap();
        assert_eq!(s.tag(), k.tag());
        assert_eq!(s.verify(&k, 1_999_999_999), Some(claims()));
        assert_eq!(s.verify(&k, 2_000_000_000), None, "expired");
        for subject in [
            None,
            Some(Subject::Purpose(1)),
            Some(Subject::Topic((1 << 31) - 1)),
        ] {
            let c = LinkClaims {
                subject,
                ..claims()
            };
            let s = SignedLink::parse(&k.mint(&c)).unwrap();
            assert_eq!(s.verify(&k, 0), Some(c));
        }
        let odd = LinkClaims {
            subject: Some(Subject::Purpose(1 << 31)),
            ..claims()
        };
        let s = SignedLink::parse(&k.mint(&odd)).unwrap();
        assert_eq!(s.verify(&k, 0).unwrap().subject, None);
    }

    #[test]
    fn another_key_or_secret_does_not_verify_it() {
        let k = key("sig-20261125-00000001");
        let other = key("sig-20261125-00000002");
        let s = SignedLink::parse(&k.mint(&claims())).unwrap();
        assert_ne!(k.tag(), other.tag());
        assert_eq!(s.verify(&other, 0), None);
        let id = KeyId::parse("sig-20261125-00000001").unwrap();
        let same_id_other_secret = LinkKey::derive(b"another deployment secret, 32 ch", &id);
        assert_eq!(same_id_other_secret.tag(), k.tag());
        assert_eq!(s.verify(&same_id_other_secret, 0), None);
    }

    #[test]
    fn every_changed_byte_is_refused() {
        let k = key("sig-20261125-00000001");
        let t = k.mint(&claims());
        let bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            let changed = URL_SAFE_NO_PAD.encode(&b);
            let ok = SignedLink::parse(&changed).and_then(|s| s.verify(&k, 0));
            assert_eq!(ok, None, "byte {i}");
        }
    }

    #[test]
    fn other_shapes_are_not_signed_links() {
        let k = key("sig-20261125-00000001");
        let t = k.mint(&claims());
        for bad in [
            "",
            &t[..SIGNED_CHARS - 1],
            &format!("{t}A"),
            &format!("{}=", &t[..SIGNED_CHARS - 1]),
            "AbCdEfGhIjKlMnOpQrStUvWxYz012345",
        ] {
            assert!(SignedLink::parse(bad).is_none(), "{bad:?}");
        }
        assert!(crate::domain::token::LinkToken::parse(&t).is_none());
    }

    #[test]
    fn expiry_saturates() {
        assert_eq!(expiry(1_000, 1), 87_400);
        assert_eq!(expiry(1_000, i64::MAX), u32::MAX);
        assert_eq!(expiry(-5_000_000, 1), 0);
    }

    #[test]
    fn headers_are_as_the_rfcs_write_them() {
        let (lu, post) = list_unsubscribe_headers("https://prefs.example.com/u/abc");
        assert_eq!(lu, "<https://prefs.example.com/u/abc>");
        assert_eq!(post, "List-Unsubscribe=One-Click");
    }
}
