//! Links for a sending system's messages: the unsubscribe URL, the subscription center's URL
//! and the `List-Unsubscribe` / `List-Unsubscribe-Post` header values, minted as signed links
//! (`domain::link`) with no row written, so a send of a million messages costs a million MACs
//! and a thousand lookups, not a million writes. Revoked per contact point by raising its link
//! generation.

use super::api::DecideRefused;
use super::consent::Result;
use super::Core;
use crate::domain::link::{self, LinkClaims, LinkKey};
use crate::domain::{PointKind, Subject};
use crate::store::api_keys::ApiKey;
use crate::store::contacts::{self, Addressed, RevokeLinks};
use crate::store::writer::Priority;

/// What every link of a request is minted for, resolved once.
#[derive(Debug, Clone)]
pub struct LinkQuestion {
    pub profile_id: i64,
    pub profile: String,
    /// The purpose or topic the unsubscribe link leaves (`None`: everything optional).
    subject: Option<Subject>,
    /// The purpose is mandatory (service messages): no links at all.
    pub mandatory: bool,
    key: LinkKey,
    expires: u32,
}

impl LinkQuestion {
    /// When the links expire (RFC 3339).
    pub fn expires_at(&self) -> String {
        time::OffsetDateTime::from_unix_timestamp(i64::from(self.expires))
            .map(crate::store::format_time)
            .unwrap_or_default()
    }
}

/// The links of one recipient.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Links {
    /// The one-click unsubscribe URL (GET shows the page; POST with
    /// `List-Unsubscribe=One-Click` unsubscribes at once, RFC 8058).
    pub unsubscribe_url: String,
    /// The subscription center.
    pub center_url: String,
    /// The `List-Unsubscribe` header's value, ready to paste (RFC 2369).
    pub list_unsubscribe: String,
    /// The `List-Unsubscribe-Post` header's value (RFC 8058).
    pub list_unsubscribe_post: String,
}

/// One recipient's outcome.
#[derive(Debug, Clone)]
pub enum Minted {
    Links(Links),
    /// The purpose is mandatory: a service message carries no unsubscribe link.
    Mandatory,
    /// No contact of the profile has this address.
    Unknown,
    /// The address was erased.
    Erased,
}

/// Resolves a request's profile (named, else the key's, else `found`'s), purpose and topic.
pub async fn question(
    core: &Core,
    key: &ApiKey,
    profile: Option<&str>,
    found_profile: Option<i64>,
    purpose: Option<&str>,
    topic: Option<&str>,
) -> Result<std::result::Result<LinkQuestion, DecideRefused>> {
    use crate::store::catalog;
    let named = match profile {
        Some(k) => match catalog::profile_id_by_key(&core.read, k).await? {
            Some(id) if key.profile_id.is_none_or(|p| p == id) => Some(id),
            Some(_) => return Ok(Err(DecideRefused::ProfileNotAllowed)),
            None => return Ok(Err(DecideRefused::UnknownProfile)),
        },
        None => None,
    };
    let Some(profile_id) = named.or(key.profile_id).or(found_profile) else {
        return Ok(Err(DecideRefused::ProfileRequired));
    };
    let cat = core.catalog(profile_id).await?;
    let (subject, mandatory) = match purpose {
        None => (None, false),
        Some(pk) => {
            let Some(p) = cat.purposes.iter().find(|p| p.key == pk) else {
                return Ok(Err(DecideRefused::UnknownPurpose));
            };
            match topic {
                None => (Some(Subject::Purpose(p.id)), p.mandatory),
                Some(tk) => match cat.topics_of(p.id).find(|t| t.key == tk) {
                    Some(t) => (Some(Subject::Topic(t.id)), p.mandatory),
                    None => return Ok(Err(DecideRefused::UnknownTopic)),
                },
            }
        }
    };
    let now = core.clock.now().unix_timestamp();
    Ok(Ok(LinkQuestion {
        profile_id,
        profile: cat.profile.key.clone(),
        subject,
        mandatory,
        key: core.minting_key().await?,
        expires: link::expiry(now, core.policy.link_ttl_days),
    }))
}

/// The links of a found point (no lookup: a MAC or two).
fn mint(core: &Core, q: &LinkQuestion, a: &Addressed) -> Minted {
    if q.mandatory {
        return Minted::Mandatory;
    }
    if a.suppressed {
        return Minted::Erased;
    }
    Minted::Links(signed(core, q, a.contact_point_id, a.link_generation))
}

