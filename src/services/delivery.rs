//! The mail worker: claims due outbox rows under a lease (through the writer), checks that each
//! message is still wanted, renders it, hands it to the transport, and records the outcome:
//! sent, retried later with exponential backoff and jitter, dead (a permanent refusal or too
//! many tries), or cancelled. Delivery is at least once: a row whose sending was cut short (a
//! crash) is claimed again when its lease runs out and sent again with the same Message-ID.

use super::optin::{confirm_mail, ConfirmMail};
use super::Core;
use crate::domain::optin::retry_delay;
use crate::domain::ConsentValue;
use crate::mail::compose::{self, ConfirmEmail};
use crate::mail::{Delivered, SendError, Transport};
use crate::store::optin::{self as requests, OptInRequest};
use crate::store::outbox::{self, Claimed, Finish};
use crate::store::writer::{Priority, Tx, Unit};
use crate::store::{self, parse_time};
use futures_util::future::BoxFuture;
use lettre::message::Mailbox;
use std::sync::Arc;
use std::time::Duration;

/// How the worker behaves.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// How long a claimed message is reserved for this worker.
    pub lease: Duration,
    /// First retry delay; doubles with each failure.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Tries before a message is given up as dead.
    pub max_attempts: u32,
    /// How often the outbox is looked at when nothing wakes the worker.
    pub poll: Duration,
    /// Used when a profile has no sender address.
    pub default_from: String,
    /// Print each confirmation link on the terminal (the demo, with no SMTP server).
    pub echo_links: bool,
}

/// A claimed message, still wanted, with the token minted for it.
pub struct ToSend {
    pub claimed: Claimed,
    pub what: Outgoing,
}

/// What a claimed message is.
pub enum Outgoing {
    /// A double opt-in confirmation request (or its reminder).
    Confirm {
        request: OptInRequest,
        token: crate::domain::token::ConfirmToken,
    },
    /// The notice of a change staff recorded (read from the ledger when sent).
    Notice,
    /// A contact's data request: the download link, or the link that confirms an erasure.
    Request {
        request: crate::store::rights::DataRequest,
        token: crate::domain::token::RequestToken,
        expires_at: time::OffsetDateTime,
    },
    /// An invitation to the console.
    Invite {
        email: String,
        role: crate::domain::auth::Role,
        token: crate::domain::token::InviteToken,
        expires_at: time::OffsetDateTime,
    },
}

struct Claim {
    owner: String,
    lease: Duration,
    limit: i64,
}

/// Why a message is no longer wanted, if it is not.
async fn still_wanted(
    tx: &mut Tx,
    c: &Claimed,
) -> store::Result<std::result::Result<OptInRequest, &'static str>> {
    let (Some(request_id), Some(point)) = (c.request_id, c.contact_point_id) else {
        return Ok(Err("no request"));
    };
    let Some(request) = requests::request_by_id(tx, request_id).await? else {
        return Ok(Err("request gone"));
    };
    if request.closed.is_some() {
        return Ok(Err("request closed"));
    }
    if parse_time(&request.expires_at)? <= tx.now() {
        return Ok(Err("request expired"));
    }
    let owner = store::contacts::point_owner_tx(tx, point).await?;
    if owner
        .as_ref()
        .is_none_or(|o| o.address.is_none() || o.suppressed)
    {
        return Ok(Err("address erased or suppressed"));
    }
    let mut pending = false;
    for i in &request.items.0 {
        let s = tx.state(point, i.subject, i.channel).await?;
        if s.map(|s| s.value) == Some(ConsentValue::Pending) {
            pending = true;
            break;
        }
    }
    if !pending {
        // The contact withdrew (or confirmed elsewhere) in the meantime.
        return Ok(Err("nothing pending any more"));
    }
    Ok(Ok(request))
}

/// An invitation still wanted (the user exists, has not accepted, is not disabled), with a
/// fresh link minted for this email.
async fn invitation(
    tx: &mut Tx,
    c: &Claimed,
) -> store::Result<std::result::Result<Outgoing, &'static str>> {
    let Some(user_id) = c.user_id else {
        return Ok(Err("no user"));
    };
    let Some((email, role)) = store::users::pending_invitee(tx, user_id).await? else {
        return Ok(Err("user gone, disabled or already signed up"));
    };
    let token = crate::domain::token::InviteToken::from_random(super::random_bytes());
    let expires_at = tx.now() + time::Duration::days(crate::domain::auth::INVITE_DAYS);
    store::users::insert_invite_token(
        tx,
        user_id,
        &token.hash(),
        &c.message_id,
        &store::format_time(expires_at),
    )
    .await?;
    Ok(Ok(Outgoing::Invite {
        email,
        role,
        token,
        expires_at,
    }))
}

