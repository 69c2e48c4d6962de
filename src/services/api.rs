//! The API's use cases: keys (made and revoked in the console, checked on every call) and the
//! explainable decision, today or as of a past moment.

use super::consent::Result;
use super::Core;
use crate::domain::apikey::{self, PresentedKey, Scopes};
use crate::domain::{
    decide as rule, Channel, ConsentLevel, ContactFacts, Decision, PointKind, Purpose, Subject,
    Topic,
};
use crate::store::api_keys::{self, ApiKey, CreateKey, RevokeKey, TouchKey};
use crate::store::audit::Actor;
use crate::store::catalog::Catalog;
use crate::store::contacts::Addressed;
use crate::store::ledger::RecordSummary;
use crate::store::writer::Priority;
use std::sync::Arc;

/// Makes a key; the whole key is returned once and never stored.
pub async fn create_key(
    core: &Core,
    name: String,
    scopes: Scopes,
    profile_id: Option<i64>,
    actor: Actor,
) -> Result<(i64, String)> {
    loop {
        let (prefix, whole) = apikey::mint(super::random_bytes(), super::random_bytes());
        let made = core
            .writer
            .run(
                CreateKey {
                    prefix,
                    key_hash: apikey::hash(&whole),
                    name: name.clone(),
                    scopes: scopes.clone(),
                    profile_id,
                    actor: actor.clone(),
                },
                Priority::Interactive,
            )
            .await?;
        // A visible id already taken (one in four billion): draw again.
        if let Some(id) = made {
            // A miss cached for this id before it existed is dropped.
            core.forget_api_keys();
            return Ok((id, whole));
        }
    }
}

pub async fn revoke_key(core: &Core, id: i64, actor: Actor) -> Result<bool> {
    let done = core
        .writer
        .run(RevokeKey { id, actor }, Priority::Interactive)
        .await?;
    core.forget_api_keys();
    Ok(done)
}

pub async fn keys(core: &Core) -> Result<Vec<ApiKey>> {
    Ok(api_keys::all(&core.read).await?)
}

/// Why a call's key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefused {
    /// No `Authorization: Bearer` with something shaped like a key.
    Missing,
    /// Shaped like one, but no key has that hash.
    Unknown,
    Revoked,
}

/// The key of an `Authorization` header value.
pub async fn authenticate(
    core: &Core,
    header: Option<&str>,
) -> Result<std::result::Result<Authenticated, KeyRefused>> {
    let Some(presented) = header.and_then(PresentedKey::from_header) else {
        return Ok(Err(KeyRefused::Missing));
    };
    let (Some(key), read_now) = core.api_key(presented.id()).await? else {
        return Ok(Err(KeyRefused::Unknown));
    };
    if !apikey::matches(&presented, &key.key_hash) {
        return Ok(Err(KeyRefused::Unknown));
    }
    if key.revoked_at.is_some() {
        return Ok(Err(KeyRefused::Revoked));
    }
    // Checked when the key is read again (once per `KEY_CHECK` while it is in use), against
    // what the store says, not on every call.
    let touch_due = read_now
        && key.last_used_at.as_deref().is_none_or(|t| {
            crate::store::parse_time(t).map_or(true, |at| core.clock.now() - at >= TOUCH_EVERY)
        });
    Ok(Ok(Authenticated { key, touch_due }))
}

/// How stale a key's "last used" time may be before a call writes it again.
pub const TOUCH_EVERY: time::Duration = time::Duration::minutes(1);

/// A key that may call, and whether its "last used" time is to be written ([`touch`]).
pub struct Authenticated {
    pub key: Arc<ApiKey>,
    pub touch_due: bool,
}

/// Notes that a key was used (low priority: behind every interactive write).
pub async fn touch(core: &Core, key_id: i64) -> Result<()> {
    Ok(core
        .writer
        .run(TouchKey { id: key_id }, Priority::Bulk)
        .await?)
}

/// A decision asked for, parsed at the edge.
#[derive(Debug, Clone)]
pub struct DecideQuery {
    pub point: (PointKind, String),
    /// The profile's key, when the caller names one.
    pub profile: Option<String>,
    pub purpose: String,
    pub topic: Option<String>,
    pub channel: Channel,
    /// A past moment (stored time format): the ledger and the definitions as they were then.
    pub as_of: Option<String>,
}

/// Why a decision cannot be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecideRefused {
    /// No such profile.
    UnknownProfile,
    /// The key is restricted to another profile.
    ProfileNotAllowed,
    /// The address is not known and neither the key nor the call names a profile.
    ProfileRequired,
    UnknownPurpose,
    UnknownTopic,
}

