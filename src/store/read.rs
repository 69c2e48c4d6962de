//! The read connections every read goes through: a fixed set of read-only SQLite
//! connections, or a PostgreSQL pool sized from the settings.
//!
//! SQLite: a fixed set of connections, handed out one per query and taken back as they are.
//! sqlx's `Pool` pings each connection it takes back, to flush what a cancelled query may have
//! left; for SQLite that is a second round trip to the connection's thread for every query
//! (about a tenth of a page view's cost under load). An SQLite connection has nothing to
//! flush: its thread finishes or drops a statement whose caller went away before it runs the
//! next command. A connection whose query failed in a way that may mean it is broken (I/O, its
//! thread gone) is dropped, and the next caller opens a new one in its place.
//!
//! PostgreSQL: sqlx's pool, whose connections are network sessions that do need the check.

use super::backend::ConnMut;
use super::{Result, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Postgres;
use sqlx::{ConnectOptions as _, Connection as _};
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use tokio::sync::{Semaphore, SemaphorePermit};

/// The read connections of either backend.
pub enum Reader {
    Sqlite(Box<SqliteReader>),
    Postgres(PgPool),
}

/// One connection, for one or a few queries; back to the reader when dropped.
pub enum ReadConn<'a> {
    Sqlite(SqliteReadConn<'a>),
    Postgres(PoolConnection<Postgres>),
}

impl Reader {
    /// Opens `size` read-only SQLite connections with `options` (the first at once, so that a
    /// bad file is reported at start-up; the others when first needed).
    pub async fn sqlite(options: SqliteConnectOptions, size: u32) -> Result<Reader> {
        Ok(Reader::Sqlite(Box::new(
            SqliteReader::open(options, size).await?,
        )))
    }

    /// A PostgreSQL pool of at most `size` connections to `options`' database.
    pub async fn postgres(options: sqlx::postgres::PgConnectOptions, size: u32) -> Result<Reader> {
        let pool = PgPoolOptions::new()
            .max_connections(size.max(1))
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Reader::Postgres(pool))
    }

    /// The inline point lookups (SQLite only).
    pub fn inline(&self) -> Option<&InlineReads> {
        match self {
            Reader::Sqlite(r) => Some(&r.inline),
            Reader::Postgres(_) => None,
        }
    }

    /// The SQLite file the connections read (`None` on PostgreSQL).
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match self {
            Reader::Sqlite(r) => Some(r.options.get_filename().to_path_buf()),
            Reader::Postgres(_) => None,
        }
    }

    /// A connection, waiting while all are in use.
    pub async fn acquire(&self) -> Result<ReadConn<'_>> {
        match self {
            Reader::Sqlite(r) => Ok(ReadConn::Sqlite(r.acquire().await?)),
            Reader::Postgres(p) => Ok(ReadConn::Postgres(p.acquire().await?)),
        }
    }

    /// Closes every connection, waiting for those in use to come back. Later `acquire`s fail.
    pub async fn close(&self) {
        match self {
            Reader::Sqlite(r) => r.close().await,
            Reader::Postgres(p) => p.close().await,
        }
    }
}

impl ReadConn<'_> {
    /// The connection, for [`super::backend::on!`].
    pub fn conn(&mut self) -> ConnMut<'_> {
        match self {
            ReadConn::Sqlite(c) => ConnMut::Sqlite(c),
            ReadConn::Postgres(c) => ConnMut::Postgres(c),
        }
    }

    /// Passes a query's result through, and drops this connection when its error may mean the
    /// connection is broken (I/O, its thread or session gone).
    pub fn checked<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(StoreError::Unavailable(sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed)) = &r {
            match self {
                ReadConn::Sqlite(c) => c.broken = true,
                ReadConn::Postgres(c) => c.close_on_drop(),
            }
        }
        r
    }
}

/// Read-only rusqlite connections for the hottest point lookups (an API decision's address),
/// run on the caller's own thread: a lookup by a unique index takes microseconds, less than
/// handing the query to an sqlx connection's thread and the row back. They never wait: a
/// database that is busy (`SQLITE_BUSY`, rare under WAL) answers `None`, and the caller takes
/// the ordinary path.
pub struct InlineReads {
    path: std::path::PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl InlineReads {
    /// Runs `f` on an idle connection (opened if none is idle); `Ok(None)` when the database
    /// was busy or could not be opened (the caller reads the ordinary way).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<Option<T>> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => match rusqlite::Connection::open_with_flags(
                &self.path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ) {
                Ok(c) => c,
                Err(_) => return Ok(None),
            },
        };
        match f(&conn) {
            Ok(v) => {
                self.idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(conn);
                Ok(Some(v))
            }
            // Busy or locked: this time the ordinary path (the connection is kept).
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                self.idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(conn);
                Ok(None)
            }
            // Anything else: the connection is dropped, the error said.
            Err(e) => Err(StoreError::Corrupt(format!("an inline read: {e}"))),
        }
    }
}

/// The SQLite read connections.
pub struct SqliteReader {
    /// The inline point lookups' own connections.
    pub inline: InlineReads,
    /// Connections not in use. Holding a permit entitles a caller to one slot: an idle
    /// connection, or a new one if the slot's connection was dropped.
    idle: Mutex<Vec<SqliteConnection>>,
    permits: Semaphore,
    size: u32,
    options: SqliteConnectOptions,
}

/// One SQLite read connection.
pub struct SqliteReadConn<'a> {
    conn: Option<SqliteConnection>,
    reader: &'a SqliteReader,
    broken: bool,
    _permit: SemaphorePermit<'a>,
}

impl SqliteReader {
    async fn open(options: SqliteConnectOptions, size: u32) -> Result<SqliteReader> {
        let options = options.read_only(true);
        let first = options.connect().await?;
        let size = size.max(1);
        Ok(SqliteReader {
            inline: InlineReads {
                path: options.get_filename().to_path_buf(),
                idle: Mutex::new(Vec::new()),
            },
            idle: Mutex::new(vec![first]),
            permits: Semaphore::new(size as usize),
            size,
            options,
        })
    }

    async fn acquire(&self) -> Result<SqliteReadConn<'_>> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolClosed))?;
        let idle = self.idle().pop();
        let conn = match idle {
            Some(c) => c,
            None => self.options.connect().await?,
        };
        Ok(SqliteReadConn {
            conn: Some(conn),
            reader: self,
            broken: false,
            _permit: permit,
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<SqliteConnection>> {
        // Nothing panics while holding the lock (a push or a pop); a poisoned one is as good.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn close(&self) {
        // Taking every permit waits for the connections in use.
        let _ = self.permits.acquire_many(self.size).await;
        self.permits.close();
        let conns: Vec<SqliteConnection> = std::mem::take(&mut *self.idle());
        for c in conns {
            let _ = c.close().await;
        }
    }
}

impl Deref for SqliteReadConn<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.conn.as_ref().expect("connection present until drop")
    }
}

impl DerefMut for SqliteReadConn<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("connection present until drop")
    }
}

impl Drop for SqliteReadConn<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if !self.broken && !std::thread::panicking() {
                self.reader.idle().push(c);
            }
        }
    }
}
