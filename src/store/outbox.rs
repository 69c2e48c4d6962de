//! The transactional outbox: emails queued in the same transaction as the change that causes
//! them, claimed by a mail worker under a lease, finished as sent, retried, dead or cancelled.

use super::backend::{on, read, DbRow, Ts};
use super::writer::Tx;
use super::Reader;
use super::{Result, StoreError};

/// What an outbox row sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// The double opt-in confirmation request.
    Confirm,
    /// The one reminder of an unconfirmed request.
    Reminder,
    /// An invitation to the console (to a user, not a contact point).
    Invite,
    /// What staff recorded for a contact (a change, by its id), with a link to correct it.
    Notice,
    /// About a contact's data request: the link to their data package, or the link that
    /// confirms an erasure (the request, by its id).
    Request,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Confirm => "confirm",
            MailKind::Reminder => "reminder",
            MailKind::Invite => "invite",
            MailKind::Notice => "notice",
            MailKind::Request => "request",
        }
    }
    pub fn parse(s: &str) -> Option<MailKind> {
        match s {
            "confirm" => Some(MailKind::Confirm),
            "reminder" => Some(MailKind::Reminder),
            "invite" => Some(MailKind::Invite),
            "notice" => Some(MailKind::Notice),
            "request" => Some(MailKind::Request),
            _ => None,
        }
    }
}

/// Queues a message, due at `due_at` (at once when `None`).
pub async fn enqueue(
    tx: &mut Tx,
    kind: MailKind,
    contact_point_id: i64,
    request_id: Option<i64>,
    message_id: &str,
    due_at: Option<&str>,
) -> Result<i64> {
    let now = tx.now_str();
    let id = on!(tx.conn(), c => sqlx::query_scalar(
        "INSERT INTO outbox (kind, contact_point_id, request_id, message_id, created_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(contact_point_id)
    .bind(request_id)
    .bind(message_id)
    .bind(Ts::new(&*now))
    .bind(Ts::new(due_at.unwrap_or(&now)))
    .fetch_one(c)
    .await?);
    if due_at.is_none() {
        tx.wake_mail();
    }
    Ok(id)
}

/// Queues the notice of a change staff recorded, to a contact's email point, due at once.
pub async fn enqueue_notice(
    tx: &mut Tx,
    contact_point_id: i64,
    change_id: &str,
    message_id: &str,
) -> Result<i64> {
    let now = tx.now_str();
    let id = on!(tx.conn(), c => sqlx::query_scalar(
        "INSERT INTO outbox (kind, contact_point_id, message_id, created_at, next_attempt_at, change_id)
         VALUES ('notice', $1, $2, $3, $3, $4) RETURNING id",
    )
    .bind(contact_point_id)
    .bind(message_id)
    .bind(Ts::new(&*now))
    .bind(change_id)
    .fetch_one(c)
    .await?);
    tx.wake_mail();
    Ok(id)
}

/// Queues the email of a contact's data request to the request's contact point, due at once.
pub async fn enqueue_request(
    tx: &mut Tx,
    contact_point_id: i64,
    data_request_id: i64,
    message_id: &str,
) -> Result<i64> {
    let now = tx.now_str();
    let id = on!(tx.conn(), c => sqlx::query_scalar(
        "INSERT INTO outbox (kind, contact_point_id, message_id, created_at, next_attempt_at, data_request_id)
         VALUES ('request', $1, $2, $3, $3, $4) RETURNING id",
    )
    .bind(contact_point_id)
    .bind(message_id)
    .bind(Ts::new(&*now))
    .bind(data_request_id)
    .fetch_one(c)
    .await?);
    tx.wake_mail();
    Ok(id)
}

/// Queues an invitation to the console for a user, due at once.
pub async fn enqueue_invite(tx: &mut Tx, user_id: i64, message_id: &str) -> Result<i64> {
    let now = tx.now_str();
    let id = on!(tx.conn(), c => sqlx::query_scalar(
        "INSERT INTO outbox (kind, user_id, message_id, created_at, next_attempt_at)
         VALUES ('invite', $1, $2, $3, $3) RETURNING id",
    )
    .bind(user_id)
    .bind(message_id)
    .bind(Ts::new(&*now))
    .fetch_one(c)
    .await?);
    tx.wake_mail();
    Ok(id)
}

/// Cancels the invitations still queued for a user (deleted, or accepted meanwhile).
pub async fn cancel_invites(tx: &mut Tx, user_id: i64, why: &str) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => {
        sqlx::query(
            "UPDATE outbox SET status = 'cancelled', last_error = $2, finished_at = $3
             WHERE user_id = $1 AND status = 'queued' AND lease_owner IS NULL",
        )
        .bind(user_id)
        .bind(why)
        .bind(Ts(now))
        .execute(c)
        .await?;
    });
    Ok(())
}

/// When the last confirmation or reminder to a contact point was (or will be) sent: the
/// cooldown between two of them counts from there.
pub async fn last_due(tx: &mut Tx, contact_point_id: i64) -> Result<Option<String>> {
    let last: Option<Ts> = on!(tx.conn(), c => sqlx::query_scalar(
        "SELECT MAX(next_attempt_at) FROM outbox
         WHERE contact_point_id = $1 AND kind IN ('confirm', 'reminder') AND status <> 'cancelled'",
    )
    .bind(contact_point_id)
    .fetch_one(c)
    .await?);
    Ok(last.map(Ts::into_string))
}