/// The answer: the decision, what it rests on, and about what.
#[derive(Debug, Clone)]
pub struct DecideAnswer {
    pub decision: Decision,
    pub record: Option<RecordSummary>,
    /// The profile's key.
    pub profile: String,
    /// Whether the address belongs to a contact of that profile.
    pub known: bool,
}

/// May this address be contacted for this purpose (and topic) on this channel, and why: the
/// domain's decision on the contact's states and the purpose's definition, today or as they
/// stood at `as_of`.
pub async fn decide(
    core: &Core,
    key: &ApiKey,
    q: &DecideQuery,
) -> Result<std::result::Result<DecideAnswer, DecideRefused>> {
    use crate::store::{catalog, contacts, erasure, ledger};
    let named = match &q.profile {
        Some(k) => match core.profile_id(k).await? {
            Some(id) => Some(id),
            None => return Ok(Err(DecideRefused::UnknownProfile)),
        },
        None => None,
    };
    if let (Some(named), Some(allowed)) = (named, key.profile_id) {
        if named != allowed {
            return Ok(Err(DecideRefused::ProfileNotAllowed));
        }
    }
    let asked = named.or(key.profile_id);
    let (kind, address) = (&q.point.0, q.point.1.as_str());
    // Today, the point is read with the record its decision rests on, in one snapshot: the
    // decision is taken as soon as the point is found, when its profile's catalogue is at hand
    // (cached), and names the record to read with it.
    let mut early: Option<(Arc<Catalog>, std::result::Result<Decision, DecideRefused>)> = None;
    let (found, record) = match &q.as_of {
        None => {
            let pick = |f: &Addressed| {
                if asked.is_some_and(|p| p != f.profile_id) {
                    return None;
                }
                let cat = core.cached_catalog(f.profile_id)?;
                let decision = decide_known(&cat, q, f);
                let seq = decision.as_ref().ok().and_then(|d| d.reason.record());
                early = Some((cat, decision));
                seq
            };
            match contacts::addressed_picking(&core.read, *kind, address, pick).await? {
                Some((f, record)) => (Some(f), record),
                None => (None, None),
            }
        }
        Some(at) => (
            contacts::addressed(&core.read, *kind, address, Some(at)).await?,
            None,
        ),
    };
    if let Some((cat, decision)) = early {
        return Ok(decision.map(|decision| DecideAnswer {
            decision,
            record,
            profile: cat.profile.key.clone(),
            known: true,
        }));
    }
    let Some(profile_id) = asked.or(found.as_ref().map(|f| f.profile_id)) else {
        return Ok(Err(DecideRefused::ProfileRequired));
    };
    // A contact of another profile is not this profile's contact.
    let found = found.filter(|f| f.profile_id == profile_id);
    let cat = match &q.as_of {
        Some(at) => catalog::load_as_of(&core.read, profile_id, at)
            .await?
            .map(Arc::new),
        None => Some(core.catalog(profile_id).await?),
    };
    let Some(cat) = cat else {
        return Ok(Err(DecideRefused::UnknownProfile));
    };
    let decision = match &found {
        Some(f) => match decide_known(&cat, q, f) {
            Ok(d) => d,
            Err(r) => return Ok(Err(r)),
        },
        None => {
            let (purpose, topic) = match asked_subjects(&cat, q) {
                Ok(s) => s,
                Err(r) => return Ok(Err(r)),
            };
            // Unknown here: no states; an erased address is on the suppression list.
            let erased = erasure::suppressed_address(&core.read, core.secret(), *kind, address)
                .await?
                .is_some();
            let facts = ContactFacts {
                level: ConsentLevel::UNKNOWN,
                is_child: false,
                erased,
            };
            rule(facts, purpose, topic, q.channel, None, None)
        }
    };
    let record = match decision.reason.record() {
        Some(seq) => ledger::record_summary(&core.read, seq).await?,
        None => None,
    };
    Ok(Ok(DecideAnswer {
        decision,
        record,
        profile: cat.profile.key.clone(),
        known: found.is_some(),
    }))
}

/// The purpose and topic a decision asks about, in the catalogue.
fn asked_subjects<'c>(
    cat: &'c Catalog,
    q: &DecideQuery,
) -> std::result::Result<(&'c Purpose, Option<&'c Topic>), DecideRefused> {
    let purpose = cat
        .purposes
        .iter()
        .find(|p| p.key == q.purpose)
        .ok_or(DecideRefused::UnknownPurpose)?;
    let topic = match &q.topic {
        Some(t) => Some(
            cat.topics_of(purpose.id)
                .find(|x| &x.key == t)
                .ok_or(DecideRefused::UnknownTopic)?,
        ),
        None => None,
    };
    Ok((purpose, topic))
}

