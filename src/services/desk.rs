//! The staff desk's use cases: find a contact, and see one whole: its addresses and facts,
//! and for every purpose and topic on every channel its state, the decision with its reason
//! (the domain's, through [`super::consent::matrix`]) and when and how it last changed.

use super::consent::Result;
use super::Core;
use crate::domain::search::Query;
use crate::domain::{ActorKind, Channel, ConsentValue, ContactFacts, PointKind, Reason, Source};
use crate::store::desk::{self, Card, LastChange};

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
/// query's (case and accents aside); `None` when the query has nothing to search for.
pub async fn search(core: &Core, q: &Query) -> Result<Vec<FoundContact>> {
    let found = desk::search(&core.read, &q.words, MAX_FOUND).await?;
    let profiles = super::setup::profiles(core).await?;
    Ok(found
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
        .collect())
}

/// One purpose or topic on one channel of a contact point, as the contact page shows it.
#[derive(Debug, Clone)]
pub struct Row {
    pub purpose: String,
    pub topic: Option<String>,
    pub mandatory: bool,
    pub channel: Channel,
    pub value: ConsentValue,
    pub allowed: bool,
    pub reason: Reason,
    /// The record the state rests on: when, how, by whom.
    pub last: Option<LastChange>,
}

/// A contact point and its rows.
#[derive(Debug, Clone)]
pub struct PointRows {
    pub kind: PointKind,
    pub address: Option<String>,
    pub rows: Vec<Row>,
}

/// A contact whole.
#[derive(Debug, Clone)]
pub struct ContactPage {
    pub card: Card,
    pub profile: String,
    pub points: Vec<PointRows>,
}

/// The contact with this id, with every purpose's and topic's state and decision on each of
/// its points' channels.
pub async fn contact(core: &Core, id: i64) -> Result<Option<ContactPage>> {
    let Some(card) = desk::card(&core.read, id).await? else {
        return Ok(None);
    };
    let cat = core.catalog(card.profile_id).await?;
    let facts = ContactFacts {
        level: card.level,
        is_child: card.is_child,
        erased: card.erased_at.is_some(),
    };
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
                    Row {
                        purpose: c.purpose.name.clone(),
                        topic: c.topic.map(|t| t.name.clone()),
                        mandatory: c.purpose.mandatory,
                        channel: c.channel,
                        value: own.map(|s| s.value).unwrap_or_default(),
                        allowed: c.decision.allowed,
                        reason: c.decision.reason,
                        last: own
                            .and_then(|s| card.changes.iter().find(|l| l.seq == s.record).cloned()),
                    }
                })
                .collect();
            PointRows {
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
    }))
}

/// How a change came, in words (the desk's "last changed" column).
pub fn how(source: Source, actor: ActorKind) -> &'static str {
    match (source, actor) {
        (Source::OneClick, _) => "one-click unsubscribe",
        (Source::Page, _) => "the contact’s pages",
        (Source::DoubleOptIn, _) => "confirmed by email",
        (Source::Phone, _) => "by phone, recorded by staff",
        (Source::Import, _) => "import",
        (Source::Api, _) => "a sending system (API)",
        (Source::System, ActorKind::Staff) => "staff",
        (Source::System, _) => "the system",
    }
}
