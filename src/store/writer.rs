//! The single writer. Every consent change goes through here: a request hands its change set
//! to the writer's queue and waits. The writer takes everything queued, applies it in one
//! `BEGIN IMMEDIATE` transaction (states, ledger records with their hash chain, evidence),
//! commits once (one fsync for many changes: group commit), then answers every waiting
//! request. The ledger's order is total, "database is locked" cannot happen between our own
//! writes, and an answer is sent only after the commit is durable.

use super::contacts::states_of_points;
use super::ledger::{append, head, NewRecord};
use super::{Result, StoreError};
use crate::domain::ledger::{
    effective_changes, evidence_digest, record_hash, Desired, Evidence, Hash, Record,
};
use crate::domain::{ActorKind, Channel, Source, StateEntry, Subject};
use sqlx::{Executor, SqliteConnection};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most change sets one transaction takes.
const MAX_BATCH: usize = 512;

/// Who, how and why: shared by every record of one action.
#[derive(Debug, Clone)]
pub struct ChangeMeta {
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    pub source: Source,
    pub change_id: String,
    pub form_version: Option<i64>,
    pub language: Option<String>,
    pub request_id: Option<String>,
    pub evidence: Evidence,
}

/// One action: the states it wants, per contact point.
#[derive(Debug, Clone)]
pub struct ChangeSet {
    pub items: Vec<(i64, Desired)>,
    pub meta: ChangeMeta,
}

/// What an action really changed (possibly nothing: a repeat is a no-op).
#[derive(Debug, Clone)]
pub struct Applied {
    pub change_id: String,
    pub records: Vec<Record>,
}

struct Job {
    set: ChangeSet,
    reply: oneshot::Sender<Result<Applied>>,
}

/// A handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer on its own connection. It stops when every handle is dropped, after
    /// finishing what is queued.
    pub fn spawn(conn: SqliteConnection, key: Arc<[u8]>) -> (Writer, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(8192);
        let task = tokio::spawn(run(conn, key, rx));
        (Writer { tx }, task)
    }

    /// Applies one change set; returns once it is committed.
    pub async fn apply(&self, set: ChangeSet) -> Result<Applied> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { set, reply })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }
}

struct Chain {
    seq: i64,
    head: Hash,
}

async fn run(mut conn: SqliteConnection, key: Arc<[u8]>, mut rx: mpsc::Receiver<Job>) {
    let mut chain = match head(&mut conn).await {
        Ok((seq, head)) => Chain { seq, head },
        Err(e) => {
            tracing::error!(error = %e, "writer cannot read the ledger head; refusing writes");
            while let Some(job) = rx.recv().await {
                let _ = job
                    .reply
                    .send(Err(StoreError::Corrupt("ledger head unreadable".into())));
            }
            return;
        }
    };
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let sets: Vec<&ChangeSet> = jobs.iter().map(|j| &j.set).collect();
        match commit(&mut conn, &key, &mut chain, &sets).await {
            Ok(results) => {
                for (job, applied) in jobs.drain(..).zip(results) {
                    let _ = job.reply.send(Ok(applied));
                }
            }
            Err(e) if jobs.len() > 1 => {
                // One bad change set must not sink the others: retry each on its own.
                tracing::warn!(error = %e, batch = jobs.len(), "batch failed; retrying one by one");
                for job in jobs.drain(..) {
                    let r = commit(&mut conn, &key, &mut chain, &[&job.set])
                        .await
                        .map(|mut v| v.remove(0));
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(StoreError::Corrupt(e.to_string())));
                }
            }
        }
    }
    tracing::debug!("writer stopped");
}

/// Applies change sets in one transaction. On any error nothing is written and the in-memory
/// chain head is left as it was.
async fn commit(
    conn: &mut SqliteConnection,
    key: &[u8],
    chain: &mut Chain,
    sets: &[&ChangeSet],
) -> Result<Vec<Applied>> {
    conn.execute("BEGIN IMMEDIATE").await?;
    match build_and_append(conn, key, chain, sets).await {
        Ok((results, next)) => match conn.execute("COMMIT").await {
            Ok(_) => {
                *chain = next;
                Ok(results)
            }
            Err(e) => {
                let _ = conn.execute("ROLLBACK").await;
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = conn.execute("ROLLBACK").await;
            Err(e)
        }
    }
}

async fn build_and_append(
    conn: &mut SqliteConnection,
    key: &[u8],
    chain: &Chain,
    sets: &[&ChangeSet],
) -> Result<(Vec<Applied>, Chain)> {
    let mut points: Vec<i64> = sets
        .iter()
        .flat_map(|s| s.items.iter().map(|(cp, _)| *cp))
        .collect();
    points.sort_unstable();
    points.dedup();
    let mut current: HashMap<(i64, Subject, Channel), StateEntry> = HashMap::new();
    for chunk in points.chunks(900) {
        for row in states_of_points(conn, chunk).await? {
            current.insert((row.contact_point_id, row.subject, row.channel), row.entry);
        }
    }

    let mut seq = chain.seq;
    let mut prev = chain.head;
    let mut new_records: Vec<NewRecord> = Vec::new();
    let mut results = Vec::with_capacity(sets.len());
    for set in sets {
        let now = super::now();
        let digest = evidence_digest(key, &set.meta.evidence);
        let mut applied = Vec::new();
        // Group by contact point, keeping the order the caller gave.
        let mut order: Vec<i64> = Vec::new();
        for (cp, _) in &set.items {
            if !order.contains(cp) {
                order.push(*cp);
            }
        }
        for cp in order {
            let desired: Vec<Desired> = set
                .items
                .iter()
                .filter(|(p, _)| *p == cp)
                .map(|(_, d)| *d)
                .collect();
            let changes = effective_changes(|s, c| current.get(&(cp, s, c)).copied(), &desired);
            for (d, old) in changes {
                seq += 1;
                let m = &set.meta;
                let record = Record {
                    seq,
                    occurred_at: now.clone(),
                    contact_point_id: cp,
                    subject: d.subject,
                    channel: d.channel,
                    old_value: old,
                    new_value: d.value,
                    custodian_confirmed: d.custodian_confirmed,
                    actor_kind: m.actor_kind,
                    actor_id: m.actor_id.clone(),
                    source: m.source,
                    change_id: m.change_id.clone(),
                    form_version: m.form_version,
                    language: m.language.clone(),
                    request_id: m.request_id.clone(),
                };
                let hash = record_hash(&prev, &record, &digest);
                current.insert(
                    (cp, d.subject, d.channel),
                    StateEntry {
                        value: d.value,
                        custodian_confirmed: d.custodian_confirmed,
                        record: seq,
                    },
                );
                applied.push(record.clone());
                new_records.push(NewRecord {
                    record,
                    evidence: m.evidence.clone(),
                    evidence_digest: digest,
                    prev_hash: prev,
                    hash,
                });
                prev = hash;
            }
        }
        results.push(Applied {
            change_id: set.meta.change_id.clone(),
            records: applied,
        });
    }
    if !new_records.is_empty() {
        append(conn, &new_records).await?;
    }
    Ok((results, Chain { seq, head: prev }))
}
