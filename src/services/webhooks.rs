//! Webhooks to the organisation's other systems (Standard Webhooks): every consent change and
//! erasure, in order per contact, retried with backoff until the receiver takes it, signed
//! with the endpoint's secret. The ledger feeds the outbox (`store::webhooks::Dispatch`); the
//! worker claims due deliveries under a lease and posts them. Endpoints are checked against
//! private networks when registered and again when each delivery's address resolves.

use super::Core;
use crate::domain::optin::retry_delay;
use crate::domain::webhook::{self, EventType, UrlRefused};
use crate::domain::Subject;
use crate::store;
use crate::store::audit::Actor;
use crate::store::ledger::FeedPage;
use crate::store::webhooks::{
    self as db, Claim, Claimed, CreateEndpoint, Dispatch, Finish, FinishDelivery, NewDelivery,
    Replay, SetEndpointEnabled,
};
use crate::store::writer::Priority;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How the webhook worker behaves.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub allow_private: bool,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub max_attempts: u32,
    pub lease: Duration,
    pub poll: Duration,
    /// How long a receiver has to answer.
    pub timeout: Duration,
}

/// Why registering an endpoint is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointRefused {
    Url(UrlRefused),
    /// The name resolves to a private address (or does not resolve).
    Resolves(String),
    NoEvents,
    Description,
}

/// The addresses a host name resolves to, refused if any is private (unless allowed).
async fn resolve_checked(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} does not resolve"));
    }
    if !allow_private {
        if let Some(a) = addrs.iter().find(|a| !webhook::is_public(a.ip())) {
            return Err(format!(
                "{host} resolves to {}, a private address: refused",
                a.ip()
            ));
        }
    }
    Ok(addrs)
}

/// Registers an endpoint; its secret (`whsec_…`) is returned this once.
pub async fn create_endpoint(
    core: &Core,
    settings_allow_private: bool,
    url: &str,
    description: &str,
    events: Vec<EventType>,
    profile_id: Option<i64>,
    actor: Actor,
) -> super::consent::Result<Result<(i64, String), EndpointRefused>> {
    let (url, host) = match webhook::check_url(url, settings_allow_private) {
        Ok(x) => x,
        Err(e) => return Ok(Err(EndpointRefused::Url(e))),
    };
    if events.is_empty() {
        return Ok(Err(EndpointRefused::NoEvents));
    }
    if let url::Host::Domain(d) = &host {
        if let Err(why) = resolve_checked(d, 443, settings_allow_private).await {
            return Ok(Err(EndpointRefused::Resolves(why)));
        }
    }
    let description = description.trim().replace(['\0', '\r', '\n'], " ");
    if description.chars().count() > 200 {
        return Ok(Err(EndpointRefused::Description));
    }
    let salt: [u8; 16] = super::random_bytes();
    let id = core
        .writer
        .run(
            CreateEndpoint {
                url,
                description,
                events,
                profile_id,
                secret_salt: salt,
                actor,
            },
            Priority::Interactive,
        )
        .await?;
    let secret = webhook::endpoint_secret(core.secret(), &salt);
    Ok(Ok((id, webhook::whsec(&secret))))
}

/// Gives an endpoint a new signing secret (returned, to be shown once); the previous one
/// signs too for [`webhook::ROTATION_HOURS`]. `None`: no such endpoint.
pub async fn rotate_secret(
    core: &Core,
    id: i64,
    actor: Actor,
) -> super::consent::Result<Option<String>> {
    let salt: [u8; 16] = super::random_bytes();
    let until = crate::store::format_time(
        core.clock.now() + time::Duration::hours(webhook::ROTATION_HOURS),
    );
    let done = core
        .writer
        .run(
            crate::store::webhooks::RotateSecret {
                id,
                salt,
                until,
                actor,
            },
            Priority::Interactive,
        )
        .await?;
    Ok(done.then(|| webhook::whsec(&webhook::endpoint_secret(core.secret(), &salt))))
}

pub async fn set_enabled(
    core: &Core,
    id: i64,
    enabled: bool,
    actor: Actor,
) -> super::consent::Result<bool> {
    Ok(core
        .writer
        .run(
            SetEndpointEnabled { id, enabled, actor },
            Priority::Interactive,
        )
        .await?)
}

