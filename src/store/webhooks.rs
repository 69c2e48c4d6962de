//! Webhook endpoints and their deliveries: the outbox of messages to receivers, fed from the
//! ledger by a cursor moved in the same transaction as the deliveries it made, claimed under a
//! lease (several instances share the work), finished with the receiver's answer.

use super::audit::{self, Actor, Entry};
use super::backend::{on, read, DbRow, Ts};
use super::writer::{Tx, Unit};
use super::{Reader, Result};
use crate::domain::webhook::{events_text, parse_events, EventType};
use futures_util::future::BoxFuture;

/// A registered endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub events: Vec<EventType>,
    pub profile_id: Option<i64>,
    pub secret_salt: Vec<u8>,
    pub start_seq: i64,
    pub created_at: String,
    pub created_by: String,
    pub disabled_at: Option<String>,
    /// After a rotation: until when the previous secret signs too.
    pub previous_until: Option<String>,
}

const ENDPOINT_COLUMNS: &str = "id, url, description, events, profile_id, secret_salt, start_seq,
    created_at, created_by, disabled_at, previous_until";

fn endpoint(r: &impl DbRow) -> Result<Endpoint> {
    Ok(Endpoint {
        id: r.col("id")?,
        url: r.col("url")?,
        description: r.col("description")?,
        events: parse_events(&r.col::<String>("events")?),
        profile_id: r.col("profile_id")?,
        secret_salt: r.col("secret_salt")?,
        start_seq: r.col("start_seq")?,
        created_at: r.col::<Ts>("created_at")?.into_string(),
        created_by: r.col("created_by")?,
        disabled_at: r.col::<Option<Ts>>("disabled_at")?.map(Ts::into_string),
        previous_until: r.col::<Option<Ts>>("previous_until")?.map(Ts::into_string),
    })
}

/// Every endpoint, newest first.
pub async fn endpoints(read: &Reader) -> Result<Vec<Endpoint>> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id DESC");
    read!(read, c => sqlx::query(&sql).fetch_all(&mut *c).await?.iter().map(endpoint).collect())
}

pub async fn endpoint_by_id(read: &Reader, id: i64) -> Result<Option<Endpoint>> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1");
    read!(read, c => sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(endpoint)
        .transpose())
}

/// Registers an endpoint: its events start after the ledger's head now.
pub struct CreateEndpoint {
    pub url: String,
    pub description: String,
    pub events: Vec<EventType>,
    pub profile_id: Option<i64>,
    pub secret_salt: [u8; 16],
    pub actor: Actor,
}

impl Unit for CreateEndpoint {
    type Output = i64;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<i64>> {
        Box::pin(async move {
            let now = tx.now_str();
            let id: i64 = on!(tx.conn(), c => {
                let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM consent_ledger")
                    .fetch_one(&mut *c)
                    .await?;
                // The dispatcher starts where the first endpoint did.
                sqlx::query("INSERT INTO webhook_cursor (id, ledger_seq) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
                    .bind(head)
                    .execute(&mut *c)
                    .await?;
                sqlx::query_scalar(
                    "INSERT INTO webhook_endpoints
                         (url, description, events, profile_id, secret_salt, start_seq, created_at,
                          created_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(&self.url)
                .bind(&self.description)
                .bind(events_text(&self.events))
                .bind(self.profile_id)
                .bind(&self.secret_salt[..])
                .bind(head)
                .bind(Ts::new(&*now))
                .bind(&self.actor.name)
                .fetch_one(&mut *c)
                .await?
            });
            audit::record(
                tx,
                &self.actor,
                Entry {
                    kind: "webhook.create",
                    subject: format!("webhook endpoint {id}"),
                    before: None,
                    after: Some(serde_json::json!({
                        "url": self.url, "events": events_text(&self.events),
                        "profile_id": self.profile_id, "description": self.description,
                    })),
                },
            )
            .await?;
            Ok(id)
        })
    }
}

/// Stops (or resumes) deliveries to an endpoint; what is queued waits while it is disabled.
pub struct SetEndpointEnabled {
    pub id: i64,
    pub enabled: bool,
    pub actor: Actor,
}

impl Unit for SetEndpointEnabled {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = tx.now_str();
            let changed = on!(tx.conn(), c => sqlx::query(
                "UPDATE webhook_endpoints SET disabled_at = CASE WHEN $2 THEN NULL ELSE $3 END
                 WHERE id = $1 AND (disabled_at IS NULL) = NOT $2",
            )
            .bind(self.id)
            .bind(self.enabled)
            .bind(Ts::new(&*now))
            .execute(&mut *c)
            .await?
            .rows_affected());
            if changed == 1 {
                audit::record(
                    tx,
                    &self.actor,
                    Entry {
                        kind: if self.enabled {
                            "webhook.enable"
                        } else {
                            "webhook.disable"
                        },
                        subject: format!("webhook endpoint {}", self.id),
                        before: None,
                        after: None,
                    },
                )
                .await?;
            }
            Ok(changed == 1)
        })
    }
}

