//! The staff desk's use cases: find a contact, and see one whole: its addresses and facts,
//! and for every purpose and topic on every channel its state, the decision with its reason
//! (the domain's, through [`super::consent::matrix`]) and when and how it last changed.

use super::consent::Result;
use super::Core;
use crate::domain::search::Query;
use crate::domain::{ActorKind, Channel, ConsentValue, ContactFacts, PointKind, Reason, Source};
use crate::store::desk::{self, Card, LastChange};

/// Console users by the id the ledger and the logs name them with (`user:{id}`): a staff
/// actor's address, while the user exists.
pub(crate) struct StaffNames(Vec<(String, String)>);

impl StaffNames {
    pub(crate) async fn load(core: &Core) -> Result<StaffNames> {
        Ok(StaffNames(
            crate::store::users::all(&core.read)
                .await?
                .into_iter()
                .map(|u| (format!("user:{}", u.id), u.email))
                .collect(),
        ))
    }

    pub(crate) fn none() -> StaffNames {
        StaffNames(Vec::new())
    }

    /// The address of `user:{id}`, or "a former user".
    pub(crate) fn name(&self, actor_id: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == actor_id)
            .map(|(_, e)| e.clone())
            .unwrap_or_else(|| "a former user".to_owned())
    }
}

/// The most contacts a search lists.
pub const MAX_FOUND: i64 = 50;

/// A contact as a search lists it.
#[derive(Debug, Clone)]
pub struct FoundContact {
    pub id: i64,
    pub profile: String,
    pub name: Option<String>,
    pub points: Vec<(PointKind, String)>,
    pub erased: bool,
    pub created_at: String,
}

/// The contacts whose name, email address or phone number has words starting with the
/// query's (case and accents aside).
/// `.1`: only part of the matches were looked at (more typing finds the rest).
pub async fn search(core: &Core, q: &Query) -> Result<(Vec<FoundContact>, bool)> {
    let desk::Search { found, partial } = desk::search(&core.read, &q.words, MAX_FOUND).await?;
    let profiles = super::setup::profiles(core).await?;
    let found = found
        .into_iter()
        .map(|f| FoundContact {
            id: f.contact_id,
            profile: profiles
                .iter()
                .find(|p| p.id == f.profile_id)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            name: f.name,
            points: f.points,
            erased: f.erased,
            created_at: f.created_at,
        })
        .collect();
    Ok((found, partial))
}

/// One purpose or topic on one channel of a contact point, as the contact page shows it.
#[derive(Debug, Clone)]
pub struct Row {
    /// The topic, or the purpose of a purpose without topics (what a change names).
    pub subject: crate::domain::Subject,
    pub purpose: String,
    pub topic: Option<String>,
    pub mandatory: bool,
    pub channel: Channel,
    pub value: ConsentValue,
    pub allowed: bool,
    pub reason: Reason,
    /// The record the state rests on: when, how, by whom.
    pub last: Option<LastChange>,
    /// The staff user who recorded it (their email), when staff did.
    pub by: Option<String>,
}

/// A contact point and its rows.
#[derive(Debug, Clone)]
pub struct PointRows {
    pub id: i64,
    pub kind: PointKind,
    pub address: Option<String>,
    pub rows: Vec<Row>,
}

/// A contact whole.
#[derive(Debug, Clone)]
pub struct ContactPage {
    pub card: Card,
    /// The moment it shows, when not now.
    pub at: Option<String>,
    pub profile: String,
    pub points: Vec<PointRows>,
}