/// The decision on a found contact point of the catalogue's profile.
fn decide_known(
    cat: &Catalog,
    q: &DecideQuery,
    f: &Addressed,
) -> std::result::Result<Decision, DecideRefused> {
    let (purpose, topic) = asked_subjects(cat, q)?;
    let facts = ContactFacts {
        level: f.level,
        is_child: f.is_child,
        erased: f.suppressed,
    };
    let state = |subject: Subject| f.state(subject, q.channel);
    Ok(rule(
        facts,
        purpose,
        topic,
        q.channel,
        state(Subject::Purpose(purpose.id)),
        topic.and_then(|t| state(Subject::Topic(t.id))),
    ))
}

/// What every recipient of a bulk decision is asked about, resolved once.
#[derive(Clone)]
pub struct BulkQuestion {
    pub profile_id: i64,
    pub profile: String,
    cat: std::sync::Arc<crate::store::catalog::Catalog>,
    purpose: i64,
    topic: Option<i64>,
    pub channel: Channel,
    pub as_of: Option<String>,
}

/// The question of a bulk decision: the profile (named, or the key's), the purpose and topic
/// by key, on the definitions of `as_of` when given.
pub async fn bulk_question(
    core: &Core,
    key: &ApiKey,
    profile: Option<&str>,
    purpose: &str,
    topic: Option<&str>,
    channel: Channel,
    as_of: Option<String>,
) -> Result<std::result::Result<BulkQuestion, DecideRefused>> {
    use crate::store::catalog;
    let profile_id = match profile {
        Some(k) => match catalog::profile_id_by_key(&core.read, k).await? {
            Some(id) if key.profile_id.is_none_or(|p| p == id) => id,
            Some(_) => return Ok(Err(DecideRefused::ProfileNotAllowed)),
            None => return Ok(Err(DecideRefused::UnknownProfile)),
        },
        None => match key.profile_id {
            Some(id) => id,
            None => return Ok(Err(DecideRefused::ProfileRequired)),
        },
    };
    let cat = match &as_of {
        Some(at) => catalog::load_as_of(&core.read, profile_id, at)
            .await?
            .map(std::sync::Arc::new),
        None => Some(core.catalog(profile_id).await?),
    };
    let Some(cat) = cat else {
        return Ok(Err(DecideRefused::UnknownProfile));
    };
    let Some(p) = cat.purposes.iter().find(|p| p.key == purpose) else {
        return Ok(Err(DecideRefused::UnknownPurpose));
    };
    let t = match topic {
        Some(t) => match cat.topics_of(p.id).find(|x| x.key == t) {
            Some(t) => Some(t.id),
            None => return Ok(Err(DecideRefused::UnknownTopic)),
        },
        None => None,
    };
    Ok(Ok(BulkQuestion {
        profile_id,
        profile: cat.profile.key.clone(),
        purpose: p.id,
        topic: t,
        channel,
        as_of,
        cat,
    }))
}

/// Decides a batch of recipients (normalised addresses) with two queries per kind of address
/// and one for the suppression list, never one per recipient. Answers in the batch's order.
pub async fn decide_batch(
    core: &Core,
    q: &BulkQuestion,
    batch: &[(PointKind, String)],
) -> Result<Vec<Decision>> {
    let purpose = q
        .cat
        .purpose(q.purpose)
        .ok_or_else(|| crate::store::StoreError::Missing("purpose".into()))?;
    let topic = q
        .topic
        .and_then(|id| q.cat.topics_of(q.purpose).find(|t| t.id == id));
    let mut subjects = vec![Subject::Purpose(q.purpose)];
    subjects.extend(q.topic.map(Subject::Topic));
    let found = BatchFound::of(
        core,
        q.profile_id,
        batch,
        &subjects,
        q.channel,
        q.as_of.as_deref(),
    )
    .await?;
    Ok(batch
        .iter()
        .map(|(kind, address)| match found.point(*kind, address) {
            Some(f) => {
                let state = |subject: Subject| f.state(subject, q.channel);
                rule(
                    ContactFacts {
                        level: f.level,
                        is_child: f.is_child,
                        erased: f.suppressed,
                    },
                    purpose,
                    topic,
                    q.channel,
                    state(Subject::Purpose(q.purpose)),
                    topic.and_then(|t| state(Subject::Topic(t.id))),
                )
            }
            None => rule(
                ContactFacts {
                    level: ConsentLevel::UNKNOWN,
                    is_child: false,
                    erased: found.suppressed(core, *kind, address),
                },
                purpose,
                topic,
                q.channel,
                None,
                None,
            ),
        })
        .collect())
}

