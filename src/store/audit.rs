//! The console's audit log: written by the units that change what the console manages, in the
//! same transaction as the change; read newest first, filtered, and in pages for export.

use super::backend::{on, read, DbRow, Ts};
use super::writer::Tx;
use super::{Reader, Result};

/// Who made a change: a console user (named by their address then), the setup page, or the
/// command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
}

/// One change, as the log keeps it (before and after as JSON).
pub struct Entry {
    pub kind: &'static str,
    pub subject: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Appends `entry` by `actor`, at the transaction's time.
pub async fn record(tx: &mut Tx, actor: &Actor, entry: Entry) -> Result<()> {
    let now = tx.now_str();
    let json = |v: Option<serde_json::Value>| v.map(|v| v.to_string());
    on!(tx.conn(), c => {
        sqlx::query(
            "INSERT INTO console_audit (at, actor_user_id, actor, kind, subject, before, after)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Ts::new(now))
        .bind(actor.user_id)
        .bind(&actor.name)
        .bind(entry.kind)
        .bind(&entry.subject)
        .bind(json(entry.before))
        .bind(json(entry.after))
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: i64,
    /// UTC, RFC 3339.
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub subject: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Which lines: by actor, by kind, from and to a moment (RFC 3339 bounds, `to` exclusive),
/// and older than a line (the next page).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub kind: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before_id: Option<i64>,
}

/// Up to `limit` lines, newest first.
pub async fn list(read: &Reader, f: &Filter, limit: i64) -> Result<Vec<Line>> {
    // Every condition is always there and switched off by a NULL parameter: one statement
    // text for every filter.
    let sql = "SELECT id, at, actor, kind, subject, before, after FROM console_audit
         WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR kind = $2)
           AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at < $4)
           AND ($5 IS NULL OR id < $5)
         ORDER BY id DESC LIMIT $6";
    read!(read, c => sqlx::query(sql)
        .bind(&f.actor)
        .bind(&f.kind)
        .bind(f.from.clone().map(Ts::new))
        .bind(f.to.clone().map(Ts::new))
        .bind(f.before_id)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            Ok(Line {
                id: r.col("id")?,
                at: r.col::<Ts>("at")?.0,
                actor: r.col("actor")?,
                kind: r.col("kind")?,
                subject: r.col("subject")?,
                before: r.col("before")?,
                after: r.col("after")?,
            })
        })
        .collect())
}

/// The actors and kinds the log holds (the filter's choices).
pub async fn choices(read: &Reader) -> Result<(Vec<String>, Vec<String>)> {
    read!(read, c => {
        let actors = sqlx::query_scalar("SELECT DISTINCT actor FROM console_audit ORDER BY actor")
            .fetch_all(&mut *c)
            .await?;
        let kinds = sqlx::query_scalar("SELECT DISTINCT kind FROM console_audit ORDER BY kind")
            .fetch_all(&mut *c)
            .await?;
        Ok((actors, kinds))
    })
}
