//! Contacts' data requests (a copy of their data, erasure), their log and their emailed links'
//! hashes; what a contact's erasure leaves of them.

use super::backend::{on, read, DbRow, Ts};
use super::writer::Tx;
use super::Reader;
use super::{Result, StoreError};
use crate::domain::rights::{RequestKind, RequestStatus};
use crate::domain::token::TokenHash;

/// A data request.
#[derive(Debug, Clone)]
pub struct DataRequest {
    pub id: i64,
    pub contact_id: i64,
    pub contact_point_id: i64,
    pub kind: RequestKind,
    pub status: RequestStatus,
    /// `contact`, or `user:{id}`.
    pub requested_by: String,
    /// The language of its email and pages.
    pub language: String,
    pub created_at: String,
    pub due_at: String,
    pub closed_at: Option<String>,
}

/// One entry of a request's log.
#[derive(Debug, Clone)]
pub struct RequestEvent {
    pub at: String,
    pub event: String,
    pub actor: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

const COLUMNS: &str = "r.id, r.contact_id, r.contact_point_id, r.kind, r.status, r.requested_by,
    r.language, r.created_at, r.due_at, r.closed_at";

fn request(r: &impl DbRow) -> Result<DataRequest> {
    let kind: String = r.col("kind")?;
    let status: String = r.col("status")?;
    Ok(DataRequest {
        id: r.col("id")?,
        contact_id: r.col("contact_id")?,
        contact_point_id: r.col("contact_point_id")?,
        kind: RequestKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("request kind {kind}")))?,
        status: RequestStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("request status {status}")))?,
        requested_by: r.col("requested_by")?,
        language: r.col("language")?,
        created_at: r.col::<Ts>("created_at")?.into_string(),
        due_at: r.col::<Ts>("due_at")?.into_string(),
        closed_at: r.col::<Option<Ts>>("closed_at")?.map(Ts::into_string),
    })
}

/// What a new request is.
pub struct NewRequest<'a> {
    pub contact_id: i64,
    pub contact_point_id: i64,
    pub kind: RequestKind,
    pub status: RequestStatus,
    pub requested_by: &'a str,
    pub language: &'a str,
    pub due_at: &'a str,
}

/// Opens a request; returns its id.
pub async fn create(tx: &mut Tx, r: &NewRequest<'_>) -> Result<i64> {
    let now = tx.now_str();
    on!(tx.conn(), c => Ok(sqlx::query_scalar(
        "INSERT INTO data_requests
             (contact_id, contact_point_id, kind, status, requested_by, created_at, due_at,
              language)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(r.contact_id)
    .bind(r.contact_point_id)
    .bind(r.kind.as_str())
    .bind(r.status.as_str())
    .bind(r.requested_by)
    .bind(Ts(now))
    .bind(Ts::new(r.due_at))
    .bind(r.language)
    .fetch_one(c)
    .await?))
}

/// Adds an entry to a request's log, at the transaction's time.
pub async fn log(
    tx: &mut Tx,
    request_id: i64,
    event: &str,
    actor: &str,
    from: (Option<&str>, Option<&str>),
) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => sqlx::query(
        "INSERT INTO data_request_events (request_id, at, event, actor, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(request_id)
    .bind(Ts(now))
    .bind(event)
    .bind(actor)
    .bind(from.0)
    .bind(from.1)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// A request, inside the writer's transaction.
pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<Option<DataRequest>> {
    let sql = format!("SELECT {COLUMNS} FROM data_requests r WHERE r.id = $1");
    on!(tx.conn(), c => sqlx::query(&sql)
        .bind(id)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(request)
        .transpose())
}

/// The contact's latest request of this kind made at or after `since` and not withdrawn (a
/// second ask that soon is the same request), or still open whenever it was made.
pub async fn current(
    tx: &mut Tx,
    contact_id: i64,
    kind: RequestKind,
    since: &str,
) -> Result<Option<DataRequest>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM data_requests r
         WHERE r.contact_id = $1 AND r.kind = $2 AND r.status <> 'withdrawn'
           AND (r.closed_at IS NULL OR r.created_at >= $3)
         ORDER BY r.id DESC LIMIT 1"
    );
    on!(tx.conn(), c => sqlx::query(&sql)
        .bind(contact_id)
        .bind(kind.as_str())
        .bind(Ts::new(since))
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(request)
        .transpose())
}