impl Unit for Claim {
    type Output = Vec<ToSend>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, store::Result<Vec<ToSend>>> {
        Box::pin(async move {
            let lease_until = store::format_time(
                tx.now() + time::Duration::milliseconds(self.lease.as_millis() as i64),
            );
            let claimed = outbox::claim(tx, &self.owner, &lease_until, self.limit).await?;
            let mut out = Vec::new();
            for c in claimed {
                let what = if c.kind == outbox::MailKind::Invite {
                    invitation(tx, &c).await?
                } else if c.kind == outbox::MailKind::Notice {
                    Ok(Outgoing::Notice)
                } else if c.kind == outbox::MailKind::Request {
                    super::rights::claim_mail(tx, &c)
                        .await?
                        .map(|(request, token, expires_at)| Outgoing::Request {
                            request,
                            token,
                            expires_at,
                        })
                } else {
                    match still_wanted(tx, &c).await? {
                        Ok(request) => {
                            let token = super::new_confirm_token();
                            requests::insert_confirm_token(
                                tx,
                                request.id,
                                &token.hash(),
                                &c.message_id,
                            )
                            .await?;
                            Ok(Outgoing::Confirm { request, token })
                        }
                        Err(why) => Err(why),
                    }
                };
                match what {
                    Ok(what) => out.push(ToSend { claimed: c, what }),
                    Err(why) => {
                        outbox::finish(tx, c.id, &self.owner, &Finish::Cancelled { why }).await?;
                    }
                }
            }
            Ok(out)
        })
    }
}

struct Done {
    id: i64,
    owner: String,
    how: Finish,
    /// A data request's email: the request, logged with the outcome.
    request: Option<(i64, crate::domain::rights::RequestKind)>,
}

impl Unit for Done {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, store::Result<bool>> {
        Box::pin(async move {
            let held = outbox::finish(tx, self.id, &self.owner, &self.how).await?;
            if let (true, Some((request, kind))) = (held, self.request) {
                match &self.how {
                    Finish::Sent => super::rights::mail_outcome(tx, request, kind, true).await?,
                    Finish::Dead { .. } => {
                        super::rights::mail_outcome(tx, request, kind, false).await?
                    }
                    Finish::Retry { .. } | Finish::Cancelled { .. } => {}
                }
            }
            Ok(held)
        })
    }
}

/// The worker: one per server process.
pub struct Worker {
    core: Arc<Core>,
    transport: Arc<Transport>,
    settings: DeliverySettings,
    owner: String,
}

impl Worker {
    pub fn new(core: Arc<Core>, transport: Arc<Transport>, settings: DeliverySettings) -> Worker {
        let owner: String = super::random_bytes::<6>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Worker {
            core,
            transport,
            settings,
            owner,
        }
    }

    /// Claims and sends what is due now; returns how many messages it handled.
    pub async fn run_once(&self) -> store::Result<usize> {
        let batch = self
            .core
            .writer
            .run(
                Claim {
                    owner: self.owner.clone(),
                    lease: self.settings.lease,
                    limit: 10,
                },
                Priority::Interactive,
            )
            .await?;
        let n = batch.len();
        for m in batch {
            let how = self.deliver(&m).await;
            let request = match &m.what {
                Outgoing::Request { request, .. } => Some((request.id, request.kind)),
                _ => None,
            };
            let done = Done {
                id: m.claimed.id,
                owner: self.owner.clone(),
                how,
                request,
            };
            if !self.core.writer.run(done, Priority::Interactive).await? {
                tracing::warn!(
                    outbox = m.claimed.id,
                    "lease lost before the outcome was recorded"
                );
            }
        }
        Ok(n)
    }

    /// A contact's message's sender (the profile's, else the server's address under the
    /// profile's name), reply-to and recipient; the message is dead when one cannot be put in
    /// a header.
    #[allow(clippy::result_large_err)]
    fn envelope(
        &self,
        profile: &crate::store::catalog::Profile,
        to: &str,
    ) -> std::result::Result<(Mailbox, Option<Mailbox>, Mailbox), Finish> {
        let from = profile
            .sender_address
            .as_deref()
            .and_then(|a| Self::mailbox(profile.sender_name.as_deref(), a))
            .or_else(|| Self::mailbox(Some(&profile.name), &self.settings.default_from))
            .ok_or_else(|| Finish::Dead {
                error: "no usable sender address".into(),
            })?;
        let to = Self::mailbox(None, to).ok_or_else(|| Finish::Dead {
            error: "the recipient address cannot be put in a header".into(),
        })?;
        let reply_to = profile
            .reply_to
            .as_deref()
            .and_then(|a| Self::mailbox(None, a));
        Ok((from, reply_to, to))
    }

    fn mailbox(name: Option<&str>, address: &str) -> Option<Mailbox> {
        let addr = address.parse().ok()?;
        Some(Mailbox::new(name.map(str::to_owned), addr))
    }

