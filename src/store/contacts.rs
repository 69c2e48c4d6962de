//! Contacts, contact points, link tokens and current consent states.

use super::backend::{on, read, ConnMut, DbRow, Ts};
use super::read::{Inline, KeptSql, Slot};
use super::Reader;
use super::{Result, StoreError};
use crate::domain::link::LinkClaims;
use crate::domain::search;
use crate::domain::token::TokenHash;
use crate::domain::{Channel, ConsentLevel, ConsentValue, PointKind, StateEntry, Subject};

/// What a link leads to.
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
    /// The purpose or topic a signed link was minted for (its one-click leaves that only).
    pub subject: Option<Subject>,
}

/// How a link is found: by a stored token's hash, or by a signed link's checked claims (its
/// point, at the generation it was minted at).
#[derive(Debug, Clone, Copy)]
pub enum LinkRef {
    Stored(TokenHash),
    Signed(LinkClaims),
}

macro_rules! point_columns {
    () => {
        "lp.id AS link_point_id, lp.kind AS link_kind,
    lp.address AS link_address, c.id AS contact_id, c.profile_id, c.locale, c.consent_level,
    c.is_child, c.suppressed_at IS NOT NULL AS suppressed"
    };
}

pub(super) const LINK_COLUMNS: &str = concat!("t.token_hash, ", point_columns!());

const LINK_FROM: &str = "FROM link_tokens t
    JOIN contact_points lp ON lp.id = t.contact_point_id
    JOIN contacts c ON c.id = lp.contact_id";

/// A link's columns, its tables (`lp` its point, `c` its contact) and its condition on `$1`
/// and `$2`.
fn link_parts(link: &LinkRef) -> (&'static str, &'static str, &'static str) {
    match link {
        LinkRef::Stored(_) => (
            LINK_COLUMNS,
            LINK_FROM,
            "t.token_hash = $1 AND t.expires_at > $2",
        ),
        LinkRef::Signed(_) => (
            point_columns!(),
            "FROM contact_points lp JOIN contacts c ON c.id = lp.contact_id",
            "lp.id = $1 AND lp.link_generation = $2",
        ),
    }
}

/// Reads the link columns of a row; `None` unless the stored hash equals `hash` (compared in
/// constant time after the indexed lookup).
pub(super) fn link_target(r: &impl DbRow, hash: &TokenHash) -> Result<Option<LinkTarget>> {
    let stored: Vec<u8> = r.col("token_hash")?;
    if !hash.ct_eq(&stored) {
        return Ok(None);
    }
    point_target(r, None).map(Some)
}

/// The target of a row found by `link`.
fn target_of(r: &impl DbRow, link: &LinkRef) -> Result<Option<LinkTarget>> {
    match link {
        LinkRef::Stored(hash) => link_target(r, hash),
        LinkRef::Signed(claims) => point_target(r, claims.subject).map(Some),
    }
}

fn point_target(r: &impl DbRow, subject: Option<Subject>) -> Result<LinkTarget> {
    let kind: String = r.col("link_kind")?;
    let level: i64 = r.col("consent_level")?;
    Ok(LinkTarget {
        contact_point_id: r.col("link_point_id")?,
        point_kind: PointKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(kind.clone()))?,
        address: r.col("link_address")?,
        contact_id: r.col("contact_id")?,
        profile_id: r.col("profile_id")?,
        locale: r.col("locale")?,
        level: ConsentLevel::new(level)
            .ok_or_else(|| StoreError::Corrupt(format!("level {level}")))?,
        is_child: r.col("is_child")?,
        suppressed: r.col("suppressed")?,
        subject,
    })
}

/// Binds a link's `$1` and `$2` (the hash and `now`, or the point and its generation).
macro_rules! bind_link {
    ($q:expr, $link:expr, $now:expr) => {
        match $link {
            LinkRef::Stored(hash) => $q.bind(hash.0.to_vec()).bind(Ts::new($now)),
            LinkRef::Signed(claims) => $q
                .bind(claims.contact_point_id)
                .bind(i64::from(claims.generation)),
        }
    };
}

/// Looks a link up (indexed). Expired stored tokens are not found; a signed link's expiry was
/// checked with its MAC, its generation is checked here.
pub async fn find_link(read: &Reader, link: &LinkRef, now: &str) -> Result<Option<LinkTarget>> {
    let (columns, from, cond) = link_parts(link);
    let sql = format!("SELECT {columns} {from} WHERE {cond}");
    read!(read, c => {
        let row = bind_link!(sqlx::query(&sql), link, now)
            .fetch_optional(&mut *c)
            .await?;
        match row {
            Some(r) => target_of(&r, link),
            None => Ok(None),
        }
    })
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
    link: &LinkRef,
    now: &str,
) -> Result<Option<LinkSnapshot>> {
    let (columns, from, cond) = link_parts(link);
    let sql = format!(
        "SELECT {columns}, cp.id AS contact_point_id, cp.kind, cp.address, s.subject_kind,
                s.subject_id, s.channel, s.value, s.custodian_confirmed, s.ledger_seq
         {from}
         JOIN contact_points cp ON cp.contact_id = c.id
         LEFT JOIN consent_states s ON s.contact_point_id = cp.id
         WHERE {cond}
         ORDER BY cp.kind, cp.id"
    );
    read!(read, c => {
        let rows = bind_link!(sqlx::query(&sql), link, now)
            .fetch_all(&mut *c)
            .await?;
        snapshot(&rows, link)
    })
}

