//! All SQL lives here. Reads go through the read connections (`read.rs`); every write goes
//! through the single writer (`writer.rs`), except start-up work done before it starts.
//! Two backends, SQLite and PostgreSQL (`backend.rs`): SQL is kept portable (`$n`
//! placeholders, `ON CONFLICT`, `RETURNING`, no dialect-only functions in queries) and each
//! store function is written once; what must differ lives in `backend.rs` and in the two
//! migration folders.

pub mod api_keys;
pub mod audit;
pub mod backend;
pub mod catalog;
pub mod clock;
pub mod contacts;
pub mod copy;
pub mod design;
pub mod desk;
pub mod erasure;
pub mod idempotency;
pub mod import;
pub mod keys;
pub mod ledger;
pub mod migrations;
pub mod optin;
pub mod outbox;
pub mod proof;
pub mod rate;
pub mod read;
pub mod report;
pub mod rights;
pub mod segment;
pub mod setup;
pub mod users;
pub mod webhooks;
pub mod writer;

use backend::read;
pub use backend::{Backend, Conn, ConnMut, DbRow, Ts};
pub use clock::Clock;
pub use read::{ReadConn, Reader};

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::ConnectOptions;
use std::str::FromStr;
use std::time::Duration;

/// Errors from the store. The cause is logged by the layer above, never shown.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or was busy (I/O, locked, pool timeout, a closed
    /// connection): the same request may succeed later.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The database refused the statement (a constraint, a trigger, malformed SQL): the same
    /// request will fail again.
    #[error("database refused: {0}")]
    Refused(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The writer did not answer (stopped, restarting, or overloaded past its wait).
    #[error("the writer is not available")]
    WriterUnavailable,
    /// A row that must exist does not (a profile a contact points at, say).
    #[error("missing: {0}")]
    Missing(String),
    /// A stored value the code cannot read (an unknown enum text, a hash of the wrong size).
    #[error("stored data is not as expected: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A database that must be empty is not (the target of `prefcenter copy`).
    #[error("{0}")]
    NotEmpty(String),
    /// A database URL this build cannot serve. Names the scheme only: the rest of a URL may
    /// hold a password.
    #[error(
        "unsupported database URL scheme {0:?}: use sqlite://path/to/file.db (the embedded \
         default) or postgres://user:password@host/database"
    )]
    UnsupportedUrl(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        use sqlx::Error as E;
        match &e {
            E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::Tls(_) => {
                StoreError::Unavailable(e)
            }
            E::Database(d) => {
                // SQLite: BUSY (5), LOCKED (6), IOERR (10), FULL (13), CANTOPEN (14) and their
                // extended codes; PostgreSQL: class 08 (connection), 40 (serialization,
                // deadlock), 53 (insufficient resources), 57P (operator intervention).
                let code = d.code().map(|c| c.into_owned()).unwrap_or_default();
                let sqlite_primary = code.parse::<i64>().ok().map(|c| c & 0xff);
                let transient = matches!(sqlite_primary, Some(5 | 6 | 10 | 13 | 14))
                    || ["08", "40", "53", "57P"]
                        .iter()
                        .any(|p| code.starts_with(p));
                if transient {
                    StoreError::Unavailable(e)
                } else {
                    StoreError::Refused(e)
                }
            }
            _ => StoreError::Refused(e),
        }
    }
}

impl StoreError {
    /// Worth trying again later (the caller may say "try again in a moment").
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_) | StoreError::WriterUnavailable | StoreError::Io(_)
        )
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The open database: the read connections and the one connection that writes, and how to
/// open that connection again (the writer reconnects after losing it).
pub struct Db {
    pub read: Reader,
    pub write: Conn,
    pub write_options: WriteOptions,
}

/// How to open the writer's connection.
#[derive(Clone)]
pub enum WriteOptions {
    Sqlite(SqliteConnectOptions),
    Postgres(PgConnectOptions),
}

impl WriteOptions {
    pub async fn connect(&self) -> Result<Conn> {
        use sqlx::ConnectOptions as _;
        Ok(match self {
            WriteOptions::Sqlite(o) => Conn::Sqlite(o.connect().await?),
            WriteOptions::Postgres(o) => Conn::Postgres(o.connect().await?),
        })
    }
}

/// The SQLite settings every connection uses (the benchmark's ceiling opens its database with
/// them too).
pub fn connect_options(url: &str, create: bool) -> Result<SqliteConnectOptions> {
    if Backend::of_url(url)? != Backend::Sqlite {
        return Err(StoreError::UnsupportedUrl("postgres".into()));
    }
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        // "You are unsubscribed" is a promise: a commit survives power loss.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // Deleted content is overwritten with zeros, not left in free space: after an erasure
        // (and a WAL checkpoint) the file holds no trace of the address or the evidence.
        .pragma("secure_delete", "on")
        .busy_timeout(Duration::from_secs(10))
        // The statement journal of multi-row inserts stays in memory, not in temp files.
        .pragma("temp_store", "memory")
        .log_statements(tracing::log::LevelFilter::Trace)
        // `ledger verify` streams the whole ledger in one statement: slow by design.
        .log_slow_statements(tracing::log::LevelFilter::Info, Duration::from_secs(1)))
}

/// The PostgreSQL settings every connection uses. Durability is the server's
/// (`synchronous_commit` stays on: a commit survives power loss).
pub fn pg_connect_options(url: &str) -> Result<PgConnectOptions> {
    use sqlx::ConnectOptions as _;
    Ok(PgConnectOptions::from_str(url)?
        .application_name("prefcenter")
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Info, Duration::from_secs(1)))
}