/// The contact with this id, with every purpose's and topic's state and decision on each of
/// its points' channels.
pub async fn contact(core: &Core, id: i64, at: Option<&str>) -> Result<Option<ContactPage>> {
    let Some(mut card) = desk::card(&core.read, id).await? else {
        return Ok(None);
    };
    let cat = match at {
        None => core.catalog(card.profile_id).await?,
        Some(at) => {
            // The states and definitions as they stood then, from the ledger.
            let ids: Vec<i64> = card.points.iter().map(|p| p.id).collect();
            card.states = desk::states_as_of(&core.read, &ids, at).await?;
            let seqs: Vec<i64> = card.states.iter().map(|s| s.entry.record).collect();
            card.changes = desk::changes_of(&core.read, &seqs).await?;
            if card.erased_at.as_deref().is_some_and(|e| e > at) {
                card.erased_at = None;
            }
            match crate::store::catalog::load_as_of(&core.read, card.profile_id, at).await? {
                Some(c) => std::sync::Arc::new(c),
                None => return Ok(None),
            }
        }
    };
    // Staff are named by their user id in the ledger; their address is the users table's.
    let staff = if card
        .changes
        .iter()
        .any(|l| l.actor_kind == ActorKind::Staff)
    {
        StaffNames::load(core).await?
    } else {
        StaffNames::none()
    };
    let facts = ContactFacts {
        level: card.level,
        is_child: card.is_child,
        erased: card.erased_at.is_some(),
    };
    let staff = &staff;
    let points = card
        .points
        .iter()
        .map(|p| {
            let state = |s, ch| {
                card.states
                    .iter()
                    .find(|r| r.contact_point_id == p.id && r.subject == s && r.channel == ch)
                    .map(|r| r.entry)
            };
            let rows = super::consent::matrix(&cat, facts, |ch| ch.point_kind() == p.kind, state)
                .into_iter()
                .map(|c| {
                    let own = c.own;
                    let last =
                        own.and_then(|s| card.changes.iter().find(|l| l.seq == s.record).cloned());
                    let by = last
                        .as_ref()
                        .filter(|l| l.actor_kind == ActorKind::Staff)
                        .and_then(|l| l.actor_id.as_deref())
                        .map(|id| staff.name(id));
                    Row {
                        subject: match c.topic {
                            Some(t) => crate::domain::Subject::Topic(t.id),
                            None => crate::domain::Subject::Purpose(c.purpose.id),
                        },
                        purpose: c.purpose.name.clone(),
                        topic: c.topic.map(|t| t.name.clone()),
                        mandatory: c.purpose.mandatory,
                        channel: c.channel,
                        value: own.map(|s| s.value).unwrap_or_default(),
                        allowed: c.decision.allowed,
                        reason: c.decision.reason,
                        last,
                        by,
                    }
                })
                .collect();
            PointRows {
                id: p.id,
                kind: p.kind,
                address: p.address.clone(),
                rows,
            }
        })
        .collect();
    Ok(Some(ContactPage {
        profile: cat.profile.name.clone(),
        card,
        points,
        at: at.map(str::to_owned),
    }))
}

/// How a change came, in words (the desk's "last changed" column).
pub fn how(source: Source, actor: ActorKind) -> &'static str {
    match (source, actor) {
        (Source::OneClick, _) => "one-click unsubscribe",
        (Source::Page, _) => "the contact’s pages",
        (Source::DoubleOptIn, _) => "confirmed by email",
        (Source::Phone, _) => "by phone, recorded by staff",
        (Source::InPerson, _) => "in person, recorded by staff",
        (Source::Paper, _) => "on paper, entered by staff",
        (Source::Import, _) => "import",
        (Source::Api, _) => "a sending system (API)",
        (Source::System, ActorKind::Staff) => "staff",
        (Source::System, _) => "the system",
    }
}

/// What the mail worker needs to write the notice of a staff-recorded change, read when it
/// sends.
pub struct NoticeMail {
    pub to: crate::domain::parse::EmailAddress,
    pub catalog: std::sync::Arc<crate::store::catalog::Catalog>,
    pub lang: crate::domain::parse::Lang,
    pub told: crate::domain::staff::Told,
    /// Each recorded item and whether it is now subscribed.
    pub items: Vec<(crate::views::ConfirmItem, bool)>,
    /// What was recorded of the profile, worded in the contact's language.
    pub facts: Vec<String>,
    pub center_url: String,
}

/// A profile change as one line of the notice, in the contact's language (a custodian named
/// by the masked address).
async fn fact_line(
    core: &Core,
    lang: crate::domain::parse::Lang,
    c: &desk::ProfileChange,
) -> Result<String> {
    use crate::domain::ProfileFact;
    use crate::i18n::message;
    let yes = c.new_value.as_deref() == Some("yes");
    Ok(match c.fact {
        ProfileFact::ConsentLevel => message(
            lang,
            "notice_level",
            &[
                ("from", c.old_value.as_deref().unwrap_or("0")),
                ("to", c.new_value.as_deref().unwrap_or("0")),
            ],
        ),
        ProfileFact::Child if yes => message(lang, "notice_child_on", &[]),
        ProfileFact::Child => message(lang, "notice_child_off", &[]),
        ProfileFact::Tracking if yes => message(lang, "notice_tracking_on", &[]),
        ProfileFact::Tracking => message(lang, "notice_tracking_off", &[]),
        ProfileFact::Custodian => {
            let custodian = match c.new_value.as_deref().and_then(|v| v.parse().ok()) {
                Some(id) => desk::email_of(&core.read, id).await?,
                None => None,
            };
            match custodian
                .as_deref()
                .and_then(|a| crate::domain::parse::EmailAddress::parse(a).ok())
            {
                Some(a) => message(lang, "notice_custodian", &[("address", &a.masked())]),
                None => message(lang, "notice_custodian_removed", &[]),
            }
        }
    })
}

