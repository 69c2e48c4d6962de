//! The contact's use cases: read their preferences, unsubscribe (one topic, everything, or
//! one-click), save the subscription center, see what changed, undo it.

use super::{random_bytes, Core, IpEvidence};
use crate::domain::ledger::{Desired, Evidence, Record};
use crate::domain::link::SignedLink;
use crate::domain::parse::{EmailAddress, Lang, PhoneNumber};
use crate::domain::token::LinkToken;
use crate::domain::{
    decide, ActorKind, Channel, ConsentValue, ContactFacts, PointKind, Reason, StateEntry, Subject,
};
use crate::store::catalog::Catalog;
use crate::store::contacts::{self, LinkRef, LinkTarget, StateRow};
use crate::store::writer::{Applied, ChangeMeta, ChangeSet};
use crate::store::{self, StoreError};
use crate::views::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

/// One purpose (or one of its topics) on one channel: the contact point's own state of it and
/// the domain's decision on it.
#[derive(Debug, Clone)]
pub struct Judged<'a> {
    pub purpose: &'a crate::domain::Purpose,
    pub topic: Option<&'a crate::domain::Topic>,
    pub channel: Channel,
    /// The state of the topic (or of the purpose, for a purpose without topics).
    pub own: Option<StateEntry>,
    pub decision: crate::domain::Decision,
}

/// Every purpose and topic in use, on every channel of each that `keep` keeps: the point's
/// state (`state`) and the decision with its reason, nothing re-implemented.
pub fn matrix<'a>(
    cat: &'a Catalog,
    facts: ContactFacts,
    keep: impl Fn(Channel) -> bool,
    state: impl Fn(Subject, Channel) -> Option<StateEntry>,
) -> Vec<Judged<'a>> {
    let mut out = Vec::new();
    for p in cat.purposes.iter().filter(|p| !p.retired) {
        let topics: Vec<Option<&crate::domain::Topic>> = {
            let t: Vec<_> = cat
                .topics_of(p.id)
                .filter(|t| !t.retired)
                .map(Some)
                .collect();
            if t.is_empty() {
                vec![None]
            } else {
                t
            }
        };
        for t in topics {
            for &ch in p.channels.iter().filter(|c| keep(**c)) {
                let ps = state(Subject::Purpose(p.id), ch);
                let ts = t.and_then(|t| state(Subject::Topic(t.id), ch));
                out.push(Judged {
                    purpose: p,
                    topic: t,
                    channel: ch,
                    own: if t.is_some() { ts } else { ps },
                    decision: decide(facts, p, t, ch, ps, ts),
                });
            }
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Wrong, malformed, expired or unknown link: one answer for all.
    #[error("invalid link")]
    InvalidLink,
    /// The request was not as a page would send it.
    #[error("bad input: {0}")]
    BadInput(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// Stable machine code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::InvalidLink => "invalid_link",
            ServiceError::BadInput(c) => c,
            ServiceError::Store(_) => "internal",
        }
    }
}

pub type Result<T> = std::result::Result<T, ServiceError>;

/// What the request tells us, for evidence and language. Built by the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub accept_language: Option<String>,
}

/// What the contact saw when they acted (from hidden form fields, checked).
#[derive(Debug, Clone, Copy, Default)]
pub struct Shown {
    pub form_version: Option<i64>,
    pub lang: Option<Lang>,
}

/// A resolved link: the contact point, its contact, their states and the profile's catalog.
struct Link {
    target: LinkTarget,
    catalog: Arc<Catalog>,
    /// (id, kind, address) of every point of the contact.
    points: Vec<(i64, PointKind, Option<String>)>,
    states: HashMap<(i64, Subject, Channel), StateEntry>,
}

impl Link {
    fn facts(&self) -> ContactFacts {
        ContactFacts {
            level: self.target.level,
            is_child: self.target.is_child,
            // `suppressed_at` is set by erasure only (a global opt-out is opt-out records,
            // never this flag); an erased point has no address.
            erased: self.target.suppressed || self.target.address.is_none(),
        }
    }

    /// The contact point that a channel reaches: the link's own point for its kind, else the
    /// contact's first point of that kind.
    fn point_for(&self, channel: Channel) -> Option<i64> {
        let kind = channel.point_kind();
        if self.target.point_kind == kind {
            return Some(self.target.contact_point_id);
        }
        self.points
            .iter()
            .find(|p| p.1 == kind && p.2.is_some())
            .map(|p| p.0)
    }