    async fn deliver(&self, m: &ToSend) -> Finish {
        let c = &m.claimed;
        match &m.what {
            Outgoing::Confirm { request, token } => self.confirm(c, request, token).await,
            Outgoing::Notice => self.notice(c).await,
            Outgoing::Request {
                request,
                token,
                expires_at,
            } => self.request(c, request, token, *expires_at).await,
            Outgoing::Invite {
                email,
                role,
                token,
                expires_at,
            } => self.invite(c, email, *role, token, *expires_at).await,
        }
    }

    async fn invite(
        &self,
        c: &Claimed,
        email: &str,
        role: crate::domain::auth::Role,
        token: &crate::domain::token::InviteToken,
        expires_at: time::OffsetDateTime,
    ) -> Finish {
        let Some(from) = Self::mailbox(Some(compose::CONSOLE_SENDER), &self.settings.default_from)
        else {
            return Finish::Dead {
                error: "no usable sender address".into(),
            };
        };
        let Some(to) = Self::mailbox(None, email) else {
            return Finish::Dead {
                error: "the recipient address cannot be put in a header".into(),
            };
        };
        let url = format!(
            "{}/admin/invite/{}",
            self.core.policy.base_url,
            token.as_str()
        );
        let expires = crate::i18n::date(crate::domain::parse::Lang::En, expires_at);
        let invite = compose::InviteEmail {
            from,
            to,
            message_id: &c.message_id,
            role,
            accept_url: &url,
            expires: &expires,
        };
        let message = match compose::invitation(&invite) {
            Ok(m) => m,
            Err(e) => return Finish::Dead { error: e },
        };
        let masked = crate::domain::parse::EmailAddress::parse(email)
            .map(|a| a.masked())
            .unwrap_or_default();
        self.hand_over(c, message, || {
            (
                format!("Console invitation for {masked}"),
                format!("accept: {url}"),
            )
        })
        .await
    }

    async fn notice(&self, c: &Claimed) -> Finish {
        let (Some(point), Some(change)) = (c.contact_point_id, c.change_id.as_deref()) else {
            return Finish::Cancelled { why: "no contact" };
        };
        let data = match super::desk::notice_mail(&self.core, point, change).await {
            Ok(Some(d)) => d,
            Ok(None) => {
                return Finish::Cancelled {
                    why: "address erased, or nothing to tell",
                }
            }
            Err(e) => return self.retry(c, format!("reading the message's data: {e}")),
        };
        let (from, reply_to, to) = match self.envelope(&data.catalog.profile, data.to.as_str()) {
            Ok(e) => e,
            Err(f) => return f,
        };
        let brand = super::consent::brand(&data.catalog, data.lang);
        let email = compose::NoticeEmail {
            from,
            reply_to,
            to,
            message_id: &c.message_id,
            brand: &brand,
            lang: data.lang,
            told: data.told,
            items: &data.items,
            facts: &data.facts,
            center_url: &data.center_url,
        };
        let message = match compose::notice(&email) {
            Ok(m) => m,
            Err(e) => return Finish::Dead { error: e },
        };
        let masked = data.to.masked();
        let url = data.center_url.clone();
        self.hand_over(c, message, || {
            (
                format!("Notice of a staff-recorded change for {masked}"),
                format!("preferences: {url}"),
            )
        })
        .await
    }

    async fn request(
        &self,
        c: &Claimed,
        request: &crate::store::rights::DataRequest,
        token: &crate::domain::token::RequestToken,
        expires_at: time::OffsetDateTime,
    ) -> Finish {
        let data = match super::rights::request_mail(&self.core, request, token).await {
            Ok(Some(d)) => d,
            Ok(None) => {
                return Finish::Cancelled {
                    why: "address erased",
                }
            }
            Err(e) => return self.retry(c, format!("reading the message's data: {e}")),
        };
        let (from, reply_to, to) = match self.envelope(&data.catalog.profile, data.to.as_str()) {
            Ok(e) => e,
            Err(f) => return f,
        };
        let brand = super::consent::brand(&data.catalog, data.lang);
        let expires = crate::i18n::date(data.lang, expires_at);
        let copy = request.kind == crate::domain::rights::RequestKind::Access;
        let email = compose::RequestEmail {
            from,
            reply_to,
            to,
            message_id: &c.message_id,
            brand: &brand,
            lang: data.lang,
            copy,
            url: &data.url,
            expires: &expires,
        };
        let message = match compose::request(&email) {
            Ok(m) => m,
            Err(e) => return Finish::Dead { error: e },
        };
        let masked = data.to.masked();
        let url = data.url.clone();
        self.hand_over(c, message, || {
            (
                format!(
                    "{} for {masked}",
                    if copy {
                        "Data package link"
                    } else {
                        "Erasure confirmation"
                    }
                ),
                format!("open: {url}"),
            )
        })
        .await
    }

