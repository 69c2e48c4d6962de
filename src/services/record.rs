//! What sending systems write through the API: contacts (created or updated, by address) and
//! consent collected on their own forms. Every write can carry an idempotency key: a repeat of
//! the same call is answered with the first call's outcome and changes nothing. An erased
//! address is never created again. Opt-ins go through this server's double opt-in unless the
//! profile trusts the caller's own confirmation and the caller says it confirmed (the record
//! then says so).

use super::consent::Result;
use super::optin::{desired, AskSettings, RequestOptIn};
use super::Core;
use crate::domain::ledger::{Desired, Evidence};
use crate::domain::parse::Lang;
use crate::domain::{ActorKind, Channel, ConsentLevel, ConsentValue, PointKind, Source, Subject};
use crate::store::api_keys::ApiKey;
use crate::store::audit::{self, Actor, Entry};
use crate::store::catalog::Catalog;
use crate::store::contacts::{self, NewContact};
use crate::store::idempotency::{self, Earlier};
use crate::store::writer::{ChangeMeta, Priority, Tx, Unit};
use crate::store::{self as db};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An idempotency key and the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct Idem {
    pub key: String,
    pub request_hash: [u8; 32],
}

/// A write's outcome, fresh or as first given.
#[derive(Debug, Clone)]
pub enum Written<T> {
    Fresh(T),
    /// A repeat: the first call's outcome; nothing was written now.
    Replayed(T),
    /// The idempotency key came with another request before.
    KeyReused,
}

/// Why a write is refused (kept under an idempotency key like any outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The email address was erased: it is on the suppression list.
    SuppressedEmail,
    SuppressedPhone,
    /// The address belongs to a contact of another profile.
    OtherProfileEmail,
    OtherProfilePhone,
    /// The email address and the phone number belong to two different contacts.
    TwoContacts,
}

impl Refusal {
    pub fn suppressed(kind: PointKind) -> Refusal {
        match kind {
            PointKind::Email => Refusal::SuppressedEmail,
            PointKind::Phone => Refusal::SuppressedPhone,
        }
    }

    pub(crate) fn other_profile(kind: PointKind) -> Refusal {
        match kind {
            PointKind::Email => Refusal::OtherProfileEmail,
            PointKind::Phone => Refusal::OtherProfilePhone,
        }
    }
}

/// The first call's outcome when this one repeats it under its idempotency key (or the key's
/// refusal when it came with another request); `None`: a fresh call.
async fn repeated<T: serde::de::DeserializeOwned>(
    tx: &mut Tx,
    key_id: i64,
    idem: Option<&Idem>,
) -> db::Result<Option<Written<T>>> {
    let Some(i) = idem else { return Ok(None) };
    Ok(
        match idempotency::earlier(tx, key_id, &i.key, &i.request_hash).await? {
            Some(Earlier::Same(json)) => Some(Written::Replayed(
                serde_json::from_str(&json)
                    .map_err(|e| db::StoreError::Corrupt(format!("an outcome: {e}")))?,
            )),
            Some(Earlier::Other) => Some(Written::KeyReused),
            None => None,
        },
    )
}

/// Keeps a fresh call's outcome under its idempotency key, if it has one.
async fn keep<T: Serialize>(
    tx: &mut Tx,
    key_id: i64,
    idem: Option<&Idem>,
    outcome: &T,
    contact: Option<i64>,
) -> db::Result<()> {
    let Some(i) = idem else { return Ok(()) };
    let json = serde_json::to_string(outcome)
        .map_err(|e| db::StoreError::Corrupt(format!("an outcome: {e}")))?;
    idempotency::keep(tx, key_id, &i.key, &i.request_hash, &json, contact).await
}

/// Whose call it was, as records and the audit log name it.
fn actor_of(key: &ApiKey) -> Actor {
    Actor {
        user_id: None,
        name: format!("API key {} ({})", key.visible_id(), key.name),
    }
}