/// Creates the file's folder when the URL names a file.
fn ensure_parent_dir(url: &str) -> Result<()> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    Ok(())
}

/// Opens (creating an SQLite file if missing) and migrates the database; `read_connections`
/// is the size of the read pool.
pub async fn open(url: &str, read_connections: u32) -> Result<Db> {
    match Backend::of_url(url)? {
        Backend::Sqlite => {
            ensure_parent_dir(url)?;
            open_sqlite(connect_options(url, true)?, read_connections, true).await
        }
        Backend::Postgres => open_pg(pg_connect_options(url)?, read_connections, true).await,
    }
}

/// Opens a database that must already exist (for commands such as `ledger verify`); it is
/// migrated as the server would.
pub async fn open_existing(url: &str) -> Result<Db> {
    match Backend::of_url(url)? {
        Backend::Sqlite => open_sqlite(connect_options(url, false)?, 1, true).await,
        Backend::Postgres => open_pg(pg_connect_options(url)?, 1, true).await,
    }
}

/// Read connections only, to an existing database (tests and tools that look, never write).
pub async fn reader(url: &str, size: u32) -> Result<Reader> {
    match Backend::of_url(url)? {
        Backend::Sqlite => Reader::sqlite(connect_options(url, false)?, size).await,
        Backend::Postgres => Reader::postgres(pg_connect_options(url)?, size).await,
    }
}

/// Applies the migrations the database lacks (`prefcenter migrate`); returns the versions
/// applied now.
pub async fn migrate(url: &str) -> Result<Vec<i64>> {
    let db = match Backend::of_url(url)? {
        Backend::Sqlite => {
            ensure_parent_dir(url)?;
            open_sqlite(connect_options(url, true)?, 1, false).await?
        }
        Backend::Postgres => open_pg(pg_connect_options(url)?, 1, false).await?,
    };
    let mut write = db.write;
    let before = applied_versions(&mut write).await?;
    migrations::run(&mut write).await?;
    let after = applied_versions(&mut write).await?;
    db.read.close().await;
    write.close().await?;
    Ok(after.into_iter().filter(|v| !before.contains(v)).collect())
}

async fn applied_versions(conn: &mut Conn) -> Result<Vec<i64>> {
    use sqlx::migrate::Migrate as _;
    Ok(match conn {
        Conn::Sqlite(c) => {
            c.ensure_migrations_table().await?;
            c.list_applied_migrations().await?
        }
        Conn::Postgres(c) => {
            c.ensure_migrations_table().await?;
            c.list_applied_migrations().await?
        }
    }
    .into_iter()
    .map(|m| m.version)
    .collect())
}

async fn open_sqlite(opts: SqliteConnectOptions, read_connections: u32, run: bool) -> Result<Db> {
    use sqlx::ConnectOptions as _;
    let mut write = Conn::Sqlite(opts.connect().await?);
    if run {
        migrations::run(&mut write).await?;
    }
    let write_options = opts.clone().create_if_missing(false);
    let read = Reader::sqlite(opts, read_connections).await?;
    Ok(Db {
        read,
        write,
        write_options: WriteOptions::Sqlite(write_options),
    })
}

async fn open_pg(opts: PgConnectOptions, read_connections: u32, run: bool) -> Result<Db> {
    use sqlx::ConnectOptions as _;
    let mut write = opts.connect().await?;
    let up_to_date = pg_up_to_date(&mut write).await;
    let mut write = Conn::Postgres(write);
    // An instance may run as a role that cannot change the schema (README): when every
    // migration is applied already it runs no DDL at all.
    if run && !up_to_date {
        // sqlx holds an advisory lock while migrating: instances starting together take turns.
        migrations::run(&mut write).await.map_err(|e| {
            StoreError::Missing(format!(
                "{e} (an instance whose role may not change the schema needs \
                 `prefcenter migrate` run first, as the database's owner)"
            ))
        })?;
    }
    let read = Reader::postgres(opts.clone(), read_connections).await?;
    Ok(Db {
        read,
        write,
        write_options: WriteOptions::Postgres(opts),
    })
}

/// Whether every migration this build has is applied, read without creating anything (false
/// when the migrations table is not there yet).
async fn pg_up_to_date(conn: &mut sqlx::PgConnection) -> bool {
    let applied: Vec<i64> =
        match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&mut *conn)
            .await
        {
            Ok(v) => v,
            Err(_) => return false,
        };
    migrations::migrator(Backend::Postgres)
        .iter()
        .all(|m| applied.contains(&m.version))
}

/// Whether the database can be read (`/readyz`).
pub async fn ping(read: &Reader) -> Result<()> {
    read!(read, c => {
        sqlx::query_scalar::<_, i64>("SELECT CAST(1 AS BIGINT)").fetch_one(&mut *c).await?;
        Ok(())
    })
}

/// The current time in the stored format: UTC RFC 3339 with microseconds.
pub fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

pub fn format_time(t: time::OffsetDateTime) -> String {
    const F: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(F)
        .expect("formatting a UTC time cannot fail")
}

/// `now() + days` in the stored format.
pub fn days_from_now(days: i64) -> String {
    format_time(time::OffsetDateTime::now_utc() + time::Duration::days(days))
}

/// Reads a stored time back.
pub fn parse_time(s: &str) -> Result<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| StoreError::Corrupt(format!("time {s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_in_the_stored_format() {
        let t = parse_time("2026-11-24T07:30:00.123456Z").unwrap();
        assert_eq!(format_time(t), "2026-11-24T07:30:00.123456Z");
    }
}
