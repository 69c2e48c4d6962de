//! Contacts, contact points, link tokens and current consent states.

use super::Reader;
use super::{Result, StoreError};
use crate::domain::token::TokenHash;
use crate::domain::{Channel, ConsentLevel, ConsentValue, PointKind, StateEntry, Subject};
use sqlx::{Row, SqliteConnection};

/// What a link token leads to.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    pub contact_point_id: i64,
    pub point_kind: PointKind,
    /// `None` once erased.
    pub address: Option<String>,
    pub contact_id: i64,
    pub profile_id: i64,
    pub locale: Option<String>,
    pub level: ConsentLevel,
    pub is_child: bool,
    pub suppressed: bool,
}

pub(super) const LINK_COLUMNS: &str = "t.token_hash, lp.id AS link_point_id, lp.kind AS link_kind,
    lp.address AS link_address, c.id AS contact_id, c.profile_id, c.locale, c.consent_level,
    c.is_child, c.suppressed_at IS NOT NULL AS suppressed";

const LINK_FROM: &str = "FROM link_tokens t
    JOIN contact_points lp ON lp.id = t.contact_point_id
    JOIN contacts c ON c.id = lp.contact_id";

/// Reads the link columns of a row; `None` unless the stored hash equals `hash` (compared in
/// constant time after the indexed lookup).
pub(super) fn link_target(
    r: &sqlx::sqlite::SqliteRow,
    hash: &TokenHash,
) -> Result<Option<LinkTarget>> {
    let stored: Vec<u8> = r.try_get("token_hash")?;
    if !hash.ct_eq(&stored) {
        return Ok(None);
    }
    let kind: String = r.try_get("link_kind")?;
    let level: i64 = r.try_get("consent_level")?;
    Ok(Some(LinkTarget {
        contact_point_id: r.try_get("link_point_id")?,
        point_kind: PointKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(kind.clone()))?,
        address: r.try_get("link_address")?,
        contact_id: r.try_get("contact_id")?,
        profile_id: r.try_get("profile_id")?,
        locale: r.try_get("locale")?,
        level: ConsentLevel::new(level)
            .ok_or_else(|| StoreError::Corrupt(format!("level {level}")))?,
        is_child: r.try_get("is_child")?,
        suppressed: r.try_get("suppressed")?,
    }))
}

/// Looks a token up by its hash (indexed). Expired tokens are not found.
pub async fn find_link(read: &Reader, hash: &TokenHash, now: &str) -> Result<Option<LinkTarget>> {
    let mut c = read.acquire().await?;
    let sql =
        format!("SELECT {LINK_COLUMNS} {LINK_FROM} WHERE t.token_hash = $1 AND t.expires_at > $2");
    let row = sqlx::query(&sql)
        .bind(&hash.0[..])
        .bind(now)
        .fetch_optional(&mut *c)
        .await
        .map_err(|e| c.failed(e))?;
    match row {
        Some(r) => link_target(&r, hash),
        None => Ok(None),
    }
}

/// A link with its contact's points and all their current states.
pub struct LinkSnapshot {
    pub target: LinkTarget,
    /// (id, kind, address), email first.
    pub points: Vec<(i64, PointKind, Option<String>)>,
    pub states: Vec<StateRow>,
}