    fn state(&self, cp: i64, subject: Subject, channel: Channel) -> Option<StateEntry> {
        self.states.get(&(cp, subject, channel)).copied()
    }

    /// The link's `lang` (already parsed), then the contact's stored locale, then the
    /// browser's `Accept-Language`, then the profile's default.
    fn lang(&self, link: Option<Lang>, info: &RequestInfo) -> Lang {
        link.unwrap_or_else(|| {
            Lang::negotiate(
                None,
                self.target.locale.as_deref(),
                info.accept_language.as_deref(),
                Some(&self.catalog.profile.default_locale),
            )
        })
    }
}

impl Link {
    /// The link's address as the pages show it (`h***y@contoso.com`).
    fn masked_address(&self) -> String {
        let address = self.target.address.as_deref();
        match self.target.point_kind {
            PointKind::Email => address
                .and_then(|a| EmailAddress::parse(a).ok())
                .map(|e| e.masked()),
            PointKind::Phone => address
                .and_then(|a| PhoneNumber::parse(a).ok())
                .map(|p| p.masked()),
        }
        .unwrap_or_default()
    }

    /// What the contact saw, as the server vouches for it: the verified stamp's form version
    /// and language, else the version the server serves now and the language it would render.
    fn vouch(&self, shown: Shown, info: &RequestInfo) -> Shown {
        Shown {
            form_version: shown
                .form_version
                .or(Some(self.catalog.profile.form_version)),
            lang: Some(self.lang(shown.lang, info)),
        }
    }
}

/// Checks the stamp a page form carried back; what it does not prove is left unknown (and
/// filled in by the server, never taken from the form).
pub fn verify_shown(core: &Core, token: &str, stamp: Option<&str>) -> Shown {
    verified_stamp(core, token.as_bytes(), stamp).unwrap_or_default()
}

/// What a stamp bound to `binding` (a link's token, a profile's key) proves, if it verifies.
pub(crate) fn verified_stamp(core: &Core, binding: &[u8], stamp: Option<&str>) -> Option<Shown> {
    stamp
        .and_then(|s| {
            crate::domain::optin::verify_stamp(core.secret(), binding, s, |c| {
                Lang::parse(c).map(|l| l.code())
            })
        })
        .map(|s| Shown {
            form_version: Some(s.form_version),
            lang: Lang::parse(s.lang),
        })
}

/// How a link's token is found: a stored token by its hash, a signed link by its checked
/// claims. Every wrong token (malformed, forged, expired, of an unknown key) is the same error.
pub(crate) async fn link_ref(core: &Core, token: &str) -> Result<LinkRef> {
    if let Some(t) = LinkToken::parse(token) {
        return Ok(LinkRef::Stored(t.hash()));
    }
    let signed = SignedLink::parse(token).ok_or(ServiceError::InvalidLink)?;
    let key = core
        .link_key(signed.tag())
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    let now = core.clock.now().unix_timestamp();
    signed
        .verify(&key, now)
        .map(LinkRef::Signed)
        .ok_or(ServiceError::InvalidLink)
}

/// The link's target and its profile's catalog; every wrong link is the same error.
async fn resolve_target(core: &Core, token: &str) -> Result<(LinkTarget, Arc<Catalog>)> {
    let link = link_ref(core, token).await?;
    let target = contacts::find_link(&core.read, &link, &core.clock.now_str())
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    let catalog = live_catalog(core, &target).await?;
    Ok((target, catalog))
}

/// The catalog of a link's profile; an erased contact point is an invalid link.
async fn live_catalog(core: &Core, target: &LinkTarget) -> Result<Arc<Catalog>> {
    if target.address.is_none() {
        return Err(ServiceError::InvalidLink);
    }
    Ok(core.catalog(target.profile_id).await?)
}

/// The link with everything a page needs: the contact's points and current states.
async fn resolve(core: &Core, token: &str) -> Result<Link> {
    let link = link_ref(core, token).await?;
    let snap = contacts::link_snapshot(&core.read, &link, &core.clock.now_str())
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    let (target, points, rows) = (snap.target, snap.points, snap.states);
    let catalog = live_catalog(core, &target).await?;
    let states = rows
        .into_iter()
        .map(|r: StateRow| ((r.contact_point_id, r.subject, r.channel), r.entry))
        .collect();
    Ok(Link {
        target,
        catalog,
        points,
        states,
    })
}

