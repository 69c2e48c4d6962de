//! Double opt-in: asking for confirmation (from the subscription center, the sign-up form or an
//! undo), the confirm page and its button, a new link for an expired one, reminders and expiry.

use super::consent::{brand, meta, RequestInfo, Result, ServiceError, Shown};
use super::Core;
use crate::domain::ledger::{Desired, Evidence};
use crate::domain::optin::{field_name, PendingItem, PendingItems};
use crate::domain::parse::{EmailAddress, Lang};
use crate::domain::token::ConfirmToken;
use crate::domain::{
    ActorKind, Channel, ConsentLevel, ConsentValue, Enforcement, PointKind, Source, Subject,
};
use crate::store::catalog::Catalog;
use crate::store::contacts::{self, NewContact};
use crate::store::optin::{self as requests, OptInRequest, Outcome};
use crate::store::outbox::{self, MailKind};
use crate::store::writer::{ChangeMeta, Priority, Tx, Unit};
use crate::store::{self, parse_time, StoreError};
use crate::views::{Brand, ConfirmItem, ConfirmState, ConfirmView, SignupTopic, SignupView};

pub use crate::domain::token::ConfirmToken as Token;
use futures_util::future::BoxFuture;
use std::collections::HashSet;

/// A new Message-ID: random, so it reveals nothing, on the host of the public origin.
pub fn new_message_id(base_url: &str) -> String {
    let host = base_url
        .split("://")
        .nth(1)
        .unwrap_or(base_url)
        .split(['/', ':'])
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost");
    let id: String = super::random_bytes::<16>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("<{id}@{host}>")
}

/// Settings a unit needs, copied out of the policy so units own their data.
#[derive(Debug, Clone)]
pub struct AskSettings {
    pub confirm_ttl: time::Duration,
    pub cooldown: time::Duration,
    pub reminder_after: Option<time::Duration>,
    pub base_url: String,
}

impl AskSettings {
    /// The server's settings, with the profile's double opt-in overrides where it has them.
    pub fn from(core: &Core, profile: &crate::store::catalog::Profile) -> AskSettings {
        let d = |s: std::time::Duration| time::Duration::seconds(s.as_secs() as i64);
        let confirm_ttl = profile
            .doi_confirm_hours
            .filter(|h| *h > 0)
            .map(time::Duration::hours)
            .unwrap_or_else(|| d(core.policy.confirm_ttl));
        let reminder_after = match profile.doi_reminder_hours {
            Some(0) => None,
            Some(h) => Some(time::Duration::hours(h)),
            None => core.policy.reminder_after.map(d),
        };
        AskSettings {
            confirm_ttl,
            cooldown: d(core.policy.signup_cooldown),
            reminder_after,
            base_url: core.policy.base_url.clone(),
        }
    }
}

/// What asking for confirmation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// A confirmation email is queued.
    EmailQueued,
    /// The items joined a request whose email went out within the cooldown: its link confirms
    /// them too, and no second email is sent.
    JoinedRecent,
    /// Nothing needed confirming.
    Nothing,
}

/// Inside a unit: joins `items` (already set pending in this transaction) to the contact
/// point's open request, or opens one, and queues the confirmation email. At most one email
/// goes to an address per cooldown: items joining a request whose email is recent need none,
/// and a new request's email is held until the cooldown has passed.
/// `custodian`: a child's custodian's email point, who is asked instead.
pub async fn ask_confirmation(
    tx: &mut Tx,
    cp: i64,
    custodian: Option<i64>,
    items: &PendingItems,
    lang: Lang,
    s: &AskSettings,
) -> store::Result<Asked> {
    if items.is_empty() {
        return Ok(Asked::Nothing);
    }
    let now = tx.now();
    let expires = store::format_time(now + s.confirm_ttl);
    let remind = s
        .reminder_after
        .filter(|r| *r < s.confirm_ttl)
        .map(|r| store::format_time(now + r));
    // At most one email per address per cooldown: a new one waits for the cooldown to pass.
    let held_until = match outbox::last_due(tx, cp).await? {
        Some(last) => Some(parse_time(&last)? + s.cooldown).filter(|t| *t > now),
        None => None,
    };
    let mut items = items.clone();
    let open = match requests::open_request(tx, cp).await? {
        // A request asked of someone else (the child before a custodian was recorded, or
        // another custodian) is replaced: its links must not confirm for this one.
        Some(open) if open.custodian_point_id != custodian => {
            let mut all = open.items.clone();
            all.merge(&items);
            items = all;
            requests::close_request(tx, open.id, Outcome::Withdrawn, None).await?;
            outbox::cancel_for_request(tx, open.id, "asked of the custodian instead").await?;
            None
        }
        open => open,
    };
    let request = match open {
        Some(open) => {
            let mut all = open.items.clone();
            all.merge(&items);
            requests::update_request(tx, open.id, &all, &expires, remind.as_deref()).await?;
            // The open request's email went out (or will) within the cooldown: its link
            // confirms these too. (Only the inbox's owner can close a request.)
            if held_until.is_some() {
                return Ok(Asked::JoinedRecent);
            }
            open.id
        }
        None => {
            requests::create_request(
                tx,
                cp,
                &items,
                lang.code(),
                (&expires, remind.as_deref()),
                custodian,
            )
            .await?
        }
    };
    let due = held_until.map(store::format_time);
    outbox::enqueue(
        tx,
        MailKind::Confirm,
        cp,
        Some(request),
        &new_message_id(&s.base_url),
        due.as_deref(),
    )
    .await?;
    Ok(Asked::EmailQueued)
}

