//! Erasure of a contact in one unit of work: an erasure record per contact point in the
//! ledger, every piece of the contact's personal data removed from every table, and a keyed
//! hash of each address on the suppression list. (What lives outside the database, kept
//! `.eml` files, the service removes after the commit, from the Message-IDs this returns.)

use super::backend::{on, ConnMut, Ts};
use super::writer::{ChangeMeta, Tx, Unit};
use super::Result;
use crate::domain::ledger::address_hash;
use crate::domain::{Channel, PointKind};
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// Whose contact an erasure erases.
#[derive(Debug, Clone)]
pub enum Whom {
    /// The contact that owns this email address.
    Address(String),
    /// The contact that owns this contact point (a confirmed or approved data request).
    Point(i64),
}

/// Erase a contact.
pub struct EraseContact {
    pub whom: Whom,
    /// Who erases and why (the reason is the erasure record's evidence, kept).
    pub meta: ChangeMeta,
    pub secret: Arc<[u8]>,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erasure {
    /// No contact has this address, and it was never erased.
    NotFound,
    /// Erased before: the record that did it.
    AlreadyErased { record: i64 },
    Erased {
        contact_id: i64,
        /// The erasure record of each contact point.
        records: Vec<i64>,
        /// Evidence rows removed (actions of this contact alone).
        evidence_removed: u64,
        /// The Message-IDs of every email queued for the contact (their kept files go too).
        message_ids: Vec<String>,
    },
}

/// Whether this address is on the suppression list: the erasure record that put it there.
pub async fn suppressed(
    tx: &mut Tx,
    secret: &[u8],
    kind: PointKind,
    address: &str,
) -> Result<Option<i64>> {
    let hash = address_hash(secret, kind, address);
    on!(tx.conn(), c => Ok(sqlx::query_scalar(
        "SELECT ledger_seq FROM suppressions WHERE address_hash = $1",
    )
    .bind(hash.to_vec())
    .fetch_optional(&mut *c)
    .await?))
}

async fn exec(conn: ConnMut<'_>, sql: &str, contact_id: i64) -> Result<u64> {
    Ok(on!(conn, c => sqlx::query(sql).bind(contact_id).execute(&mut *c).await?.rows_affected()))
}

/// The points of a contact: theirs, or every point of the contact.
const POINTS: &str = "SELECT id FROM contact_points WHERE contact_id = $1";

impl Unit for EraseContact {
    type Output = Erasure;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Erasure>> {
        Box::pin(async move {
            let owner = match &self.whom {
                Whom::Address(a) => {
                    super::contacts::point_by_address(tx, PointKind::Email, a).await?
                }
                Whom::Point(cp) => super::contacts::point_owner_tx(tx, *cp)
                    .await?
                    .filter(|o| !o.suppressed),
            };
            let Some(owner) = owner else {
                return Ok(match &self.whom {
                    Whom::Address(a) => {
                        match suppressed(tx, &self.secret, PointKind::Email, a).await? {
                            Some(record) => Erasure::AlreadyErased { record },
                            None => Erasure::NotFound,
                        }
                    }
                    Whom::Point(_) => Erasure::NotFound,
                });
            };
            let contact_id = owner.contact_id;
            let points: Vec<(i64, String, Option<String>)> = on!(tx.conn(), c => {
                use sqlx::Row as _;
                sqlx::query("SELECT id, kind, address FROM contact_points WHERE contact_id = $1 ORDER BY id")
                    .bind(contact_id)
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("id")?, r.try_get("kind")?, r.try_get("address")?)))
                    .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?
            });
            let now = tx.now_str();

