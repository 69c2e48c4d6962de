//! The two databases the store runs on, and every difference between them that is not a
//! migration: SQLite (one embedded file, the default) and PostgreSQL (a server, for several
//! instances).
//!
//! Store functions are written once. A query's text is the same on both (`$n` placeholders,
//! `ON CONFLICT`, `RETURNING`); its body runs inside [`on!`], which expands it once per backend
//! with the concrete connection type, so sqlx's types stay exact (no `Any` driver, no boxed
//! values). Rows are read through [`DbRow`], which both backends' rows implement. Where the SQL
//! itself must differ (how a write transaction begins and takes the ledger's chain head), the
//! difference is a function here.
//!
//! Timestamps are [`Ts`]: UTC RFC 3339 text with microseconds on SQLite (it sorts as it reads)
//! and `timestamptz` on PostgreSQL; the Rust side always sees the text.

use super::{Result, StoreError};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Decode, Encode, Postgres, Row, Sqlite, Type};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend of a database URL; the error names the scheme only (the rest of a URL may
    /// hold a password).
    pub fn of_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
            Err(StoreError::UnsupportedUrl(
                scheme.chars().take(20).collect(),
            ))
        }
    }
}

/// A database URL as it may be shown (logs, messages): the password replaced by `***`.
pub fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// An owned connection of either backend (the writer's).
pub enum Conn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// A borrowed connection of either backend: what [`on!`] matches on.
pub enum ConnMut<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl<'a> From<&'a mut SqliteConnection> for ConnMut<'a> {
    fn from(c: &'a mut SqliteConnection) -> Self {
        ConnMut::Sqlite(c)
    }
}

impl<'a> From<&'a mut PgConnection> for ConnMut<'a> {
    fn from(c: &'a mut PgConnection) -> Self {
        ConnMut::Postgres(c)
    }
}

impl Conn {
    pub fn as_mut(&mut self) -> ConnMut<'_> {
        match self {
            Conn::Sqlite(c) => ConnMut::Sqlite(c),
            Conn::Postgres(c) => ConnMut::Postgres(c),
        }
    }

    /// Closes the connection cleanly (SQLite checkpoints its WAL when the last one closes).
    pub async fn close(self) -> Result<()> {
        use sqlx::Connection as _;
        match self {
            Conn::Sqlite(c) => c.close().await?,
            Conn::Postgres(c) => c.close().await?,
        }
        Ok(())
    }
}

/// Runs `f` on an SQLite connection's own handle through rusqlite, on the caller's thread,
/// sqlx's worker thread for the connection waiting meanwhile (`lock_handle`), inside whatever
/// transaction the connection has open. For the writer's row-by-row inserts: sqlx binds each
/// value as an owned copy, hands it to SQLite (which copies it again) and clears every binding
/// after each statement, so a multi-row `VALUES` of a 500-row import batch spent more time in
/// binding than in SQLite's inserts; a prepared single-row statement run once per row through
/// rusqlite binds in place and keeps its bindings' buffers. Work of [`INLINE_ROWS`] rows or
/// more runs in `block_in_place` on a multi-threaded runtime (the worker's other tasks move to
/// another thread meanwhile).
#[allow(unsafe_code)] // one of the crate's two (the other: `read::Held`): see the SAFETY note below
pub async fn raw_sqlite<T>(
    c: &mut SqliteConnection,
    rows: usize,
    f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
) -> Result<T> {
    let mut locked = c.lock_handle().await?;
    let handle = locked.as_raw_handle();
    let run = move || {
        // SAFETY: the handle stays open and is used by nobody else while `locked` is held (sqlx's
        // worker waits for it); `from_handle` does not own it (dropping the rusqlite connection
        // finalizes its statements, not the handle), and it is dropped before the lock is.
        let conn = unsafe { rusqlite::Connection::from_handle(handle.as_ptr()) }?;
        f(&conn)
    };
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    let out = if rows >= INLINE_ROWS && multi {
        tokio::task::block_in_place(run)
    } else {
        run()
    };
    drop(locked);
    out.map_err(lite_error)
}