/// The contact with these addresses in `profile_id`, created (with `new`) if none has them;
/// missing addresses are added to it. Returns (contact, its points in the given order,
/// created).
pub(super) async fn find_or_create(
    tx: &mut Tx,
    secret: &[u8],
    profile_id: i64,
    points: &[(PointKind, String)],
    new: &NewContact<'_>,
) -> db::Result<std::result::Result<(i64, Vec<i64>, bool), Refusal>> {
    let mut found = Vec::with_capacity(points.len());
    for (kind, address) in points {
        match contacts::point_by_address(tx, *kind, address).await? {
            Some(o) if o.suppressed || o.address.is_none() => {
                return Ok(Err(Refusal::suppressed(*kind)))
            }
            Some(o) if o.profile_id != profile_id => return Ok(Err(Refusal::other_profile(*kind))),
            Some(o) => found.push(Some((o.contact_id, o.contact_point_id))),
            None => {
                if db::erasure::suppressed(tx, secret, *kind, address)
                    .await?
                    .is_some()
                {
                    return Ok(Err(Refusal::suppressed(*kind)));
                }
                found.push(None);
            }
        }
    }
    let mut owners: Vec<i64> = found.iter().flatten().map(|(c, _)| *c).collect();
    owners.dedup();
    if owners.len() > 1 {
        return Ok(Err(Refusal::TwoContacts));
    }
    let (contact, created) = match owners.first() {
        Some(c) => (*c, false),
        None => (contacts::create_contact(tx, new).await?, true),
    };
    let mut ids = Vec::with_capacity(points.len());
    for ((kind, address), f) in points.iter().zip(found) {
        ids.push(match f {
            Some((_, cp)) => cp,
            None => contacts::add_point(tx, contact, *kind, address).await?,
        });
    }
    Ok(Ok((contact, ids, created)))
}

// ---------------------------------------------------------------------------------------------
// Contacts.

/// A contact as the caller gives it, parsed at the edge.
#[derive(Debug, Clone)]
pub struct ContactInput {
    /// One or two addresses (an email address and a phone number), normalised.
    pub points: Vec<(PointKind, String)>,
    pub profile: Option<String>,
    pub locale: Option<Lang>,
    pub level: Option<ConsentLevel>,
    pub child: Option<bool>,
}

/// What saving a contact did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactOutcome {
    Saved { created: bool },
    Refused(Refusal),
}

/// Why a call names no profile it may use.
pub use super::api::DecideRefused as ProfileRefused;

/// The profile a write is for: the one named (if the key may use it), else the key's, else the
/// one of the contact that has one of the addresses.
async fn profile_for(
    core: &Core,
    key: &ApiKey,
    named: Option<&str>,
    points: &[(PointKind, String)],
) -> Result<std::result::Result<i64, ProfileRefused>> {
    if let Some(k) = named {
        return Ok(match db::catalog::profile_id_by_key(&core.read, k).await? {
            Some(id) if key.profile_id.is_none_or(|p| p == id) => Ok(id),
            Some(_) => Err(ProfileRefused::ProfileNotAllowed),
            None => Err(ProfileRefused::UnknownProfile),
        });
    }
    if let Some(id) = key.profile_id {
        return Ok(Ok(id));
    }
    for (kind, address) in points {
        if let Some(a) = contacts::addressed(&core.read, *kind, address, None).await? {
            return Ok(Ok(a.profile_id));
        }
    }
    Ok(Err(ProfileRefused::ProfileRequired))
}

struct SaveContact {
    key_id: i64,
    actor: Actor,
    /// Who a change of the contact's consent level or child is recorded as (a ledger record
    /// per fact, like staff's).
    meta: crate::store::writer::ChangeMeta,
    idem: Option<Idem>,
    profile_id: i64,
    input: ContactInput,
    secret: Arc<[u8]>,
}

