//! Double opt-in requests and their confirm tokens.

use super::backend::{on, read, DbRow, Ts};
use super::contacts::{link_target, LinkTarget, LINK_COLUMNS};
use super::writer::Tx;
use super::Reader;
use super::{Result, StoreError};
use crate::domain::optin::PendingItems;
use crate::domain::token::TokenHash;

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Confirmed,
    Expired,
    Withdrawn,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Confirmed => "confirmed",
            Outcome::Expired => "expired",
            Outcome::Withdrawn => "withdrawn",
        }
    }
    fn parse(s: &str) -> Option<Outcome> {
        match s {
            "confirmed" => Some(Outcome::Confirmed),
            "expired" => Some(Outcome::Expired),
            "withdrawn" => Some(Outcome::Withdrawn),
            _ => None,
        }
    }
}

/// A request to confirm opt-ins.
#[derive(Debug, Clone)]
pub struct OptInRequest {
    pub id: i64,
    pub contact_point_id: i64,
    pub items: PendingItems,
    pub language: String,
    pub created_at: String,
    pub expires_at: String,
    pub remind_at: Option<String>,
    pub closed: Option<Outcome>,
    pub confirm_change_id: Option<String>,
    /// A child's request: the custodian's email point, where the email goes and whose
    /// confirmation it records.
    pub custodian_point_id: Option<i64>,
}

const COLUMNS: &str = "r.id AS request_id, r.contact_point_id AS request_point, r.items,
    r.language, r.created_at AS request_created, r.expires_at AS request_expires, r.remind_at,
    r.outcome, r.confirm_change_id, r.custodian_point_id";

fn request(r: &impl DbRow) -> Result<OptInRequest> {
    let items: String = r.col("items")?;
    let outcome: Option<String> = r.col("outcome")?;
    Ok(OptInRequest {
        id: r.col("request_id")?,
        contact_point_id: r.col("request_point")?,
        items: PendingItems::decode(&items)
            .ok_or_else(|| StoreError::Corrupt(format!("opt-in items {items}")))?,
        language: r.col("language")?,
        created_at: r.col::<Ts>("request_created")?.0,
        expires_at: r.col::<Ts>("request_expires")?.0,
        remind_at: r.col::<Option<Ts>>("remind_at")?.map(Ts::into_string),
        closed: match outcome {
            None => None,
            Some(o) => Some(
                Outcome::parse(&o).ok_or_else(|| StoreError::Corrupt(format!("outcome {o}")))?,
            ),
        },
        confirm_change_id: r.col("confirm_change_id")?,
        custodian_point_id: r.col("custodian_point_id")?,
    })
}

/// The open request of a contact point, inside the writer's transaction.
pub async fn open_request(tx: &mut Tx, contact_point_id: i64) -> Result<Option<OptInRequest>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM opt_in_requests r WHERE r.contact_point_id = $1 AND r.closed_at IS NULL"
    );
    on!(tx.conn(), c => sqlx::query(&sql)
        .bind(contact_point_id)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(request)
        .transpose())
}

/// A request by id, inside the writer's transaction.
pub async fn request_by_id(tx: &mut Tx, id: i64) -> Result<Option<OptInRequest>> {
    let sql = format!("SELECT {COLUMNS} FROM opt_in_requests r WHERE r.id = $1");
    on!(tx.conn(), c => sqlx::query(&sql)
        .bind(id)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(request)
        .transpose())
}

/// Opens a request; `custodian`: a child's custodian's email point, who is asked instead.
pub async fn create_request(
    tx: &mut Tx,
    contact_point_id: i64,
    items: &PendingItems,
    language: &str,
    (expires_at, remind_at): (&str, Option<&str>),
    custodian: Option<i64>,
) -> Result<i64> {
    let now = tx.now_str();
    on!(tx.conn(), c => Ok(sqlx::query_scalar(
        "INSERT INTO opt_in_requests
             (contact_point_id, items, language, created_at, expires_at, remind_at, custodian_point_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(contact_point_id)
    .bind(items.encode())
    .bind(language)
    .bind(Ts(now))
    .bind(Ts::new(expires_at))
    .bind(remind_at.map(Ts::new))
    .bind(custodian)
    .fetch_one(c)
    .await?))
}

/// The email point of the custodian of the child who owns `contact_point_id`; `None` when
/// that contact is not a child, or has no custodian with a live email address.
pub async fn custodian_point(tx: &mut Tx, contact_point_id: i64) -> Result<Option<i64>> {
    on!(tx.conn(), c => Ok(sqlx::query_scalar(
        "SELECT g.id FROM contact_points cp
         JOIN contacts c ON c.id = cp.contact_id
         JOIN contact_points g ON g.contact_id = c.custodian_contact_id
         WHERE cp.id = $1 AND c.is_child = $2 AND g.kind = 'email' AND g.address IS NOT NULL
         ORDER BY g.id LIMIT 1",
    )
    .bind(contact_point_id)
    .bind(true)
    .fetch_optional(c)
    .await?))
}

/// Widens an open request (more items asked for later) and restarts its clock.
pub async fn update_request(
    tx: &mut Tx,
    id: i64,
    items: &PendingItems,
    expires_at: &str,
    remind_at: Option<&str>,
) -> Result<()> {
    on!(tx.conn(), c => {
        sqlx::query(
        "UPDATE opt_in_requests SET items = $2, expires_at = $3, remind_at = $4, reminded_at = NULL
         WHERE id = $1 AND closed_at IS NULL",
    )
    .bind(id)
    .bind(items.encode())
    .bind(Ts::new(expires_at))
    .bind(remind_at.map(Ts::new))
    .execute(c)
    .await?;
    });
    Ok(())
}

pub async fn close_request(
    tx: &mut Tx,
    id: i64,
    outcome: Outcome,
    change_id: Option<&str>,
) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => {
        sqlx::query(
        "UPDATE opt_in_requests SET closed_at = $2, outcome = $3, confirm_change_id = $4, remind_at = NULL
         WHERE id = $1 AND closed_at IS NULL",
    )
    .bind(id)
    .bind(Ts(now))
    .bind(outcome.as_str())
    .bind(change_id)
    .execute(c)
    .await?;
    });
    Ok(())
}