fn snapshot(rows: &[impl DbRow], link: &LinkRef) -> Result<Option<LinkSnapshot>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let Some(target) = target_of(first, link)? else {
        return Ok(None);
    };
    let mut points: Vec<(i64, PointKind, Option<String>)> = Vec::new();
    let mut states = Vec::new();
    for r in rows {
        let id: i64 = r.col("contact_point_id")?;
        if points.last().is_none_or(|p| p.0 != id) {
            let kind: String = r.col("kind")?;
            points.push((
                id,
                PointKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(kind.clone()))?,
                r.col("address")?,
            ));
        }
        if r.col::<Option<String>>("subject_kind")?.is_some() {
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

pub(super) fn state_row(r: &impl DbRow) -> Result<StateRow> {
    let sk: String = r.col("subject_kind")?;
    let ch: String = r.col("channel")?;
    let v: String = r.col("value")?;
    let bad = |what: &str| StoreError::Corrupt(what.to_owned());
    Ok(StateRow {
        contact_point_id: r.col("contact_point_id")?,
        subject: Subject::from_parts(&sk, r.col("subject_id")?).ok_or_else(|| bad(&sk))?,
        channel: Channel::parse(&ch).ok_or_else(|| bad(&ch))?,
        entry: StateEntry {
            value: ConsentValue::parse(&v).ok_or_else(|| bad(&v))?,
            custodian_confirmed: r.col("custodian_confirmed")?,
            record: r.col("ledger_seq")?,
        },
    })
}

/// Current states of the given contact points, inside the writer's transaction.
pub async fn states_of_points(conn: ConnMut<'_>, ids: &[i64]) -> Result<Vec<StateRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    const COLUMNS: &str = "SELECT contact_point_id, subject_kind, subject_id, channel, value,
        custodian_confirmed, ledger_seq FROM consent_states";
    match conn {
        // One array parameter: the same statement whatever the number of points. Planned at
        // every execution (not prepared): a plan cached while the table was small would scan
        // it all once it has grown (seen: the writer's session at 80% CPU, one-click at half
        // its rate), and the planner sees the table's current size.
        ConnMut::Postgres(c) => sqlx::query(&format!(
            "{COLUMNS} WHERE contact_point_id = ANY($1::bigint[])"
        ))
        .persistent(false)
        .bind(ids)
        .fetch_all(c)
        .await?
        .iter()
        .map(state_row)
        .collect(),
        ConnMut::Sqlite(c) => {
            let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "{COLUMNS} WHERE contact_point_id IN ({})",
                placeholders.join(",")
            );
            let mut q = sqlx::query(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(c).await?.iter().map(state_row).collect()
        }
    }
}

/// A new contact (start-up, demo and bench work, on the write connection).
pub struct NewContact<'a> {
    pub profile_id: i64,
    /// As typed on the staff desk (`domain::search::clean_name`); `None`: no name.
    pub name: Option<&'a str>,
    pub locale: Option<&'a str>,
    pub level: ConsentLevel,
    pub is_child: bool,
}

/// A new contact, created at `now` (stored format).
pub async fn insert_contact(conn: ConnMut<'_>, n: &NewContact<'_>, now: &str) -> Result<i64> {
    let terms = n.name.map(search::name_terms).unwrap_or_default();
    on!(conn, c => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO contacts (profile_id, locale, consent_level, is_child, created_at, name)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(n.profile_id)
        .bind(n.locale)
        .bind(n.level.get() as i64)
        .bind(n.is_child)
        .bind(Ts::new(now))
        .bind(n.name)
        .fetch_one(&mut *c)
        .await?;
        if !terms.is_empty() {
            terms_query(&terms, id).build().execute(&mut *c).await?;
        }
        Ok(id)
    })
}

/// Keeps a search term of a contact (`domain::search`); a term it has already is kept once.
const TERM_SQL: &str =
    "INSERT INTO contact_terms (term, contact_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";

/// Keeps a contact's search terms in one statement (a term it has already is kept once).
fn terms_query<'a, DB: sqlx::Database>(
    terms: &'a [String],
    contact_id: i64,
) -> sqlx::QueryBuilder<'a, DB>
where
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut q = sqlx::QueryBuilder::new("INSERT INTO contact_terms (term, contact_id) ");
    q.push_values(terms, |mut b, t| {
        b.push_bind(t.as_str()).push_bind(contact_id);
    });
    q.push(" ON CONFLICT DO NOTHING");
    q
}

/// Sets (or removes) a contact's name and its search terms (the addresses' terms stay).
pub async fn set_name(
    tx: &mut super::writer::Tx,
    contact_id: i64,
    name: Option<&str>,
) -> Result<()> {
    let points: Vec<(String, Option<String>)> = on!(tx.conn(), c => {
        sqlx::query("UPDATE contacts SET name = $2 WHERE id = $1")
            .bind(contact_id)
            .bind(name)
            .execute(&mut *c)
            .await?;
        sqlx::query("DELETE FROM contact_terms WHERE contact_id = $1")
            .bind(contact_id)
            .execute(&mut *c)
            .await?;
        let rows = sqlx::query("SELECT kind, address FROM contact_points WHERE contact_id = $1")
            .bind(contact_id)
            .fetch_all(&mut *c)
            .await?;
        rows.iter()
            .map(|r| Ok((r.col("kind")?, r.col("address")?)))
            .collect::<Result<Vec<_>>>()
    })?;
    let mut terms = name.map(search::name_terms).unwrap_or_default();
    for (kind, address) in points {
        if let (Some(kind), Some(address)) = (PointKind::parse(&kind), address) {
            terms.extend(search::address_terms(kind, &address));
        }
    }
    on!(tx.conn(), c => {
        for t in &terms {
            sqlx::query(TERM_SQL).bind(t.as_str()).bind(contact_id).execute(&mut *c).await?;
        }
        Ok(())
    })
}

/// A new contact point of a contact, created at `now` (stored format).
pub async fn insert_point(
    conn: ConnMut<'_>,
    contact_id: i64,
    kind: PointKind,
    address: &str,
    now: &str,
) -> Result<i64> {
    let terms = search::address_terms(kind, address);
    on!(conn, c => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO contact_points (contact_id, kind, address, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(contact_id)
        .bind(kind.as_str())
        .bind(address)
        .bind(Ts::new(now))
        .fetch_one(&mut *c)
        .await?;
        if !terms.is_empty() {
            terms_query(&terms, contact_id).build().execute(&mut *c).await?;
        }
        Ok(id)
    })
}

