//! Counts per key and time window, shared by every instance (the sign-up limit, the console's
//! sign-in throttle). Keys are keyed hashes (never an address in the clear), each use with its
//! own label; windows are kept an hour, whatever their length, then deleted.

use super::backend::{on, read, Ts};
use super::writer::Tx;
use super::{format_time, Reader, Result};

/// How long a window's count is kept after it starts.
const KEEP: time::Duration = time::Duration::hours(1);

/// Counts one more hit of `key` in the window starting at `window` and returns the window's
/// count so far; deletes the windows that started more than an hour before it.
pub async fn hit(tx: &mut Tx, window: time::OffsetDateTime, key: &[u8]) -> Result<i64> {
    let forget_before = format_time(window - KEEP);
    on!(tx.conn(), c => {
        sqlx::query("DELETE FROM rate_windows WHERE window_start < $1")
            .bind(Ts::new(forget_before))
            .execute(&mut *c)
            .await?;
        Ok(sqlx::query_scalar(
            "INSERT INTO rate_windows (window_start, key, hits) VALUES ($1, $2, 1)
             ON CONFLICT (window_start, key) DO UPDATE SET hits = rate_windows.hits + 1
             RETURNING hits",
        )
        .bind(Ts::new(format_time(window)))
        .bind(key)
        .fetch_one(&mut *c)
        .await?)
    })
}

/// The count of `key` in the window starting at `window` (0 when none).
pub async fn count(read: &Reader, window: time::OffsetDateTime, key: &[u8]) -> Result<i64> {
    let start = format_time(window);
    read!(read, c => Ok(sqlx::query_scalar(
        "SELECT hits FROM rate_windows WHERE window_start = $1 AND key = $2",
    )
    .bind(Ts::new(start))
    .bind(key)
    .fetch_optional(&mut *c)
    .await?
    .unwrap_or(0)))
}

/// The start of the window of `seconds` that `t` falls in (windows start at multiples of it).
pub fn window_start(t: time::OffsetDateTime, seconds: i64) -> time::OffsetDateTime {
    let unix = t.unix_timestamp();
    time::OffsetDateTime::from_unix_timestamp(unix - unix.rem_euclid(seconds)).unwrap_or(t)
}
