//! Counts per client and time window, shared by every instance (the sign-up limit).

use super::backend::{on, Ts};
use super::writer::Tx;
use super::Result;

/// Counts one more hit of `key` in the window starting at `window` (stored format) and
/// returns the window's count so far; deletes the windows that started before `forget_before`.
pub async fn hit(tx: &mut Tx, window: &str, key: &[u8], forget_before: &str) -> Result<i64> {
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
        .bind(Ts::new(window))
        .bind(key)
        .fetch_one(&mut *c)
        .await?)
    })
}