/// Stores the hash of a freshly issued link token, issued now, working `ttl_days`.
pub async fn insert_token(
    conn: ConnMut<'_>,
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
    conn: ConnMut<'_>,
    contact_point_id: i64,
    hash: &TokenHash,
    issued: time::OffsetDateTime,
    ttl_days: i64,
) -> Result<()> {
    on!(conn, c => {
        sqlx::query("INSERT INTO link_tokens (token_hash, contact_point_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(&hash.0[..])
        .bind(contact_point_id)
        .bind(Ts(super::format_time(issued)))
        .bind(Ts(super::format_time(issued + time::Duration::days(ttl_days))))
        .execute(c)
        .await?;
    });
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

fn owner(r: &impl DbRow) -> Result<PointOwner> {
    Ok(PointOwner {
        contact_point_id: r.col("cp_id")?,
        contact_id: r.col("c_id")?,
        profile_id: r.col("profile_id")?,
        address: r.col("address")?,
        locale: r.col("locale")?,
        suppressed: r.col("suppressed")?,
    })
}

/// The point with this normalised address, inside the writer's transaction.
pub async fn point_by_address(
    tx: &mut super::writer::Tx,
    kind: PointKind,
    address: &str,
) -> Result<Option<PointOwner>> {
    let sql = format!("{OWNER_SQL} WHERE cp.kind = $1 AND cp.address = $2");
    on!(tx.conn(), c => sqlx::query(&sql)
        .bind(kind.as_str())
        .bind(address)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(owner)
        .transpose())
}

/// The points with these normalised addresses of one kind, with whether their contact is a
/// child, inside the writer's transaction: an import batch's addresses looked up at once.
pub async fn points_by_addresses(
    tx: &mut super::writer::Tx,
    kind: PointKind,
    addresses: &[String],
) -> Result<Vec<(PointOwner, bool)>> {
    match tx.conn() {
        ConnMut::Sqlite(c) => points_by_addresses_sqlite(c, kind, addresses).await,
        ConnMut::Postgres(c) => points_by_addresses_pg(c, kind, addresses).await,
    }
}

/// [`points_by_addresses`] on SQLite: one prepared lookup per address, run row by row on the
/// writer's connection (`backend::raw_sqlite`): for an `IN` list of hundreds SQLite builds a
/// temporary B-tree, and sqlx finds each numbered parameter by its name in a list.
async fn points_by_addresses_sqlite(
    c: &mut sqlx::SqliteConnection,
    kind: PointKind,
    addresses: &[String],
) -> Result<Vec<(PointOwner, bool)>> {
    let sql = format!("{OWNER_SQL_CHILD} WHERE cp.kind = ?1 AND cp.address = ?2");
    super::backend::raw_sqlite(c, addresses.len(), |db| {
        let mut q = db.prepare(&sql)?;
        let mut out = Vec::new();
        for a in addresses {
            let mut rows = q.query(rusqlite::params![kind.as_str(), a])?;
            while let Some(r) = rows.next()? {
                let owner = PointOwner {
                    contact_point_id: r.get(0)?,
                    contact_id: r.get(1)?,
                    profile_id: r.get(2)?,
                    address: r.get(3)?,
                    locale: r.get(4)?,
                    suppressed: r.get(5)?,
                };
                out.push((owner, r.get(6)?));
            }
        }
        Ok(out)
    })
    .await
}

/// [`points_by_addresses`] on PostgreSQL: an `IN` list of up to 500 addresses per statement.
async fn points_by_addresses_pg(
    c: &mut sqlx::PgConnection,
    kind: PointKind,
    addresses: &[String],
) -> Result<Vec<(PointOwner, bool)>> {
    let mut out = Vec::new();
    for chunk in addresses.chunks(500) {
        let mut sql = format!("{OWNER_SQL_CHILD} WHERE cp.kind = $1 AND cp.address IN (");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", i + 2));
        }
        sql.push(')');
        let mut q = sqlx::query(&sql).bind(kind.as_str());
        for a in chunk {
            q = q.bind(a.as_str());
        }
        for r in q.fetch_all(&mut *c).await? {
            out.push((owner(&r)?, r.col("is_child")?));
        }
    }
    Ok(out)
}

const OWNER_SQL_CHILD: &str = "SELECT cp.id AS cp_id, c.id AS c_id, c.profile_id, cp.address,
        c.locale, c.suppressed_at IS NOT NULL AS suppressed, c.is_child
     FROM contact_points cp JOIN contacts c ON c.id = cp.contact_id";

/// A point by id, read through the read connections (the mail worker renders from it).
pub async fn point_owner(read: &Reader, contact_point_id: i64) -> Result<Option<PointOwner>> {
    let mut c = read.acquire().await?;
    let out = owner_by_id(c.conn(), contact_point_id).await;
    c.checked(out)
}

/// The same, inside the writer's transaction.
pub async fn point_owner_tx(
    tx: &mut super::writer::Tx,
    contact_point_id: i64,
) -> Result<Option<PointOwner>> {
    owner_by_id(tx.conn(), contact_point_id).await
}

async fn owner_by_id(conn: ConnMut<'_>, contact_point_id: i64) -> Result<Option<PointOwner>> {
    let sql = format!("{OWNER_SQL} WHERE cp.id = $1");
    on!(conn, c => sqlx::query(&sql)
        .bind(contact_point_id)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(owner)
        .transpose())
}

/// Contacts and points to create together (an import's batch), with the ids
/// [`new_contact_ids`] and [`new_point_ids`] gave them.
#[derive(Default)]
pub struct NewRows<'a> {
    pub contacts: Vec<(i64, NewContact<'a>)>,
    /// (id, contact, kind, address)
    pub points: Vec<(i64, i64, PointKind, String)>,
}

/// Ids for `n` new contacts of this transaction (see [`insert_new`]).
pub async fn new_contact_ids(tx: &mut super::writer::Tx, n: usize) -> Result<Vec<i64>> {
    super::backend::new_ids(tx.conn(), "contacts", n).await
}

/// Ids for `n` new contact points of this transaction (see [`insert_new`]).
pub async fn new_point_ids(tx: &mut super::writer::Tx, n: usize) -> Result<Vec<i64>> {
    super::backend::new_ids(tx.conn(), "contact_points", n).await
}

/// Creates the contacts and points of `rows` at the batch's time, a few hundred per statement
/// (their search terms too): the same rows as [`create_contact`] and [`add_point`] one by
/// one, in a handful of statements instead of three per contact.
pub async fn insert_new(tx: &mut super::writer::Tx, rows: &NewRows<'_>) -> Result<()> {
    let now = Ts::new(tx.now_str());
    let mut terms: Vec<(String, i64)> = Vec::new();
    for (id, c) in &rows.contacts {
        terms.extend(
            c.name
                .map(search::name_terms)
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t, *id)),
        );
    }
    for (_, contact, kind, address) in &rows.points {
        terms.extend(
            search::address_terms(*kind, address)
                .into_iter()
                .map(|t| (t, *contact)),
        );
    }
    match tx.conn() {
        ConnMut::Sqlite(c) => insert_new_sqlite(c, rows, &terms, &now).await,
        ConnMut::Postgres(c) => insert_new_pg(c, rows, &terms, &now).await,
    }
}