/// The most rows [`raw_sqlite`] writes in place on a runtime worker (a few hundred
/// microseconds at most) before it moves the worker's other tasks away first.
const INLINE_ROWS: usize = 64;

/// An SQLite error met through rusqlite, sorted like sqlx's (see `From<sqlx::Error>`): busy,
/// locked, I/O, full and can't-open may pass; anything else (a constraint) will not.
fn lite_error(e: rusqlite::Error) -> StoreError {
    let transient = matches!(
        &e,
        rusqlite::Error::SqliteFailure(f, _) if matches!(f.extended_code & 0xff, 5 | 6 | 10 | 13 | 14)
    );
    if transient {
        StoreError::Unavailable(sqlx::Error::Io(std::io::Error::other(e)))
    } else {
        StoreError::Refused(sqlx::Error::Protocol(e.to_string()))
    }
}

/// Runs `$body` with `$c` bound to the concrete connection (`&mut SqliteConnection` or
/// `&mut PgConnection`) of a [`ConnMut`]. The body is compiled once per backend.
macro_rules! on {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::store::backend::ConnMut::Sqlite($c) => $body,
            $crate::store::backend::ConnMut::Postgres($c) => $body,
        }
    };
}
pub(crate) use on;

/// Takes a read connection, runs `$body` (an expression returning `Result<T>`, `?` allowed)
/// with `$c` bound to the concrete connection, and gives the connection back, dropping it
/// when the error means it may be broken.
macro_rules! read {
    ($read:expr, $c:ident => $body:expr) => {{
        let mut conn = $read.acquire().await?;
        let out: $crate::store::Result<_> =
            $crate::store::backend::on!(conn.conn(), $c => async { $body }.await);
        conn.checked(out)
    }};
}
pub(crate) use read;

/// What a store function reads a column as: any type both backends decode.
pub trait Column: Sized {
    fn from_sqlite(row: &SqliteRow, name: &str) -> Result<Self>;
    fn from_pg(row: &PgRow, name: &str) -> Result<Self>;
}

impl<T> Column for T
where
    T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>,
{
    fn from_sqlite(row: &SqliteRow, name: &str) -> Result<T> {
        Ok(row.try_get(name)?)
    }
    fn from_pg(row: &PgRow, name: &str) -> Result<T> {
        Ok(row.try_get(name)?)
    }
}

/// A row of either backend, read by column name.
pub trait DbRow {
    fn col<T: Column>(&self, name: &str) -> Result<T>;
}

impl DbRow for SqliteRow {
    fn col<T: Column>(&self, name: &str) -> Result<T> {
        T::from_sqlite(self, name)
    }
}

impl DbRow for PgRow {
    fn col<T: Column>(&self, name: &str) -> Result<T> {
        T::from_pg(self, name)
    }
}

/// A point in time as stored: UTC RFC 3339 text with microseconds
/// (`2026-11-24T07:30:00.000000Z`, [`super::format_time`]). Text on SQLite, `timestamptz` on
/// PostgreSQL. Every timestamp a query binds or reads goes through this type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ts(pub String);