/// Reads what the notice of change `change_id` shows, sent to email point `cp`; `None` when
/// the address is gone or the change recorded nothing to tell.
pub async fn notice_mail(core: &Core, cp: i64, change_id: &str) -> Result<Option<NoticeMail>> {
    use crate::domain::link::{self, LinkClaims};
    use crate::domain::parse::EmailAddress;
    use crate::domain::staff::Told;
    use crate::store::{contacts, ledger};
    let Some(owner) = contacts::point_owner(&core.read, cp).await? else {
        return Ok(None);
    };
    let Some(to) = owner
        .address
        .as_deref()
        .and_then(|a| EmailAddress::parse(a).ok())
    else {
        return Ok(None);
    };
    if owner.suppressed {
        return Ok(None);
    }
    let Some(found) = contacts::addressed(&core.read, PointKind::Email, to.as_str(), None).await?
    else {
        return Ok(None);
    };
    let catalog = core.catalog(owner.profile_id).await?;
    let lang = super::consent::contact_lang(owner.locale.as_deref(), &catalog);
    let records = ledger::by_change(&core.read, change_id, owner.contact_id).await?;
    let mut told = Told::Phone;
    let mut items = Vec::new();
    for r in &records {
        told = match r.source {
            Source::InPerson => Told::InPerson,
            Source::Paper => Told::Paper,
            _ => Told::Phone,
        };
        let on = match r.new_value {
            ConsentValue::OptedIn => true,
            ConsentValue::OptedOut => false,
            _ => continue,
        };
        items.push((
            crate::views::ConfirmItem {
                field: String::new(),
                name: super::optin::describe(&catalog, r.subject, lang),
                channel: r.channel,
            },
            on,
        ));
    }
    let changes = desk::profile_changes(&core.read, owner.contact_id, Some(change_id)).await?;
    let mut facts = Vec::with_capacity(changes.len());
    for c in changes.iter().rev() {
        told = match c.source {
            Source::InPerson => Told::InPerson,
            Source::Paper => Told::Paper,
            _ => Told::Phone,
        };
        facts.push(fact_line(core, lang, c).await?);
    }
    if items.is_empty() && facts.is_empty() {
        return Ok(None);
    }
    let key = core.minting_key().await?;
    let claims = LinkClaims {
        contact_point_id: found.contact_point_id,
        generation: u32::try_from(found.link_generation).unwrap_or(u32::MAX),
        subject: None,
        expires: link::expiry(core.clock.now().unix_timestamp(), core.policy.link_ttl_days),
    };
    Ok(Some(NoticeMail {
        to,
        catalog,
        lang,
        told,
        items,
        facts,
        center_url: format!("{}/p/{}", core.policy.base_url, key.mint(&claims)),
    }))
}

// ---------------------------------------------------------------------------------------------
// A change staff record: consent given by phone, in person or on paper.

/// One item of one contact point, as the desk's form names it (parsed at the edge).
#[derive(Debug, Clone)]
pub struct StaffChange {
    pub contact_id: i64,
    pub point_id: i64,
    pub subject: crate::domain::Subject,
    pub channel: Channel,
    pub opt_in: bool,
    pub told: crate::domain::staff::Told,
    pub why: crate::domain::staff::Justified,
}

/// Why the desk cannot record a change as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffRefused {
    NoContact,
    Erased,
    /// Not a purpose or topic in use on that point's channel, or a service purpose.
    Item,
    /// An opt-in on a phone channel needs the profile to trust staff opt-ins: this server
    /// confirms by email only.
    NeedsTrust,
}

/// What recording did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffOutcome {
    /// Recorded; the contact is emailed the notice (`false`: no email address to tell).
    Recorded { noticed: bool },
    /// An opt-in the profile does not trust from staff: the contact was sent the
    /// confirmation email, and is subscribed once they confirm.
    Asked,
    /// Already so: nothing written.
    Unchanged,
}

struct StaffRecord {
    request: super::optin::RequestOptIn,
    /// The email point told of the change.
    notice_to: Option<i64>,
}

impl crate::store::writer::Unit for StaffRecord {
    type Output = StaffOutcome;
    fn apply<'a>(
        &'a self,
        tx: &'a mut crate::store::writer::Tx,
    ) -> futures_util::future::BoxFuture<'a, crate::store::Result<StaffOutcome>> {
        Box::pin(async move {
            let done = self.request.apply(tx).await?;
            let told = done
                .applied
                .records
                .iter()
                .any(|r| matches!(r.new_value, ConsentValue::OptedIn | ConsentValue::OptedOut));
            if told {
                if let Some(cp) = self.notice_to {
                    let id = super::optin::new_message_id(&self.request.settings.base_url);
                    crate::store::outbox::enqueue_notice(tx, cp, &done.applied.change_id, &id)
                        .await?;
                }
                return Ok(StaffOutcome::Recorded {
                    noticed: self.notice_to.is_some(),
                });
            }
            Ok(match done.asked {
                super::optin::Asked::Nothing => StaffOutcome::Unchanged,
                _ => StaffOutcome::Asked,
            })
        })
    }
}

