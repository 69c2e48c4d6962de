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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
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

    /// The inline point lookups and long passes (SQLite only); clone it to take it onto
    /// another thread.
    pub fn inline(&self) -> Option<&Arc<InlineReads>> {
        match self {
            Reader::Sqlite(r) => Some(&r.inline),
            Reader::Postgres(_) => None,
        }
    }

    /// How many SQLite connections read at once (`None` on PostgreSQL, whose server runs a
    /// large query on several workers itself).
    pub fn sqlite_connections(&self) -> Option<u32> {
        match self {
            Reader::Sqlite(r) => Some(r.size),
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
///
/// A connection keeps its read transaction (its snapshot of the database) open from one lookup
/// to the next while nothing was committed since: every commit of this process raises
/// [`wrote`], which ends the snapshot at the next lookup, and a snapshot older than
/// [`SNAPSHOT_AGE`] is ended anyway (another process's write, which this process cannot see
/// coming, is read at most that late). Beginning and ending a read transaction takes SQLite's
/// file locks, shared by every connection of the process: under load, most of a lookup's cost.
/// Idle connections' snapshots are ended within a few times that age, so that none pins the
/// WAL.
pub struct InlineReads {
    path: std::path::PathBuf,
    idle: Mutex<Vec<Held>>,
    /// The connections of long ordered passes (see [`InlineReads::scan`]), idle.
    scans: Mutex<Vec<rusqlite::Connection>>,
    closed: std::sync::atomic::AtomicBool,
}

/// An inline connection and its open read transaction, if any: the commit count it began at
/// and when.
struct Held {
    conn: Kept,
    snapshot: Option<(u64, Instant)>,
}

// SAFETY: a `Held` moves between threads (the idle list is shared) as one piece: the
// connection and the statements prepared on it, which point into it. `rusqlite::Connection`
// is `Send` (opened `SQLITE_OPEN_NO_MUTEX`: SQLite's multi-thread mode, one thread at a time);
// a `Statement` is not only because it borrows its connection, which it could otherwise use
// on another thread while the connection is used here. Inside a `Held` nothing else holds the
// connection or a statement: they are lent out only within one `InlineReads::with` call, on
// its thread, and the `Held` is taken from or put back in the list between calls.
#[allow(unsafe_code)]
unsafe impl Send for Held {}

self_cell::self_cell!(
    /// An inline connection with the statements kept on it.
    struct Kept {
        owner: rusqlite::Connection,
        #[not_covariant]
        dependent: Statements,
    }
);

/// The hottest lookups' statements, prepared once on each inline connection and kept in their
/// slots ([`KeptSql`]): found by the slot's number, not by hashing and comparing their text as
/// `prepare_cached` does (with handing the statement back to the cache, about a tenth of an
/// API decision's own CPU).
struct Statements<'c>([std::cell::OnceCell<std::cell::RefCell<rusqlite::Statement<'c>>>; SLOTS]);

/// How many statements are kept (the slots of [`Slot`]).
const SLOTS: usize = 2;

/// A kept statement's slot: one per statement.
#[derive(Debug, Clone, Copy)]
pub enum Slot {
    /// `contacts::addressed`: a point, its contact and its states.
    Point = 0,
    /// `ledger::record_summary`: a decision's record.
    Record = 1,
}

/// A statement kept on every inline connection: its slot and its text.
pub struct KeptSql {
    pub slot: Slot,
    pub sql: fn() -> &'static str,
}

/// An inline connection as [`InlineReads::with`] lends it: the connection, and its kept
/// statements ([`Inline::kept`]).
pub struct Inline<'o, 'c> {
    conn: &'c rusqlite::Connection,
    kept: &'o Statements<'c>,
}

impl<'o, 'c> Inline<'o, 'c> {
    /// The kept statement of `k`, prepared on first use. One at a time per slot: asked again
    /// while the first is in use, it answers `InvalidQuery` (no caller does).
    pub fn kept(
        &self,
        k: &KeptSql,
    ) -> rusqlite::Result<std::cell::RefMut<'o, rusqlite::Statement<'c>>> {
        let cell = &self.kept.0[k.slot as usize];
        let stmt = match cell.get() {
            Some(s) => s,
            None => {
                let s = self.conn.prepare((k.sql)())?;
                cell.get_or_init(|| std::cell::RefCell::new(s))
            }
        };
        stmt.try_borrow_mut()
            .map_err(|_| rusqlite::Error::InvalidQuery)
    }
}

impl<'c> Deref for Inline<'_, 'c> {
    type Target = rusqlite::Connection;
    fn deref(&self) -> &rusqlite::Connection {
        self.conn
    }
}

/// How long an inline read transaction may stay open while nothing was committed here.
pub const SNAPSHOT_AGE: Duration = Duration::from_millis(10);

/// Commits made by this process (any database; raised after each, see [`wrote`]).
static WRITES: AtomicU64 = AtomicU64::new(0);

