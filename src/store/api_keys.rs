//! API keys: made and revoked through the writer (each with its audit entry), looked up on the
//! read connections on every call.

use super::audit::{self, Actor, Entry};
use super::backend::{on, read, DbRow, Ts};
use super::writer::{Tx, Unit};
use super::{Reader, Result};
use crate::domain::apikey::Scopes;
use futures_util::future::BoxFuture;

/// A key as stored (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: i64,
    /// The visible id, `pck_<prefix>_…`.
    pub prefix: String,
    pub key_hash: Vec<u8>,
    pub name: String,
    pub scopes: Scopes,
    /// The one profile the key may use, if restricted.
    pub profile_id: Option<i64>,
    pub created_at: String,
    pub created_by: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl ApiKey {
    /// The key's visible id, `pck_<prefix>`, as the console lists it and records name it.
    pub fn visible_id(&self) -> String {
        format!("pck_{}", self.prefix)
    }
}

const SELECT_KEY: &str = "SELECT id, prefix, key_hash, name, scopes, profile_id, created_at,
    created_by, revoked_at, last_used_at FROM api_keys";

fn api_key(r: &impl DbRow) -> Result<ApiKey> {
    let stored: String = r.col("scopes")?;
    Ok(ApiKey {
        id: r.col("id")?,
        prefix: r.col("prefix")?,
        key_hash: r.col("key_hash")?,
        name: r.col("name")?,
        scopes: Scopes::parse(&stored),
        profile_id: r.col("profile_id")?,
        created_at: r.col::<Ts>("created_at")?.into_string(),
        created_by: r.col("created_by")?,
        revoked_at: r.col::<Option<Ts>>("revoked_at")?.map(Ts::into_string),
        last_used_at: r.col::<Option<Ts>>("last_used_at")?.map(Ts::into_string),
    })
}

/// The key with this visible id (revoked ones too: the caller says why it is refused).
pub async fn by_prefix(read: &Reader, prefix: &str) -> Result<Option<ApiKey>> {
    let sql = format!("{SELECT_KEY} WHERE prefix = $1");
    read!(read, c => sqlx::query(&sql)
        .bind(prefix)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(api_key)
        .transpose())
}

/// Every key, newest first.
pub async fn all(read: &Reader) -> Result<Vec<ApiKey>> {
    let sql = format!("{SELECT_KEY} ORDER BY id DESC");
    read!(read, c => sqlx::query(&sql)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(api_key)
        .collect())
}

/// Makes a key. `None` when its visible id is taken (the caller draws another).
pub struct CreateKey {
    pub prefix: String,
    pub key_hash: [u8; 32],
    pub name: String,
    pub scopes: Scopes,
    pub profile_id: Option<i64>,
    pub actor: Actor,
}

impl Unit for CreateKey {
    type Output = Option<i64>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Option<i64>>> {
        Box::pin(async move {
            let now = tx.now_str();
            let id: Option<i64> = on!(tx.conn(), c => sqlx::query_scalar(
                "INSERT INTO api_keys (prefix, key_hash, name, scopes, profile_id, created_at,
                     created_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (prefix) DO NOTHING RETURNING id",
            )
            .bind(&self.prefix)
            .bind(self.key_hash.to_vec())
            .bind(&self.name)
            .bind(self.scopes.to_text())
            .bind(self.profile_id)
            .bind(Ts::new(&*now))
            .bind(&self.actor.name)
            .fetch_optional(&mut *c)
            .await?);
            let Some(id) = id else {
                return Ok(None);
            };
            let entry = Entry {
                kind: "api_key.create",
                subject: format!("api key {id} pck_{}", self.prefix),
                before: None,
                after: Some(serde_json::json!({
                    "name": self.name,
                    "scopes": self.scopes.to_text(),
                    "profile_id": self.profile_id,
                })),
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(Some(id))
        })
    }
}

/// Revokes a key at once (every later call with it is refused). `false`: no such key, or
/// revoked already.
pub struct RevokeKey {
    pub id: i64,
    pub actor: Actor,
}

impl Unit for RevokeKey {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = tx.now_str();
            let prefix: Option<String> = on!(tx.conn(), c => sqlx::query_scalar(
                "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL
                 RETURNING prefix",
            )
            .bind(Ts::new(&*now))
            .bind(self.id)
            .fetch_optional(&mut *c)
            .await?);
            let Some(prefix) = prefix else {
                return Ok(false);
            };
            let entry = Entry {
                kind: "api_key.revoke",
                subject: format!("api key {} pck_{prefix}", self.id),
                before: None,
                after: None,
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(true)
        })
    }
}

/// Notes that a key was used (the API writes this at most once a minute per key).
pub struct TouchKey {
    pub id: i64,
}

impl Unit for TouchKey {
    type Output = ();
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let now = tx.now_str();
            on!(tx.conn(), c => {
                sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .bind(Ts::new(&*now))
                    .bind(self.id)
                    .execute(&mut *c)
                    .await?;
            });
            Ok(())
        })
    }
}