impl Unit for SaveContact {
    type Output = Written<ContactOutcome>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, db::Result<Self::Output>> {
        Box::pin(async move {
            if let Some(w) = repeated(tx, self.key_id, self.idem.as_ref()).await? {
                return Ok(w);
            }
            let input = &self.input;
            let new = NewContact {
                name: None,
                profile_id: self.profile_id,
                locale: input.locale.map(|l| l.code()),
                level: input.level.unwrap_or(ConsentLevel::UNKNOWN),
                is_child: input.child.unwrap_or(false),
            };
            let (outcome, contact) =
                match find_or_create(tx, &self.secret, self.profile_id, &input.points, &new).await?
                {
                    Err(r) => (ContactOutcome::Refused(r), None),
                    Ok((contact, _, created)) => {
                        let after = serde_json::json!({
                            "locale": input.locale.map(|l| l.code()),
                            "consent_level": input.level.map(|l| l.get()),
                            "child": input.child,
                        });
                        if created {
                            audit::record(
                                tx,
                                &self.actor,
                                Entry {
                                    kind: "contact.create",
                                    subject: format!("contact {contact}"),
                                    before: None,
                                    after: Some(after),
                                },
                            )
                            .await?;
                        } else if input.locale.is_some()
                            || input.level.is_some()
                            || input.child.is_some()
                        {
                            let (locale, level, child) = contacts::update_contact(
                                tx,
                                contact,
                                input.locale.map(|l| l.code()),
                            )
                            .await?;
                            // The facts change through the ledger: one record per fact.
                            if let Some((_, before, _)) =
                                crate::store::desk::profile_facts(tx, contact).await?
                            {
                                let after = crate::store::desk::ProfileFacts {
                                    level: input.level.unwrap_or(before.level),
                                    child: input.child.unwrap_or(before.child),
                                    ..before
                                };
                                crate::store::desk::set_profile(
                                    tx,
                                    contact,
                                    (before, after),
                                    &self.meta,
                                )
                                .await?;
                            }
                            let before = serde_json::json!({
                                "locale": locale, "consent_level": level, "child": child,
                            });
                            audit::record(
                                tx,
                                &self.actor,
                                Entry {
                                    kind: "contact.update",
                                    subject: format!("contact {contact}"),
                                    before: Some(before),
                                    after: Some(after),
                                },
                            )
                            .await?;
                        }
                        (ContactOutcome::Saved { created }, Some(contact))
                    }
                };
            keep(tx, self.key_id, self.idem.as_ref(), &outcome, contact).await?;
            Ok(Written::Fresh(outcome))
        })
    }
}

/// Creates the contact with these addresses, or updates the one that has them.
pub async fn save_contact(
    core: &Core,
    key: &ApiKey,
    input: ContactInput,
    idem: Option<Idem>,
) -> Result<std::result::Result<Written<ContactOutcome>, ProfileRefused>> {
    let profile_id = match profile_for(core, key, input.profile.as_deref(), &input.points).await? {
        Ok(id) => id,
        Err(r) => return Ok(Err(r)),
    };
    let unit = SaveContact {
        key_id: key.id,
        actor: actor_of(key),
        meta: crate::store::writer::ChangeMeta {
            actor_kind: ActorKind::ApiKey,
            actor_id: Some(key.visible_id()),
            source: Source::Api,
            change_id: super::consent::new_change_id(),
            form_version: None,
            language: None,
            request_id: None,
            confirmation: None,
            evidence: Default::default(),
        },
        idem,
        profile_id,
        input,
        secret: core.secret.clone(),
    };
    Ok(Ok(core.writer.run(unit, Priority::Interactive).await?))
}

// ---------------------------------------------------------------------------------------------
// Consent from the caller's own forms.

/// One change asked for, by keys.
#[derive(Debug, Clone)]
pub struct ChangeInput {
    pub purpose: String,
    pub topic: Option<String>,
    pub channel: Channel,
    pub opt_in: bool,
}

/// Consent collected by the caller, parsed at the edge.
#[derive(Debug, Clone)]
pub struct ConsentInput {
    pub point: (PointKind, String),
    pub profile: Option<String>,
    pub changes: Vec<ChangeInput>,
    /// Where the caller collected it: its form's name.
    pub source: String,
    pub form_url: Option<String>,
    /// When the person gave it (stored time format), as the caller says.
    pub captured_at: Option<String>,
    /// The person's address and browser, as the caller says.
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
    /// The caller confirmed the opt-ins itself (its own double opt-in).
    pub confirmed: bool,
    pub locale: Option<Lang>,
}

/// Why consent cannot be recorded as asked (before anything is written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentRefused {
    Profile(ProfileRefused),
    /// A change names no purpose or topic of the profile (index, field).
    Unknown(usize, &'static str),
    /// The purpose does not use the channel, or the address cannot receive on it.
    Channel(usize),
    /// A mandatory purpose cannot be left.
    Mandatory(usize),
    /// An opt-in for a phone number needs the caller's trusted confirmation: this server
    /// confirms by email only.
    NeedsConfirmation(usize),
}