pub(crate) fn brand(c: &Catalog, lang: Lang) -> Brand {
    brand_of(&c.profile, &c.profile.design, lang)
}

/// A profile's brand under a design (the published one, a draft, or a past version).
pub fn brand_of(
    profile: &crate::store::catalog::Profile,
    design: &crate::domain::design::Design,
    lang: Lang,
) -> Brand {
    let primary = &design.primary;
    Brand {
        name: profile.name.clone(),
        on_primary: primary.readable_text().as_str().to_owned(),
        primary: primary.as_str().to_owned(),
        footer_address: profile.footer_address.clone(),
        legal_footer: profile.legal_footer.clone(),
        privacy_url: profile.privacy_url.clone(),
        font: design.font.stack().to_owned(),
        header: design.header_in(lang).map(str::to_owned),
        unsubscribe_all: design.unsubscribe_all,
        texts: design.texts.get(lang.code()).cloned().unwrap_or_default(),
        logo: design
            .logo
            .as_ref()
            .map(|l| (format!("/logo/{}", l.sha256), l.width, l.height)),
    }
}

pub use crate::domain::optin::{field_name, parse_field};

fn build_view(core: &Core, link: &Link, token: &str, lang: Lang) -> PreferencesView {
    let cat = &link.catalog;
    let facts = link.facts();
    let mut purposes = Vec::new();
    let design = &cat.profile.design;
    for p in cat.purposes.iter().filter(|p| {
        !p.retired
            && p.enforcement != crate::domain::Enforcement::Disabled
            && design.shows(&p.key, None)
    }) {
        let channels: Vec<Channel> = p
            .channels
            .iter()
            .copied()
            .filter(|c| link.point_for(*c).is_some())
            .collect();
        if channels.is_empty() {
            continue;
        }
        let topics: Vec<_> = cat
            .topics_of(p.id)
            .filter(|t| !t.retired && design.shows(&p.key, Some(&t.key)))
            .collect();
        let rows: Vec<TopicRow> = if topics.is_empty() {
            vec![row(link, facts, p, None, &channels, lang)]
        } else {
            topics
                .iter()
                .map(|t| row(link, facts, p, Some(t), &channels, lang))
                .collect()
        };
        let (name, description) = cat.purpose_words(p, lang);
        purposes.push(PurposeBlock {
            key: p.key.clone(),
            name: name.to_owned(),
            description: description.to_owned(),
            mandatory: p.mandatory,
            channels,
            topics: rows,
        });
    }
    // A link minted for a message about one purpose or topic lists that one first: the
    // person came from that email.
    let focus = match link.target.subject {
        Some(Subject::Topic(id)) => cat.topic(id).and_then(|t| {
            cat.purpose(t.purpose_id).map(|p| {
                (
                    p.key.clone(),
                    Some(field_name(Subject::Topic(t.id), Channel::Email)),
                )
            })
        }),
        Some(Subject::Purpose(id)) => cat.purpose(id).map(|p| (p.key.clone(), None)),
        _ => None,
    };
    if let Some((purpose, topic)) = focus {
        if let Some(i) = purposes.iter().position(|b| b.key == purpose) {
            let mut block = purposes.remove(i);
            if let Some(j) = topic.and_then(|t| block.topics.iter().position(|r| r.key == t)) {
                let first = block.topics.remove(j);
                block.topics.insert(0, first);
            }
            purposes.insert(0, block);
        }
    }
    let address = link.masked_address();
    PreferencesView {
        brand: brand(cat, lang),
        lang,
        form_version: cat.profile.form_version,
        stamp: crate::domain::optin::sign_stamp(
            core.secret(),
            token.as_bytes(),
            crate::domain::optin::ShownForm {
                form_version: cat.profile.form_version,
                lang: lang.code(),
            },
        ),
        address,
        data_rights: link.point_for(Channel::Email).is_some(),
        purposes,
    }
}

