//! A contact's data rights: a copy of their data (GDPR Art. 15 and 20) and erasure (Art. 17).
//!
//! A contact asks from their preference page, or staff start a request on the desk. Either
//! way the answer goes by email to the contact's own address, through the outbox: for a copy,
//! a link to download the data package (JSON, and the history as CSV) that expires; for an
//! erasure, a link to a page whose button (a POST) carries it out. An erasure staff started
//! is also carried out when an admin approves it. Every step is logged on the request (who,
//! when, from where); the contact's erasure empties where from, and deletes the links.

use super::consent::{link_owner, RequestInfo, Result, ServiceError};
use super::Core;
use crate::domain::parse::{EmailAddress, Lang};
use crate::domain::rights::{self, Asker, RequestKind, RequestStatus};
use crate::domain::token::RequestToken;
use crate::domain::ActorKind;
use crate::store::erasure::{Erasure, Whom};
use crate::store::outbox::{self, Claimed};
use crate::store::rights::{self as requests, DataRequest, NewRequest, RequestEvent};
use crate::store::writer::{Priority, Tx, Unit};
use crate::store::{self, format_time, parse_time};
use crate::views::Brand;
use futures_util::future::BoxFuture;
use serde::Serialize;

/// Where a request came from: the evidence its log keeps (the client's address as the
/// deployment's IP policy keeps it, and the browser).
fn from(core: &Core, info: &RequestInfo) -> (Option<String>, Option<String>) {
    let ip = info
        .ip
        .and_then(|ip| super::consent::truncate_ip(ip, core.policy.ip_evidence));
    let ua = info
        .user_agent
        .as_deref()
        .filter(|_| core.policy.keep_user_agent)
        .map(|u| u.chars().take(256).collect());
    (ip, ua)
}

/// Opens a request (or finds the same one made moments ago) and queues its email.
struct Ask {
    contact_id: i64,
    point: i64,
    kind: RequestKind,
    asker: Asker,
    lang: Lang,
    due_at: String,
    /// A request of the same kind made since then is the same request.
    since: String,
    from: (Option<String>, Option<String>),
    message_id: String,
}

/// What asking did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// A new request; its email is queued.
    New(i64),
    /// The same request was made moments ago (its email is on its way): nothing more sent.
    Same(i64),
    /// An erasure was already waiting: its email is sent again.
    Resent(i64),
}

impl Unit for Ask {
    type Output = Asked;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, store::Result<Asked>> {
        Box::pin(async move {
            let actor = self.asker.as_string();
            let from = (self.from.0.as_deref(), self.from.1.as_deref());
            if let Some(r) = requests::current(tx, self.contact_id, self.kind, &self.since).await? {
                if r.created_at.as_str() >= self.since.as_str() || r.status.is_closed() {
                    return Ok(Asked::Same(r.id));
                }
                // An erasure still waiting, asked again later: the link is sent again.
                requests::log(tx, r.id, "asked again", &actor, from).await?;
                outbox::enqueue_request(tx, r.contact_point_id, r.id, &self.message_id).await?;
                return Ok(Asked::Resent(r.id));
            }
            let id = requests::create(
                tx,
                &NewRequest {
                    contact_id: self.contact_id,
                    contact_point_id: self.point,
                    kind: self.kind,
                    status: rights::initial_status(self.kind, self.asker),
                    requested_by: &actor,
                    language: self.lang.code(),
                    due_at: &self.due_at,
                },
            )
            .await?;
            let event = match self.asker {
                Asker::Contact => "asked from the preference page",
                Asker::Staff(_) => "started by staff",
            };
            requests::log(tx, id, event, &actor, from).await?;
            outbox::enqueue_request(tx, self.point, id, &self.message_id).await?;
            Ok(Asked::New(id))
        })
    }
}