/// Gives an endpoint a new secret (`salt`); the previous one signs too until `until`.
pub struct RotateSecret {
    pub id: i64,
    pub salt: [u8; 16],
    pub until: String,
    pub actor: Actor,
}

impl Unit for RotateSecret {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let changed = on!(tx.conn(), c => sqlx::query(
                "UPDATE webhook_endpoints
                 SET previous_salt = secret_salt, previous_until = $2, secret_salt = $3
                 WHERE id = $1",
            )
            .bind(self.id)
            .bind(Ts::new(&self.until))
            .bind(&self.salt[..])
            .execute(&mut *c)
            .await?
            .rows_affected());
            if changed == 1 {
                audit::record(
                    tx,
                    &self.actor,
                    Entry {
                        kind: "webhook.rotate_secret",
                        subject: format!("webhook endpoint {}", self.id),
                        before: None,
                        after: Some(serde_json::json!({ "previous_secret_until": self.until })),
                    },
                )
                .await?;
            }
            Ok(changed == 1)
        })
    }
}

/// The ledger record up to which deliveries are made.
pub async fn cursor(read: &Reader) -> Result<Option<i64>> {
    read!(read, c => Ok(sqlx::query_scalar("SELECT ledger_seq FROM webhook_cursor WHERE id = 1")
        .fetch_optional(&mut *c)
        .await?))
}

/// A message for one endpoint, made by the dispatcher.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub endpoint_id: i64,
    pub message_id: String,
    pub event_type: EventType,
    pub contact_id: Option<i64>,
    pub ledger_seq: Option<i64>,
    pub payload: String,
}

/// Queues the deliveries of the ledger records after `from` up to `to`, and moves the cursor
/// there, if it is still at `from` (another instance may have done it first: then nothing).
pub struct Dispatch {
    pub from: i64,
    pub to: i64,
    pub deliveries: Vec<NewDelivery>,
}

impl Unit for Dispatch {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = tx.now_str();
            on!(tx.conn(), c => {
                let moved = sqlx::query(
                    "UPDATE webhook_cursor SET ledger_seq = $2 WHERE id = 1 AND ledger_seq = $1",
                )
                .bind(self.from)
                .bind(self.to)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if moved != 1 {
                    return Ok(false);
                }
                for chunk in self.deliveries.chunks(500) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type,
                             contact_id, ledger_seq, payload, next_attempt_at, created_at) ",
                    );
                    q.push_values(chunk, |mut b, d| {
                        b.push_bind(d.endpoint_id)
                            .push_bind(&d.message_id)
                            .push_bind(d.event_type.as_str())
                            .push_bind(d.contact_id)
                            .push_bind(d.ledger_seq)
                            .push_bind(&d.payload)
                            .push_bind(Ts::new(&*now))
                            .push_bind(Ts::new(&*now));
                    });
                    q.build().execute(&mut *c).await?;
                }
                Ok(true)
            })
        })
    }
}

/// A claimed delivery, with what sending it needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub endpoint_id: i64,
    pub url: String,
    pub secret_salt: Vec<u8>,
    /// The previous secret's salt, while it still signs.
    pub previous_salt: Option<Vec<u8>>,
    pub message_id: String,
    pub payload: String,
    /// Including this one.
    pub attempts: i64,
}