fn row(
    link: &Link,
    facts: ContactFacts,
    p: &crate::domain::Purpose,
    t: Option<&crate::domain::Topic>,
    channels: &[Channel],
    lang: Lang,
) -> TopicRow {
    let subject = t
        .map(|t| Subject::Topic(t.id))
        .unwrap_or(Subject::Purpose(p.id));
    let cells = channels
        .iter()
        .filter_map(|&ch| {
            let cp = link.point_for(ch)?;
            let ps = link.state(cp, Subject::Purpose(p.id), ch);
            let ts = t.and_then(|t| link.state(cp, Subject::Topic(t.id), ch));
            let d = decide(facts, p, t, ch, ps, ts);
            let own = if t.is_some() { ts } else { ps };
            Some(Cell {
                channel: ch,
                receiving: d.allowed,
                value: own.map(|s| s.value).unwrap_or_default(),
                field: field_name(subject, ch),
            })
        })
        .collect();
    let (name, description) = match t {
        Some(t) => link.catalog.topic_words(t, lang),
        None => link.catalog.purpose_words(p, lang),
    };
    TopicRow {
        key: field_name(subject, Channel::Email),
        name: name.to_owned(),
        description: description.to_owned(),
        cells,
    }
}

/// The unsubscribe page and subscription center (read only: GET and HEAD never write).
pub async fn preferences(
    core: &Core,
    token: &str,
    lang: Option<&str>,
    info: &RequestInfo,
) -> Result<PreferencesView> {
    let link = resolve(core, token).await?;
    let lang = link.lang(lang.and_then(Lang::parse), info);
    Ok(build_view(core, &link, token, lang))
}

/// A link's contact as a data request from the pages needs it.
pub struct LinkOwner {
    pub contact_id: i64,
    /// The contact's email point (the link's own when it is one): where the request's email
    /// goes; `None` for a contact with a phone number only.
    pub email_point: Option<i64>,
    pub brand: Brand,
    pub lang: Lang,
    /// The link's address as the pages show it.
    pub address: String,
}

/// The contact a link belongs to (read only).
pub async fn link_owner(
    core: &Core,
    token: &str,
    lang: Option<&str>,
    info: &RequestInfo,
) -> Result<LinkOwner> {
    let link = resolve(core, token).await?;
    let lang = link.lang(lang.and_then(Lang::parse), info);
    Ok(LinkOwner {
        contact_id: link.target.contact_id,
        email_point: link.point_for(Channel::Email),
        brand: brand(&link.catalog, lang),
        lang,
        address: link.masked_address(),
    })
}

/// The language a contact is written to: theirs, else the profile's.
pub(crate) fn contact_lang(locale: Option<&str>, cat: &Catalog) -> Lang {
    locale
        .and_then(Lang::parse)
        .or_else(|| Lang::parse(&cat.profile.default_locale))
        .unwrap_or_default()
}

/// Language for a page whose link is invalid (no contact, no profile): the link's `lang`,
/// else the browser's, else English.
pub fn fallback_lang(lang: Option<&str>, info: &RequestInfo) -> Lang {
    Lang::negotiate(lang, None, info.accept_language.as_deref(), None)
}

pub(crate) fn truncate_ip(ip: IpAddr, policy: IpEvidence) -> Option<String> {
    match policy {
        IpEvidence::None => None,
        IpEvidence::Full => Some(ip.to_string()),
        IpEvidence::Truncated => Some(match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                format!("{}.{}.{}.0/24", o[0], o[1], o[2])
            }
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
            }
        }),
    }
}

pub(crate) fn meta(
    core: &Core,
    actor: ActorKind,
    source: crate::domain::Source,
    info: &RequestInfo,
    shown: Shown,
    justification: Option<String>,
) -> ChangeMeta {
    let ua = info
        .user_agent
        .as_deref()
        .filter(|_| core.policy.keep_user_agent)
        .map(|u| u.chars().take(256).collect());
    ChangeMeta {
        actor_kind: actor,
        actor_id: None,
        source,
        change_id: new_change_id(),
        form_version: shown.form_version,
        language: shown.lang.map(|l| l.code().to_owned()),
        request_id: info.request_id.clone(),
        confirmation: None,
        evidence: Evidence {
            justification,
            ip: info
                .ip
                .and_then(|ip| truncate_ip(ip, core.policy.ip_evidence)),
            user_agent: ua,
            salt: None,
        },
    }
}

