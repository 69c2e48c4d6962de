//! What lets anyone check the ledger from outside: the deployment's signing keys and the
//! signed checkpoints of the ledger head.
//!
//! A checkpoint says "record `seq` of this ledger has hash `hash`", signed with Ed25519 by a
//! key named by its id. Because each record's hash covers the one before it, a checkpoint
//! vouches for every record up to `seq`: whoever holds the database can recompute the hash
//! chain after deleting or rewriting records, but cannot sign a checkpoint, so a checkpoint
//! kept elsewhere (or stored in the database and still verifying) catches both a truncated
//! tail and a rewrite from any point (RFC 9162's signed tree heads, for a hash chain).
//!
//! Signing keys are derived from the deployment secret and a key id (HMAC-SHA-256 of a
//! label and the id, the Ed25519 seed): every instance holding the secret signs with the
//! same keys without copying key files, and rotation is a new id. A leaked signing key reveals
//! neither the secret nor any other key.

use super::ledger::Hash;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// A key's id: lower-case letters, digits and hyphens, 1 to 64 of them (it is part of signed
/// messages and file names, so nothing else is allowed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    pub fn parse(s: &str) -> Option<KeyId> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| KeyId(s.to_owned()))
    }

    /// A new id from the day it is made and random bytes: `sig-20261124-3fa9c2d1`.
    pub fn new(kind: &str, day: &str, random: [u8; 4]) -> KeyId {
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let day: String = day.chars().filter(|c| c.is_ascii_digit()).collect();
        KeyId(format!("{kind}-{day}-{hex}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for KeyId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        KeyId::parse(&s).ok_or_else(|| format!("not a key id: {s:?}"))
    }
}

impl From<KeyId> for String {
    fn from(k: KeyId) -> String {
        k.0
    }
}

/// The Ed25519 signing key of `id` under the deployment secret.
pub fn signing_key(secret: &[u8], id: &KeyId) -> SigningKey {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"prefcenter-signing-key-v1\0");
    mac.update(id.as_str().as_bytes());
    let seed: [u8; 32] = mac.finalize().into_bytes().into();
    SigningKey::from_bytes(&seed)
}

/// A public key as published (and as a checkpoint file or receipt names it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    pub id: KeyId,
    /// Always "Ed25519".
    pub algorithm: String,
    /// The 32-byte public key, base64url without padding.
    pub public_key: String,
    /// When the key was started (UTC, RFC 3339).
    pub created_at: String,
}

impl PublicKey {
    pub fn of(id: KeyId, key: &VerifyingKey, created_at: String) -> PublicKey {
        PublicKey {
            id,
            algorithm: "Ed25519".into(),
            public_key: URL_SAFE_NO_PAD.encode(key.as_bytes()),
            created_at,
        }
    }

    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        if self.algorithm != "Ed25519" {
            return None;
        }
        let bytes: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&self.public_key)
            .ok()?
            .try_into()
            .ok()?;
        VerifyingKey::from_bytes(&bytes).ok()
    }
}

/// A signed statement of the ledger head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always "prefcenter-ledger-checkpoint".
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    /// The record it vouches for (0: the empty ledger).
    pub seq: i64,
    /// That record's hash, hex.
    pub hash: String,
    /// When it was signed (UTC, RFC 3339).
    pub signed_at: String,
    pub key_id: KeyId,
    /// Ed25519 over [`Checkpoint::message`], base64url without padding.
    pub signature: String,
}

pub const CHECKPOINT_TYPE: &str = "prefcenter-ledger-checkpoint";

/// Why a checkpoint does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a prefcenter ledger checkpoint (version 1)")]
    NotACheckpoint,
    #[error("signed by key {0}, which this ledger does not know")]
    UnknownKey(KeyId),
    #[error("its signature is not valid for key {0}")]
    BadSignature(KeyId),
    #[error("it vouches for record {seq}, which the ledger does not have (truncated)")]
    Missing { seq: i64 },
    #[error("it vouches for record {seq} with another hash than the ledger's (rewritten)")]
    HashDiffers { seq: i64 },
}

impl Checkpoint {
    fn message(seq: i64, hash: &str, signed_at: &str, key_id: &KeyId) -> Vec<u8> {
        format!("{CHECKPOINT_TYPE}-v1\n{seq}\n{hash}\n{signed_at}\n{key_id}").into_bytes()
    }

    pub fn sign(key: &SigningKey, key_id: &KeyId, seq: i64, hash: &Hash, signed_at: &str) -> Self {
        let hash = hex(hash);
        let sig: Signature = key.sign(&Self::message(seq, &hash, signed_at, key_id));
        Checkpoint {
            kind: CHECKPOINT_TYPE.into(),
            version: 1,
            seq,
            hash,
            signed_at: signed_at.into(),
            key_id: key_id.clone(),
            signature: URL_SAFE_NO_PAD.encode(sig.to_bytes()),
        }
    }

