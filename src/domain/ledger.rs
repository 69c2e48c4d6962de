//! Consent ledger records, their hash chain, and replay.
//!
//! A record's hash covers its non-personal fields plus a keyed digest (HMAC-SHA-256 under the
//! deployment's secret) of its personal evidence (justification, IP, user agent). Erasure can
//! therefore delete the personal evidence and the chain still verifies; editing any field, the
//! evidence included while it exists, or removing a record breaks it.
//!
//! Since keys rotate, a record's evidence digest is made with the key its `evidence_key`
//! names (derived from the secret and that id) over a random salt kept with the evidence: once
//! the evidence and its salt are erased the digest cannot be matched against guesses. Records
//! written before name no key (the secret itself, no salt). Evidence missing from a record
//! that had some is tampering, unless a later erasure record of its contact point voided it.

use super::model::*;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub type Hash = [u8; 32];

/// The hash that stands before the first record.
pub const GENESIS: Hash = [0u8; 32];

/// The non-personal fields of one record: what the hash chain covers directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub seq: i64,
    /// UTC, RFC 3339 with microseconds (`2026-11-22T20:23:05.123456Z`).
    pub occurred_at: String,
    pub contact_point_id: i64,
    pub subject: Subject,
    pub channel: Channel,
    /// `NotSet` on profile and erasure records.
    pub old_value: ConsentValue,
    pub new_value: ConsentValue,
    /// A profile record's values (`None` on every other record).
    pub fact: Option<FactValues>,
    pub custodian_confirmed: bool,
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    pub source: Source,
    /// Groups the records one action produced (what the "undo" link reverts).
    pub change_id: String,
    pub form_version: Option<i64>,
    pub language: Option<String>,
    pub request_id: Option<String>,
    /// For a double opt-in confirmation: the Message-ID of the email whose link was used.
    pub confirmation: Option<String>,
    /// The key the evidence digest is made with (a signing key's id); `None` on records
    /// without personal evidence and on records written before keys had ids.
    pub evidence_key: Option<String>,
}

/// Personal evidence, kept beside the record and removable by erasure.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    pub justification: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The random salt of the digest (kept and erased with the evidence); `None` before salts.
    pub salt: Option<[u8; 16]>,
}

impl Evidence {
    /// No personal evidence at all (the salt aside): nothing to keep, nothing to erase.
    pub fn is_empty(&self) -> bool {
        self.justification.is_none() && self.ip.is_none() && self.user_agent.is_none()
    }
}

/// The key evidence digests are made with under key id `key_id`, derived from the
/// deployment's secret (every instance that holds the secret derives the same).
pub fn evidence_key(secret: &[u8], key_id: &str) -> Hash {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"prefcenter-evidence-key-v2");
    mac.update(key_id.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The suppression list's keyed hash of an address (never the address itself): the same
/// address of the same kind always gives the same hash under one secret.
pub fn address_hash(secret: &[u8], kind: PointKind, address: &str) -> Hash {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"prefcenter-suppression-v1");
    mac.update(kind.as_str().as_bytes());
    mac.update(&[0]);
    mac.update(address.as_bytes());
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA-256 of the salt and the personal evidence under a key from [`evidence_key`].
pub fn salted_evidence_digest(key: &Hash, salt: &[u8; 16], ev: &Evidence) -> Hash {
    let mut buf = Vec::with_capacity(128);
    put(&mut buf, ev.justification.as_deref());
    put(&mut buf, ev.ip.as_deref());
    put(&mut buf, ev.user_agent.as_deref());
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"prefcenter-evidence-v2");
    mac.update(salt);
    mac.update(&buf);
    mac.finalize().into_bytes().into()
}

/// How the writer digests evidence: with the current key (its id and derived key) when the
/// deployment has one, over a fresh salt; else (a database without keys yet) as before.
#[derive(Clone)]
pub struct Digester {
    secret: std::sync::Arc<[u8]>,
    current: Option<(String, Hash)>,
    empty: Hash,
}

impl Digester {
    pub fn new(secret: std::sync::Arc<[u8]>) -> Digester {
        let empty = evidence_digest(&secret, &Evidence::default());
        Digester {
            secret,
            current: None,
            empty,
        }
    }