/// A change id: 5 bytes of milliseconds then 7 random bytes, 16 base64url characters.
/// Time-ordered, so the ledger's change index grows at its end instead of being rewritten
/// at random places; unguessable enough for what it guards (it works only with the link).
pub(crate) fn new_change_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut b = random_bytes::<12>();
    b[..5].copy_from_slice(&ms.to_be_bytes()[3..]);
    URL_SAFE_NO_PAD.encode(b)
}

fn opt_out(cp: i64, subject: Subject, channel: Channel) -> (i64, Desired) {
    (
        cp,
        Desired {
            subject,
            channel,
            value: ConsentValue::OptedOut,
            custodian_confirmed: false,
            only_if_current: None,
        },
    )
}

/// Which channels "unsubscribe from everything" covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// RFC 8058 one-click: every channel the link's own contact point receives on (email for
    /// an address; text messages and calls for a phone number), and nothing of the contact's
    /// other points.
    LinkPoint,
    /// The page's button: every channel of every contact point of the contact.
    AllChannels,
}

/// Opts out of every optional (non-mandatory) purpose and its topics. Idempotent.
pub async fn unsubscribe_all(
    core: &Core,
    token: &str,
    scope: Scope,
    actor: ActorKind,
    source: crate::domain::Source,
    info: &RequestInfo,
    shown: Shown,
) -> Result<Applied> {
    // One-click (the hot path) needs no states: the writer reads them in its transaction.
    let link = if scope == Scope::LinkPoint {
        let (target, catalog) = resolve_target(core, token).await?;
        Link {
            target,
            catalog,
            points: Vec::new(),
            states: HashMap::new(),
        }
    } else {
        resolve(core, token).await?
    };
    // A signed link minted for one purpose or topic: its one-click leaves that only. If it
    // was retired since, the link leaves everything, as one without a subject; if its purpose
    // became mandatory, nothing (a service message cannot be left).
    let cat = &link.catalog;
    let only: Option<(i64, Option<i64>)> = match link.target.subject {
        _ if scope != Scope::LinkPoint => None,
        Some(Subject::Purpose(id)) => cat.purpose(id).filter(|p| !p.retired).map(|p| (p.id, None)),
        Some(Subject::Topic(id)) => cat
            .topic(id)
            .filter(|t| !t.retired)
            .map(|t| (t.purpose_id, Some(t.id))),
        _ => None,
    };
    let mut items = Vec::new();
    for p in cat
        .purposes
        .iter()
        .filter(|p| !p.mandatory && !p.retired)
        .filter(|p| only.is_none_or(|(purpose, _)| purpose == p.id))
    {
        for &ch in &p.channels {
            if scope == Scope::LinkPoint && ch.point_kind() != link.target.point_kind {
                continue;
            }
            let Some(cp) = link.point_for(ch) else {
                continue;
            };
            if let Some((_, Some(topic))) = only {
                items.push(opt_out(cp, Subject::Topic(topic), ch));
                continue;
            }
            items.push(opt_out(cp, Subject::Purpose(p.id), ch));
            for t in cat.topics_of(p.id) {
                items.push(opt_out(cp, Subject::Topic(t.id), ch));
            }
        }
    }
    let shown = Shown {
        lang: Some(link.lang(shown.lang, info)),
        form_version: shown
            .form_version
            .or(Some(link.catalog.profile.form_version)),
    };
    let set = ChangeSet {
        items,
        meta: meta(core, actor, source, info, shown, None),
    };
    Ok(core.writer.apply(set).await?)
}

/// Opts out of one topic (or topic-less purpose) on one channel, from its button.
pub async fn unsubscribe_one(
    core: &Core,
    token: &str,
    field: &str,
    info: &RequestInfo,
    shown: Shown,
) -> Result<Applied> {
    let link = resolve(core, token).await?;
    let (subject, channel) = parse_field(field).ok_or(ServiceError::BadInput("unknown_topic"))?;
    let view = build_view(core, &link, token, Lang::En);
    let known = view
        .purposes
        .iter()
        .filter(|p| !p.mandatory)
        .flat_map(|p| p.topics.iter())
        .flat_map(|t| t.cells.iter())
        .any(|c| c.field == field);
    if !known {
        return Err(ServiceError::BadInput("unknown_topic"));
    }
    let cp = link
        .point_for(channel)
        .ok_or(ServiceError::BadInput("unknown_topic"))?;
    let shown = link.vouch(shown, info);
    let set = ChangeSet {
        items: vec![opt_out(cp, subject, channel)],
        meta: meta(
            core,
            ActorKind::Contact,
            crate::domain::Source::Page,
            info,
            shown,
            None,
        ),
    };
    Ok(core.writer.apply(set).await?)
}