    async fn confirm(
        &self,
        c: &Claimed,
        request: &OptInRequest,
        token: &crate::domain::token::ConfirmToken,
    ) -> Finish {
        let Some(point) = c.contact_point_id else {
            return Finish::Cancelled { why: "no contact" };
        };
        let data: ConfirmMail = match confirm_mail(&self.core, point, request).await {
            Ok(Some(d)) => d,
            Ok(None) => {
                return Finish::Cancelled {
                    why: "address erased",
                }
            }
            Err(e) => return self.retry(c, format!("reading the message's data: {e}")),
        };
        let (from, reply_to, to) = match self.envelope(&data.catalog.profile, data.to.as_str()) {
            Ok(e) => e,
            Err(f) => return f,
        };
        let url = format!("{}/c/{}", self.core.policy.base_url, token.as_str());
        let brand = super::consent::brand(&data.catalog, data.lang);
        let expires = crate::i18n::date(data.lang, data.expires_at);
        let email = ConfirmEmail {
            from,
            reply_to,
            to,
            message_id: &c.message_id,
            brand: &brand,
            lang: data.lang,
            items: &data.items,
            confirm_url: &url,
            expires: &expires,
            reminder: c.kind == outbox::MailKind::Reminder,
            custodian_of: data.custodian_of.as_deref(),
        };
        let message = match compose::confirmation(&email) {
            Ok(m) => m,
            Err(e) => return Finish::Dead { error: e },
        };
        let masked = data.to.masked();
        self.hand_over(c, message, || {
            (
                format!("Confirmation email for {masked}"),
                format!("confirm: {url}"),
            )
        })
        .await
    }

    /// Gives a rendered message to the transport; `echo` is what the demo prints about it
    /// when the message is kept as a file: a headline, and the line with its link.
    async fn hand_over(
        &self,
        c: &Claimed,
        message: lettre::Message,
        echo: impl FnOnce() -> (String, String),
    ) -> Finish {
        match self.transport.send(&message, &c.message_id).await {
            Ok(Delivered::Smtp) => {
                tracing::info!(
                    outbox = c.id,
                    kind = c.kind.as_str(),
                    attempt = c.attempts,
                    "email sent"
                );
                Finish::Sent
            }
            Ok(Delivered::File(path)) => {
                // Tokens stay out of logs: the log names the file, never the link.
                tracing::info!(
                    outbox = c.id,
                    file = %path.display(),
                    "no SMTP server configured: the email is kept as a file"
                );
                if self.settings.echo_links {
                    let (headline, link) = echo();
                    println!("\n{headline} kept in {}\n  {link}\n", path.display());
                }
                Finish::Sent
            }
            Err(SendError::Permanent(e)) => {
                tracing::warn!(outbox = c.id, error = %e, "email refused for good; marked dead");
                Finish::Dead { error: e }
            }
            Err(SendError::Transient(e)) => self.retry(c, e),
        }
    }

    fn retry(&self, c: &Claimed, error: String) -> Finish {
        if c.attempts >= self.settings.max_attempts as i64 {
            tracing::warn!(outbox = c.id, attempts = c.attempts, error = %error, "email failed too often; marked dead");
            return Finish::Dead { error };
        }
        let jitter = (super::random_bytes::<1>()[0] as f64) / 256.0;
        let delay = retry_delay(
            c.attempts as u32,
            self.settings.retry_base,
            self.settings.retry_max,
            jitter,
        );
        let at = self.core.clock.now() + time::Duration::milliseconds(delay.as_millis() as i64);
        tracing::info!(outbox = c.id, attempt = c.attempts, retry_in_ms = delay.as_millis() as u64, error = %error, "email not accepted; will retry");
        Finish::Retry {
            at: store::format_time(at),
            error,
        }
    }

    /// How long to sleep before the outbox may have something due.
    async fn idle_for(&self) -> Duration {
        let poll = self.settings.poll;
        match outbox::next_due(&self.core.read).await {
            Ok(Some(t)) => match parse_time(&t) {
                Ok(t) => {
                    let wait = t - self.core.clock.now();
                    if wait <= time::Duration::ZERO {
                        Duration::from_millis(10)
                    } else {
                        Duration::from_millis(wait.whole_milliseconds() as u64).min(poll)
                    }
                }
                Err(_) => poll,
            },
            _ => poll,
        }
    }

    /// Runs until `stop` fires; finishes the message in hand first.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let notify = self.core.writer.mail_notify();
        loop {
            if *stop.borrow() {
                return;
            }
            match self.run_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the mail worker could not claim; will retry"),
            }
            let wait = self.idle_for().await;
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = notify.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }
}