pub async fn replay(core: &Core, id: i64, actor: Actor) -> super::consent::Result<bool> {
    Ok(core
        .writer
        .run(Replay { id, actor }, Priority::Interactive)
        .await?)
}

/// A resolver for the HTTP client that refuses private addresses when a delivery connects:
/// the address checked is the address used (no second lookup an attacker's DNS could change).
struct CheckedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        Box::pin(async move {
            let addrs = resolve_checked(name.as_str(), 0, allow)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The webhook worker: turns new ledger records into deliveries, and delivers what is due.
pub struct WebhookWorker {
    core: Arc<Core>,
    client: reqwest::Client,
    settings: WebhookSettings,
    owner: String,
}

/// Ledger records turned into deliveries per round.
const DISPATCH_BATCH: i64 = 500;
/// Deliveries claimed per round (sent concurrently).
const CLAIM_BATCH: i64 = 16;

impl WebhookWorker {
    pub fn new(core: Arc<Core>, settings: WebhookSettings) -> Result<WebhookWorker, String> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckedResolver {
                allow_private: settings.allow_private,
            }))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .user_agent(concat!("prefcenter-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(WebhookWorker {
            core,
            client,
            settings,
            owner: format!("webhooks-{}", super::random_text::<6>()),
        })
    }

    /// Turns the ledger records after the cursor into deliveries (one batch); returns how many
    /// records it took.
    pub async fn dispatch_once(&self) -> store::Result<usize> {
        let core = &self.core;
        let Some(from) = db::cursor(&core.read).await? else {
            return Ok(0);
        };
        let rows = store::ledger::feed(
            &core.read,
            FeedPage {
                after: Some(from),
                limit: DISPATCH_BATCH,
                ..FeedPage::default()
            },
        )
        .await?;
        let Some(to) = rows.last().map(|r| r.seq) else {
            return Ok(0);
        };
        let n = rows.len();
        let endpoints: Vec<db::Endpoint> = db::endpoints(&core.read)
            .await?
            .into_iter()
            .filter(|e| e.disabled_at.is_none())
            .collect();
        let subjects: Vec<(Subject, String, i64)> = rows
            .iter()
            .map(|r| (r.subject, r.change_id.clone(), r.profile_id))
            .collect();
        let records = super::api::records_of(core, rows).await?;
        let mut deliveries = Vec::new();
        let mut erasures_seen = std::collections::HashSet::new();
        for (r, (subject, change_id, profile_id)) in records.iter().zip(&subjects) {
            let (event, data) = if *subject == Subject::Erasure {
                // One event per erased contact (its every point has an erasure record).
                if !erasures_seen.insert((r.contact, change_id.clone())) {
                    continue;
                }
                (
                    EventType::ContactErased,
                    serde_json::json!({
                        "contact": r.contact,
                        "profile": r.profile,
                        "seq": r.seq,
                        "occurred_at": r.occurred_at,
                    }),
                )
            } else if let Subject::Profile(_) = subject {
                (
                    EventType::ProfileChanged,
                    serde_json::to_value(r).unwrap_or_default(),
                )
            } else {
                (
                    EventType::ConsentChanged,
                    serde_json::to_value(r).unwrap_or_default(),
                )
            };
            let payload = serde_json::json!({
                "type": event.as_str(),
                "timestamp": r.occurred_at,
                "data": data,
            })
            .to_string();
            for e in &endpoints {
                let profile_ok = e.profile_id.is_none_or(|p| p == *profile_id);
                if r.seq > e.start_seq && e.events.contains(&event) && profile_ok {
                    deliveries.push(NewDelivery {
                        endpoint_id: e.id,
                        message_id: format!("msg_{}", r.seq),
                        event_type: event,
                        contact_id: Some(r.contact),
                        ledger_seq: Some(r.seq),
                        payload: payload.clone(),
                    });
                }
            }
        }
        core.writer
            .run(
                Dispatch {
                    from,
                    to,
                    deliveries,
                },
                Priority::Bulk,
            )
            .await?;
        Ok(n)
    }

    /// Claims what is due and posts it; returns how many were tried. Nothing due: nothing is
    /// written (a read says so first).
    pub async fn deliver_once(&self) -> store::Result<usize> {
        let core = &self.core;
        let due = match db::next_due(&core.read).await? {
            Some(t) => store::parse_time(&t).is_ok_and(|t| t <= core.clock.now()),
            None => false,
        };
        if !due {
            return Ok(0);
        }
        let lease_until = store::format_time(
            core.clock.now() + time::Duration::milliseconds(self.settings.lease.as_millis() as i64),
        );
        let claimed = core
            .writer
            .run(
                Claim {
                    owner: self.owner.clone(),
                    lease_until,
                    limit: CLAIM_BATCH,
                },
                Priority::Bulk,
            )
            .await?;
        let n = claimed.len();
        let tries = claimed.into_iter().map(|c| async move {
            let how = self.post(&c).await;
            if let Err(e) = core
                .writer
                .run(
                    FinishDelivery {
                        id: c.id,
                        owner: self.owner.clone(),
                        how,
                    },
                    Priority::Bulk,
                )
                .await
            {
                tracing::warn!(error = %e, delivery = c.id, "recording a webhook delivery failed");
            }
        });
        futures_util::future::join_all(tries).await;
        Ok(n)
    }

    /// One try: the URL checked again, the message signed now, the receiver's answer.
    async fn post(&self, c: &Claimed) -> Finish {
        let fail = |error: String, status: Option<u16>| self.retry(c, error, status);
        if let Err(e) = webhook::check_url(&c.url, self.settings.allow_private) {
            return Finish::Failed {
                error: format!("refused: {e}"),
                status: None,
            };
        }
        // The signature's time is the wall clock's (receivers check it against theirs).
        let ts = time::OffsetDateTime::now_utc().unix_timestamp();
        // Under the secret, and after a rotation under the previous one too (space-separated,
        // as the specification lists several signatures).
        let mut signatures = Vec::with_capacity(2);
        for salt in std::iter::once(&c.secret_salt).chain(c.previous_salt.as_ref()) {
            let secret = webhook::endpoint_secret(self.core.secret(), salt);
            match standardwebhooks::Webhook::from_bytes(secret.to_vec())
                .and_then(|w| w.sign(&c.message_id, ts, c.payload.as_bytes()))
            {
                Ok(s) => signatures.push(s),
                Err(e) => {
                    return Finish::Failed {
                        error: format!("could not sign: {e}"),
                        status: None,
                    }
                }
            }
        }
        let signature = signatures.join(" ");
        let sent = self
            .client
            .post(&c.url)
            .header("content-type", "application/json")
            .header("webhook-id", &c.message_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(c.payload.clone())
            .send()
            .await;
        match sent {
            Ok(res) if res.status().is_success() => Finish::Delivered {
                status: res.status().as_u16(),
            },
            Ok(res) => {
                let status = res.status().as_u16();
                fail(format!("the receiver answered {status}"), Some(status))
            }
            Err(e) => {
                // The resolver's refusal reads as the cause of a connect error.
                let mut why = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    why = format!("{why}: {s}");
                    src = s.source();
                }
                if why.contains("a private address: refused") {
                    return Finish::Failed {
                        error: why,
                        status: None,
                    };
                }
                fail(why, None)
            }
        }
    }

    fn retry(&self, c: &Claimed, error: String, status: Option<u16>) -> Finish {
        if c.attempts >= i64::from(self.settings.max_attempts) {
            return Finish::Failed { error, status };
        }
        let delay = retry_delay(
            c.attempts as u32,
            self.settings.retry_base,
            self.settings.retry_max,
            rand::random::<f64>(),
        );
        let at = self.core.clock.now() + time::Duration::milliseconds(delay.as_millis() as i64);
        Finish::Retry {
            at: store::format_time(at),
            error,
            status,
        }
    }

    /// How long to sleep before something may be due.
    async fn idle_for(&self) -> Duration {
        let poll = self.settings.poll;
        match db::next_due(&self.core.read).await {
            Ok(Some(t)) => match store::parse_time(&t) {
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

    /// Runs until `stop` fires.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let dispatched = self.dispatch_once().await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the webhook dispatcher could not read the ledger; will retry");
                0
            });
            let delivered = self.deliver_once().await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the webhook worker could not claim; will retry");
                0
            });
            if dispatched > 0 || delivered > 0 {
                continue;
            }
            let wait = self.idle_for().await;
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