    /// Digests are made with key `key_id` from now on.
    pub fn use_key(&mut self, key_id: &str) {
        if self.current.as_ref().map(|c| c.0.as_str()) != Some(key_id) {
            self.current = Some((key_id.to_owned(), evidence_key(&self.secret, key_id)));
        }
    }

    pub fn has_key(&self) -> bool {
        self.current.is_some()
    }

    /// The evidence as it is to be stored (salted when it has a key), its digest, and the
    /// key id the record names. No evidence: the digest of nothing, no key, no salt.
    pub fn digest(&self, ev: &Evidence, salt: [u8; 16]) -> (Evidence, Hash, Option<String>) {
        match &self.current {
            _ if ev.is_empty() => (Evidence::default(), self.empty, None),
            None => (
                Evidence {
                    salt: None,
                    ..ev.clone()
                },
                evidence_digest(&self.secret, ev),
                None,
            ),
            Some((id, key)) => {
                let salt = ev.salt.unwrap_or(salt);
                let ev = Evidence {
                    salt: Some(salt),
                    ..ev.clone()
                };
                let d = salted_evidence_digest(key, &salt, &ev);
                (ev, d, Some(id.clone()))
            }
        }
    }
}

fn put(buf: &mut Vec<u8>, field: Option<&str>) {
    match field {
        None => buf.push(0),
        Some(s) => {
            buf.push(1);
            buf.extend_from_slice(&(s.len() as u64).to_be_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
    }
}

/// HMAC-SHA-256 of the personal evidence under `key`, length-prefixed so no two field
/// splits collide.
pub fn evidence_digest(key: &[u8], ev: &Evidence) -> Hash {
    let mut buf = Vec::with_capacity(128);
    put(&mut buf, ev.justification.as_deref());
    put(&mut buf, ev.ip.as_deref());
    put(&mut buf, ev.user_agent.as_deref());
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"prefcenter-evidence-v1");
    mac.update(&buf);
    mac.finalize().into_bytes().into()
}

/// A fingerprint of the evidence secret: the same secret gives the same text, and the text
/// does not reveal the secret (an HMAC of a fixed label, 16 bytes in hex). The database keeps
/// the fingerprint of the secret it was first written with; an instance with another secret
/// refuses to start, so every instance signs stamps and digests evidence alike.
pub fn key_fingerprint(key: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"prefcenter-key-fingerprint-v1");
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The hash of a record chained onto `prev`.
pub fn record_hash(prev: &Hash, r: &Record, evidence_digest: &Hash) -> Hash {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(b"prefcenter-ledger-v1");
    buf.extend_from_slice(prev);
    buf.extend_from_slice(&r.seq.to_be_bytes());
    put(&mut buf, Some(&r.occurred_at));
    buf.extend_from_slice(&r.contact_point_id.to_be_bytes());
    put(&mut buf, Some(r.subject.kind_str()));
    buf.extend_from_slice(&r.subject.id().to_be_bytes());
    put(&mut buf, Some(r.channel.as_str()));
    put(&mut buf, Some(r.old_value.as_str()));
    put(&mut buf, Some(r.new_value.as_str()));
    buf.push(r.custodian_confirmed as u8);
    put(&mut buf, Some(r.actor_kind.as_str()));
    put(&mut buf, r.actor_id.as_deref());
    put(&mut buf, Some(r.source.as_str()));
    put(&mut buf, Some(&r.change_id));
    match r.form_version {
        None => buf.push(0),
        Some(v) => {
            buf.push(1);
            buf.extend_from_slice(&v.to_be_bytes());
        }
    }
    put(&mut buf, r.language.as_deref());
    put(&mut buf, r.request_id.as_deref());
    buf.extend_from_slice(evidence_digest);
    // Fields added after v1 are hashed only when present, so earlier records verify unchanged.
    if let Some(c) = &r.confirmation {
        buf.extend_from_slice(b"+confirmation");
        put(&mut buf, Some(c));
    }
    if let Some(k) = &r.evidence_key {
        buf.extend_from_slice(b"+evidence_key");
        put(&mut buf, Some(k));
    }
    if let Some(f) = &r.fact {
        buf.extend_from_slice(b"+fact");
        put(&mut buf, f.old.as_deref());
        put(&mut buf, f.new.as_deref());
    }
    Sha256::digest(&buf).into()
}

/// One stored record as read back for verification.
#[derive(Debug, Clone)]
pub struct Stored {
    pub record: Record,
    /// Present until erased.
    pub evidence: Option<Evidence>,
    pub evidence_digest: Hash,
    pub prev_hash: Hash,
    pub hash: Hash,
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("record {seq}: sequence gap (expected {expected})")]
    Gap { seq: i64, expected: i64 },
    #[error("record {seq}: does not link to the record before it")]
    BrokenLink { seq: i64 },
    #[error("record {seq}: content does not match its hash (edited)")]
    Edited { seq: i64 },
    #[error("record {seq}: personal evidence does not match its digest (edited)")]
    EvidenceEdited { seq: i64 },
    #[error(
        "record {seq}: its personal evidence is missing and no erasure record voided it \
         (tampered)"
    )]
    EvidenceMissing { seq: i64 },
    #[error("record {seq}: an erasure record that changes a value")]
    BadErasure { seq: i64 },
    #[error("record {seq}: a profile record without its values, or values on another record")]
    BadFact { seq: i64 },
    #[error(
        "record {seq}: its old value {} is not the value the record before it on the same \
         state set ({})",
        found.as_str(),
        expected.as_str()
    )]
    OldValue {
        seq: i64,
        expected: ConsentValue,
        found: ConsentValue,
    },
}