/// Everything a page needs about a link, in one query (one round trip to SQLite).
pub async fn link_snapshot(
    read: &Reader,
    hash: &TokenHash,
    now: &str,
) -> Result<Option<LinkSnapshot>> {
    let mut c = read.acquire().await?;
    let sql = format!(
        "SELECT {LINK_COLUMNS}, cp.id AS contact_point_id, cp.kind, cp.address, s.subject_kind,
                s.subject_id, s.channel, s.value, s.custodian_confirmed, s.ledger_seq
         {LINK_FROM}
         JOIN contact_points cp ON cp.contact_id = c.id
         LEFT JOIN consent_states s ON s.contact_point_id = cp.id
         WHERE t.token_hash = $1 AND t.expires_at > $2
         ORDER BY cp.kind, cp.id"
    );
    let rows = sqlx::query(&sql)
        .bind(&hash.0[..])
        .bind(now)
        .fetch_all(&mut *c)
        .await
        .map_err(|e| c.failed(e))?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let Some(target) = link_target(first, hash)? else {
        return Ok(None);
    };
    let mut points: Vec<(i64, PointKind, Option<String>)> = Vec::new();
    let mut states = Vec::new();
    for r in &rows {
        let id: i64 = r.try_get("contact_point_id")?;
        if points.last().is_none_or(|p| p.0 != id) {
            let kind: String = r.try_get("kind")?;
            points.push((
                id,
                PointKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(kind.clone()))?,
                r.try_get("address")?,
            ));
        }
        if r.try_get::<Option<String>, _>("subject_kind")?.is_some() {
            states.push(state_row(r)?);
        }
    }
    Ok(Some(LinkSnapshot {
        target,
        points,
        states,
    }))
}

/// One current state row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRow {
    pub contact_point_id: i64,
    pub subject: Subject,
    pub channel: Channel,
    pub entry: StateEntry,
}

fn state_row(r: &sqlx::sqlite::SqliteRow) -> Result<StateRow> {
    let sk: String = r.try_get("subject_kind")?;
    let ch: String = r.try_get("channel")?;
    let v: String = r.try_get("value")?;
    let bad = |what: &str| StoreError::Corrupt(what.to_owned());
    Ok(StateRow {
        contact_point_id: r.try_get("contact_point_id")?,
        subject: Subject::from_parts(&sk, r.try_get("subject_id")?).ok_or_else(|| bad(&sk))?,
        channel: Channel::parse(&ch).ok_or_else(|| bad(&ch))?,
        entry: StateEntry {
            value: ConsentValue::parse(&v).ok_or_else(|| bad(&v))?,
            custodian_confirmed: r.try_get("custodian_confirmed")?,
            record: r.try_get("ledger_seq")?,
        },
    })
}

/// Current states of the given contact points, inside the writer's transaction.
pub async fn states_of_points(conn: &mut SqliteConnection, ids: &[i64]) -> Result<Vec<StateRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT contact_point_id, subject_kind, subject_id, channel, value, custodian_confirmed,
                ledger_seq
         FROM consent_states WHERE contact_point_id IN ({})",
        placeholders.join(",")
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id);
    }
    q.fetch_all(conn).await?.iter().map(state_row).collect()
}

/// A new contact (start-up, demo and bench work, on the write connection).
pub struct NewContact<'a> {
    pub profile_id: i64,
    pub locale: Option<&'a str>,
    pub level: ConsentLevel,
    pub is_child: bool,
}