/// Sets the wanted items pending (those not already opted in) and asks for confirmation, in
/// one unit: the center's ticks, an undo of an unsubscribe, a new link for an expired one.
pub struct RequestOptIn {
    pub cp: i64,
    /// (subject, channel) wanted.
    pub wanted: Vec<(Subject, Channel)>,
    /// Other changes of the same action (the center's unticks), applied first.
    pub other: Vec<(i64, Desired)>,
    pub meta: ChangeMeta,
    pub lang: Lang,
    pub settings: AskSettings,
}

/// What a [`RequestOptIn`] did.
#[derive(Debug, Clone)]
pub struct RequestedOptIn {
    pub applied: crate::store::writer::Applied,
    pub asked: Asked,
}

impl Unit for RequestOptIn {
    type Output = RequestedOptIn;
    fn points(&self) -> Vec<i64> {
        let mut p: Vec<i64> = self.other.iter().map(|(cp, _)| *cp).collect();
        p.push(self.cp);
        p
    }
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, store::Result<RequestedOptIn>> {
        Box::pin(async move {
            let mut items = self.other.clone();
            let mut pending = PendingItems::default();
            // A child's opt-ins are confirmed by the custodian, at the custodian's address; the
            // child's own opt-in is not enough: with a custodian to ask, it waits for them.
            let custodian = match self.wanted.is_empty() {
                true => None,
                false => requests::custodian_point(tx, self.cp).await?,
            };
            for &(subject, channel) in &self.wanted {
                let cur = tx.state(self.cp, subject, channel).await?;
                let before = cur.map(|c| c.value).unwrap_or_default();
                let confirmed = cur.is_some_and(|c| c.custodian_confirmed);
                match before {
                    ConsentValue::OptedIn if custodian.is_none() || confirmed => continue,
                    ConsentValue::OptedIn => {
                        items.push((self.cp, desired(subject, channel, ConsentValue::Pending)))
                    }
                    ConsentValue::Pending => {}
                    _ => items.push((self.cp, desired(subject, channel, ConsentValue::Pending))),
                }
                pending.add(PendingItem {
                    subject,
                    channel,
                    before,
                });
            }
            let records = tx.consent(&items, &self.meta).await?;
            let asked =
                ask_confirmation(tx, self.cp, custodian, &pending, self.lang, &self.settings)
                    .await?;
            Ok(RequestedOptIn {
                applied: crate::store::writer::Applied {
                    change_id: self.meta.change_id.clone(),
                    records,
                },
                asked,
            })
        })
    }
}

pub(crate) fn desired(subject: Subject, channel: Channel, value: ConsentValue) -> Desired {
    Desired {
        subject,
        channel,
        value,
        custodian_confirmed: false,
        only_if_current: None,
    }
}

// ---------------------------------------------------------------------------------------------
// The public sign-up form.