    /// Whether the signature holds under `keys` (the published keys).
    pub fn check_signature(&self, keys: &[PublicKey]) -> Result<(), CheckpointError> {
        if self.kind != CHECKPOINT_TYPE || self.version != 1 {
            return Err(CheckpointError::NotACheckpoint);
        }
        let key = keys
            .iter()
            .find(|k| k.id == self.key_id)
            .and_then(PublicKey::verifying_key)
            .ok_or_else(|| CheckpointError::UnknownKey(self.key_id.clone()))?;
        let bad = || CheckpointError::BadSignature(self.key_id.clone());
        let sig: [u8; 64] = URL_SAFE_NO_PAD
            .decode(&self.signature)
            .map_err(|_| bad())?
            .try_into()
            .map_err(|_| bad())?;
        key.verify(
            &Self::message(self.seq, &self.hash, &self.signed_at, &self.key_id),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| bad())
    }

    /// Whether the ledger still holds the head this checkpoint vouches for: `record_hash` is
    /// the hash of record `seq` in the ledger, if it has that record.
    pub fn check_against(&self, record_hash: Option<&Hash>) -> Result<(), CheckpointError> {
        if self.seq == 0 {
            return Ok(());
        }
        match record_hash {
            None => Err(CheckpointError::Missing { seq: self.seq }),
            Some(h) if hex(h) != self.hash => Err(CheckpointError::HashDiffers { seq: self.seq }),
            Some(_) => Ok(()),
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> (KeyId, SigningKey, Vec<PublicKey>) {
        let id = KeyId::new("sig", "2026-11-24", [1, 2, 3, 4]);
        let sk = signing_key(b"a deployment secret of enough length....", &id);
        let public = vec![PublicKey::of(id.clone(), &sk.verifying_key(), "t".into())];
        (id, sk, public)
    }

    #[test]
    fn key_ids_are_plain_and_new_ones_name_their_day() {
        assert_eq!(
            KeyId::new("sig", "2026-11-24", [0xab, 0, 1, 0xff]).as_str(),
            "sig-20261124-ab0001ff"
        );
        assert!(KeyId::parse("sig-1").is_some());
        for bad in ["", "Sig", "a b", "a/b", "é", &"a".repeat(65)] {
            assert!(KeyId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_same_secret_and_id_give_the_same_key_and_others_differ() {
        let id = KeyId::parse("sig-1").unwrap();
        let other = KeyId::parse("sig-2").unwrap();
        let a = signing_key(b"secret one, long enough for the test", &id);
        assert_eq!(
            a.to_bytes(),
            signing_key(b"secret one, long enough for the test", &id).to_bytes()
        );
        assert_ne!(
            a.to_bytes(),
            signing_key(b"secret two, long enough for the test", &id).to_bytes()
        );
        assert_ne!(
            a.to_bytes(),
            signing_key(b"secret one, long enough for the test", &other).to_bytes()
        );
    }

    #[test]
    fn a_checkpoint_verifies_and_any_change_breaks_it() {
        let (id, sk, public) = key();
        let h = [7u8; 32];
        let cp = Checkpoint::sign(&sk, &id, 42, &h, "2026-11-24T10:00:00.000000Z");
        assert_eq!(cp.check_signature(&public), Ok(()));
        assert_eq!(cp.check_against(Some(&h)), Ok(()));
        assert_eq!(
            cp.check_against(None),
            Err(CheckpointError::Missing { seq: 42 })
        );
        assert_eq!(
            cp.check_against(Some(&[8u8; 32])),
            Err(CheckpointError::HashDiffers { seq: 42 })
        );
        let json = serde_json::to_string(&cp).unwrap();
        let back: Checkpoint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cp);

        let mut later = cp.clone();
        later.seq = 43;
        assert_eq!(
            later.check_signature(&public),
            Err(CheckpointError::BadSignature(id.clone()))
        );
        let mut other_hash = cp.clone();
        other_hash.hash = hex(&[8u8; 32]);
        assert!(other_hash.check_signature(&public).is_err());
        let mut flipped = cp.clone();
        let mut sig = URL_SAFE_NO_PAD.decode(&flipped.signature).unwrap();
        sig[0] ^= 1;
        flipped.signature = URL_SAFE_NO_PAD.encode(sig);
        assert!(flipped.check_signature(&public).is_err());

        // Signed by a key the ledger does not publish, even under a known id.
        let stranger = signing_key(b"another deployment's secret, long enough", &id);
        let forged = Checkpoint::sign(&stranger, &id, 42, &h, "2026-11-24T10:00:00.000000Z");
        assert_eq!(
            forged.check_signature(&public),
            Err(CheckpointError::BadSignature(id))
        );
        let unknown = KeyId::parse("sig-unknown").unwrap();
        let cp2 = Checkpoint::sign(&sk, &unknown, 42, &h, "t");
        assert_eq!(
            cp2.check_signature(&public),
            Err(CheckpointError::UnknownKey(unknown))
        );
    }

    #[test]
    fn a_checkpoint_file_that_is_something_else_is_refused() {
        let (id, sk, public) = key();
        let mut cp = Checkpoint::sign(&sk, &id, 1, &[0; 32], "t");
        cp.kind = "receipt".into();
        assert_eq!(
            cp.check_signature(&public),
            Err(CheckpointError::NotACheckpoint)
        );
        assert!(serde_json::from_str::<Checkpoint>(r#"{"type":"x"}"#).is_err());
        assert!(serde_json::from_str::<Checkpoint>(
            r#"{"type":"prefcenter-ledger-checkpoint","version":1,"seq":1,"hash":"00","signed_at":"t","key_id":"../etc","signature":""}"#
        )
        .is_err());
    }
}