/// Records that a write transaction of this process committed (or may have): inline reads
/// take a new snapshot from now on. Called after every COMMIT.
pub fn wrote() {
    WRITES.fetch_add(1, Ordering::AcqRel);
}

impl Held {
    /// Ends the open read transaction; `false` if that failed (the connection is dropped).
    fn end(&mut self) -> bool {
        if self.snapshot.take().is_some() {
            return self.conn.borrow_owner().execute_batch("COMMIT").is_ok();
        }
        true
    }
}

impl InlineReads {
    fn new(path: std::path::PathBuf) -> Arc<InlineReads> {
        let inline = Arc::new(InlineReads {
            path,
            idle: Mutex::new(Vec::new()),
            scans: Mutex::new(Vec::new()),
            closed: std::sync::atomic::AtomicBool::new(false),
        });
        // Ends idle snapshots; stops when the reads are dropped.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&inline);
            rt.spawn(async move {
                let mut tick = tokio::time::interval(SNAPSHOT_AGE * 3);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let Some(inline) = weak.upgrade() else { break };
                    inline.end_stale();
                }
            });
        }
        inline
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Held>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the snapshots of idle connections older than [`SNAPSHOT_AGE`].
    fn end_stale(&self) {
        let mut idle = self.idle();
        let now = Instant::now();
        idle.retain_mut(|h| match h.snapshot {
            Some((_, at)) if now.duration_since(at) >= SNAPSHOT_AGE => h.end(),
            _ => true,
        });
    }

    /// A new read-only connection to the file, used by one thread at a time.
    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        rusqlite::Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
    }

    /// Closes the idle connections; later lookups take the ordinary path.
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        std::mem::take(&mut *self.idle());
        std::mem::take(&mut *self.scans.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Runs `f` in a read transaction of its own on a connection made for long ordered passes
    /// over the file (a segment's count): its pages are read where the system keeps them
    /// (memory-mapped, not copied through a small page cache), and the connection is kept for
    /// the next pass, so that its mapping and schema stay ready (opening, parsing the schema and
    /// faulting the mapping in again showed in a count's profile). The file never shrinks
    /// under it: nothing here vacuums it.
    pub fn scan<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let scans = || self.scans.lock().unwrap_or_else(|e| e.into_inner());
        let kept = scans().pop();
        let conn = match kept {
            Some(c) => c,
            None => {
                let c = self.open()?;
                c.busy_timeout(Duration::from_secs(10))?;
                c.pragma_update(None, "mmap_size", 1i64 << 32)?;
                c
            }
        };
        conn.execute_batch("BEGIN")?;
        let out = f(&conn);
        let ended = conn.execute_batch("COMMIT");
        // As many kept as passes ever ran at once on this machine's cores.
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        if out.is_ok() && ended.is_ok() && !self.closed.load(Ordering::Acquire) {
            let mut kept = scans();
            if kept.len() < cores {
                kept.push(conn);
            }
        }
        let v = out?;
        ended?;
        Ok(v)
    }

    /// Runs `f` on an idle connection (opened if none is idle), within a read transaction that
    /// sees every commit this process made before the call; `Ok(None)` when the database was
    /// busy or could not be opened (the caller reads the ordinary way).
    pub fn with<T>(&self, f: impl FnOnce(&Inline) -> rusqlite::Result<T>) -> Result<Option<T>> {
        if self.closed.load(Ordering::Acquire) {
            return Ok(None);
        }
        let idle = self.idle().pop();
        let mut held = match idle {
            Some(h) => h,
            None => match self.open() {
                Ok(conn) => Held {
                    conn: Kept::new(conn, |_| Statements(Default::default())),
                    snapshot: None,
                },
                Err(_) => return Ok(None),
            },
        };
        // The count is read before the snapshot begins (at the first read in `f`): a commit
        // in between changes the count, and the next call takes a new snapshot.
        let writes = WRITES.load(Ordering::Acquire);
        let now = Instant::now();
        if let Some((at_writes, at)) = held.snapshot {
            if (at_writes != writes || now.duration_since(at) >= SNAPSHOT_AGE) && !held.end() {
                return Ok(None);
            }
        }
        if held.snapshot.is_none() {
            if held.conn.borrow_owner().execute_batch("BEGIN").is_err() {
                return Ok(None);
            }
            held.snapshot = Some((writes, now));
        }
        let out = held
            .conn
            .with_dependent(|conn, kept| f(&Inline { conn, kept }));
        match out {
            Ok(v) => {
                self.idle().push(held);
                Ok(Some(v))
            }
            // Busy or locked: this time the ordinary path (the connection is kept).
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                if held.end() {
                    self.idle().push(held);
                }
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
    pub inline: Arc<InlineReads>,
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
            inline: InlineReads::new(options.get_filename().to_path_buf()),
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
        self.inline.close();
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