/// One recorded change, by keys.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordedChange {
    pub purpose: String,
    pub topic: Option<String>,
    pub channel: String,
    /// The value now: opted_in, opted_out, or pending (waiting for the confirmation email).
    pub value: String,
    /// The ledger record, when this call wrote one (a repeat of a state writes none).
    pub record: Option<i64>,
}

/// What recording consent did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentOutcome {
    Recorded {
        created: bool,
        changes: Vec<RecordedChange>,
        /// email_queued, joined_recent (a confirmation email sent moments ago covers them), or
        /// none.
        confirmation: String,
        /// The opt-ins were recorded as confirmed on the caller's word.
        trusted: bool,
    },
    Refused(Refusal),
}

struct RecordConsent {
    key_id: i64,
    idem: Option<Idem>,
    profile_id: i64,
    point: (PointKind, String),
    /// Applied at once (opt-outs, and trusted opt-ins).
    now: Vec<Desired>,
    /// Sent to double opt-in.
    wanted: Vec<(Subject, Channel)>,
    /// Every change asked for, by keys, in order, with its subject.
    asked: Vec<(Subject, Channel, String, Option<String>)>,
    meta: ChangeMeta,
    lang: Lang,
    settings: AskSettings,
    trusted: bool,
    new_level: ConsentLevel,
    secret: Arc<[u8]>,
}

impl Unit for RecordConsent {
    type Output = Written<ConsentOutcome>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, db::Result<Self::Output>> {
        Box::pin(async move {
            if let Some(w) = repeated(tx, self.key_id, self.idem.as_ref()).await? {
                return Ok(w);
            }
            let new = NewContact {
                name: None,
                profile_id: self.profile_id,
                locale: Some(self.lang.code()),
                level: self.new_level,
                is_child: false,
            };
            let points = [self.point.clone()];
            let (outcome, contact) =
                match find_or_create(tx, &self.secret, self.profile_id, &points, &new).await? {
                    Err(r) => (ConsentOutcome::Refused(r), None),
                    Ok((contact, cps, created)) => {
                        let cp = cps[0];
                        let unit = RequestOptIn {
                            cp,
                            wanted: self.wanted.clone(),
                            other: self.now.iter().map(|d| (cp, *d)).collect(),
                            meta: self.meta.clone(),
                            lang: self.lang,
                            settings: self.settings.clone(),
                        };
                        let done = unit.apply(tx).await?;
                        let mut changes = Vec::with_capacity(self.asked.len());
                        for (subject, channel, purpose, topic) in &self.asked {
                            let record = done
                                .applied
                                .records
                                .iter()
                                .find(|r| r.subject == *subject && r.channel == *channel);
                            let value = match record {
                                Some(r) => r.new_value,
                                None => tx
                                    .state(cp, *subject, *channel)
                                    .await?
                                    .map(|s| s.value)
                                    .unwrap_or_default(),
                            };
                            changes.push(RecordedChange {
                                purpose: purpose.clone(),
                                topic: topic.clone(),
                                channel: channel.as_str().to_owned(),
                                value: value.as_str().to_owned(),
                                record: record.map(|r| r.seq),
                            });
                        }
                        let confirmation = match done.asked {
                            super::optin::Asked::EmailQueued => "email_queued",
                            super::optin::Asked::JoinedRecent => "joined_recent",
                            super::optin::Asked::Nothing => "none",
                        };
                        (
                            ConsentOutcome::Recorded {
                                created,
                                changes,
                                confirmation: confirmation.to_owned(),
                                trusted: self.trusted,
                            },
                            Some(contact),
                        )
                    }
                };
            keep(tx, self.key_id, self.idem.as_ref(), &outcome, contact).await?;
            Ok(Written::Fresh(outcome))
        })
    }
}

/// The changes by subject, checked against the profile's catalogue.
fn subjects(
    cat: &Catalog,
    input: &ConsentInput,
) -> std::result::Result<Vec<(Subject, Channel, bool)>, ConsentRefused> {
    let mut out = Vec::with_capacity(input.changes.len());
    for (i, c) in input.changes.iter().enumerate() {
        let p = cat
            .purposes
            .iter()
            .find(|p| p.key == c.purpose && !p.retired)
            .ok_or(ConsentRefused::Unknown(i, "purpose"))?;
        let subject = match &c.topic {
            None => Subject::Purpose(p.id),
            Some(t) => Subject::Topic(
                cat.topics_of(p.id)
                    .find(|x| &x.key == t && !x.retired)
                    .ok_or(ConsentRefused::Unknown(i, "topic"))?
                    .id,
            ),
        };
        if !p.channels.contains(&c.channel) || c.channel.point_kind() != input.point.0 {
            return Err(ConsentRefused::Channel(i));
        }
        if p.mandatory {
            return Err(ConsentRefused::Mandatory(i));
        }
        out.push((subject, c.channel, c.opt_in));
    }
    Ok(out)
}