/// The sign-up form of a profile (read only).
pub async fn signup_form(core: &Core, profile_key: &str, lang: Lang) -> Result<SignupView> {
    let profile_id = store::catalog::profile_id_by_key(&core.read, profile_key)
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    let catalog = core.catalog(profile_id).await?;
    let stamp = crate::domain::optin::sign_stamp(
        core.secret(),
        profile_key.as_bytes(),
        crate::domain::optin::ShownForm {
            form_version: catalog.profile.form_version,
            lang: lang.code(),
        },
    );
    Ok(SignupView {
        brand: brand(&catalog, lang),
        lang,
        profile_key: profile_key.to_owned(),
        topics: signup_topics(&catalog, lang),
        stamp,
    })
}

/// What the form offers: every optional, live topic (or topic-less purpose) sent by email.
fn signup_topics(cat: &Catalog, lang: Lang) -> Vec<SignupTopic> {
    let mut out = Vec::new();
    let design = &cat.profile.design;
    for p in cat.purposes.iter().filter(|p| {
        !p.mandatory
            && !p.retired
            && p.enforcement != Enforcement::Disabled
            && p.channels.contains(&Channel::Email)
            && design.shows(&p.key, None)
    }) {
        let topics: Vec<_> = cat
            .topics_of(p.id)
            .filter(|t| !t.retired && design.shows(&p.key, Some(&t.key)))
            .collect();
        if topics.is_empty() {
            let (name, description) = cat.purpose_words(p, lang);
            out.push(SignupTopic {
                field: field_name(Subject::Purpose(p.id), Channel::Email),
                name: name.to_owned(),
                description: description.to_owned(),
            });
        }
        for t in topics {
            let (name, description) = cat.topic_words(t, lang);
            out.push(SignupTopic {
                field: field_name(Subject::Topic(t.id), Channel::Email),
                name: name.to_owned(),
                description: description.to_owned(),
            });
        }
    }
    out
}

/// A sign-up: the address, the topics ticked and the language of the form.
pub struct SignupRequest<'a> {
    pub profile_key: &'a str,
    pub email: EmailAddress,
    pub fields: &'a HashSet<String>,
    pub lang: Lang,
    pub stamp: Option<&'a str>,
}

struct SignUp {
    profile_id: i64,
    email: EmailAddress,
    wanted: Vec<(Subject, Channel)>,
    meta: ChangeMeta,
    lang: Lang,
    settings: AskSettings,
    /// Keys the suppression list's hashes.
    secret: std::sync::Arc<[u8]>,
}

impl Unit for SignUp {
    type Output = Asked;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, store::Result<Asked>> {
        Box::pin(async move {
            let cp = match contacts::point_by_address(tx, PointKind::Email, self.email.as_str())
                .await?
            {
                // Erased or suppressed, or another profile's contact: nothing happens, and the
                // page says the same as for anyone else.
                Some(o) if o.suppressed || o.profile_id != self.profile_id => {
                    return Ok(Asked::Nothing)
                }
                Some(o) => o.contact_point_id,
                // An erased address: nothing is sent, nothing is recorded, the same page.
                None if store::erasure::suppressed(
                    tx,
                    &self.secret,
                    PointKind::Email,
                    self.email.as_str(),
                )
                .await?
                .is_some() =>
                {
                    return Ok(Asked::Nothing)
                }
                None => {
                    contacts::create_contact_with_point(
                        tx,
                        &NewContact {
                            name: None,
                            profile_id: self.profile_id,
                            locale: Some(self.lang.code()),
                            // Asking for subscriptions is consent to be contacted about them.
                            level: ConsentLevel::SUBSCRIPTIONS,
                            is_child: false,
                        },
                        PointKind::Email,
                        self.email.as_str(),
                    )
                    .await?
                }
            };
            let unit = RequestOptIn {
                cp,
                wanted: self.wanted.clone(),
                other: Vec::new(),
                meta: self.meta.clone(),
                lang: self.lang,
                settings: self.settings.clone(),
            };
            Ok(unit.apply(tx).await?.asked)
        })
    }
}

/// One sign-up attempt of a client, counted in the database: the limit holds across instances.
struct SignupHit {
    key: [u8; 16],
}

impl Unit for SignupHit {
    type Output = i64;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, store::Result<i64>> {
        Box::pin(async move {
            // The minute it falls in.
            let window = store::rate::window_start(tx.now(), 60);
            store::rate::hit(tx, window, &self.key).await
        })
    }
}