/// Moves a request on; a closing status closes it.
pub async fn set_status(tx: &mut Tx, id: i64, status: RequestStatus) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => sqlx::query(
        "UPDATE data_requests SET status = $2,
             closed_at = CASE WHEN $3 THEN COALESCE(closed_at, $4) ELSE NULL END
         WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(status.is_closed())
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Keeps the hash of a link minted for a request's email.
pub async fn insert_token(
    tx: &mut Tx,
    request_id: i64,
    hash: &TokenHash,
    message_id: &str,
    expires_at: &str,
) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => sqlx::query(
        "INSERT INTO data_request_tokens (token_hash, request_id, message_id, issued_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&hash.0[..])
    .bind(request_id)
    .bind(message_id)
    .bind(Ts(now))
    .bind(Ts::new(expires_at))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// The request a link belongs to and when the link expires; unknown links (and those of an
/// erased contact, whose links are deleted) are `None`.
fn by_token_sql() -> String {
    format!(
        "SELECT {COLUMNS}, t.expires_at AS link_expires FROM data_request_tokens t
         JOIN data_requests r ON r.id = t.request_id WHERE t.token_hash = $1"
    )
}

fn with_expiry(r: &impl DbRow) -> Result<(DataRequest, String)> {
    Ok((request(r)?, r.col::<Ts>("link_expires")?.into_string()))
}

pub async fn by_token(read: &Reader, hash: &TokenHash) -> Result<Option<(DataRequest, String)>> {
    let sql = by_token_sql();
    read!(read, c => sqlx::query(&sql)
        .bind(&hash.0[..])
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(with_expiry)
        .transpose())
}

/// The same, inside the writer's transaction.
pub async fn by_token_tx(tx: &mut Tx, hash: &TokenHash) -> Result<Option<(DataRequest, String)>> {
    let sql = by_token_sql();
    on!(tx.conn(), c => sqlx::query(&sql)
        .bind(&hash.0[..])
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(with_expiry)
        .transpose())
}

/// A request by its id.
pub async fn get(read: &Reader, id: i64) -> Result<Option<DataRequest>> {
    let sql = format!("SELECT {COLUMNS} FROM data_requests r WHERE r.id = $1");
    read!(read, c => sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(request)
        .transpose())
}

/// A contact's requests, newest first.
pub async fn of_contact(read: &Reader, contact_id: i64) -> Result<Vec<DataRequest>> {
    let sql =
        format!("SELECT {COLUMNS} FROM data_requests r WHERE r.contact_id = $1 ORDER BY r.id DESC");
    read!(read, c => sqlx::query(&sql)
        .bind(contact_id)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(request)
        .collect())
}

/// Requests for the desk's list, newest first: the open ones only, or all; with the contact's
/// name (none once erased).
pub async fn list(
    read: &Reader,
    open_only: bool,
    limit: i64,
) -> Result<Vec<(DataRequest, Option<String>)>> {
    let sql = format!(
        "SELECT {COLUMNS}, c.name FROM data_requests r JOIN contacts c ON c.id = r.contact_id
         WHERE ($1 = 0 OR r.closed_at IS NULL) ORDER BY r.id DESC LIMIT $2"
    );
    read!(read, c => sqlx::query(&sql)
        .bind(i64::from(open_only))
        .bind(limit)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| Ok((request(r)?, r.col("name")?)))
        .collect())
}

/// A request's log, oldest first.
pub async fn events(read: &Reader, request_id: i64) -> Result<Vec<RequestEvent>> {
    read!(read, c => sqlx::query(
        "SELECT at, event, actor, ip, user_agent FROM data_request_events
         WHERE request_id = $1 ORDER BY id",
    )
    .bind(request_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(event)
    .collect())
}

fn event(r: &impl DbRow) -> Result<RequestEvent> {
    Ok(RequestEvent {
        at: r.col::<Ts>("at")?.into_string(),
        event: r.col("event")?,
        actor: r.col("actor")?,
        ip: r.col("ip")?,
        user_agent: r.col("user_agent")?,
    })
}

/// The logs of all a contact's requests (the data package lists them).
pub async fn events_of_contact(read: &Reader, contact_id: i64) -> Result<Vec<(i64, RequestEvent)>> {
    read!(read, c => sqlx::query(
        "SELECT e.request_id, e.at, e.event, e.actor, e.ip, e.user_agent
         FROM data_request_events e JOIN data_requests r ON r.id = e.request_id
         WHERE r.contact_id = $1 ORDER BY e.id",
    )
    .bind(contact_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| Ok((r.col("request_id")?, event(r)?)))
    .collect())
}

/// Part of a contact's erasure: her requests' links stop working, where they came from is
/// forgotten (the log of what was asked and done stays), and what was still open closes: an
/// erasure as done, a copy as withdrawn (nobody is left to send it to).
pub async fn erase_contact(tx: &mut Tx, contact_id: i64) -> Result<()> {
    let open: Vec<i64> = on!(tx.conn(), c => {
        sqlx::query(
            "DELETE FROM data_request_tokens WHERE request_id IN
                 (SELECT id FROM data_requests WHERE contact_id = $1)",
        )
        .bind(contact_id)
        .execute(&mut *c)
        .await?;
        sqlx::query(
            "UPDATE data_request_events SET ip = NULL, user_agent = NULL WHERE request_id IN
                 (SELECT id FROM data_requests WHERE contact_id = $1)",
        )
        .bind(contact_id)
        .execute(&mut *c)
        .await?;
        sqlx::query_scalar(
            "SELECT id FROM data_requests WHERE contact_id = $1 AND closed_at IS NULL ORDER BY id",
        )
        .bind(contact_id)
        .fetch_all(&mut *c)
        .await?
    });
    for id in open {
        let Some(r) = get_tx(tx, id).await? else {
            continue;
        };
        let (status, event) = match r.kind {
            RequestKind::Erasure => (RequestStatus::Fulfilled, "erased"),
            RequestKind::Access => (
                RequestStatus::Withdrawn,
                "withdrawn: the contact was erased",
            ),
        };
        set_status(tx, id, status).await?;
        log(tx, id, event, "system", (None, None)).await?;
    }
    Ok(())
}
