//! All SQL lives here. Reads go through a pool of read-only connections; every write goes
//! through the single writer (`writer.rs`), except start-up work done before it starts.
//! SQL is kept portable: `$n` placeholders, `ON CONFLICT`, no SQLite-only functions in queries.

pub mod catalog;
pub mod contacts;
pub mod ledger;
pub mod writer;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::ConnectOptions;
use std::str::FromStr;
use std::time::Duration;

/// Errors from the store. The cause is logged by the layer above, never shown.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the writer has stopped")]
    WriterGone,
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

pub type Result<T> = std::result::Result<T, StoreError>;

/// The migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The open database: a read pool and the one connection that writes.
pub struct Db {
    pub read: SqlitePool,
    pub write: SqliteConnection,
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

fn options(url: &str, create: bool) -> Result<SqliteConnectOptions> {
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
    open_with(options(url, true)?, read_connections).await
}

/// Opens a database that must already exist (for inspection commands such as `ledger verify`).
pub async fn open_existing(url: &str) -> Result<Db> {
    open_with(options(url, false)?, 1).await
}

async fn open_with(opts: SqliteConnectOptions, read_connections: u32) -> Result<Db> {
    let mut write = opts.connect().await?;
    MIGRATOR.run_direct(&mut write).await?;
    let read = SqlitePoolOptions::new()
        .max_connections(read_connections.max(1))
        // An embedded file does not drop connections: no ping before every query.
        .test_before_acquire(false)
        .min_connections(1)
        .connect_with(opts.read_only(true))
        .await?;
    Ok(Db { read, write })
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