/// [`insert_new`] on SQLite: one prepared statement per table, run row by row through rusqlite
/// (see `backend::raw_sqlite`).
async fn insert_new_sqlite(
    c: &mut sqlx::SqliteConnection,
    rows: &NewRows<'_>,
    terms: &[(String, i64)],
    now: &Ts,
) -> Result<()> {
    let n = rows.contacts.len() + rows.points.len() + terms.len();
    super::backend::raw_sqlite(c, n, |db| {
        let mut contact = db.prepare(&format!(
            "INSERT INTO {NEW_CONTACT} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ))?;
        for (id, n) in &rows.contacts {
            contact.execute(rusqlite::params![
                id,
                n.profile_id,
                n.locale,
                n.level.get() as i64,
                n.is_child,
                now.0,
                n.name
            ])?;
        }
        let mut point = db.prepare(&format!(
            "INSERT INTO {NEW_POINT} VALUES (?1, ?2, ?3, ?4, ?5)"
        ))?;
        for (id, contact, kind, address) in &rows.points {
            point.execute(rusqlite::params![
                id,
                contact,
                kind.as_str(),
                address,
                now.0
            ])?;
        }
        let mut term = db.prepare(&format!(
            "INSERT INTO {NEW_TERM} VALUES (?1, ?2) ON CONFLICT DO NOTHING"
        ))?;
        for (t, id) in terms {
            term.execute(rusqlite::params![t, id])?;
        }
        Ok(())
    })
    .await
}

/// [`insert_new`] on PostgreSQL: a few hundred rows per statement.
async fn insert_new_pg(
    c: &mut sqlx::PgConnection,
    rows: &NewRows<'_>,
    terms: &[(String, i64)],
    now: &Ts,
) -> Result<()> {
    for chunk in rows.contacts.chunks(500) {
        let mut q = sqlx::QueryBuilder::new(format!("INSERT INTO {NEW_CONTACT} "));
        q.push_values(chunk, |mut b, (id, n)| {
            b.push_bind(*id)
                .push_bind(n.profile_id)
                .push_bind(n.locale)
                .push_bind(n.level.get() as i64)
                .push_bind(n.is_child)
                .push_bind(now.clone())
                .push_bind(n.name);
        });
        q.build().execute(&mut *c).await?;
    }
    for chunk in rows.points.chunks(500) {
        let mut q = sqlx::QueryBuilder::new(format!("INSERT INTO {NEW_POINT} "));
        q.push_values(chunk, |mut b, (id, contact, kind, address)| {
            b.push_bind(*id)
                .push_bind(*contact)
                .push_bind(kind.as_str())
                .push_bind(address.as_str())
                .push_bind(now.clone());
        });
        q.build().execute(&mut *c).await?;
    }
    for chunk in terms.chunks(1000) {
        let mut q = sqlx::QueryBuilder::new(format!("INSERT INTO {NEW_TERM} "));
        q.push_values(chunk, |mut b, (t, id)| {
            b.push_bind(t.as_str()).push_bind(*id);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(&mut *c).await?;
    }
    Ok(())
}

/// The columns [`insert_new`] writes, in its order, of a new contact, point and search term.
const NEW_CONTACT: &str =
    "contacts (id, profile_id, locale, consent_level, is_child, created_at, name)";
const NEW_POINT: &str = "contact_points (id, contact_id, kind, address, created_at)";
const NEW_TERM: &str = "contact_terms (term, contact_id)";

/// Creates a contact without a point yet, through the writer; returns its id.
pub async fn create_contact(tx: &mut super::writer::Tx, c: &NewContact<'_>) -> Result<i64> {
    let now = tx.now_str();
    insert_contact(tx.conn(), c, &now).await
}

/// Adds a contact point to a contact, through the writer; returns its id.
pub async fn add_point(
    tx: &mut super::writer::Tx,
    contact_id: i64,
    kind: PointKind,
    address: &str,
) -> Result<i64> {
    let now = tx.now_str();
    insert_point(tx.conn(), contact_id, kind, address, &now).await
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
    read!(read, c => Ok(sqlx::query_scalar(
        "SELECT id FROM contact_points WHERE kind = 'email' AND address IS NOT NULL ORDER BY id LIMIT $1",
    )
    .bind(n)
    .fetch_all(&mut *c)
    .await?))
}

/// The benchmark's contacts: one per hash, in `profile`, each with an email point
/// (`bench{id}@example.com`) and a link token with that hash, working `ttl_days`; in one
/// transaction, 2,000 rows per statement.
pub async fn insert_bench(
    conn: &mut super::Conn,
    profile: i64,
    hashes: &[TokenHash],
    ttl_days: i64,
) -> Result<()> {
    super::backend::begin_write(conn).await?;
    let r = insert_bench_rows(conn.as_mut(), profile, hashes, ttl_days).await;
    let r = match r {
        Ok(()) => super::backend::follow_explicit_ids(conn, &["contacts", "contact_points"]).await,
        Err(e) => Err(e),
    };
    super::backend::finish(conn, r).await
}

async fn insert_bench_rows(
    conn: ConnMut<'_>,
    profile: i64,
    hashes: &[TokenHash],
    ttl_days: i64,
) -> Result<()> {
    let now = Ts(super::now());
    let expires = Ts(super::days_from_now(ttl_days));
    on!(conn, conn => {
        let start: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM contacts")
            .fetch_one(&mut *conn)
            .await?;
        let point_start: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM contact_points")
                .fetch_one(&mut *conn)
                .await?;
        for (chunk_no, chunk) in hashes.chunks(2000).enumerate() {
            let first = start + 1 + (chunk_no * 2000) as i64;
            let ids: Vec<i64> = (first..first + chunk.len() as i64).collect();
            let names: Vec<String> = ids.iter().map(|id| bench_name(*id)).collect();
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO contacts (id, profile_id, locale, consent_level, created_at, name) ",
            );
            q.push_values(ids.iter().zip(&names), |mut b, (id, name)| {
                b.push_bind(*id)
                    .push_bind(profile)
                    .push_bind("en")
                    .push_bind(ConsentLevel::MARKETING.get() as i64)
                    .push_bind(now.clone())
                    .push_bind(name.clone());
            });
            q.build().execute(&mut *conn).await?;
            // Their search terms: the name's words and the address.
            let terms: Vec<(i64, String)> = ids
                .iter()
                .zip(&names)
                .flat_map(|(id, name)| {
                    let mut t = search::name_terms(name);
                    t.extend(search::address_terms(
                        PointKind::Email,
                        &format!("bench{id}@example.com"),
                    ));
                    t.into_iter().map(move |t| (*id, t))
                })
                .collect();
            let mut q = sqlx::QueryBuilder::new("INSERT INTO contact_terms (term, contact_id) ");
            q.push_values(&terms, |mut b, (id, t)| {
                b.push_bind(t.clone()).push_bind(*id);
            });
            q.build().execute(&mut *conn).await?;
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO contact_points (id, contact_id, kind, address, created_at) ",
            );
            q.push_values(&ids, |mut b, id| {
                b.push_bind(point_start - start + *id)
                    .push_bind(*id)
                    .push_bind("email")
                    .push_bind(format!("bench{id}@example.com"))
                    .push_bind(now.clone());
            });
            q.build().execute(&mut *conn).await?;
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO link_tokens (token_hash, contact_point_id, issued_at, expires_at) ",
            );
            q.push_values(ids.iter().zip(chunk), |mut b, (id, h)| {
                b.push_bind(h.0.to_vec())
                    .push_bind(point_start - start + *id)
                    .push_bind(now.clone())
                    .push_bind(expires.clone());
            });
            q.build().execute(&mut *conn).await?;
        }
    });
    Ok(())
}

/// A benchmark contact's name: 1,600 given and family name pairs, accents among them, so that
/// a name search finds hundreds of contacts as it would in a real list.
pub fn bench_name(id: i64) -> String {
    const GIVEN: [&str; 40] = [
        "Holly", "Frank", "Lena", "Zoë", "Amir", "Sofía", "Jonas", "Chloé", "Mateo", "Aiko",
        "Noah", "Emma", "Liam", "Olivia", "Lucas", "Mia", "Ethan", "Ava", "Léa", "Hugo", "Ines",
        "Omar", "Yara", "Björn", "Nora", "Felix", "Clara", "Ravi", "Priya", "Tomás", "Anna", "Jan",
        "Eva", "Paul", "Rosa", "Ivan", "Maja", "Oskar", "Lina", "Karim",
    ];
    const FAMILY: [&str; 40] = [
        "Dickson",
        "Lee",
        "Müller",
        "Smith",
        "García",
        "Nguyen",
        "Kowalski",
        "Rossi",
        "Dubois",
        "Sato",
        "Johnson",
        "Brown",
        "Martin",
        "Bernard",
        "Schmidt",
        "Fischer",
        "Weber",
        "López",
        "Hernández",
        "Silva",
        "Santos",
        "Khan",
        "Ali",
        "Chen",
        "Wang",
        "Kim",
        "Park",
        "Novák",
        "Horváth",
        "Nagy",
        "Jensen",
        "Hansen",
        "Larsen",
        "Berg",
        "Lindqvist",
        "Østergaard",
        "O'Brien",
        "Murphy",
        "Walsh",
        "Byrne",
    ];
    let g = GIVEN[(id as usize * 7) % GIVEN.len()];
    let f = FAMILY[(id as usize / GIVEN.len() * 13 + id as usize) % FAMILY.len()];
    format!("{g} {f}")
}

/// A contact point found by its address, with what a decision needs: the contact's facts and
/// the point's states (today's, or as the ledger had them at a past moment).
#[derive(Debug, Clone)]
pub struct Addressed {
    pub contact_point_id: i64,
    pub contact_id: i64,
    pub profile_id: i64,
    pub level: ConsentLevel,
    pub is_child: bool,
    pub suppressed: bool,
    /// The point's link generation (signed links are minted with it).
    pub link_generation: i64,
    pub states: Vec<StateRow>,
}

impl Addressed {
    /// The point's state of `subject` on `channel`, if it has one.
    pub fn state(&self, subject: Subject, channel: Channel) -> Option<StateEntry> {
        self.states
            .iter()
            .find(|s| s.subject == subject && s.channel == channel)
            .map(|s| s.entry)
    }
}

/// The point with this normalised address and its states; `at` (stored time format): the
/// states as the ledger had them then (the last record of each purpose or topic and channel at
/// or before it).
pub async fn addressed(
    read: &Reader,
    kind: PointKind,
    address: &str,
    at: Option<&str>,
) -> Result<Option<Addressed>> {
    if at.is_none() {
        if let Some(inline) = read.inline() {
            if let Some(found) = inline.with(|c| addressed_inline(c, kind, address))? {
                return found;
            }
        }
    }
    let mut conn = read.acquire().await?;
    let sqlite = matches!(conn.conn(), ConnMut::Sqlite(_));
    // Today's states come in the same query, aggregated (one round trip for a decision).
    let sql = format!(
        "SELECT cp.id AS cp_id, c.id AS c_id, c.profile_id, c.consent_level, c.is_child,
                c.suppressed_at IS NOT NULL AS suppressed, cp.link_generation,
                (SELECT {} FROM consent_states s WHERE s.contact_point_id = cp.id) AS states
         FROM contact_points cp JOIN contacts c ON c.id = cp.contact_id
         WHERE cp.kind = $1 AND cp.address = $2",
        super::backend::json_rows(sqlite, STATE_JSON)
    );
    let out: Result<Option<Addressed>> = on!(conn.conn(), c => async {
        let Some(r) = sqlx::query(&sql)
            .bind(kind.as_str())
            .bind(address)
            .fetch_optional(&mut *c)
            .await?
        else {
            return Ok(None);
        };
        let point: i64 = r.col("cp_id")?;
        let level: i64 = r.col("consent_level")?;
        let states = match at {
            None => states_of_json(&super::backend::parse_json_rows(r.col("states")?)?)?,
            Some(at) => sqlx::query(
                "SELECT l.contact_point_id, l.subject_kind, l.subject_id, l.channel,
                        l.new_value AS value, l.custodian_confirmed, l.seq AS ledger_seq
                 FROM consent_ledger l
                 WHERE l.contact_point_id = $1 AND l.subject_kind IN ('purpose', 'topic')
                   AND l.seq = (
                     SELECT MAX(m.seq) FROM consent_ledger m
                     WHERE m.contact_point_id = l.contact_point_id
                       AND m.subject_kind = l.subject_kind AND m.subject_id = l.subject_id
                       AND m.channel = l.channel AND m.occurred_at <= $2)",
            )
            .bind(point)
            .bind(Ts::new(at))
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(state_row)
            .collect::<Result<Vec<_>>>()?,
        };
        Ok(Some(Addressed {
            contact_point_id: point,
            contact_id: r.col("c_id")?,
            profile_id: r.col("profile_id")?,
            level: ConsentLevel::new(level)
                .ok_or_else(|| StoreError::Corrupt(format!("level {level}")))?,
            is_child: r.col("is_child")?,
            suppressed: r.col("suppressed")?,
            link_generation: r.col("link_generation")?,
            states,
        }))
    }
    .await);
    conn.checked(out)
}

/// Today's [`addressed`], and the ledger record `pick` names from what was found (`pick` is
/// called when a point is found, again if the read had to be made afresh; the record is
/// `None` when it names none, or none with that number). On SQLite both are read in one inline read transaction, one snapshot: a decision
/// of the API reads its point and the record it rests on with one connection's kept
/// statements.
pub async fn addressed_picking(
    read: &Reader,
    kind: PointKind,
    address: &str,
    mut pick: impl FnMut(&Addressed) -> Option<i64>,
) -> Result<Option<(Addressed, Option<super::ledger::RecordSummary>)>> {
    if let Some(inline) = read.inline() {
        let found = inline.with(|c| {
            let point = match addressed_inline(c, kind, address)? {
                Ok(Some(point)) => point,
                other => return Ok(other.map(|p| p.map(|p| (p, None)))),
            };
            let seq = pick(&point);
            let record = match seq {
                Some(seq) => super::ledger::record_summary_inline(c, seq)?,
                None => None,
            };
            Ok(Ok(Some((point, record))))
        })?;
        if let Some(found) = found {
            return found;
        }
    }
    // Another backend, or SQLite busy: the same, one after the other.
    let Some(point) = addressed(read, kind, address, None).await? else {
        return Ok(None);
    };
    let seq = pick(&point);
    let record = match seq {
        Some(seq) => super::ledger::record_summary(read, seq).await?,
        None => None,
    };
    Ok(Some((point, record)))
}

/// The statement of [`addressed_inline`], kept on every inline connection.
static POINT_SQL: KeptSql = KeptSql {
    slot: Slot::Point,
    sql: || {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "SELECT {INLINE_POINT}, {INLINE_STATE}, s.channel
                 FROM contact_points cp INDEXED BY contact_points_lookup
                      JOIN contacts c ON c.id = cp.contact_id
                      LEFT JOIN consent_states s ON s.contact_point_id = cp.id
                 WHERE cp.kind = ?1 AND cp.address = ?2"
            )
        });
        &SQL
    },
};