async fn ask(
    core: &Core,
    (contact_id, point): (i64, i64),
    kind: RequestKind,
    (asker, lang): (Asker, Lang),
    from: (Option<String>, Option<String>),
) -> Result<Asked> {
    let now = core.clock.now();
    let unit = Ask {
        contact_id,
        point,
        kind,
        asker,
        lang,
        due_at: format_time(rights::due(now, core.policy.data_request_days)),
        since: format_time(now - rights::SAME_REQUEST_WITHIN),
        from,
        message_id: super::optin::new_message_id(&core.policy.base_url),
    };
    Ok(core.writer.run(unit, Priority::Interactive).await?)
}

/// What the page shows after a request from the pages.
pub struct AskedPage {
    pub brand: Brand,
    pub lang: Lang,
    pub address: String,
    pub kind: RequestKind,
    pub asked: Asked,
}

/// The contact, from their preference page (the link's token), asks for a copy of their data
/// or to be forgotten; the email goes to the contact's email address.
pub async fn ask_from_link(
    core: &Core,
    token: &str,
    kind: RequestKind,
    lang: Option<&str>,
    info: &RequestInfo,
) -> Result<AskedPage> {
    let owner = link_owner(core, token, lang, info).await?;
    let Some(point) = owner.email_point else {
        return Err(ServiceError::BadInput("no_email_address"));
    };
    let asked = ask(
        core,
        (owner.contact_id, point),
        kind,
        (Asker::Contact, owner.lang),
        from(core, info),
    )
    .await?;
    Ok(AskedPage {
        brand: owner.brand,
        lang: owner.lang,
        address: owner.address,
        kind,
        asked,
    })
}