/// Claims due deliveries of enabled endpoints, each the oldest of its endpoint and contact
/// still queued (a contact's later message waits for the earlier one), under a lease.
pub struct Claim {
    pub owner: String,
    pub lease_until: String,
    pub limit: i64,
}

impl Unit for Claim {
    type Output = Vec<Claimed>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Vec<Claimed>>> {
        Box::pin(async move {
            let now = tx.now_str();
            on!(tx.conn(), c => {
                let due = sqlx::query(
                    "SELECT d.id, e.url, e.secret_salt,
                            CASE WHEN e.previous_until > $1 THEN e.previous_salt END AS previous_salt
                     FROM webhook_deliveries d
                     JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.disabled_at IS NULL
                     WHERE d.status = 'queued' AND d.next_attempt_at <= $1
                       AND (d.lease_until IS NULL OR d.lease_until <= $1)
                       AND NOT EXISTS (
                           SELECT 1 FROM webhook_deliveries p
                           WHERE p.endpoint_id = d.endpoint_id AND p.contact_id = d.contact_id
                             AND p.id < d.id AND p.status = 'queued')
                     ORDER BY d.next_attempt_at, d.id LIMIT $2",
                )
                .bind(Ts::new(&*now))
                .bind(self.limit)
                .fetch_all(&mut *c)
                .await?;
                let mut out = Vec::with_capacity(due.len());
                for d in due {
                    let id: i64 = d.col("id")?;
                    let r = sqlx::query(
                        "UPDATE webhook_deliveries SET lease_until = $2, lease_owner = $3,
                             attempts = attempts + 1
                         WHERE id = $1 RETURNING endpoint_id, message_id, payload, attempts",
                    )
                    .bind(id)
                    .bind(Ts::new(&self.lease_until))
                    .bind(&self.owner)
                    .fetch_one(&mut *c)
                    .await?;
                    let Some(payload) = r.col::<Option<String>>("payload")? else {
                        continue;
                    };
                    out.push(Claimed {
                        id,
                        endpoint_id: r.col("endpoint_id")?,
                        url: d.col("url")?,
                        secret_salt: d.col("secret_salt")?,
                        previous_salt: d.col("previous_salt")?,
                        message_id: r.col("message_id")?,
                        payload,
                        attempts: r.col("attempts")?,
                    });
                }
                Ok(out)
            })
        })
    }
}

/// How one try of a delivery ended.
#[derive(Debug, Clone)]
pub enum Finish {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// Try again at `at` (stored time form).
    Retry {
        at: String,
        error: String,
        status: Option<u16>,
    },
    /// The last try failed.
    Failed { error: String, status: Option<u16> },
}

/// Records a try's outcome while the lease is still this worker's.
pub struct FinishDelivery {
    pub id: i64,
    pub owner: String,
    pub how: Finish,
}

impl Unit for FinishDelivery {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = tx.now_str();
            let (state, next, error, code) = match &self.how {
                Finish::Delivered { status } => ("delivered", None, None, Some(*status)),
                Finish::Retry { at, error, status } => {
                    ("queued", Some(at.as_str()), Some(error.as_str()), *status)
                }
                Finish::Failed { error, status } => ("failed", None, Some(error.as_str()), *status),
            };
            let done = on!(tx.conn(), c => sqlx::query(
                "UPDATE webhook_deliveries SET status = $3,
                     next_attempt_at = COALESCE($4, next_attempt_at),
                     last_error = CASE WHEN $3 = 'delivered' THEN NULL ELSE $5 END,
                     last_status = $6, lease_until = NULL, lease_owner = NULL,
                     finished_at = CASE WHEN $3 = 'queued' THEN NULL ELSE $7 END
                 WHERE id = $1 AND lease_owner = $2 AND status = 'queued'",
            )
            .bind(self.id)
            .bind(&self.owner)
            .bind(state)
            .bind(next.map(Ts::new))
            .bind(error)
            .bind(code.map(i64::from))
            .bind(Ts::new(&*now))
            .execute(&mut *c)
            .await?
            .rows_affected());
            Ok(done == 1)
        })
    }
}

/// Queues a delivery again (from the console), if its payload is still kept.
pub struct Replay {
    pub id: i64,
    pub actor: Actor,
}