impl Ts {
    pub fn new(s: impl Into<String>) -> Ts {
        Ts(s.into())
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Type<Sqlite> for Ts {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for Ts {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
    ) -> std::result::Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Ts {
    fn decode(
        value: sqlx::sqlite::SqliteValueRef<'r>,
    ) -> std::result::Result<Ts, sqlx::error::BoxDynError> {
        Ok(Ts(<String as Decode<'r, Sqlite>>::decode(value)?))
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <time::OffsetDateTime as Type<Postgres>>::type_info()
    }
}

impl sqlx::postgres::PgHasArrayType for Ts {
    fn array_type_info() -> sqlx::postgres::PgTypeInfo {
        <time::OffsetDateTime as sqlx::postgres::PgHasArrayType>::array_type_info()
    }
}

impl Encode<'_, Postgres> for Ts {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> std::result::Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        let t = super::parse_time(&self.0).map_err(|e| Box::new(e) as sqlx::error::BoxDynError)?;
        <time::OffsetDateTime as Encode<'_, Postgres>>::encode_by_ref(&t, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Ts {
    fn decode(
        value: sqlx::postgres::PgValueRef<'r>,
    ) -> std::result::Result<Ts, sqlx::error::BoxDynError> {
        let t = <time::OffsetDateTime as Decode<'r, Postgres>>::decode(value)?;
        Ok(Ts(super::format_time(t)))
    }
}

/// Begins a write transaction under the lock that every writer of the database takes before it
/// reads the ledger's chain head, so the chain stays one total, gap-free order.
/// - SQLite: `BEGIN IMMEDIATE` takes the database's one write lock.
/// - PostgreSQL: a transaction-scoped advisory lock, taken by every instance's writer before it
///   reads the head; it is released by COMMIT or ROLLBACK. Under READ COMMITTED every later
///   statement of the transaction sees everything committed before the lock was granted.
pub async fn begin_write(conn: &mut Conn) -> Result<()> {
    use sqlx::Executor as _;
    match conn {
        Conn::Sqlite(c) => {
            c.execute("BEGIN IMMEDIATE").await?;
        }
        Conn::Postgres(c) => {
            // One round trip: both statements in one simple query.
            if let Err(e) = c
                .execute(
                    format!("BEGIN ISOLATION LEVEL READ COMMITTED; {LEDGER_LOCK_SQL}").as_str(),
                )
                .await
            {
                let _ = c.execute("ROLLBACK").await;
                return Err(e.into());
            }
        }
    }
    Ok(())
}

/// The transaction-scoped advisory lock every PostgreSQL writer takes before it reads the
/// chain head (the key is "prefcntr" in ASCII).
pub const LEDGER_LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(8102650170022196338)";

/// Starts a read-only transaction that sees one snapshot of the database until it ends (with
/// ROLLBACK): SQLite's deferred transaction holds its WAL snapshot from the first read;
/// PostgreSQL's REPEATABLE READ sees the database as it was at the first statement.
pub async fn begin_snapshot(conn: ConnMut<'_>) -> Result<()> {
    use sqlx::Executor as _;
    match conn {
        ConnMut::Sqlite(c) => {
            c.execute("BEGIN DEFERRED").await?;
        }
        ConnMut::Postgres(c) => {
            c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?;
        }
    }
    Ok(())
}

/// Ends a transaction begun with [`begin_write`]: COMMIT when `work` succeeded, else ROLLBACK
/// and `work`'s error.
pub async fn finish<T>(conn: &mut Conn, work: Result<T>) -> Result<T> {
    match work {
        Ok(v) => {
            commit(conn).await?;
            Ok(v)
        }
        Err(e) => {
            let _ = execute(conn, "ROLLBACK").await;
            Err(e)
        }
    }
}

/// COMMITs the write transaction, and tells the inline reads (`read::wrote`) to take a new
/// snapshot, whatever the outcome (a COMMIT that failed may still have committed).
pub async fn commit(conn: &mut Conn) -> Result<()> {
    let r = execute(conn, "COMMIT").await;
    super::read::wrote();
    r
}

/// Runs a statement without parameters or results (COMMIT, ROLLBACK).
pub async fn execute(conn: &mut Conn, sql: &str) -> Result<()> {
    use sqlx::Executor as _;
    on!(conn.as_mut(), c => { c.execute(sql).await?; });
    Ok(())
}

/// `n` ids for new rows of `table`, taken before the rows are inserted together with them
/// (in the writer's transaction, which no other writer shares): SQLite's next keys after the
/// largest, as it would choose them itself; PostgreSQL's from the table's identity sequence.
pub async fn new_ids(conn: ConnMut<'_>, table: &str, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    match conn {
        ConnMut::Sqlite(c) => {
            let last: i64 =
                sqlx::query_scalar(&format!("SELECT COALESCE(MAX(id), 0) FROM {table}"))
                    .fetch_one(&mut *c)
                    .await?;
            Ok((last + 1..=last + n as i64).collect())
        }
        ConnMut::Postgres(c) => Ok(sqlx::query_scalar(&format!(
            "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
        ))
        .bind(n as i64)
        .fetch_all(&mut *c)
        .await?),
    }
}

/// After rows were inserted with explicit ids: PostgreSQL's identity sequences of `tables`
/// move past the largest id (SQLite's integer keys follow the largest id by themselves).
pub async fn follow_explicit_ids(conn: &mut Conn, tables: &[&str]) -> Result<()> {
    if let Conn::Postgres(c) = conn {
        for t in tables {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), \
                 GREATEST((SELECT MAX(id) FROM {t}), 1))"
            ))
            .execute(&mut *c)
            .await?;
        }
    }
    Ok(())
}