/// A point's links for `q` (not a mandatory question's).
fn signed(core: &Core, q: &LinkQuestion, contact_point_id: i64, link_generation: i64) -> Links {
    let claims = LinkClaims {
        contact_point_id,
        generation: u32::try_from(link_generation).unwrap_or(u32::MAX),
        subject: None,
        expires: q.expires,
    };
    let center = q.key.mint(&claims);
    let unsubscribe = match q.subject {
        None => center.clone(),
        subject => q.key.mint(&LinkClaims { subject, ..claims }),
    };
    let base = &core.policy.base_url;
    let unsubscribe_url = format!("{base}/u/{unsubscribe}");
    let (list_unsubscribe, post) = link::list_unsubscribe_headers(&unsubscribe_url);
    Links {
        center_url: format!("{base}/p/{center}"),
        unsubscribe_url,
        list_unsubscribe,
        list_unsubscribe_post: post.to_owned(),
    }
}

/// The question of a segment export's links: `subject` (a purpose or topic of `cat`; `None`:
/// everything optional) is what the unsubscribe link leaves.
pub async fn question_in(
    core: &Core,
    cat: &crate::store::catalog::Catalog,
    subject: Option<Subject>,
) -> Result<LinkQuestion> {
    let purpose = match subject {
        Some(Subject::Purpose(id)) => cat.purpose(id),
        Some(Subject::Topic(id)) => cat.topic(id).and_then(|t| cat.purpose(t.purpose_id)),
        _ => None,
    };
    let now = core.clock.now().unix_timestamp();
    Ok(LinkQuestion {
        profile_id: cat.profile.id,
        profile: cat.profile.key.clone(),
        subject,
        mandatory: purpose.is_some_and(|p| p.mandatory),
        key: core.minting_key().await?,
        expires: link::expiry(now, core.policy.link_ttl_days),
    })
}

/// The links of a point a segment found (no lookup: a MAC or two); `None` for a mandatory
/// purpose, whose messages carry no unsubscribe link.
pub fn point_links(
    core: &Core,
    q: &LinkQuestion,
    contact_point_id: i64,
    link_generation: i64,
) -> Option<Links> {
    (!q.mandatory).then(|| signed(core, q, contact_point_id, link_generation))
}

/// The links of one address: its contact found (the key may see it), the question asked on
/// the contact's profile unless one is named (no question when there is neither).
pub async fn links_for(
    core: &Core,
    key: &ApiKey,
    point: (PointKind, &str),
    profile: Option<&str>,
    purpose: Option<&str>,
    topic: Option<&str>,
) -> Result<std::result::Result<(Option<LinkQuestion>, Minted), DecideRefused>> {
    let found = contacts::addressed(&core.read, point.0, point.1, None)
        .await?
        .filter(|f| key.profile_id.is_none_or(|p| p == f.profile_id));
    if found.is_none() && profile.is_none() && key.profile_id.is_none() {
        // No contact, and no profile to ask in: the address is what is wrong.
        return Ok(Ok((None, unknown(core, point.0, point.1).await?)));
    }
    let q = match question(
        core,
        key,
        profile,
        found.as_ref().map(|f| f.profile_id),
        purpose,
        topic,
    )
    .await?
    {
        Ok(q) => q,
        Err(r) => return Ok(Err(r)),
    };
    let found = found.filter(|f| f.profile_id == q.profile_id);
    let minted = match found {
        Some(a) => mint(core, &q, &a),
        None => unknown(core, point.0, point.1).await?,
    };
    Ok(Ok((Some(q), minted)))
}

/// An address no contact (of the profile) has: erased, or unknown.
async fn unknown(core: &Core, kind: PointKind, address: &str) -> Result<Minted> {
    let erased =
        crate::store::erasure::suppressed_address(&core.read, core.secret(), kind, address)
            .await?
            .is_some();
    Ok(if erased {
        Minted::Erased
    } else {
        Minted::Unknown
    })
}

/// The links of a batch of addresses, in its order: one lookup per kind of address and one of
/// the suppression list, never one per recipient.
pub async fn mint_batch(
    core: &Core,
    q: &LinkQuestion,
    batch: &[(PointKind, String)],
) -> Result<Vec<Minted>> {
    // The channel matters not: no states are asked for.
    let found = super::api::BatchFound::of(
        core,
        q.profile_id,
        batch,
        &[],
        crate::domain::Channel::Email,
        None,
    )
    .await?;
    Ok(batch
        .iter()
        .map(|(kind, address)| match found.point(*kind, address) {
            Some(a) => mint(core, q, a),
            None if found.suppressed(core, *kind, address) => Minted::Erased,
            None => Minted::Unknown,
        })
        .collect())
}

/// Ends every link of this address (signed and stored): `None` when no contact the key may
/// see has it.
pub async fn revoke(
    core: &Core,
    key: &ApiKey,
    kind: PointKind,
    address: &str,
) -> Result<Option<i64>> {
    let Some(point) = super::api::point_for(core, key, kind, address).await? else {
        return Ok(None);
    };
    let generation = core
        .writer
        .run(
            RevokeLinks {
                contact_point_id: point,
            },
            Priority::Interactive,
        )
        .await?;
    Ok(Some(generation))
}