/// Whether a client (its address) may sign up once more this minute, by the count every
/// instance shares (fixed one-minute windows: across a window's edge a client may get up to
/// twice the limit within a minute). `Err(seconds)` says when the window ends.
pub async fn signup_allowed(
    core: &Core,
    client: std::net::IpAddr,
) -> Result<std::result::Result<(), u64>> {
    let key = crate::domain::optin::client_key(core.secret(), "signup", &client.to_string());
    let hits = core
        .writer
        .run(SignupHit { key }, Priority::Interactive)
        .await?;
    if hits <= i64::from(core.policy.signup_rate_per_minute.max(1)) {
        Ok(Ok(()))
    } else {
        Ok(Err(60 - u64::from(core.clock.now().second())))
    }
}

/// Signs an address up for topics. The caller shows the same page whatever this returns: a new
/// address, a pending one, a confirmed one and a suppressed one all look alike from outside.
pub async fn signup(core: &Core, req: SignupRequest<'_>, info: &RequestInfo) -> Result<Asked> {
    let profile_id = store::catalog::profile_id_by_key(&core.read, req.profile_key)
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    let catalog = core.catalog(profile_id).await?;
    // The fields are the same in every language; the words do not matter here.
    let offered: Vec<SignupTopic> = signup_topics(&catalog, Lang::En);
    let mut wanted = Vec::new();
    for f in req.fields {
        if !offered.iter().any(|t| &t.field == f) {
            return Err(ServiceError::BadInput("unknown_topic"));
        }
    }
    for t in &offered {
        if req.fields.contains(&t.field) {
            if let Some(sc) = crate::domain::optin::parse_field(&t.field) {
                wanted.push(sc);
            }
        }
    }
    if wanted.is_empty() {
        return Err(ServiceError::BadInput("no_topic"));
    }
    // What the form showed: the stamp the server signed, else what it serves now.
    let shown = super::consent::verified_stamp(core, req.profile_key.as_bytes(), req.stamp)
        .unwrap_or(Shown {
            form_version: Some(catalog.profile.form_version),
            lang: Some(req.lang),
        });
    let unit = SignUp {
        profile_id,
        email: req.email,
        wanted,
        meta: meta(core, ActorKind::Contact, Source::Page, info, shown, None),
        lang: shown.lang.unwrap_or(req.lang),
        settings: AskSettings::from(core, &catalog.profile),
        secret: core.secret.clone(),
    };
    Ok(core.writer.run(unit, Priority::Interactive).await?)
}

// ---------------------------------------------------------------------------------------------
// The confirm link.

fn items_view(cat: &Catalog, items: &PendingItems, lang: Lang) -> Vec<ConfirmItem> {
    items
        .0
        .iter()
        .map(|i| ConfirmItem {
            field: i.field(),
            name: describe(cat, i.subject, lang),
            channel: i.channel,
        })
        .collect()
}

pub(crate) fn describe(cat: &Catalog, subject: Subject, lang: Lang) -> String {
    match subject {
        Subject::Topic(id) => cat.topic(id).map(|t| cat.topic_words(t, lang).0.to_owned()),
        Subject::Purpose(id) => cat
            .purpose(id)
            .map(|p| cat.purpose_words(p, lang).0.to_owned()),
        Subject::Profile(_) | Subject::Erasure => None,
    }
    .unwrap_or_else(|| "—".to_owned())
}

/// The request behind a confirm link, or the one answer every wrong link gets.
async fn resolve_confirm(
    core: &Core,
    token: &ConfirmToken,
) -> Result<(crate::store::contacts::LinkTarget, OptInRequest)> {
    let (target, request) = requests::find_by_token(&core.read, &token.hash())
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    if target.address.is_none() || target.suppressed {
        return Err(ServiceError::InvalidLink);
    }
    Ok((target, request))
}

fn request_lang(request: &OptInRequest, link: Option<Lang>) -> Lang {
    link.or_else(|| Lang::parse(&request.language))
        .unwrap_or_default()
}