/// Today's [`addressed`] on SQLite, on the caller's thread (`store::read::InlineReads`): the
/// point, its contact and its states as rows (one per state, none without: a LEFT JOIN), read
/// as they come (a JSON aggregate of the states was text SQLite wrote and the server parsed).
fn addressed_inline(
    c: &Inline,
    kind: PointKind,
    address: &str,
) -> rusqlite::Result<Result<Option<Addressed>>> {
    let mut stmt = c.kept(&POINT_SQL)?;
    let mut rows = stmt.query(rusqlite::params![kind.as_str(), address])?;
    let mut found: Option<Addressed> = None;
    while let Some(r) = rows.next()? {
        let a = match &mut found {
            Some(a) => a,
            None => match inline_point(r, 0)? {
                Ok(point) => found.insert(point),
                Err(e) => return Ok(Err(e)),
            },
        };
        let (subject, entry) = match inline_state(r, 7)? {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) => return Ok(Err(e)),
        };
        let ch = r.get_ref(12)?.as_str()?;
        let Some(channel) = Channel::parse(ch) else {
            return Ok(Err(StoreError::Corrupt(format!("a state's channel {ch}"))));
        };
        a.states.push(StateRow {
            contact_point_id: a.contact_point_id,
            subject,
            channel,
            entry,
        });
    }
    Ok(Ok(found))
}