/// The reminder of a request was queued: no second one.
pub async fn mark_reminded(tx: &mut Tx, id: i64) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => {
        sqlx::query("UPDATE opt_in_requests SET reminded_at = $2, remind_at = NULL WHERE id = $1")
        .bind(id)
        .bind(Ts(now))
        .execute(c)
        .await?;
    });
    Ok(())
}

/// Stores the hash of a freshly minted confirm token (one per email sent).
pub async fn insert_confirm_token(
    tx: &mut Tx,
    request_id: i64,
    hash: &TokenHash,
    message_id: &str,
) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => {
        sqlx::query(
        "INSERT INTO confirm_tokens (token_hash, request_id, message_id, issued_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&hash.0[..])
    .bind(request_id)
    .bind(message_id)
    .bind(Ts(now))
    .execute(c)
    .await?;
    });
    Ok(())
}

/// A confirm token's request and the contact point it is for. Expired requests are found too
/// (the page offers a new link); unknown tokens are not.
pub async fn find_by_token(
    read: &Reader,
    hash: &TokenHash,
) -> Result<Option<(LinkTarget, OptInRequest)>> {
    let sql = format!(
        "SELECT {LINK_COLUMNS}, {COLUMNS}
         FROM confirm_tokens t
         JOIN opt_in_requests r ON r.id = t.request_id
         JOIN contact_points lp ON lp.id = r.contact_point_id
         JOIN contacts c ON c.id = lp.contact_id
         WHERE t.token_hash = $1"
    );
    read!(read, c => {
        let Some(row) = sqlx::query(&sql)
            .bind(&hash.0[..])
            .fetch_optional(&mut *c)
            .await?
        else {
            return Ok(None);
        };
        let Some(target) = link_target(&row, hash)? else {
            return Ok(None);
        };
        Ok(Some((target, request(&row)?)))
    })
}

/// The request a confirm token belongs to, and the Message-ID of the email that carried the
/// token, inside the writer's transaction.
pub async fn request_of_token(
    tx: &mut Tx,
    hash: &TokenHash,
) -> Result<Option<(OptInRequest, String)>> {
    let sql = format!(
        "SELECT {COLUMNS}, t.message_id FROM confirm_tokens t
         JOIN opt_in_requests r ON r.id = t.request_id WHERE t.token_hash = $1"
    );
    on!(tx.conn(), c => match sqlx::query(&sql)
        .bind(&hash.0[..])
        .fetch_optional(c)
        .await?
    {
        None => Ok(None),
        Some(r) => Ok(Some((request(&r)?, r.col("message_id")?))),
    })
}

/// Open requests whose link has expired (oldest first).
pub async fn due_expiries(read: &Reader, now: &str, limit: i64) -> Result<Vec<i64>> {
    read!(read, c => Ok(sqlx::query_scalar(
        "SELECT id FROM opt_in_requests WHERE closed_at IS NULL AND expires_at <= $1
         ORDER BY expires_at LIMIT $2",
    )
    .bind(Ts::new(now))
    .bind(limit)
    .fetch_all(&mut *c)
    .await?))
}

/// Open requests whose reminder is due.
pub async fn due_reminders(read: &Reader, now: &str, limit: i64) -> Result<Vec<i64>> {
    read!(read, c => Ok(sqlx::query_scalar(
        "SELECT id FROM opt_in_requests WHERE closed_at IS NULL AND remind_at <= $1
         ORDER BY remind_at LIMIT $2",
    )
    .bind(Ts::new(now))
    .bind(limit)
    .fetch_all(&mut *c)
    .await?))
}