/// A row a worker holds the lease of.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub kind: MailKind,
    /// Set for mail to a contact (confirm, reminder).
    pub contact_point_id: Option<i64>,
    pub request_id: Option<i64>,
    /// Set for mail to a console user (invite).
    pub user_id: Option<i64>,
    pub message_id: String,
    /// The change a notice tells of.
    pub change_id: Option<String>,
    /// The data request a request's email is about.
    pub data_request_id: Option<i64>,
    /// Including this one.
    pub attempts: i64,
}

/// Claims due rows whose lease (if any) has run out: leases them to `owner` until
/// `lease_until` and counts the attempt.
pub async fn claim(
    tx: &mut Tx,
    owner: &str,
    lease_until: &str,
    limit: i64,
) -> Result<Vec<Claimed>> {
    let now = tx.now_str();
    let mut out: Vec<Claimed> = on!(tx.conn(), c => sqlx::query(
        "UPDATE outbox SET lease_until = $1, lease_owner = $2, attempts = attempts + 1
         WHERE id IN (
             SELECT id FROM outbox
             WHERE status = 'queued' AND next_attempt_at <= $3
               AND (lease_until IS NULL OR lease_until <= $3)
             ORDER BY next_attempt_at, id LIMIT $4)
         RETURNING id, kind, contact_point_id, request_id, user_id, message_id, change_id,
                   data_request_id, attempts",
    )
    .bind(Ts::new(lease_until))
    .bind(owner)
    .bind(Ts(now))
    .bind(limit)
    .fetch_all(c)
    .await?
    .iter()
    .map(claimed)
    .collect::<Result<_>>()?);
    out.sort_by_key(|c| c.id);
    Ok(out)
}

fn claimed(r: &impl DbRow) -> Result<Claimed> {
    let kind: String = r.col("kind")?;
    Ok(Claimed {
        id: r.col("id")?,
        kind: MailKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("mail kind {kind}")))?,
        contact_point_id: r.col("contact_point_id")?,
        request_id: r.col("request_id")?,
        user_id: r.col("user_id")?,
        message_id: r.col("message_id")?,
        change_id: r.col("change_id")?,
        data_request_id: r.col("data_request_id")?,
        attempts: r.col("attempts")?,
    })
}

/// How a claimed message ended this time.
#[derive(Debug, Clone)]
pub enum Finish {
    Sent,
    /// Try again at this time.
    Retry {
        at: String,
        error: String,
    },
    /// Given up: a permanent refusal or too many tries.
    Dead {
        error: String,
    },
    /// No longer wanted (confirmed, withdrawn, expired or erased in the meantime).
    Cancelled {
        why: &'static str,
    },
}

/// Records the outcome of a claimed message, while the worker still holds its lease.
pub async fn finish(tx: &mut Tx, id: i64, owner: &str, how: &Finish) -> Result<bool> {
    let now = tx.now_str();
    let (status, next, error): (&str, Option<&str>, Option<&str>) = match how {
        Finish::Sent => ("sent", None, None),
        Finish::Retry { at, error } => ("queued", Some(at), Some(error)),
        Finish::Dead { error } => ("dead", None, Some(error)),
        Finish::Cancelled { why } => ("cancelled", None, Some(why)),
    };
    let done = on!(tx.conn(), c => sqlx::query(
        "UPDATE outbox SET status = $3, next_attempt_at = COALESCE($4, next_attempt_at),
             last_error = COALESCE($5, last_error), lease_until = NULL, lease_owner = NULL,
             finished_at = CASE WHEN $3 = 'queued' THEN NULL ELSE $6 END
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .bind(status)
    .bind(next.map(Ts::new))
    .bind(error)
    .bind(Ts(now))
    .execute(c)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// Cancels what is still queued for a request (it was confirmed, withdrawn or expired).
pub async fn cancel_for_request(tx: &mut Tx, request_id: i64, why: &str) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => {
        sqlx::query(
        "UPDATE outbox SET status = 'cancelled', last_error = $2, finished_at = $3
         WHERE request_id = $1 AND status = 'queued' AND lease_owner IS NULL",
    )
    .bind(request_id)
    .bind(why)
    .bind(Ts(now))
    .execute(c)
    .await?;
    });
    Ok(())
}

/// The earliest time anything queued becomes due (or its lease runs out).
pub async fn next_due(read: &Reader) -> Result<Option<String>> {
    let due: Option<Ts> = read!(read, c => Ok(sqlx::query_scalar(
        "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at
                         THEN lease_until ELSE next_attempt_at END)
         FROM outbox WHERE status = 'queued'",
    )
    .fetch_one(&mut *c)
    .await?))?;
    Ok(due.map(Ts::into_string))
}

/// One row of the outbox, for `prefcenter mail status`.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub created_at: String,
    pub last_error: Option<String>,
    pub message_id: String,
}

/// Counts per status, and the messages that are dead or still waiting.
pub async fn summary(read: &Reader) -> Result<(Vec<(String, i64)>, Vec<OutboxRow>)> {
    read!(read, c => {
        let counts = sqlx::query_as::<_, (String, i64)>(
            "SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status",
        )
        .fetch_all(&mut *c)
        .await?;
        let rows = sqlx::query(
            "SELECT id, kind, status, attempts, created_at, last_error, message_id FROM outbox
             WHERE status IN ('dead', 'queued') ORDER BY id DESC LIMIT 50",
        )
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            Ok(OutboxRow {
                id: r.col("id")?,
                kind: r.col("kind")?,
                status: r.col("status")?,
                attempts: r.col("attempts")?,
                created_at: r.col::<Ts>("created_at")?.0,
                last_error: r.col("last_error")?,
                message_id: r.col("message_id")?,
            })
        })
        .collect::<Result<_>>()?;
        Ok((counts, rows))
    })
}