/// The confirm page (read only: a scanner's GET confirms nothing).
pub async fn confirm_page(
    core: &Core,
    token: &ConfirmToken,
    lang: Option<Lang>,
) -> Result<ConfirmView> {
    let (target, request) = resolve_confirm(core, token).await?;
    let catalog = core.catalog(target.profile_id).await?;
    let lang = request_lang(&request, lang);
    let now = core.clock.now();
    let state = match request.closed {
        Some(Outcome::Confirmed) => ConfirmState::AlreadyConfirmed,
        Some(Outcome::Expired) => ConfirmState::Expired,
        Some(Outcome::Withdrawn) => ConfirmState::NothingPending,
        None if parse_time(&request.expires_at)? <= now => ConfirmState::Expired,
        None => ConfirmState::Open,
    };
    let items = match state {
        ConfirmState::AlreadyConfirmed => {
            confirmed_items(core, &catalog, &request, target.contact_id, lang).await?
        }
        _ => items_view(&catalog, &request.items, lang),
    };
    Ok(ConfirmView {
        brand: brand(&catalog, lang),
        lang,
        address: mask(&target.address),
        receipt: state == ConfirmState::AlreadyConfirmed && !items.is_empty(),
        state,
        items,
    })
}

/// What a confirmation opted in (from the ledger, so it is what really happened).
async fn confirmed_items(
    core: &Core,
    catalog: &Catalog,
    request: &OptInRequest,
    contact_id: i64,
    lang: Lang,
) -> Result<Vec<ConfirmItem>> {
    let Some(change) = &request.confirm_change_id else {
        return Ok(Vec::new());
    };
    let records = store::ledger::by_change(&core.read, change, contact_id).await?;
    Ok(records
        .iter()
        .filter(|r| r.new_value == ConsentValue::OptedIn)
        .map(|r| ConfirmItem {
            field: field_name(r.subject, r.channel),
            name: describe(catalog, r.subject, lang),
            channel: r.channel,
        })
        .collect())
}

/// The signed receipt of the change a confirmation made (the confirm page offers it once
/// the request is confirmed).
pub async fn confirm_receipt(
    core: &Core,
    token: &ConfirmToken,
) -> Result<crate::services::receipt::Issued> {
    let (target, request) = resolve_confirm(core, token).await?;
    let Some(change) = &request.confirm_change_id else {
        return Err(ServiceError::InvalidLink);
    };
    let catalog = core.catalog(target.profile_id).await?;
    crate::services::receipt::issue(
        core,
        &catalog,
        target.contact_id,
        mask(&target.address),
        change,
        request_lang(&request, None).code(),
    )
    .await
}

fn mask(address: &Option<String>) -> String {
    address
        .as_deref()
        .and_then(|a| EmailAddress::parse(a).ok())
        .map(|e| e.masked())
        .unwrap_or_default()
}

struct Confirm {
    hash: crate::domain::token::TokenHash,
    keep: HashSet<String>,
    meta: ChangeMeta,
}

/// What pressing Confirm did.
pub enum Confirmed {
    /// Now opted in to the items kept.
    Done,
    AlreadyConfirmed,
    Expired,
    NothingPending,
}

impl Unit for Confirm {
    type Output = Confirmed;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, store::Result<Confirmed>> {
        Box::pin(async move {
            let Some((request, message_id)) = requests::request_of_token(tx, &self.hash).await?
            else {
                return Err(StoreError::Missing("confirm token".into()));
            };
            match request.closed {
                Some(Outcome::Confirmed) => return Ok(Confirmed::AlreadyConfirmed),
                Some(Outcome::Expired) => return Ok(Confirmed::Expired),
                Some(Outcome::Withdrawn) => return Ok(Confirmed::NothingPending),
                None => {}
            }
            if parse_time(&request.expires_at)? <= tx.now() {
                return Ok(Confirmed::Expired);
            }
            let cp = request.contact_point_id;
            let mut items = Vec::new();
            for i in &request.items.0 {
                // Only what is still waiting: an opt-out since then stands.
                let cur = tx.state(cp, i.subject, i.channel).await?;
                if cur.map(|c| c.value) != Some(ConsentValue::Pending) {
                    continue;
                }
                let value = if self.keep.contains(&i.field()) {
                    ConsentValue::OptedIn
                } else {
                    i.before
                };
                items.push((cp, desired(i.subject, i.channel, value)));
            }
            if items.is_empty() {
                requests::close_request(tx, request.id, Outcome::Withdrawn, None).await?;
                outbox::cancel_for_request(tx, request.id, "nothing left to confirm").await?;
                return Ok(Confirmed::NothingPending);
            }
            let mut meta = self.meta.clone();
            meta.confirmation = Some(message_id);
            if let Some(custodian) = request.custodian_point_id {
                // The custodian's consent, for the child: recorded as theirs.
                meta.actor_kind = ActorKind::Custodian;
                meta.actor_id = Some(format!("point:{custodian}"));
                for (_, d) in items.iter_mut() {
                    d.custodian_confirmed = d.value == ConsentValue::OptedIn;
                }
            }
            tx.consent(&items, &meta).await?;
            requests::close_request(tx, request.id, Outcome::Confirmed, Some(&meta.change_id))
                .await?;
            outbox::cancel_for_request(tx, request.id, "confirmed").await?;
            Ok(Confirmed::Done)
        })
    }
}