/// Many rows read as one: the rows' `columns` as a JSON array of arrays (SQLite's
/// `json_group_array`, PostgreSQL's `json_agg`), for a query whose rows would otherwise each
/// cross from sqlx's SQLite worker thread one by one (a bulk decision's thousand points a batch).
/// The query then has one row, one text column (NULL on PostgreSQL when there are no rows).
pub fn json_rows(sqlite: bool, columns: &str) -> String {
    if sqlite {
        format!("json_group_array(json_array({columns}))")
    } else {
        format!("json_agg(json_build_array({columns}))::text")
    }
}

/// A column compared without its index: SQLite's unary `+` (PostgreSQL has none for text and
/// plans on its own). For a key's later columns when the rows of its first are few and lie
/// together: a point's states on a subject of two (a purpose and a topic) are one seek of the
/// point and a filter, where `(kind = ? AND id = ?) OR (…)` made SQLite seek once per subject
/// (a bulk decision's states took 40 % less time per batch so).
pub fn unindexed(sqlite: bool, column: &str) -> String {
    if sqlite {
        format!("+{column}")
    } else {
        column.to_owned()
    }
}

/// The rows of a [`json_rows`] column.
pub fn parse_json_rows(text: Option<String>) -> Result<Vec<Vec<serde_json::Value>>> {
    match text {
        None => Ok(Vec::new()),
        Some(t) => serde_json::from_str(&t)
            .map_err(|e| super::StoreError::Corrupt(format!("aggregated rows: {e}"))),
    }
}

/// A JSON cell of [`json_rows`] as a number, a flag (SQLite gives 0/1, PostgreSQL a boolean) or
/// text.
pub fn json_i64(v: Option<&serde_json::Value>) -> Result<i64> {
    v.and_then(serde_json::Value::as_i64)
        .ok_or_else(|| super::StoreError::Corrupt("aggregated rows: a number".into()))
}

pub fn json_bool(v: Option<&serde_json::Value>) -> Result<bool> {
    match v {
        Some(serde_json::Value::Bool(b)) => Ok(*b),
        Some(serde_json::Value::Number(n)) => Ok(n.as_i64() != Some(0)),
        _ => Err(super::StoreError::Corrupt("aggregated rows: a flag".into())),
    }
}

pub fn json_text(v: Option<&serde_json::Value>) -> Option<String> {
    v.and_then(serde_json::Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_hide_the_password() {
        assert_eq!(
            shown_url("postgres://app:s3cr@t@db.example:5432/prefs?sslmode=require"),
            "postgres://app:***@db.example:5432/prefs?sslmode=require"
        );
        assert_eq!(
            shown_url("postgres://app@db/prefs"),
            "postgres://app@db/prefs"
        );
        assert_eq!(shown_url("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(shown_url("sqlite:x.db"), "sqlite:x.db");
    }

    #[test]
    fn urls_name_their_backend() {
        for ok in ["sqlite://data/x.db", "sqlite:x.db", "sqlite::memory:"] {
            assert_eq!(Backend::of_url(ok).unwrap(), Backend::Sqlite, "{ok}");
        }
        for ok in ["postgres://u:pw@h/db", "postgresql://h/db"] {
            assert_eq!(Backend::of_url(ok).unwrap(), Backend::Postgres, "{ok}");
        }
        for bad in [
            "mysql://u:pw@h/db",
            "data/x.db",
            "SQLITE://x.db",
            "postgres:/x",
            "",
        ] {
            let e = Backend::of_url(bad).unwrap_err().to_string();
            assert!(e.contains("sqlite://"), "{e}");
            assert!(e.contains("postgres://"), "{e}");
            assert!(!e.contains("pw"), "no password in the message: {e}");
        }
    }
}