/// Saves the subscription center: unticked boxes the contact receives become opt-outs at
/// once; ticked boxes they do not receive become pending until confirmed by email.
pub async fn save(
    core: &Core,
    token: &str,
    ticked: &HashSet<String>,
    info: &RequestInfo,
    shown: Shown,
) -> Result<Applied> {
    let link = resolve(core, token).await?;
    let view = build_view(core, &link, token, Lang::En);
    let fields: HashSet<&str> = view
        .purposes
        .iter()
        .flat_map(|p| p.topics.iter())
        .flat_map(|t| t.cells.iter())
        .map(|c| c.field.as_str())
        .collect();
    if let Some(_unknown) = ticked.iter().find(|f| !fields.contains(f.as_str())) {
        return Err(ServiceError::BadInput("unknown_topic"));
    }
    let email_point = link.point_for(Channel::Email);
    let mut items = Vec::new();
    let mut wanted = Vec::new();
    for p in view.purposes.iter().filter(|p| !p.mandatory) {
        for t in &p.topics {
            for c in &t.cells {
                let Some((subject, channel)) = parse_field(&c.field) else {
                    continue;
                };
                let Some(cp) = link.point_for(channel) else {
                    continue;
                };
                let on = ticked.contains(&c.field);
                let value = match (on, c.receiving, c.value) {
                    (true, true, _) => continue,
                    (true, false, ConsentValue::Pending) => continue,
                    (true, false, _) => ConsentValue::Pending,
                    (false, true, _) => ConsentValue::OptedOut,
                    (false, false, ConsentValue::Pending) => ConsentValue::OptedOut,
                    (false, false, _) => continue,
                };
                if value == ConsentValue::Pending && Some(cp) == email_point {
                    // Confirmed by the double opt-in email.
                    wanted.push((subject, channel));
                    continue;
                }
                items.push((
                    cp,
                    Desired {
                        subject,
                        channel,
                        value,
                        custodian_confirmed: false,
                        only_if_current: None,
                    },
                ));
            }
        }
    }
    let shown = link.vouch(shown, info);
    let meta = meta(
        core,
        ActorKind::Contact,
        crate::domain::Source::Page,
        info,
        shown,
        None,
    );
    apply_asking(
        core,
        &link.catalog.profile,
        email_point,
        wanted,
        items,
        meta,
        shown,
    )
    .await
}