impl ChainError {
    /// The record the chain breaks at.
    pub fn seq(&self) -> i64 {
        match self {
            ChainError::Gap { seq, .. }
            | ChainError::BrokenLink { seq }
            | ChainError::Edited { seq }
            | ChainError::EvidenceEdited { seq }
            | ChainError::EvidenceMissing { seq }
            | ChainError::BadErasure { seq }
            | ChainError::BadFact { seq }
            | ChainError::OldValue { seq, .. } => *seq,
        }
    }
}

/// An erasure record and the records whose personal evidence it voided.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Erasure {
    pub record: i64,
    pub contact_point_id: i64,
    /// Earlier records of the point whose evidence is gone, erased by this record.
    pub voided: Vec<i64>,
}

/// Incremental verifier: feed records in sequence order, then [`Verifier::finish`]. Besides
/// the chain it checks each record's evidence against its digest (with the key the record
/// names), that each record's old value is the new value of the last record on the same
/// state, that missing evidence was voided by a later erasure, and keeps the replayed states
/// (what the state table must equal).
pub struct Verifier<'k> {
    secret: &'k [u8],
    keys: std::collections::HashMap<String, Hash>,
    empty: Hash,
    prev: Hash,
    next_seq: i64,
    pub checked: u64,
    states: BTreeMap<StateKey, StateEntry>,
    /// Records whose evidence is missing, by contact point, not yet voided by an erasure.
    missing: BTreeMap<i64, Vec<i64>>,
    erasures: Vec<Erasure>,
    /// The last evidence checked (records of one change share it): (change, digest, salt).
    last_evidence: Option<(String, Hash, Option<[u8; 16]>)>,
}

impl<'k> Verifier<'k> {
    pub fn new(secret: &'k [u8]) -> Self {
        Verifier {
            secret,
            keys: std::collections::HashMap::new(),
            empty: evidence_digest(secret, &Evidence::default()),
            prev: GENESIS,
            next_seq: 1,
            checked: 0,
            states: BTreeMap::new(),
            missing: BTreeMap::new(),
            erasures: Vec::new(),
            last_evidence: None,
        }
    }

    fn evidence_holds(&mut self, r: &Record, ev: &Evidence, digest: &Hash) -> bool {
        if let Some((change, d, salt)) = &self.last_evidence {
            if *change == r.change_id && d == digest && *salt == ev.salt {
                return true;
            }
        }
        let ok = match (&r.evidence_key, ev.salt) {
            (Some(id), Some(salt)) => {
                let secret = self.secret;
                let key = self
                    .keys
                    .entry(id.clone())
                    .or_insert_with(|| evidence_key(secret, id));
                salted_evidence_digest(key, &salt, ev) == *digest
            }
            (None, None) => evidence_digest(self.secret, ev) == *digest,
            _ => false,
        };
        if ok {
            self.last_evidence = Some((r.change_id.clone(), *digest, ev.salt));
        }
        ok
    }