/// Records a change staff took: an opt-out at once; an opt-in at once when the profile
/// trusts staff opt-ins, else through the contact's double opt-in. Every record names the
/// staff user as actor, how consent reached them, and keeps the justification as evidence;
/// the contact is emailed what was recorded, with a link to correct it.
pub async fn record(
    core: &Core,
    staff: &crate::store::users::User,
    c: StaffChange,
) -> Result<std::result::Result<StaffOutcome, StaffRefused>> {
    use crate::domain::ledger::Evidence;
    use crate::domain::Subject;
    use crate::store::writer::{ChangeMeta, Priority};
    let Some(card) = desk::card(&core.read, c.contact_id).await? else {
        return Ok(Err(StaffRefused::NoContact));
    };
    if card.erased_at.is_some() {
        return Ok(Err(StaffRefused::Erased));
    }
    let Some(point) = card
        .points
        .iter()
        .find(|p| p.id == c.point_id && p.address.is_some())
    else {
        return Ok(Err(StaffRefused::NoContact));
    };
    let cat = core.catalog(card.profile_id).await?;
    let purpose = match c.subject {
        Subject::Purpose(id) => cat.purpose(id),
        Subject::Topic(id) => cat
            .topic(id)
            .filter(|t| !t.retired)
            .and_then(|t| cat.purpose(t.purpose_id)),
        Subject::Profile(_) | Subject::Erasure => None,
    };
    let Some(purpose) = purpose.filter(|p| !p.retired && !p.mandatory) else {
        return Ok(Err(StaffRefused::Item));
    };
    if !purpose.channels.contains(&c.channel) || c.channel.point_kind() != point.kind {
        return Ok(Err(StaffRefused::Item));
    }
    // A child's opt-in is never taken on staff's word: the custodian confirms it.
    let trusted = cat.profile.trust_staff_opt_ins && !card.is_child;
    let (mut wanted, mut other) = (Vec::new(), Vec::new());
    if !c.opt_in {
        other.push((
            point.id,
            super::optin::desired(c.subject, c.channel, ConsentValue::OptedOut),
        ));
    } else if trusted {
        other.push((
            point.id,
            super::optin::desired(c.subject, c.channel, ConsentValue::OptedIn),
        ));
    } else if point.kind == PointKind::Email {
        wanted.push((c.subject, c.channel));
    } else {
        return Ok(Err(StaffRefused::NeedsTrust));
    }
    let lang = super::consent::contact_lang(card.locale.as_deref(), &cat);
    let meta = ChangeMeta {
        actor_kind: ActorKind::Staff,
        actor_id: Some(format!("user:{}", staff.id)),
        source: c.told.source(),
        change_id: super::consent::new_change_id(),
        form_version: None,
        language: Some(lang.code().to_owned()),
        request_id: None,
        confirmation: None,
        evidence: Evidence {
            justification: Some(c.why.evidence_words(c.told, &staff.email)),
            ip: None,
            user_agent: None,
            salt: None,
        },
    };
    // The change is told to the contact's (first live) email address.
    let notice_to = card
        .points
        .iter()
        .find(|p| p.kind == PointKind::Email && p.address.is_some())
        .map(|p| p.id);
    // The opt-in's confirmation goes to the point itself (an email point, checked above).
    let unit = StaffRecord {
        request: super::optin::RequestOptIn {
            cp: point.id,
            wanted,
            other,
            meta,
            lang,
            settings: super::optin::AskSettings::from(core, &cat.profile),
        },
        notice_to,
    };
    Ok(Ok(core.writer.run(unit, Priority::Interactive).await?))
}

// ---------------------------------------------------------------------------------------------
// The contact's profile: consent level, child and custodian, tracking.

/// A change of a contact's profile staff record (parsed at the edge).
#[derive(Debug, Clone)]
pub struct ProfileEdit {
    pub contact_id: i64,
    pub level: crate::domain::ConsentLevel,
    pub child: bool,
    pub tracking: bool,
    /// A child's custodian, by email address (created as a contact when new).
    pub custodian: Option<crate::domain::parse::EmailAddress>,
    pub told: crate::domain::staff::Told,
    pub why: crate::domain::staff::Justified,
}

/// Why a profile change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileRefused {
    NoContact,
    Erased,
    /// The custodian's address is the contact's own.
    CustodianIsContact,
    /// The custodian's address was erased: it may not be used again.
    CustodianErased,
}

/// What a profile change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileOutcome {
    /// Changed; `custodian_asked`: the custodian was emailed to confirm the child's opt-ins.
    Changed {
        custodian_asked: bool,
    },
    Unchanged,
}

struct ProfileUnit {
    edit: ProfileEdit,
    meta: crate::store::writer::ChangeMeta,
    lang: crate::domain::parse::Lang,
    settings: super::optin::AskSettings,
    secret: std::sync::Arc<[u8]>,
    /// The email point told of the change.
    notice_to: Option<i64>,
}