/// The columns of a point and its contact that [`inline_point`] reads, in its order.
const INLINE_POINT: &str = "cp.id, c.id, c.profile_id, c.consent_level, c.is_child,
    c.suppressed_at IS NOT NULL, cp.link_generation";

/// The columns of a state that [`inline_state`] reads, in its order.
const INLINE_STATE: &str =
    "s.subject_kind, s.subject_id, s.value, s.custodian_confirmed, s.ledger_seq";

/// A point and its contact read inline from column `at` on ([`INLINE_POINT`]), its states
/// still to come.
fn inline_point(r: &rusqlite::Row, at: usize) -> rusqlite::Result<Result<Addressed>> {
    let level: i64 = r.get(at + 3)?;
    let Some(level) = ConsentLevel::new(level) else {
        return Ok(Err(StoreError::Corrupt(format!("a point's level {level}"))));
    };
    Ok(Ok(Addressed {
        contact_point_id: r.get(at)?,
        contact_id: r.get(at + 1)?,
        profile_id: r.get(at + 2)?,
        level,
        is_child: r.get(at + 4)?,
        suppressed: r.get(at + 5)?,
        link_generation: r.get(at + 6)?,
        states: Vec::new(),
    }))
}

/// A state read inline from column `at` on ([`INLINE_STATE`]): its subject's kind and id,
/// value, custodian confirmation and record (`None`: the empty side of a LEFT JOIN).
fn inline_state(
    r: &rusqlite::Row,
    at: usize,
) -> rusqlite::Result<Result<Option<(Subject, StateEntry)>>> {
    let Some(sk) = r.get_ref(at)?.as_str_or_null()? else {
        return Ok(Ok(None));
    };
    let Some(subject) = Subject::from_parts(sk, r.get(at + 1)?) else {
        return Ok(Err(StoreError::Corrupt(format!("a state's subject {sk}"))));
    };
    let v = r.get_ref(at + 2)?.as_str()?;
    let Some(value) = ConsentValue::parse(v) else {
        return Ok(Err(StoreError::Corrupt(format!("a state's value {v}"))));
    };
    Ok(Ok(Some((
        subject,
        StateEntry {
            value,
            custodian_confirmed: r.get(at + 3)?,
            record: r.get(at + 4)?,
        },
    ))))
}