/// A batch's addresses looked up at once: the points of `profile_id` among them (one query per
/// kind of address, with the states of `subjects` on `channel`), and which of the others are
/// on the suppression list (one query). A bulk decision's and bulk links' batches use it.
pub(crate) struct BatchFound {
    /// By kind (email, phone), by address.
    known: [std::collections::HashMap<String, crate::store::contacts::Addressed>; 2],
    /// Suppression hashes of the addresses not found.
    suppressed: std::collections::HashSet<Vec<u8>>,
}

fn slot(k: PointKind) -> usize {
    usize::from(k == PointKind::Phone)
}

impl BatchFound {
    pub(crate) async fn of(
        core: &Core,
        profile_id: i64,
        batch: &[(PointKind, String)],
        subjects: &[Subject],
        channel: Channel,
        as_of: Option<&str>,
    ) -> crate::store::Result<BatchFound> {
        use crate::store::{contacts, erasure};
        let mut known: [std::collections::HashMap<String, contacts::Addressed>; 2] =
            Default::default();
        for kind in [PointKind::Email, PointKind::Phone] {
            let mut addresses: Vec<String> = batch
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, a)| a.clone())
                .collect();
            addresses.sort();
            addresses.dedup();
            for (address, a) in contacts::addressed_many(
                &core.read, profile_id, kind, &addresses, subjects, channel, as_of,
            )
            .await?
            {
                known[slot(kind)].insert(address, a);
            }
        }
        let unknown: Vec<Vec<u8>> = batch
            .iter()
            .filter(|(k, a)| !known[slot(*k)].contains_key(a.as_str()))
            .map(|(k, a)| crate::domain::ledger::address_hash(core.secret(), *k, a).to_vec())
            .collect();
        let suppressed = if unknown.is_empty() {
            Default::default()
        } else {
            erasure::suppressed_among(&core.read, &unknown).await?
        };
        Ok(BatchFound { known, suppressed })
    }

    /// The found point of an address of the batch.
    pub(crate) fn point(
        &self,
        kind: PointKind,
        address: &str,
    ) -> Option<&crate::store::contacts::Addressed> {
        self.known[slot(kind)].get(address)
    }

    /// Whether an address not found is on the suppression list.
    pub(crate) fn suppressed(&self, core: &Core, kind: PointKind, address: &str) -> bool {
        let h = crate::domain::ledger::address_hash(core.secret(), kind, address);
        self.suppressed.contains(h.as_slice())
    }
}

/// One ledger record as the API gives it: purpose and topic by their keys.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FeedRecord {
    pub seq: i64,
    pub occurred_at: String,
    pub profile: String,
    /// The contact's id here: the same in every record and event of the contact (an erasure
    /// event names no address, only this).
    pub contact: i64,
    /// `email` or `phone`, and the address (`None` once erased).
    pub kind: String,
    pub address: Option<String>,
    pub erased: bool,
    pub purpose: Option<String>,
    pub topic: Option<String>,
    pub channel: String,
    pub old_value: String,
    pub new_value: String,
    pub actor: String,
    pub source: String,
    pub change_id: String,
    pub form_version: Option<i64>,
    pub language: Option<String>,
    /// On a profile record (no purpose, values `not_set`): the fact changed and its values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fact: Option<FeedFact>,
}

/// A change of a contact's profile fact as the API gives it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FeedFact {
    /// `consent_level`, `child`, `custodian` or `tracking`.
    pub name: String,
    /// A level `0`–`5`, `yes`/`no`, or the custodian's contact id; `null`: none.
    pub old: Option<String>,
    pub new: Option<String>,
}

/// A page of the ledger for this key (its profile's contacts only, if it is restricted).
pub async fn feed(
    core: &Core,
    key: &ApiKey,
    mut page: crate::store::ledger::FeedPage,
) -> Result<Vec<FeedRecord>> {
    page.profile = key.profile_id.or(page.profile);
    let rows = crate::store::ledger::feed(&core.read, page).await?;
    Ok(records_of(core, rows).await?)
}