/// Staff start a request for a contact on the desk: a copy is mailed at once; an erasure
/// mails the contact a link to confirm and waits for that or an admin's approval.
pub async fn start(
    core: &Core,
    contact_id: i64,
    kind: RequestKind,
    user_id: i64,
) -> Result<Option<Asked>> {
    let Some(card) = store::desk::card(&core.read, contact_id).await? else {
        return Ok(None);
    };
    if card.erased_at.is_some() {
        return Err(ServiceError::BadInput("erased"));
    }
    let Some(point) = card
        .points
        .iter()
        .find(|p| p.kind == crate::domain::PointKind::Email && p.address.is_some())
    else {
        return Err(ServiceError::BadInput("no_email_address"));
    };
    let cat = core.catalog(card.profile_id).await?;
    let lang = super::consent::contact_lang(card.locale.as_deref(), &cat);
    Ok(Some(
        ask(
            core,
            (contact_id, point.id),
            kind,
            (Asker::Staff(user_id), lang),
            (None, None),
        )
        .await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// The email.

/// Inside the mail worker's claim: whether a request's email is still wanted, and if so the
/// link minted for it (only its hash is kept). A copy's request is fulfilled by this email.
pub(crate) async fn claim_mail(
    tx: &mut Tx,
    c: &Claimed,
) -> store::Result<
    std::result::Result<(DataRequest, RequestToken, time::OffsetDateTime), &'static str>,
> {
    let Some(id) = c.data_request_id else {
        return Ok(Err("no request"));
    };
    let Some(r) = requests::get_tx(tx, id).await? else {
        return Ok(Err("request gone"));
    };
    // A copy's request is fulfilled by its email: sending it again (a resend) is still wanted.
    let closed = match r.kind {
        RequestKind::Access => r.status == RequestStatus::Withdrawn,
        RequestKind::Erasure => r.status.is_closed(),
    };
    if closed {
        return Ok(Err("request closed"));
    }
    let owner = store::contacts::point_owner_tx(tx, r.contact_point_id).await?;
    if owner
        .as_ref()
        .is_none_or(|o| o.address.is_none() || o.suppressed)
    {
        return Ok(Err("address erased"));
    }
    let token = RequestToken::from_random(super::random_bytes());
    let expires = rights::link_expires(tx.now());
    requests::insert_token(
        tx,
        r.id,
        &token.hash(),
        &c.message_id,
        &format_time(expires),
    )
    .await?;
    Ok(Ok((r, token, expires)))
}

/// Inside the mail worker's outcome: a request's email was handed to the mail server (a copy's
/// request is then fulfilled), or given up. Logged on the request either way.
pub(crate) async fn mail_outcome(
    tx: &mut Tx,
    request_id: i64,
    kind: RequestKind,
    delivered: bool,
) -> store::Result<()> {
    let event = match (kind, delivered) {
        (RequestKind::Access, true) => "download link mailed",
        (RequestKind::Erasure, true) => "confirmation link mailed",
        (_, false) => "the email could not be delivered",
    };
    requests::log(tx, request_id, event, "system", (None, None)).await?;
    if delivered && kind == RequestKind::Access {
        if let Some(r) = requests::get_tx(tx, request_id).await? {
            if !r.status.is_closed() {
                requests::set_status(tx, request_id, RequestStatus::Fulfilled).await?;
            }
        }
    }
    Ok(())
}

/// What a request's email shows, read when it is sent; `None` when the address is gone.
pub struct RequestMail {
    pub to: EmailAddress,
    pub catalog: std::sync::Arc<store::catalog::Catalog>,
    pub lang: Lang,
    pub url: String,
}

pub async fn request_mail(
    core: &Core,
    r: &DataRequest,
    token: &RequestToken,
) -> Result<Option<RequestMail>> {
    let Some(owner) = store::contacts::point_owner(&core.read, r.contact_point_id).await? else {
        return Ok(None);
    };
    let Some(to) = owner
        .address
        .as_deref()
        .and_then(|a| EmailAddress::parse(a).ok())
    else {
        return Ok(None);
    };
    let catalog = core.catalog(owner.profile_id).await?;
    let lang = Lang::parse(&r.language)
        .unwrap_or_else(|| super::consent::contact_lang(owner.locale.as_deref(), &catalog));
    let path = match r.kind {
        RequestKind::Access => "d",
        RequestKind::Erasure => "f",
    };
    let url = format!(
        "{}/{path}/{}?lang={}",
        core.policy.base_url,
        token.as_str(),
        lang.code()
    );
    Ok(Some(RequestMail {
        to,
        catalog,
        lang,
        url,
    }))
}

// ---------------------------------------------------------------------------------------------
// The emailed links.

/// A working link's request, with the page's brand and language.
pub struct LinkPage {
    pub request: DataRequest,
    pub brand: Brand,
    pub lang: Lang,
    /// The masked address the request is for.
    pub address: String,
    pub expires_at: time::OffsetDateTime,
}

/// The request an emailed link belongs to, if the link still works and is of this kind.
pub async fn link_page(
    core: &Core,
    token: &RequestToken,
    kind: RequestKind,
    lang: Option<&str>,
) -> Result<LinkPage> {
    let Some((request, expires)) = requests::by_token(&core.read, &token.hash()).await? else {
        return Err(ServiceError::InvalidLink);
    };
    let expires_at = parse_time(&expires)?;
    if request.kind != kind || core.clock.now() >= expires_at {
        return Err(ServiceError::InvalidLink);
    }
    let Some(owner) = store::contacts::point_owner(&core.read, request.contact_point_id).await?
    else {
        return Err(ServiceError::InvalidLink);
    };
    let Some(address) = owner
        .address
        .as_deref()
        .and_then(|a| EmailAddress::parse(a).ok())
    else {
        return Err(ServiceError::InvalidLink);
    };
    let catalog = core.catalog(owner.profile_id).await?;
    let lang = lang
        .and_then(Lang::parse)
        .or_else(|| Lang::parse(&request.language))
        .unwrap_or_else(|| super::consent::contact_lang(owner.locale.as_deref(), &catalog));
    Ok(LinkPage {
        request,
        brand: super::consent::brand(&catalog, lang),
        lang,
        address: address.masked(),
        expires_at,
    })
}

/// Logs an entry on a request (a download, say).
struct Log {
    request: i64,
    event: &'static str,
    actor: String,
    from: (Option<String>, Option<String>),
}

impl Unit for Log {
    type Output = ();
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, store::Result<()>> {
        Box::pin(async move {
            let from = (self.from.0.as_deref(), self.from.1.as_deref());
            requests::log(tx, self.request, self.event, &self.actor, from).await
        })
    }
}

/// The data package's format, for the download's file names and its `format` field.
pub const PACKAGE_FORMAT: &str = "prefcenter-data-package/1";

/// The contact's data package through an emailed link, as JSON or as the history's CSV; the
/// download is logged (when, from where).
pub async fn download(
    core: &Core,
    token: &RequestToken,
    csv: bool,
    info: &RequestInfo,
) -> Result<(Vec<u8>, String)> {
    let page = link_page(core, token, RequestKind::Access, None).await?;
    let r = &page.request;
    let bytes = if csv {
        package_csv(core, r.contact_id).await?
    } else {
        let p = package(core, r.contact_id)
            .await?
            .ok_or(ServiceError::InvalidLink)?;
        serde_json::to_vec_pretty(&p).map_err(|e| store::StoreError::Corrupt(e.to_string()))?
    };
    core.writer
        .run(
            Log {
                request: r.id,
                event: if csv {
                    "downloaded (CSV)"
                } else {
                    "downloaded (JSON)"
                },
                actor: "contact".into(),
                from: from(core, info),
            },
            Priority::Interactive,
        )
        .await?;
    let day = &store::format_time(core.clock.now())[..10];
    let name = format!("my-data-{day}.{}", if csv { "csv" } else { "json" });
    Ok((bytes, name))
}

/// Carries out a confirmed or approved erasure request: logs who confirmed it, then erases
/// the contact in the same unit (the erasure closes the request as fulfilled).
struct Forget {
    /// The emailed link's hash (the contact's confirmation), or the request (an approval).
    by: ForgetBy,
    erase: crate::store::erasure::EraseContact,
    actor: String,
    from: (Option<String>, Option<String>),
}

enum ForgetBy {
    Link(crate::domain::token::TokenHash),
    Approval(i64),
}

/// What confirming or approving an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forgotten {
    Erased(Erasure),
    /// The link expired, the request is closed, or it is not an erasure.
    NotOpen,
}

impl Unit for Forget {
    type Output = Forgotten;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, store::Result<Forgotten>> {
        Box::pin(async move {
            let (request, event) = match &self.by {
                ForgetBy::Link(hash) => {
                    let Some((r, expires)) = requests::by_token_tx(tx, hash).await? else {
                        return Ok(Forgotten::NotOpen);
                    };
                    if parse_time(&expires)? <= tx.now() {
                        return Ok(Forgotten::NotOpen);
                    }
                    (r, "confirmed by the contact from the emailed link")
                }
                ForgetBy::Approval(id) => {
                    let Some(r) = requests::get_tx(tx, *id).await? else {
                        return Ok(Forgotten::NotOpen);
                    };
                    if r.status != RequestStatus::AwaitingApproval {
                        return Ok(Forgotten::NotOpen);
                    }
                    (r, "approved by an admin")
                }
            };
            if request.kind != RequestKind::Erasure || request.status.is_closed() {
                return Ok(Forgotten::NotOpen);
            }
            let from = (self.from.0.as_deref(), self.from.1.as_deref());
            requests::log(tx, request.id, event, &self.actor, from).await?;
            Ok(Forgotten::Erased(self.erase.apply(tx).await?))
        })
    }
}

/// The reason an erasure from a data request keeps (its evidence).
fn reason(request_id: i64, by: &str) -> String {
    format!("Data request {request_id}: erasure {by}")
}

/// The contact presses "Erase my data" on the page of the emailed link.
pub async fn forget(core: &Core, token: &RequestToken, info: &RequestInfo) -> Result<Forgotten> {
    let page = link_page(core, token, RequestKind::Erasure, None).await?;
    let id = page.request.id;
    let erase = super::erasure::unit(
        core,
        Whom::Point(page.request.contact_point_id),
        &reason(id, "confirmed by the contact"),
        (ActorKind::Contact, "contact"),
    )?;
    let unit = Forget {
        by: ForgetBy::Link(token.hash()),
        erase,
        actor: "contact".into(),
        // Logged, then emptied by the erasure itself: the log keeps that it was confirmed.
        from: from(core, info),
    };
    let out = core.writer.run(unit, Priority::Interactive).await?;
    if let Forgotten::Erased(e) = &out {
        super::erasure::after(core, e, core.policy.kept_mail_dir.as_deref()).await?;
    }
    Ok(out)
}

/// An admin (`user:{id}`, and their address for the reason's words) approves an erasure
/// staff started.
pub async fn approve(
    core: &Core,
    request_id: i64,
    admin: &str,
    admin_email: &str,
) -> Result<Forgotten> {
    let Some(r) = requests::get(&core.read, request_id).await? else {
        return Ok(Forgotten::NotOpen);
    };
    let erase = super::erasure::unit(
        core,
        Whom::Point(r.contact_point_id),
        &reason(request_id, &format!("approved by {admin_email}")),
        (ActorKind::Staff, admin),
    )?;
    let unit = Forget {
        by: ForgetBy::Approval(request_id),
        erase,
        actor: admin.to_owned(),
        from: (None, None),
    };
    let out = core.writer.run(unit, Priority::Interactive).await?;
    if let Forgotten::Erased(e) = &out {
        super::erasure::after(core, e, core.policy.kept_mail_dir.as_deref()).await?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The data package.

#[derive(Debug, Serialize)]
pub struct Package {
    pub format: &'static str,
    pub generated_at: String,
    pub organization: Organization,
    pub contact: PackageContact,
    pub contact_points: Vec<PackagePoint>,
    /// Every purpose and topic on every channel of each address: the state, and whether the
    /// organization may contact you for it today, and why.
    pub consent: Vec<PackageConsent>,
    /// Every change to your consent and to your profile (consent level, child, custodian,
    /// tracking), oldest first, with its evidence.
    pub history: Vec<PackageRecord>,
    /// Signed consent receipts (JWS) of your consent changes, one per change.
    pub receipts: Vec<PackageReceipt>,
    /// Your data requests and what was done with each.
    pub requests: Vec<PackageRequest>,
}

#[derive(Debug, Serialize)]
pub struct Organization {
    pub name: String,
    pub postal_address: String,
    pub privacy_policy: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PackageContact {
    pub id: i64,
    pub name: Option<String>,
    pub language: Option<String>,
    pub consent_level: u8,
    pub child: bool,
    pub has_custodian: bool,
    pub tracking_allowed: bool,
    pub created_at: String,
}

#[derive(Debug, Serialize)]
pub struct PackagePoint {
    pub kind: &'static str,
    pub address: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Serialize)]
pub struct PackageConsent {
    pub address: Option<String>,
    pub purpose: String,
    pub topic: Option<String>,
    pub channel: &'static str,
    pub state: &'static str,
    pub may_contact: bool,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct PackageRecord {
    pub seq: i64,
    pub occurred_at: String,
    pub address: Option<String>,
    pub purpose: Option<String>,
    pub topic: Option<String>,
    pub channel: String,
    pub old_value: String,
    pub new_value: String,
    pub how: &'static str,
    pub source: String,
    pub actor: String,
    pub change_id: String,
    pub justification: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A change of your profile: which fact, and its values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_fact: Option<PackageFact>,
}

#[derive(Debug, Serialize)]
pub struct PackageFact {
    /// `consent_level`, `child`, `custodian` (a contact's id) or `tracking`.
    pub name: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PackageReceipt {
    pub change_id: String,
    pub jws: String,
}

#[derive(Debug, Serialize)]
pub struct PackageRequest {
    pub id: i64,
    pub kind: &'static str,
    pub status: &'static str,
    pub created_at: String,
    pub due_at: String,
    pub closed_at: Option<String>,
    pub log: Vec<PackageEvent>,
}

#[derive(Debug, Serialize)]
pub struct PackageEvent {
    pub at: String,
    pub event: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Everything held about a contact, as one document; `None` for no such contact (or an
/// erased one: nothing is left to give).
pub async fn package(core: &Core, contact_id: i64) -> Result<Option<Package>> {
    let Some(page) = super::desk::contact(core, contact_id, None).await? else {
        return Ok(None);
    };
    if page.card.erased_at.is_some() {
        return Ok(None);
    }
    let cat = core.catalog(page.card.profile_id).await?;
    let card = &page.card;
    let address_of = |cp: i64| {
        card.points
            .iter()
            .find(|p| p.id == cp)
            .and_then(|p| p.address.clone())
    };
    let consent = page
        .points
        .iter()
        .flat_map(|p| {
            p.rows.iter().map(move |r| PackageConsent {
                address: p.address.clone(),
                purpose: r.purpose.clone(),
                topic: r.topic.clone(),
                channel: r.channel.as_str(),
                state: r.value.as_str(),
                may_contact: r.allowed,
                reason: r.reason.message(),
            })
        })
        .collect();
    let filter = store::desk::HistoryFilter::default();
    let mut records = store::desk::history(&core.read, contact_id, &filter, i64::MAX).await?;
    records.reverse();
    let mut history = Vec::with_capacity(records.len());
    let mut changes: Vec<String> = Vec::new();
    for r in &records {
        let (purpose, topic) = subject_names(&cat, r.subject);
        if r.subject.is_consent() && !changes.contains(&r.change_id) {
            changes.push(r.change_id.clone());
        }
        history.push(PackageRecord {
            seq: r.seq,
            occurred_at: r.occurred_at.clone(),
            address: address_of(r.contact_point_id),
            purpose,
            topic,
            channel: r.channel.as_str().to_owned(),
            old_value: r.old_value.as_str().to_owned(),
            new_value: r.new_value.as_str().to_owned(),
            how: super::desk::how(r.source, r.actor_kind),
            source: r.source.as_str().to_owned(),
            actor: match r.actor_kind {
                ActorKind::Staff => "staff".to_owned(),
                k => k.as_str().to_owned(),
            },
            change_id: r.change_id.clone(),
            justification: r.justification.clone(),
            ip: r.ip.clone(),
            user_agent: r.user_agent.clone(),
            profile_fact: match (r.subject, &r.fact) {
                (crate::domain::Subject::Profile(f), Some(v)) => Some(PackageFact {
                    name: f.as_str(),
                    old: v.old.clone(),
                    new: v.new.clone(),
                }),
                _ => None,
            },
        });
    }
    let masked = card
        .points
        .iter()
        .find_map(|p| {
            p.address
                .as_deref()
                .and_then(|a| EmailAddress::parse(a).ok())
                .map(|e| e.masked())
        })
        .unwrap_or_default();
    let lang = card.locale.as_deref().unwrap_or("en");
    let mut receipts = Vec::new();
    for change in changes {
        match super::receipt::issue(core, &cat, contact_id, masked.clone(), &change, lang).await {
            Ok(i) => receipts.push(PackageReceipt {
                change_id: change,
                jws: i.jws,
            }),
            Err(ServiceError::InvalidLink) => {}
            Err(e) => return Err(e),
        }
    }
    let events = requests::events_of_contact(&core.read, contact_id).await?;
    let requests = requests::of_contact(&core.read, contact_id)
        .await?
        .into_iter()
        .map(|r| PackageRequest {
            id: r.id,
            kind: r.kind.as_str(),
            status: r.status.as_str(),
            created_at: r.created_at,
            due_at: r.due_at,
            closed_at: r.closed_at,
            log: events
                .iter()
                .filter(|(id, _)| *id == r.id)
                .map(|(_, e)| PackageEvent {
                    at: e.at.clone(),
                    event: e.event.clone(),
                    ip: e.ip.clone(),
                    user_agent: e.user_agent.clone(),
                })
                .collect(),
        })
        .collect();
    let profile = &cat.profile;
    Ok(Some(Package {
        format: PACKAGE_FORMAT,
        generated_at: format_time(core.clock.now()),
        organization: Organization {
            name: profile.name.clone(),
            postal_address: profile.footer_address.clone(),
            privacy_policy: profile.privacy_url.clone(),
        },
        contact: PackageContact {
            id: card.id,
            name: card.name.clone(),
            language: card.locale.clone(),
            consent_level: card.level.get(),
            child: card.is_child,
            has_custodian: card.custodian.is_some(),
            tracking_allowed: card.tracking,
            created_at: card.created_at.clone(),
        },
        contact_points: card
            .points
            .iter()
            .map(|p| PackagePoint {
                kind: p.kind.as_str(),
                address: p.address.clone(),
                created_at: p.created_at.clone(),
            })
            .collect(),
        consent,
        history,
        receipts,
        requests,
    }))
}

/// A record's purpose and topic by name.
fn subject_names(
    cat: &store::catalog::Catalog,
    s: crate::domain::Subject,
) -> (Option<String>, Option<String>) {
    use crate::domain::Subject;
    match s {
        Subject::Purpose(id) => (cat.purpose(id).map(|p| p.name.clone()), None),
        Subject::Topic(id) => {
            let t = cat.topic(id);
            (
                t.and_then(|t| cat.purpose(t.purpose_id))
                    .map(|p| p.name.clone()),
                t.map(|t| t.name.clone()),
            )
        }
        Subject::Profile(_) | Subject::Erasure => (None, None),
    }
}

/// The contact's change history as CSV, in the desk export's columns, formula-safe.
pub async fn package_csv(core: &Core, contact_id: i64) -> Result<Vec<u8>> {
    let filter = store::desk::ExportFilter {
        contact: Some(contact_id),
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let rows = store::desk::export_page(&core.read, &filter, after, 5000).await?;
        out.extend(super::desk::export_chunk(&rows, after == 0));
        match rows.last() {
            Some(r) if rows.len() == 5000 => after = r.seq,
            _ => break,
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The desk's view of requests.

/// A request as the desk lists it.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub request: DataRequest,
    /// The contact's name (none once erased or never given).
    pub name: Option<String>,
    pub overdue: bool,
    /// Who asked, in words: "the contact" or the staff user's address.
    pub by: String,
    pub events: Vec<RequestEvent>,
}

async fn rows(core: &Core, list: Vec<(DataRequest, Option<String>)>) -> Result<Vec<RequestRow>> {
    let now = core.clock.now();
    let staff = if list
        .iter()
        .any(|(r, _)| r.requested_by.starts_with("user:"))
    {
        super::desk::StaffNames::load(core).await?
    } else {
        super::desk::StaffNames::none()
    };
    let mut out = Vec::with_capacity(list.len());
    for (r, name) in list {
        let due = parse_time(&r.due_at)?;
        let by = if r.requested_by == "contact" {
            "the contact".to_owned()
        } else {
            staff.name(&r.requested_by)
        };
        let events = requests::events(&core.read, r.id).await?;
        out.push(RequestRow {
            overdue: rights::overdue(r.status, due, now),
            request: r,
            name,
            by,
            events,
        });
    }
    Ok(out)
}

/// A contact's requests, newest first.
pub async fn of_contact(core: &Core, contact_id: i64) -> Result<Vec<RequestRow>> {
    let list = requests::of_contact(&core.read, contact_id)
        .await?
        .into_iter()
        .map(|r| (r, None))
        .collect();
    rows(core, list).await
}

/// The most requests the desk's list shows.
pub const MAX_LISTED: i64 = 200;

/// Every contact's requests, newest first: the open ones, or all.
pub async fn list(core: &Core, open_only: bool) -> Result<Vec<RequestRow>> {
    let list = requests::list(&core.read, open_only, MAX_LISTED).await?;
    rows(core, list).await
}
