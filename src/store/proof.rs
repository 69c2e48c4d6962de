//! The deployment's signing keys (their public halves: the private ones are derived from the
//! secret, `domain::proof::signing_key`) and the signed checkpoints of the ledger head.

use super::backend::{begin_write, finish, on, read, Conn, ConnMut, DbRow, Ts};
use super::writer::{Tx, Unit};
use super::{Reader, Result, StoreError};
use crate::domain::ledger::Hash;
use crate::domain::proof::{hex, signing_key, Checkpoint, KeyId, PublicKey, CHECKPOINT_TYPE};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// The key new signatures use: the newest that is not retired.
pub(super) async fn current_key(conn: ConnMut<'_>) -> Result<Option<(KeyId, Vec<u8>)>> {
    on!(conn, c => {
        let row = sqlx::query(
            "SELECT id, public_key FROM signing_keys WHERE retired_at IS NULL
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .fetch_optional(&mut *c)
        .await?;
        row.map(|r| -> Result<(KeyId, Vec<u8>)> {
            let id: String = r.col("id")?;
            Ok((
                KeyId::parse(&id).ok_or_else(|| StoreError::Corrupt(format!("key id {id:?}")))?,
                r.col("public_key")?,
            ))
        })
        .transpose()
    })
}

/// Starts a new signing key: recorded as current, the one before it retired. Under the
/// ledger lock, so instances starting together agree on one key.
async fn start_key(conn: ConnMut<'_>, secret: &[u8], random: [u8; 4]) -> Result<KeyId> {
    let now = super::now();
    let id = KeyId::new("sig", &now[..10], random);
    let public = signing_key(secret, &id).verifying_key();
    on!(conn, c => {
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(Ts(now.clone()))
            .execute(&mut *c)
            .await?;
        sqlx::query("INSERT INTO signing_keys (id, public_key, created_at) VALUES ($1, $2, $3)")
            .bind(id.as_str())
            .bind(public.as_bytes().to_vec())
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
    });
    Ok(id)
}

/// What starting the server found about its signing key.
pub enum KeyCheck {
    /// The current key, derived from this secret.
    Ready(KeyId),
    /// The recorded public key of the current key is not the one this secret derives.
    Mismatch(KeyId),
}

/// The current signing key, started on the first run. Its recorded public key must be the
/// one this secret derives for its id (else this instance could not sign).
pub async fn ensure_signing_key(
    conn: &mut Conn,
    secret: &[u8],
    random: [u8; 4],
) -> Result<KeyCheck> {
    begin_write(conn).await?;
    let work = async {
        let (id, public) = match current_key(conn.as_mut()).await? {
            Some(k) => k,
            None => {
                let id = start_key(conn.as_mut(), secret, random).await?;
                return Ok(KeyCheck::Ready(id));
            }
        };
        if signing_key(secret, &id).verifying_key().as_bytes()[..] == public[..] {
            Ok(KeyCheck::Ready(id))
        } else {
            Ok(KeyCheck::Mismatch(id))
        }
    }
    .await;
    finish(conn, work).await
}

/// `prefcenter keys rotate`: a new signing key from now on; earlier ones stay published.
pub async fn rotate_signing_key(conn: &mut Conn, secret: &[u8], random: [u8; 4]) -> Result<KeyId> {
    begin_write(conn).await?;
    let work = start_key(conn.as_mut(), secret, random).await;
    finish(conn, work).await
}

/// Every signing key's id, oldest first, with whether it is the current one (signed links
/// are minted with the current one's link key and checked with any).
pub async fn key_ids(read: &Reader) -> Result<Vec<(KeyId, bool)>> {
    read!(read, c => {
        let rows = sqlx::query(
            "SELECT id, retired_at IS NULL AS current FROM signing_keys ORDER BY created_at, id",
        )
        .fetch_all(&mut *c)
        .await?;
        rows.iter()
            .map(|r| -> Result<(KeyId, bool)> {
                let id: String = r.col("id")?;
                Ok((
                    KeyId::parse(&id).ok_or_else(|| StoreError::Corrupt(format!("key id {id:?}")))?,
                    r.col("current")?,
                ))
            })
            .collect()
    })
}

/// Every signing key ever started, oldest first (what the public URL serves).
pub async fn public_keys_in(conn: ConnMut<'_>) -> Result<Vec<PublicKey>> {
    on!(conn, c => {
        let rows = sqlx::query("SELECT id, public_key, created_at FROM signing_keys ORDER BY created_at, id")
            .fetch_all(&mut *c)
            .await?;
        rows.iter()
            .map(|r| -> Result<PublicKey> {
                let id: String = r.col("id")?;
                let bytes: Vec<u8> = r.col("public_key")?;
                Ok(PublicKey {
                    id: KeyId::parse(&id).ok_or_else(|| StoreError::Corrupt(format!("key id {id:?}")))?,
                    algorithm: "Ed25519".into(),
                    public_key: URL_SAFE_NO_PAD.encode(bytes),
                    created_at: r.col::<Ts>("created_at")?.0,
                })
            })
            .collect()
    })
}

pub async fn public_keys(read: &Reader) -> Result<Vec<PublicKey>> {
    read!(read, c => public_keys_in(ConnMut::from(c)).await)
}

/// The key new signatures use (receipts are signed on the read path, outside the writer).
pub async fn signing_key_id(read: &Reader) -> Result<Option<KeyId>> {
    read!(read, c => Ok(current_key(ConnMut::from(c)).await?.map(|(id, _)| id)))
}

fn checkpoint_of(r: &impl DbRow) -> Result<Checkpoint> {
    let id: String = r.col("key_id")?;
    let hash: Vec<u8> = r.col("hash")?;
    let signature: Vec<u8> = r.col("signature")?;
    Ok(Checkpoint {
        kind: CHECKPOINT_TYPE.into(),
        version: 1,
        seq: r.col("seq")?,
        hash: hex(&hash),
        signed_at: r.col::<Ts>("signed_at")?.0,
        key_id: KeyId::parse(&id).ok_or_else(|| StoreError::Corrupt(format!("key id {id:?}")))?,
        signature: URL_SAFE_NO_PAD.encode(signature),
    })
}

const SELECT_CHECKPOINTS: &str =
    "SELECT id, seq, hash, signed_at, key_id, signature FROM ledger_checkpoints";

/// Every stored checkpoint, in the order they were signed.
pub async fn checkpoints_in(conn: ConnMut<'_>) -> Result<Vec<Checkpoint>> {
    on!(conn, c => {
        let rows = sqlx::query(&format!("{SELECT_CHECKPOINTS} ORDER BY id"))
            .fetch_all(&mut *c)
            .await?;
        rows.iter().map(checkpoint_of).collect()
    })
}

/// The newest stored checkpoint.
pub async fn latest_checkpoint(read: &Reader) -> Result<Option<Checkpoint>> {
    read!(read, c => {
        let row = sqlx::query(&format!("{SELECT_CHECKPOINTS} ORDER BY id DESC LIMIT 1"))
            .fetch_optional(&mut *c)
            .await?;
        row.as_ref().map(checkpoint_of).transpose()
    })
}

/// Signs the ledger head as this transaction sees it (the records of earlier units in the
/// batch included: they commit together) with the current key, and stores the checkpoint.
/// Nothing new since the last checkpoint: nothing signed (`None`), unless `always`.
pub struct SignCheckpoint {
    pub secret: Arc<[u8]>,
    pub always: bool,
}

impl Unit for SignCheckpoint {
    type Output = Option<Checkpoint>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Option<Checkpoint>>> {
        Box::pin(async move {
            let (seq, hash): (i64, Hash) = tx.head();
            let now = tx.now_str();
            let Some((key_id, _)) = current_key(tx.conn()).await? else {
                return Err(StoreError::Missing("no signing key is recorded".into()));
            };
            tx.use_evidence_key(key_id.as_str());
            let last: Option<i64> = on!(tx.conn(), c => sqlx::query_scalar(
                "SELECT seq FROM ledger_checkpoints ORDER BY id DESC LIMIT 1",
            )
            .fetch_optional(&mut *c)
            .await?);
            if !self.always && last == Some(seq) {
                return Ok(None);
            }
            let cp = Checkpoint::sign(
                &signing_key(&self.secret, &key_id),
                &key_id,
                seq,
                &hash,
                &now,
            );
            let signature = URL_SAFE_NO_PAD
                .decode(&cp.signature)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            on!(tx.conn(), c => {
                sqlx::query(
                    "INSERT INTO ledger_checkpoints (seq, hash, signed_at, key_id, signature)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(seq)
                .bind(hash.to_vec())
                .bind(Ts(now))
                .bind(key_id.as_str())
                .bind(signature)
                .execute(&mut *c)
                .await?;
            });
            Ok(Some(cp))
        })
    }
}