/// [`addressed_many`] as things stand, on SQLite: one statement for the batch's points and their
/// states on `channel` (a point's states lie together: one seek of the point, the subjects
/// filtered there), read row by row on an inline connection (see `read::InlineReads`) on a
/// thread of its own. Through sqlx the rows had to come back as JSON text, written by SQLite and
/// parsed again, which with the states' second statement was most of a million-recipient bulk
/// decision's time.
fn addressed_many_inline(
    c: &rusqlite::Connection,
    profile_id: i64,
    kind: PointKind,
    addresses: &[String],
    subjects: &[Subject],
    channel: Channel,
) -> rusqlite::Result<Result<Vec<(String, Addressed)>>> {
    // No subjects (a batch of links): no join, the state columns NULL (a join `ON 0` was
    // planned as a scan of every state for each point).
    let (states, columns) = if subjects.is_empty() {
        (String::new(), "NULL, NULL, NULL, NULL, NULL")
    } else {
        (
            format!(
                "LEFT JOIN consent_states s ON s.contact_point_id = cp.id AND s.channel = ? AND ({})",
                subjects_filter(true, subjects.len(), |_| "?".to_owned())
            ),
            INLINE_STATE,
        )
    };
    let sql = format!(
        "SELECT cp.address, {INLINE_POINT}, {columns}
         FROM contact_points cp INDEXED BY contact_points_lookup
              JOIN contacts c ON c.id = cp.contact_id {states}
         WHERE c.profile_id = ? AND cp.kind = ? AND cp.address IN ({})",
        vec!["?"; addresses.len()].join(",")
    );
    let (channel_str, kind_str) = (channel.as_str(), kind.as_str());
    let subject_parts: Vec<(&str, i64)> = subjects.iter().map(|s| (s.kind_str(), s.id())).collect();
    let mut params: Vec<&dyn rusqlite::ToSql> =
        Vec::with_capacity(addresses.len() + 2 * subjects.len() + 3);
    if !subjects.is_empty() {
        params.push(&channel_str);
        for (subject_kind, id) in &subject_parts {
            params.push(subject_kind);
            params.push(id);
        }
    }
    params.push(&profile_id);
    params.push(&kind_str);
    params.extend(addresses.iter().map(|a| a as &dyn rusqlite::ToSql));
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut found: Vec<(String, Addressed)> = Vec::with_capacity(addresses.len());
    let mut by_point: std::collections::HashMap<i64, usize> =
        std::collections::HashMap::with_capacity(addresses.len());
    while let Some(r) = rows.next()? {
        let point: i64 = r.get(1)?;
        let i = match by_point.get(&point) {
            Some(&i) => i,
            None => {
                match inline_point(r, 1)? {
                    Ok(found_point) => found.push((r.get(0)?, found_point)),
                    Err(e) => return Ok(Err(e)),
                }
                by_point.insert(point, found.len() - 1);
                found.len() - 1
            }
        };
        let (subject, entry) = match inline_state(r, 8)? {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) => return Ok(Err(e)),
        };
        found[i].1.states.push(StateRow {
            contact_point_id: point,
            subject,
            channel,
            entry,
        });
    }
    Ok(Ok(found))
}