/// A new contact, created at `now` (stored format).
pub async fn insert_contact(
    conn: &mut SqliteConnection,
    c: &NewContact<'_>,
    now: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO contacts (profile_id, locale, consent_level, is_child, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(c.profile_id)
    .bind(c.locale)
    .bind(c.level.get() as i64)
    .bind(c.is_child)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// A new contact point of a contact, created at `now` (stored format).
pub async fn insert_point(
    conn: &mut SqliteConnection,
    contact_id: i64,
    kind: PointKind,
    address: &str,
    now: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO contact_points (contact_id, kind, address, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(contact_id)
    .bind(kind.as_str())
    .bind(address)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// Stores the hash of a freshly issued link token, issued now, working `ttl_days`.
pub async fn insert_token(
    conn: &mut SqliteConnection,
    contact_point_id: i64,
    hash: &TokenHash,
    ttl_days: i64,
) -> Result<()> {
    insert_token_at(
        conn,
        contact_point_id,
        hash,
        time::OffsetDateTime::now_utc(),
        ttl_days,
    )
    .await
}

async fn insert_token_at(
    conn: &mut SqliteConnection,
    contact_point_id: i64,
    hash: &TokenHash,
    issued: time::OffsetDateTime,
    ttl_days: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO link_tokens (token_hash, contact_point_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(&hash.0[..])
        .bind(contact_point_id)
        .bind(super::format_time(issued))
        .bind(super::format_time(issued + time::Duration::days(ttl_days)))
        .execute(conn)
        .await?;
    Ok(())
}

/// A contact point and who it belongs to, as the writer sees it.
#[derive(Debug, Clone)]
pub struct PointOwner {
    pub contact_point_id: i64,
    pub contact_id: i64,
    pub profile_id: i64,
    /// `None` once erased.
    pub address: Option<String>,
    pub locale: Option<String>,
    pub suppressed: bool,
}

const OWNER_SQL: &str = "SELECT cp.id AS cp_id, c.id AS c_id, c.profile_id, cp.address, c.locale,
        c.suppressed_at IS NOT NULL AS suppressed
     FROM contact_points cp JOIN contacts c ON c.id = cp.contact_id";

fn owner(r: &sqlx::sqlite::SqliteRow) -> Result<PointOwner> {
    Ok(PointOwner {
        contact_point_id: r.try_get("cp_id")?,
        contact_id: r.try_get("c_id")?,
        profile_id: r.try_get("profile_id")?,
        address: r.try_get("address")?,
        locale: r.try_get("locale")?,
        suppressed: r.try_get("suppressed")?,
    })
}

/// The point with this normalised address, inside the writer's transaction.
pub async fn point_by_address(
    tx: &mut super::writer::Tx,
    kind: PointKind,
    address: &str,
) -> Result<Option<PointOwner>> {
    let sql = format!("{OWNER_SQL} WHERE cp.kind = $1 AND cp.address = $2");
    sqlx::query(&sql)
        .bind(kind.as_str())
        .bind(address)
        .fetch_optional(tx.conn())
        .await?
        .as_ref()
        .map(owner)
        .transpose()
}

/// A point by id, read through the read connections (the mail worker renders from it).
pub async fn point_owner(read: &Reader, contact_point_id: i64) -> Result<Option<PointOwner>> {
    let mut c = read.acquire().await?;
    owner_by_id(&mut *c, contact_point_id).await
}

/// The same, inside the writer's transaction.
pub async fn point_owner_tx(
    tx: &mut super::writer::Tx,
    contact_point_id: i64,
) -> Result<Option<PointOwner>> {
    owner_by_id(tx.conn(), contact_point_id).await
}

async fn owner_by_id<'e, E>(executor: E, contact_point_id: i64) -> Result<Option<PointOwner>>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let sql = format!("{OWNER_SQL} WHERE cp.id = $1");
    sqlx::query(&sql)
        .bind(contact_point_id)
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(owner)
        .transpose()
}

/// Creates a contact and its first contact point through the writer; returns the point's id.
pub async fn create_contact_with_point(
    tx: &mut super::writer::Tx,
    c: &NewContact<'_>,
    kind: PointKind,
    address: &str,
) -> Result<i64> {
    let now = tx.now_str();
    let contact = insert_contact(tx.conn(), c, &now).await?;
    insert_point(tx.conn(), contact, kind, address, &now).await
}

/// Stores the hash of a new link token through the writer, issued at the batch's time.
pub async fn issue_link(
    tx: &mut super::writer::Tx,
    contact_point_id: i64,
    hash: &TokenHash,
    ttl_days: i64,
) -> Result<()> {
    let now = tx.now();
    insert_token_at(tx.conn(), contact_point_id, hash, now, ttl_days).await
}

/// The first `n` live email points (the benchmark's bulk unit).
pub async fn email_points(read: &Reader, n: i64) -> Result<Vec<i64>> {
    let mut c = read.acquire().await?;
    sqlx::query_scalar(
        "SELECT id FROM contact_points WHERE kind = 'email' AND address IS NOT NULL ORDER BY id LIMIT $1",
    )
    .bind(n)
    .fetch_all(&mut *c)
    .await
    .map_err(|e| c.failed(e))
}