/// Change ids are 16 base64url characters; anything else is not one of ours.
fn valid_change_id(id: &str) -> bool {
    id.len() == 16
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What one action means for the contact: for every topic (or purpose without topics) and
/// channel it touched, whether they received it before and after, by the same decision the
/// senders get. A purpose-level catch-all record is folded into its topics. States the action
/// did not touch are taken as they are now.
fn effects(link: &Link, records: &[Record], lang: Lang) -> Vec<ChangeLine> {
    let cat = &link.catalog;
    let facts = link.facts();
    // (point, subject, channel) → (old, new) of this action.
    let mut touched: HashMap<(i64, Subject, Channel), (StateEntry, StateEntry)> = HashMap::new();
    // (point, channel, purpose) the action reached.
    let mut reached: Vec<(i64, Channel, i64)> = Vec::new();
    for r in records {
        let purpose = match r.subject {
            Subject::Purpose(id) => Some(id),
            Subject::Topic(id) => cat.topic(id).map(|t| t.purpose_id),
            Subject::Profile(_) | Subject::Erasure => None,
        };
        let Some(purpose) = purpose else { continue };
        let entry = |value| StateEntry {
            value,
            custodian_confirmed: r.custodian_confirmed,
            record: r.seq,
        };
        touched
            .entry((r.contact_point_id, r.subject, r.channel))
            .and_modify(|e| e.1 = entry(r.new_value))
            .or_insert((entry(r.old_value), entry(r.new_value)));
        if !reached.contains(&(r.contact_point_id, r.channel, purpose)) {
            reached.push((r.contact_point_id, r.channel, purpose));
        }
    }
    let state = |cp: i64, subject: Subject, ch: Channel, after: bool| match touched
        .get(&(cp, subject, ch))
    {
        Some((old, new)) => Some(if after { *new } else { *old }),
        None => link.state(cp, subject, ch),
    };
    let mut lines: Vec<ChangeLine> = Vec::new();
    for p in cat.purposes.iter().filter(|p| !p.mandatory) {
        let topics: Vec<Option<&crate::domain::Topic>> = {
            let t: Vec<_> = cat.topics_of(p.id).map(Some).collect();
            if t.is_empty() {
                vec![None]
            } else {
                t
            }
        };
        for t in topics {
            for &ch in &p.channels {
                for &(cp, _, _) in reached
                    .iter()
                    .filter(|(_, c, pid)| *c == ch && *pid == p.id)
                {
                    let decide_at = |after: bool| {
                        decide(
                            facts,
                            p,
                            t,
                            ch,
                            state(cp, Subject::Purpose(p.id), ch, after),
                            t.and_then(|t| state(cp, Subject::Topic(t.id), ch, after)),
                        )
                    };
                    let (before, after) = (decide_at(false), decide_at(true));
                    let pending = |d: crate::domain::Decision| {
                        matches!(d.reason, Reason::PendingConfirmation { .. })
                    };
                    let effect = if before.allowed && !after.allowed {
                        Effect::Stopped
                    } else if !before.allowed && after.allowed {
                        Effect::Started
                    } else if pending(after) && !pending(before) {
                        Effect::Pending
                    } else {
                        continue;
                    };
                    let what = match t {
                        Some(t) => cat.topic_words(t, lang).0.to_owned(),
                        None => cat.purpose_words(p, lang).0.to_owned(),
                    };
                    match lines
                        .iter_mut()
                        .find(|l| l.effect == effect && l.what == what)
                    {
                        Some(l) if !l.channels.contains(&ch) => l.channels.push(ch),
                        Some(_) => {}
                        None => lines.push(ChangeLine {
                            effect,
                            what,
                            channels: vec![ch],
                        }),
                    }
                }
            }
        }
    }
    lines
}

/// The change id of an action that changed nothing (a repeat): never a real one (16 chars).
pub const NO_CHANGE: &str = "unchanged";

/// The "what changed" page of one action.
pub async fn change(
    core: &Core,
    token: &str,
    change_id: &str,
    lang: Option<&str>,
    info: &RequestInfo,
) -> Result<ChangeView> {
    let link = resolve(core, token).await?;
    let lang = link.lang(lang.and_then(Lang::parse), info);
    let records = if change_id == NO_CHANGE {
        Vec::new()
    } else if valid_change_id(change_id) {
        let r = store::ledger::by_change(&core.read, change_id, link.target.contact_id).await?;
        if r.is_empty() {
            // Not a change of this contact's: the same answer as any other wrong link.
            return Err(ServiceError::InvalidLink);
        }
        r
    } else {
        return Err(ServiceError::InvalidLink);
    };
    let is_undo = records
        .first()
        .is_some_and(|r| r.actor_id.as_deref() == Some("undo"));
    let lines = effects(&link, &records, lang);
    // Nothing to put back that the contact could see: no undo offered.
    let can_undo = !lines.is_empty()
        && !is_undo
        && undoable(core, &records)
        && records.iter().all(|r| {
            link.state(r.contact_point_id, r.subject, r.channel)
                .is_some_and(|s| s.record == r.seq)
        });
    Ok(ChangeView {
        brand: brand(&link.catalog, lang),
        lang,
        change_id: change_id.to_owned(),
        lines,
        is_undo,
        can_undo,
        receipt: !records.is_empty(),
    })
}

/// The signed receipt of one change of the link's contact (the "what changed" page offers it).
pub async fn change_receipt(
    core: &Core,
    token: &str,
    change_id: &str,
    lang: Option<&str>,
    info: &RequestInfo,
) -> Result<crate::services::receipt::Issued> {
    if !valid_change_id(change_id) {
        return Err(ServiceError::InvalidLink);
    }
    let link = resolve(core, token).await?;
    let lang = link.lang(lang.and_then(Lang::parse), info);
    crate::services::receipt::issue(
        core,
        &link.catalog,
        link.target.contact_id,
        link.masked_address(),
        change_id,
        lang.code(),
    )
    .await
}

/// Puts back what one action changed, while nothing changed those states since.
pub async fn undo(
    core: &Core,
    token: &str,
    change_id: &str,
    info: &RequestInfo,
    shown: Shown,
) -> Result<Applied> {
    let link = resolve(core, token).await?;
    if !valid_change_id(change_id) {
        return Err(ServiceError::BadInput("unknown_change"));
    }
    let records = store::ledger::by_change(&core.read, change_id, link.target.contact_id).await?;
    if records.is_empty() {
        return Err(ServiceError::BadInput("unknown_change"));
    }
    if !undoable(core, &records) {
        return Err(ServiceError::BadInput("undo_not_offered"));
    }
    let email_point = link.point_for(Channel::Email);
    let mut items = Vec::new();
    let mut wanted = Vec::new();
    for r in &records {
        if r.old_value == ConsentValue::OptedIn && Some(r.contact_point_id) == email_point {
            // Undo never skips double opt-in: what was opted in is asked for again.
            let still = link
                .state(r.contact_point_id, r.subject, r.channel)
                .is_some_and(|s| s.record == r.seq);
            if still {
                wanted.push((r.subject, r.channel));
            }
            continue;
        }
        let value = if r.old_value == ConsentValue::OptedIn {
            ConsentValue::Pending
        } else {
            r.old_value
        };
        items.push((
            r.contact_point_id,
            Desired {
                subject: r.subject,
                channel: r.channel,
                value,
                custodian_confirmed: false,
                only_if_current: Some(r.new_value),
            },
        ));
    }
    let shown = link.vouch(shown, info);
    let mut meta = meta(
        core,
        ActorKind::Contact,
        crate::domain::Source::Page,
        info,
        shown,
        Some(format!("Undo of change {change_id}")),
    );
    meta.actor_id = Some("undo".to_owned());
    apply_asking(
        core,
        &link.catalog.profile,
        email_point,
        wanted,
        items,
        meta,
        shown,
    )
    .await
}

/// Applies an action's changes; when it asks for opt-ins on the email point, in the same unit
/// as the request for their confirmation (and its email).
async fn apply_asking(
    core: &Core,
    profile: &crate::store::catalog::Profile,
    email_point: Option<i64>,
    wanted: Vec<(Subject, Channel)>,
    items: Vec<(i64, Desired)>,
    meta: ChangeMeta,
    shown: Shown,
) -> Result<Applied> {
    match email_point {
        Some(cp) if !wanted.is_empty() => {
            let unit = super::optin::RequestOptIn {
                cp,
                wanted,
                other: items,
                meta,
                lang: shown.lang.unwrap_or_default(),
                settings: super::optin::AskSettings::from(core, profile),
            };
            Ok(core
                .writer
                .run(unit, crate::store::writer::Priority::Interactive)
                .await?
                .applied)
        }
        _ => Ok(core.writer.apply(ChangeSet { items, meta }).await?),
    }
}

/// Whether an action may be undone: the contact's own page action (not a one-click, an undo,
/// a confirmation or anyone else's change), within the undo window.
fn undoable(core: &Core, records: &[Record]) -> bool {
    let Some(first) = records.first() else {
        return false;
    };
    let own = first.actor_kind == ActorKind::Contact
        && first.source == crate::domain::Source::Page
        && first.actor_id.as_deref() != Some("undo");
    let window = time::Duration::seconds(core.policy.undo_window.as_secs() as i64);
    let recent = store::parse_time(&first.occurred_at)
        .map(|t| t + window > core.clock.now())
        .unwrap_or(false);
    own && recent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_evidence_follows_the_policy() {
        let ip: IpAddr = "203.0.113.77".parse().unwrap();
        assert_eq!(
            truncate_ip(ip, IpEvidence::Truncated).as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            truncate_ip(ip, IpEvidence::Full).as_deref(),
            Some("203.0.113.77")
        );
        assert_eq!(truncate_ip(ip, IpEvidence::None), None);
        let v6: IpAddr = "2001:db8:abcd:12::1".parse().unwrap();
        assert_eq!(
            truncate_ip(v6, IpEvidence::Truncated).as_deref(),
            Some("2001:db8:abcd::/48")
        );
    }
}