impl crate::store::writer::Unit for ProfileUnit {
    type Output = std::result::Result<ProfileOutcome, ProfileRefused>;
    fn apply<'a>(
        &'a self,
        tx: &'a mut crate::store::writer::Tx,
    ) -> futures_util::future::BoxFuture<'a, crate::store::Result<Self::Output>> {
        use crate::store::contacts;
        Box::pin(async move {
            let e = &self.edit;
            let Some((profile_id, before, erased)) = desk::profile_facts(tx, e.contact_id).await?
            else {
                return Ok(Err(ProfileRefused::NoContact));
            };
            if erased {
                return Ok(Err(ProfileRefused::Erased));
            }
            let custodian = match e.custodian.as_ref().filter(|_| e.child) {
                None => None,
                Some(a) => {
                    match contacts::point_by_address(tx, PointKind::Email, a.as_str()).await? {
                        Some(o) if o.contact_id == e.contact_id => {
                            return Ok(Err(ProfileRefused::CustodianIsContact))
                        }
                        Some(o) if o.suppressed || o.address.is_none() => {
                            return Ok(Err(ProfileRefused::CustodianErased))
                        }
                        Some(o) => Some(o.contact_id),
                        None => {
                            if crate::store::erasure::suppressed(
                                tx,
                                &self.secret,
                                PointKind::Email,
                                a.as_str(),
                            )
                            .await?
                            .is_some()
                            {
                                return Ok(Err(ProfileRefused::CustodianErased));
                            }
                            let cp = contacts::create_contact_with_point(
                                tx,
                                &contacts::NewContact {
                                    profile_id,
                                    name: None,
                                    locale: Some(self.lang.code()),
                                    level: crate::domain::ConsentLevel::CONTACT,
                                    is_child: false,
                                },
                                PointKind::Email,
                                a.as_str(),
                            )
                            .await?;
                            contacts::point_owner_tx(tx, cp)
                                .await?
                                .map(|o| o.contact_id)
                        }
                    }
                }
            };
            let after = desk::ProfileFacts {
                level: e.level,
                child: e.child,
                custodian,
                tracking: e.tracking,
            };
            let changed = desk::set_profile(tx, e.contact_id, (before, after), &self.meta).await?;
            if changed.is_empty() {
                return Ok(Ok(ProfileOutcome::Unchanged));
            }
            // The contact is told what was recorded (at their first live email address).
            if let Some(cp) = self.notice_to {
                let id = super::optin::new_message_id(&self.settings.base_url);
                crate::store::outbox::enqueue_notice(tx, cp, &self.meta.change_id, &id).await?;
            }
            // A custodian newly recorded for a child is asked to confirm what the child opted
            // in to (until then the decision denies it).
            let mut custodian_asked = false;
            if after.child && after.custodian.is_some() && after.custodian != before.custodian {
                let items = desk::unconfirmed_opt_ins(tx, e.contact_id).await?;
                let mut points: Vec<i64> = items.iter().map(|i| i.0).collect();
                points.dedup();
                for cp in points {
                    let wanted = items
                        .iter()
                        .filter(|i| i.0 == cp)
                        .map(|i| (i.1, i.2))
                        .collect();
                    let ask = super::optin::RequestOptIn {
                        cp,
                        wanted,
                        other: Vec::new(),
                        meta: self.meta.clone(),
                        lang: self.lang,
                        settings: self.settings.clone(),
                    };
                    let done = ask.apply(tx).await?;
                    custodian_asked |= done.asked != super::optin::Asked::Nothing;
                }
            }
            Ok(Ok(ProfileOutcome::Changed { custodian_asked }))
        })
    }
}

/// Records a change of a contact's profile that staff took (consent level, child and
/// custodian, tracking), with how they were told and why; a newly recorded custodian of a
/// child is emailed to confirm the child's opt-ins.
pub async fn change_profile(
    core: &Core,
    staff: &crate::store::users::User,
    edit: ProfileEdit,
) -> Result<std::result::Result<ProfileOutcome, ProfileRefused>> {
    use crate::domain::ledger::Evidence;
    use crate::store::writer::{ChangeMeta, Priority};
    let Some(card) = desk::card(&core.read, edit.contact_id).await? else {
        return Ok(Err(ProfileRefused::NoContact));
    };
    let cat = core.catalog(card.profile_id).await?;
    let lang = super::consent::contact_lang(card.locale.as_deref(), &cat);
    let justification = edit.why.evidence_words(edit.told, &staff.email);
    let meta = ChangeMeta {
        actor_kind: ActorKind::Staff,
        actor_id: Some(format!("user:{}", staff.id)),
        source: edit.told.source(),
        change_id: super::consent::new_change_id(),
        form_version: None,
        language: Some(lang.code().to_owned()),
        request_id: None,
        confirmation: None,
        evidence: Evidence {
            justification: Some(justification),
            ip: None,
            user_agent: None,
            salt: None,
        },
    };
    let unit = ProfileUnit {
        edit,
        meta,
        lang,
        settings: super::optin::AskSettings::from(core, &cat.profile),
        secret: core.secret.clone(),
        notice_to: card
            .points
            .iter()
            .find(|p| p.kind == PointKind::Email && p.address.is_some())
            .map(|p| p.id),
    };
    Ok(core.writer.run(unit, Priority::Interactive).await?)
}