/// Ledger rows as the API (and webhooks) give them: purpose and topic by their keys.
pub(crate) async fn records_of(
    core: &Core,
    rows: Vec<crate::store::ledger::FeedRow>,
) -> crate::store::Result<Vec<FeedRecord>> {
    use std::collections::HashMap;
    let mut catalogs: HashMap<i64, std::sync::Arc<crate::store::catalog::Catalog>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let std::collections::hash_map::Entry::Vacant(e) = catalogs.entry(r.profile_id) {
            e.insert(core.catalog(r.profile_id).await?);
        }
        let cat = &catalogs[&r.profile_id];
        let (purpose, topic) = match r.subject {
            Subject::Purpose(id) => (cat.purpose(id).map(|p| p.key.clone()), None),
            Subject::Topic(id) => {
                let t = cat.topic(id);
                (
                    t.and_then(|t| cat.purpose(t.purpose_id))
                        .map(|p| p.key.clone()),
                    t.map(|t| t.key.clone()),
                )
            }
            Subject::Profile(_) | Subject::Erasure => (None, None),
        };
        let fact = match (r.subject, r.fact) {
            (Subject::Profile(f), Some(v)) => Some(FeedFact {
                name: f.as_str().to_owned(),
                old: v.old,
                new: v.new,
            }),
            _ => None,
        };
        out.push(FeedRecord {
            seq: r.seq,
            occurred_at: r.occurred_at,
            profile: cat.profile.key.clone(),
            contact: r.contact_id,
            kind: r.kind,
            erased: r.address.is_none(),
            address: r.address,
            purpose,
            topic,
            channel: r.channel,
            old_value: r.old_value,
            new_value: r.new_value,
            actor: r.actor_kind,
            source: r.source,
            change_id: r.change_id,
            form_version: r.form_version,
            language: r.language,
            fact,
        });
    }
    Ok(out)
}

/// The contact point with this address, if the key may see it (`None`: unknown to it).
pub async fn point_for(
    core: &Core,
    key: &ApiKey,
    kind: PointKind,
    address: &str,
) -> Result<Option<i64>> {
    let found = crate::store::contacts::addressed(&core.read, kind, address, None).await?;
    Ok(found
        .filter(|f| key.profile_id.is_none_or(|p| p == f.profile_id))
        .map(|f| f.contact_point_id))
}

/// One purpose (or topic) on one channel of a contact's consent.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConsentCell {
    pub purpose: String,
    pub topic: Option<String>,
    pub channel: String,
    /// What the contact recorded: opted_in, opted_out, pending, not_set.
    pub value: String,
    /// Whether they may be contacted for it now, and why (the domain's decision).
    pub allowed: bool,
    pub reason: String,
    /// The ledger record the answer rests on, if one.
    pub record: Option<i64>,
}

/// A contact point's contact and current consent.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ContactState {
    pub profile: String,
    pub kind: String,
    pub address: String,
    pub consent_level: u8,
    pub child: bool,
    pub consent: Vec<ConsentCell>,
}

/// Why a contact cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactRefused {
    /// No contact (that the key may see) has this address.
    Unknown,
    /// The address was erased (it is on the suppression list).
    Erased,
}

/// The contact with this address and their consent to every purpose and topic in use, on every
/// channel each uses: the recorded value, and the decision with its reason.
pub async fn contact_state(
    core: &Core,
    key: &ApiKey,
    kind: PointKind,
    address: &str,
) -> Result<std::result::Result<ContactState, ContactRefused>> {
    use crate::store::{contacts, erasure};
    let found = contacts::addressed(&core.read, kind, address, None)
        .await?
        .filter(|f| key.profile_id.is_none_or(|p| p == f.profile_id));
    let Some(f) = found else {
        let erased = erasure::suppressed_address(&core.read, core.secret(), kind, address)
            .await?
            .is_some();
        return Ok(Err(if erased {
            ContactRefused::Erased
        } else {
            ContactRefused::Unknown
        }));
    };
    let cat = core.catalog(f.profile_id).await?;
    let facts = ContactFacts {
        level: f.level,
        is_child: f.is_child,
        erased: f.suppressed,
    };
    let consent = super::consent::matrix(&cat, facts, |_| true, |s, ch| f.state(s, ch))
        .into_iter()
        .map(|c| ConsentCell {
            purpose: c.purpose.key.clone(),
            topic: c.topic.map(|t| t.key.clone()),
            channel: c.channel.as_str().to_owned(),
            value: c
                .own
                .map(|s| s.value)
                .unwrap_or_default()
                .as_str()
                .to_owned(),
            allowed: c.decision.allowed,
            reason: c.decision.reason.code().to_owned(),
            record: c.decision.reason.record(),
        })
        .collect();
    Ok(Ok(ContactState {
        profile: cat.profile.key.clone(),
        kind: kind.as_str().to_owned(),
        address: address.to_owned(),
        consent_level: f.level.get(),
        child: f.is_child,
        consent,
    }))
}
