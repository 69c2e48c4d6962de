//! The read-only connections every read goes through.
//!
//! A fixed set of connections, handed out one per query and taken back as they are. sqlx's
//! `Pool` pings each connection it takes back, to flush what a cancelled query may have left;
//! for SQLite that is a second round trip to the connection's thread for every query (about a
//! tenth of a page view's cost under load). An SQLite connection has nothing to flush: its
//! thread finishes or drops a statement whose caller went away before it runs the next
//! command. A connection whose query failed in a way that may mean it is broken (I/O, its
//! thread gone) is dropped, and the next caller opens a new one in its place.

use super::{Result, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions as _, Connection as _};
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use tokio::sync::{Semaphore, SemaphorePermit};

pub struct Reader {
    /// Connections not in use. Holding a permit entitles a caller to one slot: an idle
    /// connection, or a new one if the slot's connection was dropped.
    idle: Mutex<Vec<SqliteConnection>>,
    permits: Semaphore,
    size: u32,
    options: SqliteConnectOptions,
}

/// One connection, for one or a few queries; back to the reader when dropped.
pub struct ReadConn<'a> {
    conn: Option<SqliteConnection>,
    reader: &'a Reader,
    broken: bool,
    _permit: SemaphorePermit<'a>,
}

impl Reader {
    /// Opens `size` read-only connections with `options` (the first at once, so that a bad
    /// file is reported at start-up; the others when first needed).
    pub async fn open(options: SqliteConnectOptions, size: u32) -> Result<Reader> {
        let options = options.read_only(true);
        let first = options.connect().await?;
        let size = size.max(1);
        Ok(Reader {
            idle: Mutex::new(vec![first]),
            permits: Semaphore::new(size as usize),
            size,
            options,
        })
    }

    /// A connection, waiting while all are in use.
    pub async fn acquire(&self) -> Result<ReadConn<'_>> {
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
        Ok(ReadConn {
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

    /// Closes every connection, waiting for those in use to come back. Later `acquire`s fail.
    pub async fn close(&self) {
        // Taking every permit waits for the connections in use.
        let _ = self.permits.acquire_many(self.size).await;
        self.permits.close();
        let conns: Vec<SqliteConnection> = std::mem::take(&mut *self.idle());
        for c in conns {
            let _ = c.close().await;
        }
    }
}

impl ReadConn<'_> {
    /// Converts a query's error, and drops this connection when the error may mean it is
    /// broken. Use as `.map_err(|e| c.failed(e))`.
    pub fn failed(&mut self, e: sqlx::Error) -> StoreError {
        if matches!(e, sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed) {
            self.broken = true;
        }
        e.into()
    }
}

impl Deref for ReadConn<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.conn.as_ref().expect("connection present until drop")
    }
}

impl DerefMut for ReadConn<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("connection present until drop")
    }
}

impl Drop for ReadConn<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if !self.broken && !std::thread::panicking() {
                self.reader.idle().push(c);
            }
        }
    }
}