/// The profile changes a database kept beside the ledger (schema 24) become ledger records:
/// run once at start (nothing to do after).
pub async fn move_kept_profile_changes(
    writer: &crate::store::writer::Writer,
) -> crate::store::Result<u64> {
    struct Move;
    impl crate::store::writer::Unit for Move {
        type Output = u64;
        fn apply<'a>(
            &'a self,
            tx: &'a mut crate::store::writer::Tx,
        ) -> futures_util::future::BoxFuture<'a, crate::store::Result<u64>> {
            Box::pin(desk::move_kept_profile_changes(tx))
        }
    }
    writer
        .run(Move, crate::store::writer::Priority::Interactive)
        .await
}

// ---------------------------------------------------------------------------------------------
// A contact added by hand.

/// A contact staff add by hand (parsed at the edge: the name cleaned, the email address
/// normalised with IDNA, the number in E.164).
#[derive(Debug, Clone)]
pub struct NewByHand {
    pub profile_id: i64,
    pub name: Option<String>,
    pub email: Option<crate::domain::parse::EmailAddress>,
    pub phone: Option<crate::domain::parse::PhoneNumber>,
    pub lang: Option<crate::domain::parse::Lang>,
}

/// Why a contact cannot be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddRefused {
    /// This address (`email` or `phone`) is a contact's already: that contact.
    Exists(&'static str, i64),
    /// This address was erased at its owner's request.
    Erased(&'static str),
}

struct AddContact {
    new: NewByHand,
    secret: std::sync::Arc<[u8]>,
}

impl crate::store::writer::Unit for AddContact {
    type Output = std::result::Result<i64, AddRefused>;
    fn apply<'a>(
        &'a self,
        tx: &'a mut crate::store::writer::Tx,
    ) -> futures_util::future::BoxFuture<'a, crate::store::Result<Self::Output>> {
        use crate::store::contacts;
        Box::pin(async move {
            let n = &self.new;
            let mut points = Vec::new();
            if let Some(e) = &n.email {
                points.push(("email", PointKind::Email, e.as_str().to_owned()));
            }
            if let Some(p) = &n.phone {
                points.push(("phone", PointKind::Phone, p.as_str().to_owned()));
            }
            for (field, kind, address) in &points {
                if let Some(o) = contacts::point_by_address(tx, *kind, address).await? {
                    return Ok(Err(AddRefused::Exists(field, o.contact_id)));
                }
                if crate::store::erasure::suppressed(tx, &self.secret, *kind, address)
                    .await?
                    .is_some()
                {
                    return Ok(Err(AddRefused::Erased(field)));
                }
            }
            let Some(((_, kind, address), rest)) = points.split_first() else {
                return Err(crate::store::StoreError::Missing("an address".into()));
            };
            let cp = contacts::create_contact_with_point(
                tx,
                &contacts::NewContact {
                    profile_id: n.profile_id,
                    name: n.name.as_deref(),
                    locale: n.lang.map(|l| l.code()),
                    // Known to the organization, nothing more: consent comes separately.
                    level: crate::domain::ConsentLevel::CONTACT,
                    is_child: false,
                },
                *kind,
                address,
            )
            .await?;
            let Some(owner) = contacts::point_owner_tx(tx, cp).await? else {
                return Err(crate::store::StoreError::Missing("the new contact".into()));
            };
            for (_, kind, address) in rest {
                contacts::add_point(tx, owner.contact_id, *kind, address).await?;
            }
            Ok(Ok(owner.contact_id))
        })
    }
}

/// Adds a contact by hand: the same normalisation and suppression check as every other way
/// in; no consent is recorded (staff record it next, with its justification).
pub async fn add_contact(
    core: &Core,
    new: NewByHand,
) -> Result<std::result::Result<i64, AddRefused>> {
    let unit = AddContact {
        new,
        secret: core.secret.clone(),
    };
    Ok(core
        .writer
        .run(unit, crate::store::writer::Priority::Interactive)
        .await?)
}