            // Evidence of actions that touched this contact alone (an action that reached
            // others too, a staff member's bulk change, keeps the actor's evidence).
            let evidence_removed = exec(
                tx.conn(),
                &format!(
                    "DELETE FROM ledger_evidence WHERE change_id IN (
                         SELECT change_id FROM consent_ledger
                         WHERE contact_point_id IN ({POINTS}))
                     AND NOT EXISTS (
                         SELECT 1 FROM consent_ledger l
                         JOIN contact_points p ON p.id = l.contact_point_id
                         WHERE l.change_id = ledger_evidence.change_id AND p.contact_id <> $1)"
                ),
                contact_id,
            )
            .await?;
            let message_ids: Vec<String> = on!(tx.conn(), c => sqlx::query_scalar(
                &format!("SELECT message_id FROM outbox WHERE contact_point_id IN ({POINTS}) ORDER BY id"),
            )
            .bind(contact_id)
            .fetch_all(&mut *c)
            .await?);
            on!(tx.conn(), c => {
                sqlx::query(&format!(
                    "UPDATE outbox SET
                         status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
                         finished_at = COALESCE(finished_at, $2), last_error = NULL,
                         lease_until = NULL, lease_owner = NULL
                     WHERE contact_point_id IN ({POINTS})"
                ))
                .bind(contact_id)
                .bind(Ts(now.clone()))
                .execute(&mut *c)
                .await?;
                sqlx::query(&format!(
                    "UPDATE opt_in_requests SET closed_at = $2, outcome = 'withdrawn',
                         remind_at = NULL
                     WHERE closed_at IS NULL AND contact_point_id IN ({POINTS})"
                ))
                .bind(contact_id)
                .bind(Ts(now.clone()))
                .execute(&mut *c)
                .await?;
                sqlx::query(
                    "UPDATE contacts SET locale = NULL, name = NULL, suppressed_at = $2 WHERE id = $1",
                )
                    .bind(contact_id)
                    .bind(Ts(now.clone()))
                    .execute(&mut *c)
                    .await?;
            });
            for sql in [
                format!(
                    "DELETE FROM confirm_tokens WHERE request_id IN (
                         SELECT id FROM opt_in_requests WHERE contact_point_id IN ({POINTS}))"
                ),
                format!("DELETE FROM link_tokens WHERE contact_point_id IN ({POINTS})"),
                // Kept API outcomes of the contact's writes (for repeats of a call).
                "DELETE FROM api_idempotency WHERE contact_id = $1".to_owned(),
                // The name's and addresses' search terms.
                "DELETE FROM contact_terms WHERE contact_id = $1".to_owned(),
                format!("DELETE FROM consent_states WHERE contact_point_id IN ({POINTS})"),
                // Signed links carry the generation they were minted at: none works after.
                "UPDATE contact_points SET address = NULL, link_generation = link_generation + 1
                 WHERE contact_id = $1"
                    .to_owned(),
            ] {
                exec(tx.conn(), &sql, contact_id).await?;
            }
            super::webhooks::erase_contact(tx, contact_id).await?;
            super::rights::erase_contact(tx, contact_id).await?;

            let mut records = Vec::new();
            for (cp, kind, address) in points {
                let kind = PointKind::parse(&kind).unwrap_or(PointKind::Email);
                let channel = match kind {
                    PointKind::Email => Channel::Email,
                    PointKind::Phone => Channel::Sms,
                };
                let record = tx.erase_point(cp, channel, &self.meta);
                if let Some(address) = address {
                    // Kept import uploads: the address's cells emptied.
                    let (email, phone) = match kind {
                        PointKind::Email => (Some(address.as_str()), None),
                        PointKind::Phone => (None, Some(address.as_str())),
                    };
                    super::import::scrub_files(tx, email, phone).await?;
                    let hash = address_hash(&self.secret, kind, &address);
                    on!(tx.conn(), c => sqlx::query(
                        "INSERT INTO suppressions (address_hash, kind, ledger_seq, created_at)
                         VALUES ($1, $2, $3, $4) ON CONFLICT (address_hash) DO NOTHING",
                    )
                    .bind(hash.to_vec())
                    .bind(kind.as_str())
                    .bind(record.seq)
                    .bind(Ts(now.clone()))
                    .execute(&mut *c)
                    .await
                    .map(|_| ())?);
                }
                records.push(record.seq);
            }
            Ok(Erasure::Erased {
                contact_id,
                records,
                evidence_removed,
                message_ids,
            })
        })
    }
}

/// Whether this address is on the suppression list, read on the read connections (the API's
/// decisions): the erasure record that put it there.
pub async fn suppressed_address(
    read: &super::Reader,
    secret: &[u8],
    kind: PointKind,
    address: &str,
) -> Result<Option<i64>> {
    let hash = address_hash(secret, kind, address);
    super::backend::read!(read, c => Ok(sqlx::query_scalar(
        "SELECT ledger_seq FROM suppressions WHERE address_hash = $1",
    )
    .bind(hash.to_vec())
    .fetch_optional(&mut *c)
    .await?))
}

/// Which of these suppression-list hashes are on the list (a batch of a bulk decision).
pub async fn suppressed_among(
    read: &super::Reader,
    hashes: &[Vec<u8>],
) -> Result<std::collections::HashSet<Vec<u8>>> {
    if hashes.is_empty() {
        return Ok(Default::default());
    }
    let mut conn = read.acquire().await?;
    let out = suppressed_in(conn.conn(), hashes).await;
    conn.checked(out)
}

/// The same inside the writer's transaction (an import batch's unknown addresses at once).
pub async fn suppressed_among_tx(
    tx: &mut super::writer::Tx,
    hashes: &[Vec<u8>],
) -> Result<std::collections::HashSet<Vec<u8>>> {
    if hashes.is_empty() {
        return Ok(Default::default());
    }
    match tx.conn() {
        // One prepared lookup per hash on the writer's connection, as
        // `contacts::points_by_addresses` does for the batch's addresses.
        ConnMut::Sqlite(c) => {
            super::backend::raw_sqlite(c, hashes.len(), |db| {
                let mut q = db.prepare("SELECT 1 FROM suppressions WHERE address_hash = ?1")?;
                let mut out = std::collections::HashSet::new();
                for h in hashes {
                    if q.exists([&h[..]])? {
                        out.insert(h.clone());
                    }
                }
                Ok(out)
            })
            .await
        }
        conn => suppressed_in(conn, hashes).await,
    }
}

async fn suppressed_in(
    conn: super::backend::ConnMut<'_>,
    hashes: &[Vec<u8>],
) -> Result<std::collections::HashSet<Vec<u8>>> {
    // Anonymous placeholders on SQLite (see `contacts::addressed_many`).
    let sqlite = matches!(conn, super::backend::ConnMut::Sqlite(_));
    let sql = format!(
        "SELECT address_hash FROM suppressions WHERE address_hash IN ({})",
        (1..=hashes.len())
            .map(|i| if sqlite {
                "?".to_owned()
            } else {
                format!("${i}")
            })
            .collect::<Vec<_>>()
            .join(",")
    );
    on!(conn, c => async {
        let mut q = sqlx::query_scalar::<_, Vec<u8>>(&sql);
        for h in hashes {
            q = q.bind(h.clone());
        }
        Ok(q.persistent(sqlite).fetch_all(&mut *c).await?.into_iter().collect())
    }
    .await)
}