/// A state row's subject among `n` subjects given as (kind, id) parameters, `param(0)` the first
/// kind, `param(1)` its id and so on; the kind compared unindexed (see `backend::unindexed`), so
/// that a point's states are one seek and a filter.
fn subjects_filter(sqlite: bool, n: usize, param: impl Fn(usize) -> String) -> String {
    let kind = super::backend::unindexed(sqlite, "s.subject_kind");
    (0..n)
        .map(|i| {
            format!(
                "({kind} = {} AND s.subject_id = {})",
                param(2 * i),
                param(2 * i + 1)
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The columns of a state row, in the order [`states_of_json`] reads them.
const STATE_JSON: &str =
    "s.contact_point_id, s.subject_kind, s.subject_id, s.channel, s.value, s.custodian_confirmed, s.ledger_seq";

/// State rows read back from `backend::json_rows` of [`STATE_JSON`] (or the ledger's same seven).
fn states_of_json(rows: &[Vec<serde_json::Value>]) -> Result<Vec<StateRow>> {
    use super::backend::{json_bool, json_i64, json_text};
    let bad = |what: &str| StoreError::Corrupt(format!("aggregated state: {what}"));
    rows.iter()
        .map(|r| {
            let sk = json_text(r.get(1)).ok_or_else(|| bad("kind"))?;
            let ch = json_text(r.get(3)).ok_or_else(|| bad("channel"))?;
            let v = json_text(r.get(4)).ok_or_else(|| bad("value"))?;
            Ok(StateRow {
                contact_point_id: json_i64(r.first())?,
                subject: Subject::from_parts(&sk, json_i64(r.get(2))?).ok_or_else(|| bad(&sk))?,
                channel: Channel::parse(&ch).ok_or_else(|| bad(&ch))?,
                entry: StateEntry {
                    value: ConsentValue::parse(&v).ok_or_else(|| bad(&v))?,
                    custodian_confirmed: json_bool(r.get(5))?,
                    record: json_i64(r.get(6))?,
                },
            })
        })
        .collect()
}

/// The points of profile `profile_id` among `addresses` (normalised, all of `kind`), with the
/// states of `subjects` on `channel` only (today's, or the ledger's at `at`): one query for the
/// points and one for their states, however many addresses (a batch of a bulk decision).
pub async fn addressed_many(
    read: &Reader,
    profile_id: i64,
    kind: PointKind,
    addresses: &[String],
    subjects: &[Subject],
    channel: Channel,
    at: Option<&str>,
) -> Result<Vec<(String, Addressed)>> {
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    if at.is_none() {
        if let Some(inline) = read.inline() {
            let inline = inline.clone();
            let addresses = addresses.to_vec();
            let subjects = subjects.to_vec();
            let found = tokio::task::spawn_blocking(move || {
                inline.with(|c| {
                    addressed_many_inline(c, profile_id, kind, &addresses, &subjects, channel)
                })
            })
            .await
            .map_err(|e| StoreError::Corrupt(format!("a batch's lookup: {e}")))??;
            if let Some(found) = found {
                return found;
            }
        }
    }
    // SQLite gets anonymous `?` placeholders: sqlx looks a `$N` parameter up by name, a scan of
    // every parameter for each one (seen: 45% of a bulk decision's time at 1,000 addresses).
    let mut conn = read.acquire().await?;
    let sqlite = matches!(conn.conn(), ConnMut::Sqlite(_));
    let p = |i: usize| {
        if sqlite {
            "?".to_owned()
        } else {
            format!("${i}")
        }
    };
    let list = |from: usize, n: usize| (from..from + n).map(p).collect::<Vec<_>>().join(",");
    // One row each (see `backend::json_rows`): the batch's points, then their states. SQLite
    // keeps the prepared statements (a full batch's text is always the same); PostgreSQL plans
    // each afresh (a plan cached while the tables were small would scan them once grown).
    use super::backend::{json_bool, json_i64, json_rows, json_text, parse_json_rows};
    let points_sql = format!(
        "SELECT {} FROM contact_points cp JOIN contacts c ON c.id = cp.contact_id
         WHERE c.profile_id = {} AND cp.kind = {} AND cp.address IN ({})",
        json_rows(
            sqlite,
            "cp.id, cp.address, c.id, c.profile_id, c.consent_level, c.is_child, \
             c.suppressed_at IS NOT NULL, cp.link_generation"
        ),
        p(1),
        p(2),
        list(3, addresses.len())
    );
    let out: Result<Vec<(String, Addressed)>> = on!(conn.conn(), c => async {
        let mut q = sqlx::query_scalar::<_, Option<String>>(&points_sql)
            .bind(profile_id)
            .bind(kind.as_str());
        for a in addresses {
            q = q.bind(a);
        }
        let rows = parse_json_rows(q.persistent(sqlite).fetch_one(&mut *c).await?)?;
        let mut found: Vec<(String, Addressed)> = Vec::with_capacity(rows.len());
        for r in &rows {
            let level = json_i64(r.get(4))?;
            found.push((
                json_text(r.get(1)).unwrap_or_default(),
                Addressed {
                    contact_point_id: json_i64(r.first())?,
                    contact_id: json_i64(r.get(2))?,
                    profile_id: json_i64(r.get(3))?,
                    level: ConsentLevel::new(level)
                        .ok_or_else(|| StoreError::Corrupt(format!("level {level}")))?,
                    is_child: json_bool(r.get(5))?,
                    suppressed: json_bool(r.get(6))?,
                    link_generation: json_i64(r.get(7))?,
                    states: Vec::new(),
                },
            ));
        }
        if found.is_empty() || subjects.is_empty() {
            return Ok(found);
        }
        // $1: the channel, $2..: the subjects' ids as (kind, id) pairs, then the points.
        let subject_sql = subjects_filter(sqlite, subjects.len(), |i| p(2 + i));
        let first_point = 2 + 2 * subjects.len();
        let (sql, at_param) = match at {
            None => (
                format!(
                    "SELECT {} FROM consent_states s
                     WHERE s.channel = {} AND ({}) AND s.contact_point_id IN ({})",
                    json_rows(sqlite, STATE_JSON),
                    p(1),
                    subject_sql,
                    list(first_point, found.len())
                ),
                None,
            ),
            Some(at) => (
                format!(
                    "SELECT {} FROM consent_ledger s
                     WHERE s.channel = {} AND ({}) AND s.contact_point_id IN ({})
                       AND s.seq = (SELECT MAX(m.seq) FROM consent_ledger m
                           WHERE m.contact_point_id = s.contact_point_id
                             AND m.subject_kind = s.subject_kind
                             AND m.subject_id = s.subject_id
                             AND m.channel = s.channel AND m.occurred_at <= {})",
                    json_rows(
                        sqlite,
                        "s.contact_point_id, s.subject_kind, s.subject_id, s.channel, \
                         s.new_value, s.custodian_confirmed, s.seq"
                    ),
                    p(1),
                    subject_sql,
                    list(first_point, found.len()),
                    p(first_point + found.len())
                ),
                Some(at),
            ),
        };
        let mut q = sqlx::query_scalar::<_, Option<String>>(&sql).bind(channel.as_str());
        for s in subjects {
            q = q.bind(s.kind_str()).bind(s.id());
        }
        for (_, a) in &found {
            q = q.bind(a.contact_point_id);
        }
        if let Some(at) = at_param {
            q = q.bind(Ts::new(at));
        }
        let states = parse_json_rows(q.persistent(sqlite).fetch_one(&mut *c).await?)?;
        let by_point: std::collections::HashMap<i64, usize> = found
            .iter()
            .enumerate()
            .map(|(i, (_, a))| (a.contact_point_id, i))
            .collect();
        for s in states_of_json(&states)? {
            if let Some(&i) = by_point.get(&s.contact_point_id) {
                found[i].1.states.push(s);
            }
        }
        Ok(found)
    }
    .await);
    conn.checked(out)
}

/// Ends every link of a contact point: its signed links (the generation they carry is raised)
/// and its stored tokens. Returns the new generation.
pub struct RevokeLinks {
    pub contact_point_id: i64,
}

impl super::writer::Unit for RevokeLinks {
    type Output = i64;
    fn apply<'a>(
        &'a self,
        tx: &'a mut super::writer::Tx,
    ) -> futures_util::future::BoxFuture<'a, Result<i64>> {
        Box::pin(async move {
            on!(tx.conn(), c => {
                sqlx::query("DELETE FROM link_tokens WHERE contact_point_id = $1")
                    .bind(self.contact_point_id)
                    .execute(&mut *c)
                    .await?;
                Ok(sqlx::query_scalar(
                    "UPDATE contact_points SET link_generation = link_generation + 1
                     WHERE id = $1 RETURNING link_generation",
                )
                .bind(self.contact_point_id)
                .fetch_one(&mut *c)
                .await?)
            })
        })
    }
}

/// Changes a contact's language when given; returns its facts as they were, for the audit
/// log: (locale, level, child). (The level and child change through `desk::set_profile`,
/// as ledger records.)
pub async fn update_contact(
    tx: &mut super::writer::Tx,
    contact_id: i64,
    locale: Option<&str>,
) -> Result<(Option<String>, i64, bool)> {
    on!(tx.conn(), c => {
        let r = sqlx::query("SELECT locale, consent_level, is_child FROM contacts WHERE id = $1")
            .bind(contact_id)
            .fetch_one(&mut *c)
            .await?;
        let before: (Option<String>, i64, bool) =
            (r.col("locale")?, r.col("consent_level")?, r.col("is_child")?);
        sqlx::query("UPDATE contacts SET locale = COALESCE($2, locale) WHERE id = $1")
            .bind(contact_id)
            .bind(locale)
            .execute(&mut *c)
            .await?;
        Ok(before)
    })
}