/// The Confirm button: opts in to the items the contact kept ticked (all, by default).
pub async fn confirm(
    core: &Core,
    token: &ConfirmToken,
    keep: HashSet<String>,
    info: &RequestInfo,
) -> Result<Confirmed> {
    let (target, request) = resolve_confirm(core, token).await?;
    if keep
        .iter()
        .any(|f| !request.items.0.iter().any(|i| &i.field() == f))
    {
        return Err(ServiceError::BadInput("unknown_topic"));
    }
    let catalog = core.catalog(target.profile_id).await?;
    // What the contact saw: the page the server renders for this request, in its language.
    let shown = Shown {
        form_version: Some(catalog.profile.form_version),
        lang: Some(request_lang(&request, None)),
    };
    let unit = Confirm {
        hash: token.hash(),
        keep,
        meta: meta(
            core,
            ActorKind::Contact,
            Source::DoubleOptIn,
            info,
            shown,
            None,
        ),
    };
    Ok(core.writer.run(unit, Priority::Interactive).await?)
}

/// An expired link's "send me a new link": asks again for what the old request held.
pub async fn resend(
    core: &Core,
    token: &ConfirmToken,
    info: &RequestInfo,
) -> Result<(Brand, Lang, Asked)> {
    let (target, request) = resolve_confirm(core, token).await?;
    let catalog = core.catalog(target.profile_id).await?;
    let lang = request_lang(&request, None);
    let expired = request.closed == Some(Outcome::Expired)
        || (request.closed.is_none() && parse_time(&request.expires_at)? <= core.clock.now());
    if !expired {
        return Ok((brand(&catalog, lang), lang, Asked::Nothing));
    }
    // Close the old request first (expiry may not have run yet), then ask afresh.
    expire_request(core, request.id, Priority::Interactive).await?;
    let shown = Shown {
        form_version: Some(catalog.profile.form_version),
        lang: Some(lang),
    };
    let unit = RequestOptIn {
        cp: request.contact_point_id,
        wanted: request
            .items
            .0
            .iter()
            .map(|i| (i.subject, i.channel))
            .collect(),
        other: Vec::new(),
        meta: meta(core, ActorKind::Contact, Source::Page, info, shown, None),
        lang,
        settings: AskSettings::from(core, &catalog.profile),
    };
    let done = core.writer.run(unit, Priority::Interactive).await?;
    Ok((brand(&catalog, lang), lang, done.asked))
}

// ---------------------------------------------------------------------------------------------
// Reminders and expiry.

struct Expire {
    request_id: i64,
    meta: ChangeMeta,
}

impl Unit for Expire {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, store::Result<bool>> {
        Box::pin(async move {
            let Some(request) = requests::request_by_id(tx, self.request_id).await? else {
                return Ok(false);
            };
            if request.closed.is_some() || parse_time(&request.expires_at)? > tx.now() {
                return Ok(false);
            }
            let cp = request.contact_point_id;
            let mut items = Vec::new();
            for i in &request.items.0 {
                let cur = tx.state(cp, i.subject, i.channel).await?;
                if cur.map(|c| c.value) == Some(ConsentValue::Pending) {
                    items.push((cp, desired(i.subject, i.channel, i.before)));
                }
            }
            tx.consent(&items, &self.meta).await?;
            requests::close_request(tx, request.id, Outcome::Expired, None).await?;
            outbox::cancel_for_request(tx, request.id, "expired").await?;
            Ok(true)
        })
    }
}

