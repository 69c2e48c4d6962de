//! All SQL lives here. Reads go through a set of read-only connections (`read.rs`); every
//! write goes through the single writer (`writer.rs`), except start-up work done before it
//! starts.
//! SQL is kept portable: `$n` placeholders, `ON CONFLICT`, no SQLite-only functions in queries.

pub mod catalog;
pub mod clock;
pub mod contacts;
pub mod ledger;
pub mod optin;
pub mod outbox;
pub mod read;
pub mod writer;

pub use clock::Clock;
pub use read::{ReadConn, Reader};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
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
    /// A database URL this build cannot serve. Names the scheme only: the rest of a URL may
    /// hold a password.
    #[error(
        "unsupported database URL scheme {0:?}: this build serves SQLite only; \
         use sqlite://path/to/file.db (or sqlite::memory:)"
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

/// The migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The open database: the read connections and the one connection that writes, and how to
/// open that connection again (the writer reconnects after losing it).
pub struct Db {
    pub read: Reader,
    pub write: SqliteConnection,
    pub write_options: SqliteConnectOptions,
}

/// Refuses any URL that is not `sqlite:`. sqlx's SQLite driver would take the whole text of
/// `postgres://host/db` as a file name and quietly create a folder named `postgres:`.
fn check_scheme(url: &str) -> Result<()> {
    if url.starts_with("sqlite:") {
        Ok(())
    } else {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        let shown: String = scheme.chars().take(20).collect();
        Err(StoreError::UnsupportedUrl(shown))
    }
}

/// The SQLite settings every connection uses (the benchmark's ceiling opens its database with
/// them too).
pub fn connect_options(url: &str, create: bool) -> Result<SqliteConnectOptions> {
    check_scheme(url)?;
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        // "You are unsubscribed" is a promise: a commit survives power loss.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // The statement journal of multi-row inserts stays in memory, not in temp files.
        .pragma("temp_store", "memory")
        .log_statements(tracing::log::LevelFilter::Trace)
        // `ledger verify` streams the whole ledger in one statement: slow by design.
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

/// Opens (creating if missing) and migrates the database.
pub async fn open(url: &str, read_connections: u32) -> Result<Db> {
    check_scheme(url)?;
    ensure_parent_dir(url)?;
    open_with(connect_options(url, true)?, read_connections).await
}

/// Opens a database that must already exist (for inspection commands such as `ledger verify`).
pub async fn open_existing(url: &str) -> Result<Db> {
    open_with(connect_options(url, false)?, 1).await
}

async fn open_with(opts: SqliteConnectOptions, read_connections: u32) -> Result<Db> {
    let mut write = opts.connect().await?;
    let write_options = opts.clone().create_if_missing(false);
    MIGRATOR.run_direct(&mut write).await?;
    let read = Reader::open(opts, read_connections).await?;
    Ok(Db {
        read,
        write,
        write_options,
    })
}

/// Whether the database can be read (`/readyz`).
pub async fn ping(read: &Reader) -> Result<()> {
    let mut c = read.acquire().await?;
    sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(&mut *c)
        .await
        .map(|_| ())
        .map_err(|e| c.failed(e))
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
    fn only_sqlite_urls_are_accepted() {
        for ok in ["sqlite://data/x.db", "sqlite:x.db", "sqlite::memory:"] {
            assert!(check_scheme(ok).is_ok(), "{ok}");
        }
        for bad in [
            "postgres://u:pw@h/db",
            "postgresql://h/db",
            "mysql://h/db",
            "data/x.db",
            "SQLITE://x.db",
            "",
        ] {
            let e = check_scheme(bad).unwrap_err().to_string();
            assert!(e.contains("sqlite://"), "{e}");
            assert!(!e.contains("pw"), "no password in the message: {e}");
        }
    }
}