/// The evidence of consent the caller collected: what it says, said as its word.
fn evidence_words(key: &ApiKey, input: &ConsentInput, trusted: bool) -> String {
    let mut s = format!("Collected on “{}”", input.source);
    if let Some(u) = &input.form_url {
        s.push_str(&format!(" ({u})"));
    }
    if let Some(t) = &input.captured_at {
        s.push_str(&format!(", at {t}"));
    }
    s.push_str(&format!(
        ", as reported by API key {} ({})",
        key.visible_id(),
        key.name
    ));
    if trusted {
        s.push_str("; the caller confirmed the opt-ins with its own double opt-in, which the profile trusts");
    }
    s.push('.');
    s
}

/// Records consent the caller collected: opt-outs at once; opt-ins confirmed by this server's
/// email, or on the caller's word where the profile trusts it.
pub async fn record_consent(
    core: &Core,
    key: &ApiKey,
    input: ConsentInput,
    idem: Option<Idem>,
) -> Result<std::result::Result<Written<ConsentOutcome>, ConsentRefused>> {
    let points = [input.point.clone()];
    let profile_id = match profile_for(core, key, input.profile.as_deref(), &points).await? {
        Ok(id) => id,
        Err(r) => return Ok(Err(ConsentRefused::Profile(r))),
    };
    let cat = core.catalog(profile_id).await?;
    let changes = match subjects(&cat, &input) {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    let trusted =
        input.confirmed && cat.profile.trust_api_confirmation && changes.iter().any(|c| c.2);
    let mut now = Vec::new();
    let mut wanted = Vec::new();
    for (i, &(subject, channel, opt_in)) in changes.iter().enumerate() {
        if !opt_in {
            now.push(desired(subject, channel, ConsentValue::OptedOut));
        } else if trusted {
            now.push(desired(subject, channel, ConsentValue::OptedIn));
        } else if input.point.0 == PointKind::Email {
            wanted.push((subject, channel));
        } else {
            return Ok(Err(ConsentRefused::NeedsConfirmation(i)));
        }
    }
    let lang = input
        .locale
        .or_else(|| Lang::parse(&cat.profile.default_locale))
        .unwrap_or_default();
    let ua = input
        .user_agent
        .as_deref()
        .filter(|_| core.policy.keep_user_agent)
        .map(|u| u.chars().take(256).collect());
    let meta = ChangeMeta {
        actor_kind: ActorKind::ApiKey,
        actor_id: Some(key.visible_id()),
        source: Source::Api,
        change_id: super::consent::new_change_id(),
        form_version: None,
        language: Some(lang.code().to_owned()),
        request_id: None,
        confirmation: None,
        evidence: Evidence {
            justification: Some(evidence_words(key, &input, trusted)),
            ip: input
                .ip
                .and_then(|ip| super::consent::truncate_ip(ip, core.policy.ip_evidence)),
            user_agent: ua,
            salt: None,
        },
    };
    let asked = input
        .changes
        .iter()
        .zip(&changes)
        .map(|(c, (s, ch, _))| (*s, *ch, c.purpose.clone(), c.topic.clone()))
        .collect();
    let unit = RecordConsent {
        key_id: key.id,
        idem,
        profile_id,
        point: input.point.clone(),
        new_level: if wanted.is_empty() && !trusted {
            ConsentLevel::UNKNOWN
        } else {
            // Asking for subscriptions is consent to be contacted about them (as the sign-up
            // form's contacts).
            ConsentLevel::SUBSCRIPTIONS
        },
        now,
        wanted,
        asked,
        meta,
        lang,
        settings: AskSettings::from(core, &cat.profile),
        trusted,
        secret: core.secret.clone(),
    };
    Ok(Ok(core.writer.run(unit, Priority::Interactive).await?))
}