fn system_meta(justification: &str) -> ChangeMeta {
    ChangeMeta {
        actor_kind: ActorKind::System,
        actor_id: Some("double-opt-in".into()),
        source: Source::System,
        change_id: super::consent::new_change_id(),
        form_version: None,
        language: None,
        request_id: None,
        confirmation: None,
        evidence: Evidence {
            justification: Some(justification.to_owned()),
            ..Default::default()
        },
    }
}

/// Closes an expired request: what is still pending goes back to what it was before, recorded
/// by the system actor. Returns whether it expired it (false if already closed or not due).
/// The schedule runs it at bulk priority; a person asking for a new link waits at interactive.
pub async fn expire_request(core: &Core, request_id: i64, priority: Priority) -> Result<bool> {
    let unit = Expire {
        request_id,
        meta: system_meta("Double opt-in not confirmed before the link expired"),
    };
    Ok(core.writer.run(unit, priority).await?)
}

struct Remind {
    request_id: i64,
    base_url: String,
}

impl Unit for Remind {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, store::Result<bool>> {
        Box::pin(async move {
            let Some(request) = requests::request_by_id(tx, self.request_id).await? else {
                return Ok(false);
            };
            let due = request
                .remind_at
                .as_deref()
                .map(parse_time)
                .transpose()?
                .is_some_and(|t| t <= tx.now());
            if request.closed.is_some() || !due {
                return Ok(false);
            }
            requests::mark_reminded(tx, request.id).await?;
            outbox::enqueue(
                tx,
                MailKind::Reminder,
                request.contact_point_id,
                Some(request.id),
                &new_message_id(&self.base_url),
                None,
            )
            .await?;
            Ok(true)
        })
    }
}

/// One pass of the schedule: queues due reminders and expires due requests. Returns
/// (reminders queued, requests expired).
pub async fn run_schedule_once(core: &Core) -> Result<(u32, u32)> {
    let now = core.clock.now_str();
    let mut reminded = 0;
    for id in requests::due_reminders(&core.read, &now, 500).await? {
        let unit = Remind {
            request_id: id,
            base_url: core.policy.base_url.clone(),
        };
        if core.writer.run(unit, Priority::Bulk).await? {
            reminded += 1;
        }
    }
    let mut expired = 0;
    for id in requests::due_expiries(&core.read, &now, 500).await? {
        if expire_request(core, id, Priority::Bulk).await? {
            expired += 1;
        }
    }
    Ok((reminded, expired))
}

/// Runs the schedule every `every` until `stop` fires.
pub async fn run_schedule(
    core: std::sync::Arc<Core>,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match run_schedule_once(&core).await {
            Ok((r, e)) if r + e > 0 => {
                tracing::info!(reminders = r, expired = e, "double opt-in schedule")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "double opt-in schedule failed; will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// What the mail worker needs to write a confirmation or reminder, read when it sends.
pub struct ConfirmMail {
    pub to: EmailAddress,
    /// A child's request, sent to the custodian: the child's masked address.
    pub custodian_of: Option<String>,
    pub catalog: std::sync::Arc<Catalog>,
    pub lang: Lang,
    pub items: Vec<ConfirmItem>,
    pub expires_at: time::OffsetDateTime,
}

/// Reads what a confirmation email shows; `None` when the address is gone.
pub async fn confirm_mail(
    core: &Core,
    cp: i64,
    request: &OptInRequest,
) -> Result<Option<ConfirmMail>> {
    let Some(owner) = contacts::point_owner(&core.read, cp).await? else {
        return Ok(None);
    };
    let Some(child) = owner
        .address
        .as_deref()
        .and_then(|a| EmailAddress::parse(a).ok())
    else {
        return Ok(None);
    };
    // A child's request goes to the custodian, naming the child by the masked address.
    let (to, custodian_of) = match request.custodian_point_id {
        None => (child, None),
        Some(g) => {
            let guardian = contacts::point_owner(&core.read, g)
                .await?
                .and_then(|o| o.address)
                .and_then(|a| EmailAddress::parse(&a).ok());
            let Some(guardian) = guardian else {
                return Ok(None);
            };
            (guardian, Some(child.masked()))
        }
    };
    let catalog = core.catalog(owner.profile_id).await?;
    let lang = Lang::parse(&request.language).unwrap_or_default();
    let items = items_view(&catalog, &request.items, lang);
    Ok(Some(ConfirmMail {
        to,
        custodian_of,
        catalog,
        lang,
        items,
        expires_at: parse_time(&request.expires_at)?,
    }))
}