/// The profiles a contact can be added to: (id, name).
pub async fn profile_choices(core: &Core) -> Result<Vec<(i64, String)>> {
    Ok(super::setup::profiles(core)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

/// The custodian's email address, for the contact page's form.
pub async fn custodian_email(core: &Core, custodian: Option<i64>) -> Result<Option<String>> {
    match custodian {
        Some(id) => Ok(desk::email_of(&core.read, id).await?),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// The contact's history: every ledger record, newest first.

/// The most records a history page lists.
pub const HISTORY_PAGE: i64 = 100;

/// One record as the history lists it.
#[derive(Debug, Clone)]
pub struct HistoryLine {
    pub seq: i64,
    pub occurred_at: String,
    /// The purpose or topic's name (and its purpose's), the profile fact's, or "Erasure".
    pub what: String,
    pub address: String,
    pub channel: Channel,
    pub old_value: ConsentValue,
    pub new_value: ConsentValue,
    /// A profile record's values, in words (a custodian by address while it exists).
    pub fact: Option<(String, String)>,
    pub how: &'static str,
    pub who: String,
    pub change_id: String,
    pub justification: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A profile fact as the desk names it.
pub fn fact_label(f: crate::domain::ProfileFact) -> &'static str {
    use crate::domain::ProfileFact;
    match f {
        ProfileFact::ConsentLevel => "Consent level",
        ProfileFact::Child => "Child",
        ProfileFact::Custodian => "Custodian",
        ProfileFact::Tracking => "Tracking",
    }
}

/// A profile fact's value in words: a custodian by address (while it exists).
async fn fact_words(core: &Core, f: crate::domain::ProfileFact, v: Option<&str>) -> Result<String> {
    Ok(match (f, v) {
        (_, None) => "none".to_owned(),
        (crate::domain::ProfileFact::Custodian, Some(id)) => {
            let email = match id.parse() {
                Ok(id) => desk::email_of(&core.read, id).await?,
                Err(_) => None,
            };
            email.unwrap_or_else(|| format!("contact {id}"))
        }
        (_, Some(v)) => v.to_owned(),
    })
}

/// What the history's filter can name: the profile's purposes and topics, and the facts of the
/// contact's profile (key for the form, name to show).
pub fn subjects(cat: &crate::store::catalog::Catalog) -> Vec<(crate::domain::Subject, String)> {
    let mut out = Vec::new();
    for p in &cat.purposes {
        out.push((crate::domain::Subject::Purpose(p.id), p.name.clone()));
        for t in cat.topics_of(p.id) {
            out.push((
                crate::domain::Subject::Topic(t.id),
                format!("{} › {}", p.name, t.name),
            ));
        }
    }
    for f in crate::domain::ProfileFact::ALL {
        out.push((
            crate::domain::Subject::Profile(f),
            format!("Profile › {}", fact_label(f)),
        ));
    }
    out
}

/// The contact's records under `filter`, newest first, with names and who made each; and the
/// purposes and topics the filter offers. `None`: no such contact.
pub async fn history(
    core: &Core,
    id: i64,
    filter: &desk::HistoryFilter,
) -> Result<
    Option<(
        Card,
        Vec<HistoryLine>,
        Vec<(crate::domain::Subject, String)>,
    )>,
> {
    let Some(card) = desk::card(&core.read, id).await? else {
        return Ok(None);
    };
    let cat = core.catalog(card.profile_id).await?;
    let rows = desk::history(&core.read, id, filter, HISTORY_PAGE).await?;
    let users = if rows.iter().any(|r| r.actor_kind == ActorKind::Staff) {
        crate::store::users::all(&core.read).await?
    } else {
        Vec::new()
    };
    let names = subjects(&cat);
    let mut facts = Vec::new();
    for r in &rows {
        facts.push(match (r.subject, &r.fact) {
            (crate::domain::Subject::Profile(f), Some(v)) => Some((
                fact_words(core, f, v.old.as_deref()).await?,
                fact_words(core, f, v.new.as_deref()).await?,
            )),
            _ => None,
        });
    }
    let lines = rows
        .into_iter()
        .zip(facts)
        .map(|(r, fact)| {
            let what = match r.subject {
                crate::domain::Subject::Erasure => "Erasure".to_owned(),
                crate::domain::Subject::Profile(f) => fact_label(f).to_owned(),
                s => names
                    .iter()
                    .find(|(x, _)| *x == s)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_else(|| "—".to_owned()),
            };
            let address = card
                .points
                .iter()
                .find(|p| p.id == r.contact_point_id)
                .and_then(|p| p.address.clone())
                .unwrap_or_else(|| "erased address".to_owned());
            let who = match r.actor_kind {
                ActorKind::Staff => r
                    .actor_id
                    .as_deref()
                    .and_then(|a| a.strip_prefix("user:"))
                    .and_then(|n| n.parse::<i64>().ok())
                    .and_then(|n| users.iter().find(|u| u.id == n))
                    .map(|u| u.email.clone())
                    .unwrap_or_else(|| "a former user".to_owned()),
                ActorKind::ApiKey => {
                    format!("API key {}", r.actor_id.as_deref().unwrap_or("(unknown)"))
                }
                ActorKind::Contact => "the contact".to_owned(),
                ActorKind::Custodian => "the custodian".to_owned(),
                ActorKind::OneClick => "the contact (one click)".to_owned(),
                ActorKind::Import => "an import".to_owned(),
                ActorKind::System => "the system".to_owned(),
            };
            HistoryLine {
                seq: r.seq,
                occurred_at: r.occurred_at,
                what,
                address,
                channel: r.channel,
                old_value: r.old_value,
                new_value: r.new_value,
                fact,
                how: how(r.source, r.actor_kind),
                who,
                change_id: r.change_id,
                justification: r.justification,
                ip: r.ip,
                user_agent: r.user_agent,
            }
        })
        .collect();
    Ok(Some((card, lines, names)))
}

/// A moment typed on the desk (`2026-11-20T10:30`, seconds optional, UTC; or a day, meaning
/// its end) in the stored format; `None` when it is not one.
pub fn moment(input: &str) -> Option<String> {
    let s = input.trim();
    let day = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &day) {
        let end = d.next_day()?.midnight().assume_utc() - time::Duration::microseconds(1);
        return Some(crate::store::format_time(end));
    }
    let minute = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let second = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let t = time::PrimitiveDateTime::parse(s, &second)
        .or_else(|_| time::PrimitiveDateTime::parse(s, &minute))
        .ok()?;
    Some(crate::store::format_time(t.assume_utc()))
}

// ---------------------------------------------------------------------------------------------
// Export of change records: CSV, streamed a page at a time, formula-safe.

/// The export's columns.
pub const EXPORT_HEADER: [&str; 15] = [
    "seq",
    "occurred_at",
    "contact_id",
    "name",
    "address",
    "channel",
    "purpose",
    "topic",
    "old_value",
    "new_value",
    "source",
    "actor",
    "actor_id",
    "change_id",
    "justification",
];

/// The CSV text of some records (with the header when `header`); every cell formula-safe.
pub fn export_chunk(rows: &[desk::ExportRow], header: bool) -> Vec<u8> {
    use crate::domain::export::safe_cell;
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 160));
    let mut write = |fields: &[&str]| {
        // Writing to memory cannot fail.
        let _ = w.write_record(
            fields
                .iter()
                .map(|f| safe_cell(f))
                .collect::<Vec<_>>()
                .iter()
                .map(|c| c.as_ref()),
        );
    };
    if header {
        write(&EXPORT_HEADER);
    }
    for r in rows {
        let (seq, contact) = (r.seq.to_string(), r.contact_id.to_string());
        write(&[
            &seq,
            &r.occurred_at,
            &contact,
            r.name.as_deref().unwrap_or(""),
            r.address.as_deref().unwrap_or(""),
            &r.channel,
            r.purpose.as_deref().unwrap_or(""),
            r.topic.as_deref().unwrap_or(""),
            &r.old_value,
            &r.new_value,
            &r.source,
            &r.actor_kind,
            r.actor_id.as_deref().unwrap_or(""),
            &r.change_id,
            r.justification.as_deref().unwrap_or(""),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// Every change record under `filter` as CSV chunks, read a page at a time as the reader takes
/// them (memory stays one page, whatever the ledger's size).
pub fn export_stream(
    core: std::sync::Arc<Core>,
    filter: desk::ExportFilter,
) -> impl futures_util::Stream<Item = std::result::Result<Vec<u8>, std::io::Error>> {
    const PAGE: i64 = 5000;
    futures_util::stream::unfold(
        (core, filter, 0i64, true, false),
        |(core, filter, after, first, done)| async move {
            if done {
                return None;
            }
            match desk::export_page(&core.read, &filter, after, PAGE).await {
                Ok(rows) => {
                    let last = (rows.len() as i64) < PAGE;
                    let after = rows.last().map(|r| r.seq).unwrap_or(after);
                    let bytes = export_chunk(&rows, first);
                    Some((Ok(bytes), (core, filter, after, false, last)))
                }
                Err(e) => Some((
                    Err(std::io::Error::other(e.to_string())),
                    (core, filter, after, false, true),
                )),
            }
        },
    )
}

/// The purposes and topics an export can be narrowed to, every profile's: (form value
/// `p12`/`t5`, "Profile › Purpose › Topic").
pub async fn export_choices(core: &Core) -> Result<Vec<(crate::domain::Subject, String)>> {
    let mut out = Vec::new();
    for p in super::setup::profiles(core).await? {
        let cat = core.catalog(p.id).await?;
        for (s, name) in subjects(&cat) {
            out.push((s, format!("{} › {name}", p.name)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::moment;

    #[test]
    fn a_typed_moment_is_a_minute_a_second_or_the_end_of_a_day() {
        assert_eq!(
            moment("2026-11-20T10:30").as_deref(),
            Some("2026-11-20T10:30:00.000000Z")
        );
        assert_eq!(
            moment(" 2026-11-20T10:30:15 ").as_deref(),
            Some("2026-11-20T10:30:15.000000Z")
        );
        assert_eq!(
            moment("2026-11-20").as_deref(),
            Some("2026-11-20T23:59:59.999999Z")
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-11-20T25:00",
            "2026-11-20 10:30'",
        ] {
            assert_eq!(moment(bad), None, "{bad}");
        }
    }
}