    pub fn feed(&mut self, s: &Stored) -> Result<(), ChainError> {
        let seq = s.record.seq;
        if seq != self.next_seq {
            return Err(ChainError::Gap {
                seq,
                expected: self.next_seq,
            });
        }
        if s.prev_hash != self.prev {
            return Err(ChainError::BrokenLink { seq });
        }
        if record_hash(&self.prev, &s.record, &s.evidence_digest) != s.hash {
            return Err(ChainError::Edited { seq });
        }
        let r = &s.record;
        match &s.evidence {
            Some(ev) => {
                if !self.evidence_holds(r, ev, &s.evidence_digest) {
                    return Err(ChainError::EvidenceEdited { seq });
                }
            }
            None if s.evidence_digest == self.empty => {} // written without evidence
            None => self
                .missing
                .entry(r.contact_point_id)
                .or_default()
                .push(seq),
        }
        if matches!(r.subject, Subject::Profile(_)) != r.fact.is_some() {
            return Err(ChainError::BadFact { seq });
        }
        if let Subject::Profile(_) = r.subject {
            if r.old_value != ConsentValue::NotSet || r.new_value != ConsentValue::NotSet {
                return Err(ChainError::BadFact { seq });
            }
            // A profile fact sets no consent state.
        } else if r.subject == Subject::Erasure {
            if r.old_value != ConsentValue::NotSet || r.new_value != ConsentValue::NotSet {
                return Err(ChainError::BadErasure { seq });
            }
            let cp = r.contact_point_id;
            let gone: Vec<StateKey> = self
                .states
                .range((cp, Subject::Purpose(i64::MIN), Channel::Email)..)
                .take_while(|(k, _)| k.0 == cp)
                .map(|(k, _)| *k)
                .collect();
            for k in gone {
                self.states.remove(&k);
            }
            self.erasures.push(Erasure {
                record: seq,
                contact_point_id: cp,
                voided: self.missing.remove(&cp).unwrap_or_default(),
            });
        } else {
            let key = (r.contact_point_id, r.subject, r.channel);
            let expected = self.states.get(&key).map(|e| e.value).unwrap_or_default();
            if r.old_value != expected {
                return Err(ChainError::OldValue {
                    seq,
                    expected,
                    found: r.old_value,
                });
            }
            self.states.insert(
                key,
                StateEntry {
                    value: r.new_value,
                    custodian_confirmed: r.custodian_confirmed,
                    record: seq,
                },
            );
        }
        self.prev = s.hash;
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// After the last record: evidence still missing was not erased but removed (tampered).
    pub fn finish(&self) -> Result<(), ChainError> {
        match self.missing.values().flatten().min() {
            Some(&seq) => Err(ChainError::EvidenceMissing { seq }),
            None => Ok(()),
        }
    }

    /// The erasure records seen, with the evidence each voided.
    pub fn erasures(&self) -> &[Erasure] {
        &self.erasures
    }

    /// The hash of the last record fed (the chain head).
    pub fn head(&self) -> Hash {
        self.prev
    }

    /// The states the records fed so far leave (a replay).
    pub fn states(&self) -> &BTreeMap<StateKey, StateEntry> {
        &self.states
    }
}

/// The key of one consent state.
pub type StateKey = (i64, Subject, Channel);

/// Replays records (in sequence order) into the states they imply.
pub fn replay<'a>(records: impl IntoIterator<Item = &'a Record>) -> BTreeMap<StateKey, StateEntry> {
    let mut out: BTreeMap<StateKey, StateEntry> = BTreeMap::new();
    for r in records {
        match r.subject {
            Subject::Erasure => {
                out.retain(|k, _| k.0 != r.contact_point_id);
                continue;
            }
            Subject::Profile(_) => continue,
            Subject::Purpose(_) | Subject::Topic(_) => {}
        }
        out.insert(
            (r.contact_point_id, r.subject, r.channel),
            StateEntry {
                value: r.new_value,
                custodian_confirmed: r.custodian_confirmed,
                record: r.seq,
            },
        );
    }
    out
}

/// A wanted change to one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Desired {
    pub subject: Subject,
    pub channel: Channel,
    pub value: ConsentValue,
    pub custodian_confirmed: bool,
    /// Apply only while the current value is this one (undo of a change not yet superseded).
    pub only_if_current: Option<ConsentValue>,
}