impl Unit for Replay {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = tx.now_str();
            let done = on!(tx.conn(), c => sqlx::query(
                "UPDATE webhook_deliveries SET status = 'queued', attempts = 0,
                     next_attempt_at = $2, lease_until = NULL, lease_owner = NULL,
                     finished_at = NULL
                 WHERE id = $1 AND payload IS NOT NULL AND status IN ('delivered', 'failed')",
            )
            .bind(self.id)
            .bind(Ts::new(&*now))
            .execute(&mut *c)
            .await?
            .rows_affected());
            if done == 1 {
                audit::record(
                    tx,
                    &self.actor,
                    Entry {
                        kind: "webhook.replay",
                        subject: format!("webhook delivery {}", self.id),
                        before: None,
                        after: None,
                    },
                )
                .await?;
            }
            Ok(done == 1)
        })
    }
}

/// A delivery as the console lists it (no payload).
#[derive(Debug, Clone)]
pub struct DeliveryLine {
    pub id: i64,
    pub message_id: String,
    pub event_type: String,
    pub ledger_seq: Option<i64>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub last_status: Option<i64>,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub replayable: bool,
}

/// An endpoint's deliveries, newest first.
pub async fn deliveries(read: &Reader, endpoint_id: i64, limit: i64) -> Result<Vec<DeliveryLine>> {
    read!(read, c => sqlx::query(
        "SELECT id, message_id, event_type, ledger_seq, status, attempts, next_attempt_at,
                last_error, last_status, created_at, finished_at, payload IS NOT NULL AS kept
         FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(endpoint_id)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| -> Result<DeliveryLine> {
        let status: String = r.col("status")?;
        Ok(DeliveryLine {
            id: r.col("id")?,
            message_id: r.col("message_id")?,
            event_type: r.col("event_type")?,
            ledger_seq: r.col("ledger_seq")?,
            replayable: r.col::<bool>("kept")? && matches!(status.as_str(), "delivered" | "failed"),
            status,
            attempts: r.col("attempts")?,
            next_attempt_at: r.col::<Ts>("next_attempt_at")?.into_string(),
            last_error: r.col("last_error")?,
            last_status: r.col("last_status")?,
            created_at: r.col::<Ts>("created_at")?.into_string(),
            finished_at: r.col::<Option<Ts>>("finished_at")?.map(Ts::into_string),
        })
    })
    .collect())
}

/// When the next delivery can be claimed, if any (the worker sleeps until then): queued, to an
/// enabled endpoint, not waiting behind an earlier one of its contact, its lease run out.
pub async fn next_due(read: &Reader) -> Result<Option<String>> {
    read!(read, c => Ok(sqlx::query_scalar::<_, Option<Ts>>(
        "SELECT MIN(CASE WHEN d.lease_until > d.next_attempt_at THEN d.lease_until
                         ELSE d.next_attempt_at END)
         FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.disabled_at IS NULL
         WHERE d.status = 'queued'
           AND NOT EXISTS (
               SELECT 1 FROM webhook_deliveries p
               WHERE p.endpoint_id = d.endpoint_id AND p.contact_id = d.contact_id
                 AND p.id < d.id AND p.status = 'queued')",
    )
    .fetch_one(&mut *c)
    .await?
    .map(Ts::into_string)))
}

/// The delivery's endpoint (for the console's replay).
pub async fn endpoint_of_delivery(read: &Reader, id: i64) -> Result<Option<i64>> {
    read!(read, c => Ok(sqlx::query_scalar("SELECT endpoint_id FROM webhook_deliveries WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?))
}

/// Inside an erasure: the contact's kept payloads are erased (and what was still queued is not
/// sent: the erasure's own event tells receivers).
pub async fn erase_contact(tx: &mut Tx, contact_id: i64) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => {
        sqlx::query(
            "UPDATE webhook_deliveries SET payload = NULL,
                 status = CASE WHEN status = 'queued' THEN 'erased' ELSE status END,
                 finished_at = COALESCE(finished_at, $2), lease_until = NULL, lease_owner = NULL
             WHERE contact_id = $1",
        )
        .bind(contact_id)
        .bind(Ts::new(&*now))
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}
