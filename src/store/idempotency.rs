//! Idempotency keys of API writes: the first outcome under a key, answered again to repeats.
//! Read and written inside the write's own transaction, so a repeat racing the first call
//! waits for it (the writer is one) and finds its outcome.

use super::backend::{on, DbRow, Ts};
use super::writer::Tx;
use super::Result;

/// How long an outcome is kept for repeats.
pub const KEEP: time::Duration = time::Duration::hours(24);

/// What a repeat finds under its key.
pub enum Earlier {
    /// The same request: its outcome (JSON).
    Same(String),
    /// Another request used this key.
    Other,
}

/// The outcome kept under (`api_key_id`, `key`), if any, compared with this request's hash.
pub async fn earlier(
    tx: &mut Tx,
    api_key_id: i64,
    key: &str,
    request_hash: &[u8; 32],
) -> Result<Option<Earlier>> {
    let since = super::format_time(tx.now() - KEEP);
    on!(tx.conn(), c => {
        let row = sqlx::query(
            "SELECT request_hash, outcome FROM api_idempotency
             WHERE api_key_id = $1 AND idem_key = $2 AND created_at > $3",
        )
        .bind(api_key_id)
        .bind(key)
        .bind(Ts(since))
        .fetch_optional(&mut *c)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let hash: Vec<u8> = r.col("request_hash")?;
        Ok(Some(if hash[..] == request_hash[..] {
            Earlier::Same(r.col("outcome")?)
        } else {
            Earlier::Other
        }))
    })
}

/// Keeps an outcome under its key (replacing an expired one), and drops expired ones.
pub async fn keep(
    tx: &mut Tx,
    api_key_id: i64,
    key: &str,
    request_hash: &[u8; 32],
    outcome: &str,
    contact_id: Option<i64>,
) -> Result<()> {
    let now = tx.now();
    let since = Ts(super::format_time(now - KEEP));
    on!(tx.conn(), c => {
        sqlx::query("DELETE FROM api_idempotency WHERE created_at <= $1")
            .bind(since)
            .execute(&mut *c)
            .await?;
        sqlx::query(
            "INSERT INTO api_idempotency
                 (api_key_id, idem_key, request_hash, outcome, contact_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(api_key_id)
        .bind(key)
        .bind(&request_hash[..])
        .bind(outcome)
        .bind(contact_id)
        .bind(Ts(super::format_time(now)))
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}