/// Which desired changes really change something, given the current states. Each result
/// carries the old value. A change to the value already held is no change (idempotence).
pub fn effective_changes(
    current: impl Fn(Subject, Channel) -> Option<StateEntry>,
    desired: &[Desired],
) -> Vec<(Desired, ConsentValue)> {
    let mut out: Vec<(Desired, ConsentValue)> = Vec::new();
    for d in desired {
        if out
            .iter()
            .any(|(o, _)| o.subject == d.subject && o.channel == d.channel)
        {
            continue; // one change per state per action
        }
        let cur = current(d.subject, d.channel);
        let old = cur.map(|c| c.value).unwrap_or_default();
        if let Some(expected) = d.only_if_current {
            if old != expected {
                continue;
            }
        }
        let same_custodian =
            cur.map(|c| c.custodian_confirmed).unwrap_or(false) == d.custodian_confirmed;
        if old == d.value && same_custodian {
            continue;
        }
        out.push((*d, old));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_fingerprint_names_the_key_without_revealing_it() {
        let a = key_fingerprint(b"0123456789abcdef0123456789abcdef");
        assert_eq!(a.len(), 32);
        assert_eq!(a, key_fingerprint(b"0123456789abcdef0123456789abcdef"));
        assert_ne!(a, key_fingerprint(b"0123456789abcdef0123456789abcdeF"));
        assert!(!a.contains("0123456789abcdef"));
    }

    use super::*;
    use proptest::prelude::*;

    fn rec(seq: i64, cp: i64, topic: i64, old: ConsentValue, new: ConsentValue) -> Record {
        Record {
            seq,
            occurred_at: format!("2026-11-22T10:00:{:02}.000000Z", seq % 60),
            contact_point_id: cp,
            subject: Subject::Topic(topic),
            channel: Channel::Email,
            old_value: old,
            new_value: new,
            fact: None,
            custodian_confirmed: false,
            actor_kind: ActorKind::Contact,
            actor_id: None,
            source: Source::Page,
            change_id: format!("c{seq}"),
            form_version: Some(1),
            language: Some("en".into()),
            request_id: None,
            confirmation: None,
            evidence_key: None,
        }
    }

    fn chain(key: &[u8], records: Vec<(Record, Evidence)>) -> Vec<Stored> {
        let mut prev = GENESIS;
        records
            .into_iter()
            .map(|(record, ev)| {
                let d = evidence_digest(key, &ev);
                let hash = record_hash(&prev, &record, &d);
                let s = Stored {
                    record,
                    evidence: Some(ev),
                    evidence_digest: d,
                    prev_hash: prev,
                    hash,
                };
                prev = hash;
                s
            })
            .collect()
    }

    fn verify(key: &[u8], stored: &[Stored]) -> Result<u64, ChainError> {
        let mut v = Verifier::new(key);
        for s in stored {
            v.feed(s)?;
        }
        v.finish()?;
        Ok(v.checked)
    }

    fn sample(key: &[u8]) -> Vec<Stored> {
        use ConsentValue::*;
        chain(
            key,
            vec![
                (
                    rec(1, 1, 10, NotSet, OptedIn),
                    Evidence {
                        ip: Some("192.0.2.0".into()),
                        ..Default::default()
                    },
                ),
                (rec(2, 1, 10, OptedIn, OptedOut), Evidence::default()),
                (
                    rec(3, 2, 11, NotSet, Pending),
                    Evidence {
                        user_agent: Some("UA".into()),
                        ..Default::default()
                    },
                ),
            ],
        )
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify(b"k", &sample(b"k")), Ok(3));
    }

    #[test]
    fn an_edited_value_is_caught() {
        let mut s = sample(b"k");
        s[1].record.new_value = ConsentValue::OptedIn;
        assert_eq!(verify(b"k", &s), Err(ChainError::Edited { seq: 2 }));
    }

    #[test]
    fn a_removed_record_is_caught() {
        let mut s = sample(b"k");
        s.remove(1);
        assert_eq!(
            verify(b"k", &s),
            Err(ChainError::Gap {
                seq: 3,
                expected: 2
            })
        );
    }

    #[test]
    fn an_edited_evidence_is_caught_and_an_erased_one_is_not_an_error() {
        let mut s = sample(b"k");
        s[0].evidence.as_mut().unwrap().ip = Some("198.51.100.7".into());
        assert_eq!(verify(b"k", &s), Err(ChainError::EvidenceEdited { seq: 1 }));
        // Removed without an erasure record: tampering.
        let mut s = sample(b"k");
        s[0].evidence = None;
        assert_eq!(
            verify(b"k", &s),
            Err(ChainError::EvidenceMissing { seq: 1 })
        );
    }

    #[test]
    fn a_profile_record_is_chained_sets_no_state_and_its_values_are_covered() {
        use ConsentValue::*;
        let mut fact = rec(2, 1, 0, NotSet, NotSet);
        fact.subject = Subject::Profile(ProfileFact::ConsentLevel);
        fact.actor_kind = ActorKind::Staff;
        fact.fact = Some(FactValues {
            old: Some("1".into()),
            new: Some("4".into()),
        });
        let why = Evidence {
            justification: Some("Told us by phone".into()),
            ..Default::default()
        };
        let s = chain(
            b"k",
            vec![
                (rec(1, 1, 10, NotSet, OptedIn), Evidence::default()),
                (fact.clone(), why),
                (rec(3, 1, 10, OptedIn, OptedOut), Evidence::default()),
            ],
        );
        assert_eq!(verify(b"k", &s), Ok(3));
        let states = replay(s.iter().map(|x| &x.record));
        assert_eq!(states.len(), 1, "the profile record sets no consent state");
        // Its new value is covered by the hash.
        let mut edited = s.clone();
        edited[1].record.fact.as_mut().unwrap().new = Some("5".into());
        assert_eq!(verify(b"k", &edited), Err(ChainError::Edited { seq: 2 }));
        // A profile record must carry its values, and only it may.
        let mut bare = fact.clone();
        bare.seq = 1;
        bare.fact = None;
        let s = chain(b"k", vec![(bare, Evidence::default())]);
        assert_eq!(verify(b"k", &s), Err(ChainError::BadFact { seq: 1 }));
        let mut stray = rec(1, 1, 10, NotSet, OptedIn);
        stray.fact = fact.fact.clone();
        let s = chain(b"k", vec![(stray, Evidence::default())]);
        assert_eq!(verify(b"k", &s), Err(ChainError::BadFact { seq: 1 }));
    }

    #[test]
    fn an_erasure_record_voids_the_evidence_before_it_and_clears_the_point() {
        use ConsentValue::*;
        let mut erase = rec(4, 1, 0, NotSet, NotSet);
        erase.subject = Subject::Erasure;
        let ev = |ip: &str| Evidence {
            ip: Some(ip.into()),
            ..Default::default()
        };
        let mut s = chain(
            b"k",
            vec![
                (rec(1, 1, 10, NotSet, OptedIn), ev("192.0.2.1")),
                (rec(2, 2, 10, NotSet, OptedIn), ev("192.0.2.2")),
                (rec(3, 1, 11, NotSet, OptedOut), ev("192.0.2.3")),
                (erase, Evidence::default()),
            ],
        );
        s[0].evidence = None;
        s[2].evidence = None;
        let mut v = Verifier::new(b"k");
        for r in &s {
            v.feed(r).unwrap();
        }
        assert_eq!(v.finish(), Ok(()));
        assert_eq!(
            v.erasures(),
            &[Erasure {
                record: 4,
                contact_point_id: 1,
                voided: vec![1, 3]
            }]
        );
        // No state of the erased point remains; the other point's does.
        assert_eq!(v.states().keys().map(|k| k.0).collect::<Vec<_>>(), vec![2]);
        assert_eq!(&replay(s.iter().map(|r| &r.record)), v.states());
        // Evidence of the other point removed too: that one is tampering.
        s[1].evidence = None;
        assert_eq!(
            verify(b"k", &s),
            Err(ChainError::EvidenceMissing { seq: 2 })
        );
    }

    #[test]
    fn a_salted_digest_names_its_key_and_verifies_across_keys() {
        let secret: std::sync::Arc<[u8]> = b"secret".to_vec().into();
        let mut d = Digester::new(secret.clone());
        let ev = Evidence {
            ip: Some("198.51.100.23".into()),
            ..Default::default()
        };
        let mut stored = Vec::new();
        let mut prev = GENESIS;
        for (i, key) in ["k1", "k1", "k2"].iter().enumerate() {
            d.use_key(key);
            let (ev, digest, key_id) = d.digest(&ev, [i as u8; 16]);
            assert_eq!(key_id.as_deref(), Some(*key));
            let mut r = rec(
                i as i64 + 1,
                1,
                10 + i as i64,
                ConsentValue::NotSet,
                ConsentValue::OptedIn,
            );
            r.evidence_key = key_id;
            let hash = record_hash(&prev, &r, &digest);
            stored.push(Stored {
                record: r,
                evidence: Some(ev),
                evidence_digest: digest,
                prev_hash: prev,
                hash,
            });
            prev = hash;
        }
        // Same evidence, different salts: different digests (nothing to match guesses against).
        assert_ne!(stored[0].evidence_digest, stored[1].evidence_digest);
        assert_eq!(verify(&secret, &stored), Ok(3));
        // Another secret derives other keys.
        assert_eq!(
            verify(b"other", &stored),
            Err(ChainError::EvidenceEdited { seq: 1 })
        );
        // No evidence: no key, no salt, the digest of nothing.
        let (e, _, k) = d.digest(&Evidence::default(), [9; 16]);
        assert!(e.is_empty() && e.salt.is_none() && k.is_none());
    }

    #[test]
    fn a_rehashed_forgery_breaks_the_next_link() {
        let mut s = sample(b"k");
        s[0].record.new_value = ConsentValue::OptedOut;
        s[0].hash = record_hash(&GENESIS, &s[0].record, &s[0].evidence_digest);
        assert_eq!(verify(b"k", &s), Err(ChainError::BrokenLink { seq: 2 }));
    }

    #[test]
    fn repeating_a_change_changes_nothing() {
        use ConsentValue::*;
        let d = Desired {
            subject: Subject::Topic(1),
            channel: Channel::Email,
            value: OptedOut,
            custodian_confirmed: false,
            only_if_current: None,
        };
        let cur = |_, _| {
            Some(StateEntry {
                value: OptedOut,
                custodian_confirmed: false,
                record: 1,
            })
        };
        assert!(effective_changes(cur, &[d]).is_empty());
        assert_eq!(effective_changes(|_, _| None, &[d, d]).len(), 1);
        let undo = Desired {
            only_if_current: Some(OptedIn),
            value: NotSet,
            ..d
        };
        assert!(effective_changes(cur, &[undo]).is_empty());
    }

    fn value() -> impl Strategy<Value = ConsentValue> {
        prop_oneof![
            Just(ConsentValue::OptedIn),
            Just(ConsentValue::OptedOut),
            Just(ConsentValue::Pending),
            Just(ConsentValue::NotSet)
        ]
    }

    proptest! {
        /// Applying random actions the way the writer does (effective changes against the
        /// current state, one record each) leaves a state equal to a replay of the records,
        /// and the chain verifies.
        #[test]
        fn state_always_equals_a_replay_of_the_ledger(
            actions in proptest::collection::vec(
                proptest::collection::vec((1i64..4, 1i64..5, 0usize..3, value()), 1..6),
                1..40,
            )
        ) {
            let mut state: BTreeMap<StateKey, StateEntry> = BTreeMap::new();
            let mut records: Vec<Record> = Vec::new();
            for (n, action) in actions.iter().enumerate() {
                for (cp, topic, ch, v) in action {
                    let channel = Channel::ALL[*ch];
                    let d = Desired { subject: Subject::Topic(*topic), channel, value: *v, custodian_confirmed: false, only_if_current: None };
                    let changes = effective_changes(|s, c| state.get(&(*cp, s, c)).copied(), &[d]);
                    for (d, old) in changes {
                        let seq = records.len() as i64 + 1;
                        let mut r = rec(seq, *cp, d.subject.id(), old, d.value);
                        r.channel = d.channel;
                        r.change_id = format!("a{n}");
                        state.insert((*cp, d.subject, d.channel), StateEntry { value: d.value, custodian_confirmed: false, record: seq });
                        records.push(r);
                    }
                }
            }
            prop_assert_eq!(&replay(records.iter()), &state);
            // every record's old value is the previous record's new value for that key
            let mut last: BTreeMap<StateKey, ConsentValue> = BTreeMap::new();
            for r in &records {
                let k = (r.contact_point_id, r.subject, r.channel);
                prop_assert_eq!(last.get(&k).copied().unwrap_or_default(), r.old_value);
                prop_assert_ne!(r.old_value, r.new_value);
                last.insert(k, r.new_value);
            }
            let stored = chain(b"key", records.into_iter().map(|r| (r, Evidence::default())).collect());
            prop_assert!(verify(b"key", &stored).is_ok());
        }
    }
}
