//! The single writer. Every write at run time goes through here: a request hands a *unit of
//! work* to the writer's queue and waits. The writer takes everything queued, applies it in one
//! `BEGIN IMMEDIATE` transaction (consent states, ledger records with their hash chain,
//! evidence, contacts, contact points, tokens, opt-in requests, outbox rows), commits once (one
//! fsync for many units: group commit), then answers every waiting request. The ledger's order
//! is total, "database is locked" cannot happen between our own writes, and an answer is sent
//! only after the commit is durable.
//!
//! - A unit is code (`Unit::apply`) run against a [`Tx`], so one unit can create a contact,
//!   change consent and queue an email together. A unit that fails makes the batch roll back;
//!   the others are then retried one by one, so one bad unit never sinks its neighbours, and
//!   its caller gets the unit's own error (transient or permanent, see `StoreError`).
//! - The chain head is read inside every transaction, never trusted from memory: a failed or
//!   uncertain COMMIT, or another process writing beside the server, cannot fork the chain.
//! - Interactive units (a page, a one-click) go first; bulk units (imports, the benchmark's
//!   100,000-row unit) are split into bounded pieces, each a transaction of its own: a piece
//!   is taken when no interactive unit waits, or after a batch of interactive ones (so they
//!   alternate under load, and an interactive unit waits behind one piece at most).
//! - A writer that dies (a panic, a lost connection) is restarted with a new connection by its
//!   supervisor; the units in flight get a transient error.

use super::backend::{begin_write, execute, Conn, ConnMut};
use super::contacts::states_of_points;
use super::ledger::{append, head, NewRecord};
use super::{Clock, Result, StoreError, WriteOptions};
use crate::domain::ledger::{
    effective_changes, record_hash, Desired, Digester, Evidence, Hash, Record,
};
use crate::domain::{ActorKind, Channel, Source, StateEntry, Subject};
use futures_util::future::BoxFuture;
use futures_util::FutureExt as _;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Notify};

/// The most units one transaction takes.
const MAX_BATCH: usize = 512;
/// The most state changes one piece of bulk work carries (what an interactive unit may wait
/// behind).
pub const BULK_PIECE: usize = 250;
/// How long a caller waits for its commit before it is told to try again.
const APPLY_TIMEOUT: Duration = Duration::from_secs(30);

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
    /// The Message-ID of the confirmation email (double opt-in confirmations only).
    pub confirmation: Option<String>,
    pub evidence: Evidence,
}

/// A consent-only unit: the states one action wants, per contact point.
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

/// A unit of work: everything one request writes, applied atomically. `apply` may run more than
/// once (when its batch is retried unit by unit), each time in a fresh transaction, so it must
/// compute everything from what it reads through `tx`.
pub trait Unit: Send + Sync + 'static {
    type Output: Send + 'static;
    /// Contact points whose consent states the unit reads or changes: loaded for the whole
    /// batch in one query. Points found later are loaded when first touched.
    fn points(&self) -> Vec<i64> {
        Vec::new()
    }
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Self::Output>>;
}

impl Unit for ChangeSet {
    type Output = Applied;
    fn points(&self) -> Vec<i64> {
        self.items.iter().map(|(cp, _)| *cp).collect()
    }
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Applied>> {
        Box::pin(async move {
            let records = tx.consent(&self.items, &self.meta).await?;
            Ok(Applied {
                change_id: self.meta.change_id.clone(),
                records,
            })
        })
    }
}

/// A unit that writes nothing: proves the writer can begin and commit a write transaction.
struct Ping;

impl Unit for Ping {
    type Output = ();
    fn apply<'a>(&'a self, _tx: &'a mut Tx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// The transaction a batch of units runs in. Consent changes are computed against the states
/// read in this transaction and appended (with their hash chain) just before COMMIT.
pub struct Tx {
    conn: Conn,
    digester: Digester,
    /// The salt of each change's evidence in this batch (a change written by several calls
    /// shares one evidence row, so one salt).
    salts: HashMap<String, [u8; 16]>,
    /// Points erased in this batch: nothing later in it records consent of them.
    erased: HashSet<i64>,
    now: time::OffsetDateTime,
    seq: i64,
    head: Hash,
    states: HashMap<(i64, Subject, Channel), StateEntry>,
    loaded: HashSet<i64>,
    records: Vec<NewRecord>,
    wake_mail: bool,
}

impl Tx {
    /// The connection, for the store's own functions (services never see SQL).
    pub(super) fn conn(&mut self) -> ConnMut<'_> {
        self.conn.as_mut()
    }

    /// The ledger head as this transaction sees it: the last record's sequence number and
    /// hash (records of earlier units in the batch included).
    pub(super) fn head(&self) -> (i64, Hash) {
        (self.seq, self.head)
    }

    /// The batch's time: every record and row of one batch carries the same instant.
    pub fn now(&self) -> time::OffsetDateTime {
        self.now
    }

    pub fn now_str(&self) -> String {
        super::format_time(self.now)
    }

    /// Evidence digests are made with this key from now on (the checkpoint unit passes on a
    /// rotation: every instance takes it up within one checkpoint interval).
    pub(super) fn use_evidence_key(&mut self, key_id: &str) {
        self.digester.use_key(key_id);
    }

    /// Asks the mail worker to look at the outbox once this transaction has committed.
    pub fn wake_mail(&mut self) {
        self.wake_mail = true;
    }

    async fn load(&mut self, points: &[i64]) -> Result<()> {
        let mut missing: Vec<i64> = points
            .iter()
            .copied()
            .filter(|p| !self.loaded.contains(p))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        for chunk in missing.chunks(900) {
            for row in states_of_points(self.conn.as_mut(), chunk).await? {
                self.states
                    .insert((row.contact_point_id, row.subject, row.channel), row.entry);
            }
        }
        self.loaded.extend(missing);
        Ok(())
    }

    /// Reads the states of `points` at once (a batch's, before its rows are written one by one).
    pub async fn preload(&mut self, points: &[i64]) -> Result<()> {
        self.load(points).await
    }

    /// A point this transaction created: it has no state to read.
    pub fn created_point(&mut self, cp: i64) {
        self.loaded.insert(cp);
    }

    /// The current state of one key, as this transaction sees it (earlier units included).
    pub async fn state(
        &mut self,
        cp: i64,
        subject: Subject,
        channel: Channel,
    ) -> Result<Option<StateEntry>> {
        self.load(&[cp]).await?;
        Ok(self.states.get(&(cp, subject, channel)).copied())
    }

    /// Applies wanted states: the ones that really change something become ledger records
    /// (chained onto the head read in this transaction) and state rows. Returns the records.
    pub async fn consent(
        &mut self,
        items: &[(i64, Desired)],
        meta: &ChangeMeta,
    ) -> Result<Vec<Record>> {
        let points: Vec<i64> = items.iter().map(|(cp, _)| *cp).collect();
        self.load(&points).await?;
        let occurred_at = self.now_str();
        let salt = *self
            .salts
            .entry(meta.change_id.clone())
            .or_insert_with(rand::random);
        let (evidence, digest, evidence_key) = self.digester.digest(&meta.evidence, salt);
        let mut applied = Vec::new();
        // Group by contact point, keeping the order the caller gave.
        let mut order: Vec<i64> = Vec::new();
        for (cp, _) in items {
            if !order.contains(cp) {
                order.push(*cp);
            }
        }
        for cp in order {
            if self.erased.contains(&cp) {
                continue;
            }
            let desired: Vec<Desired> = items
                .iter()
                .filter(|(p, _)| *p == cp)
                .map(|(_, d)| *d)
                .collect();
            let states = &self.states;
            let changes = effective_changes(|s, c| states.get(&(cp, s, c)).copied(), &desired);
            for (d, old) in changes {
                self.seq += 1;
                let record = Record {
                    seq: self.seq,
                    occurred_at: occurred_at.clone(),
                    contact_point_id: cp,
                    subject: d.subject,
                    channel: d.channel,
                    old_value: old,
                    new_value: d.value,
                    fact: None,
                    custodian_confirmed: d.custodian_confirmed,
                    actor_kind: meta.actor_kind,
                    actor_id: meta.actor_id.clone(),
                    source: meta.source,
                    change_id: meta.change_id.clone(),
                    form_version: meta.form_version,
                    language: meta.language.clone(),
                    request_id: meta.request_id.clone(),
                    confirmation: meta.confirmation.clone(),
                    evidence_key: evidence_key.clone(),
                };
                let hash = record_hash(&self.head, &record, &digest);
                self.states.insert(
                    (cp, d.subject, d.channel),
                    StateEntry {
                        value: d.value,
                        custodian_confirmed: d.custodian_confirmed,
                        record: self.seq,
                    },
                );
                applied.push(record.clone());
                self.records.push(NewRecord {
                    record,
                    evidence: evidence.clone(),
                    evidence_digest: digest,
                    prev_hash: self.head,
                    hash,
                });
                self.head = hash;
            }
        }
        Ok(applied)
    }

    /// Appends the erasure record of a contact point, chained like any record (`meta` names
    /// the actor and holds the reason), and forgets the point's states: the caller deletes its
    /// rows, and nothing later in this batch records consent of it.
    pub(super) fn erase_point(&mut self, cp: i64, channel: Channel, meta: &ChangeMeta) -> Record {
        let at = self.now_str();
        let record = self.push_stateless((cp, channel), Subject::Erasure, None, meta, at);
        self.states.retain(|k, _| k.0 != cp);
        self.loaded.insert(cp);
        self.erased.insert(cp);
        record
    }

    /// Appends the record of a change of a contact's profile fact, on its point `cp` (the
    /// point whose erasure voids its evidence), chained like any record; `at`: when it
    /// happened, when not now (a change kept before the ledger held them).
    pub(super) fn profile_record(
        &mut self,
        (cp, channel): (i64, Channel),
        fact: crate::domain::ProfileFact,
        values: crate::domain::FactValues,
        meta: &ChangeMeta,
        at: Option<String>,
    ) -> Record {
        let at = at.unwrap_or_else(|| self.now_str());
        self.push_stateless(
            (cp, channel),
            Subject::Profile(fact),
            Some(values),
            meta,
            at,
        )
    }

    /// Appends a record that sets no consent state (an erasure, a profile fact).
    fn push_stateless(
        &mut self,
        (cp, channel): (i64, Channel),
        subject: Subject,
        fact: Option<crate::domain::FactValues>,
        meta: &ChangeMeta,
        occurred_at: String,
    ) -> Record {
        let salt = *self
            .salts
            .entry(meta.change_id.clone())
            .or_insert_with(rand::random);
        let (evidence, digest, evidence_key) = self.digester.digest(&meta.evidence, salt);
        self.seq += 1;
        let record = Record {
            seq: self.seq,
            occurred_at,
            contact_point_id: cp,
            subject,
            channel,
            old_value: crate::domain::ConsentValue::NotSet,
            new_value: crate::domain::ConsentValue::NotSet,
            fact,
            custodian_confirmed: false,
            actor_kind: meta.actor_kind,
            actor_id: meta.actor_id.clone(),
            source: meta.source,
            change_id: meta.change_id.clone(),
            form_version: None,
            language: None,
            request_id: meta.request_id.clone(),
            confirmation: None,
            evidence_key,
        };
        let hash = record_hash(&self.head, &record, &digest);
        self.records.push(NewRecord {
            record: record.clone(),
            evidence,
            evidence_digest: digest,
            prev_hash: self.head,
            hash,
        });
        self.head = hash;
        record
    }
}

/// Which queue a unit waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A person or a mail client is waiting: goes first.
    Interactive,
    /// Imports and other large work: bounded pieces, only when no interactive unit waits.
    Bulk,
}

/// A queued unit with its reply, type-erased so units of every kind share one queue.
trait Job: Send {
    fn points(&self) -> Vec<i64>;
    fn run<'a>(&'a mut self, tx: &'a mut Tx) -> BoxFuture<'a, Result<()>>;
    /// Committed; `took` is the transaction's time, BEGIN to COMMIT.
    fn succeed(self: Box<Self>, took: Duration);
    fn fail(self: Box<Self>, e: StoreError);
}

struct Queued<U: Unit> {
    unit: U,
    out: Option<U::Output>,
    reply: oneshot::Sender<Result<(U::Output, Duration)>>,
}

impl<U: Unit> Job for Queued<U> {
    fn points(&self) -> Vec<i64> {
        self.unit.points()
    }
    fn run<'a>(&'a mut self, tx: &'a mut Tx) -> BoxFuture<'a, Result<()>> {
        let Queued { unit, out, .. } = self;
        Box::pin(async move {
            *out = Some(unit.apply(tx).await?);
            Ok(())
        })
    }
    fn succeed(self: Box<Self>, took: Duration) {
        let r = self
            .out
            .map(|o| (o, took))
            .ok_or_else(|| StoreError::Corrupt("a unit ran without output".into()));
        let _ = self.reply.send(r);
    }
    fn fail(self: Box<Self>, e: StoreError) {
        let _ = self.reply.send(Err(e));
    }
}

/// What `/readyz` and the logs see of the writer.
#[derive(Default)]
pub struct WriterStatus {
    /// Restarts after a panic or a lost connection.
    restarts: AtomicU64,
}

impl WriterStatus {
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }
}

/// A handle to the writer; cheap to clone. The writer stops when every handle is gone, after
/// finishing what is queued, and closes its connection.
#[derive(Clone)]
pub struct Writer {
    interactive: mpsc::Sender<Box<dyn Job>>,
    bulk: mpsc::Sender<Box<dyn Job>>,
    status: Arc<WriterStatus>,
    mail: Arc<Notify>,
    clock: Clock,
    /// How the writer's connection is opened (for a WAL checkpoint on a connection of its own).
    options: WriteOptions,
}

impl Writer {
    /// Starts the writer (and its supervisor) on `conn`; `reconnect` opens a new connection
    /// when that one is lost.
    pub fn spawn(
        conn: Conn,
        reconnect: WriteOptions,
        secret: Arc<[u8]>,
        clock: Clock,
    ) -> (Writer, tokio::task::JoinHandle<()>) {
        let (itx, irx) = mpsc::channel(8192);
        let (btx, brx) = mpsc::channel(64);
        let status = Arc::new(WriterStatus::default());
        let mail = Arc::new(Notify::new());
        let options = reconnect.clone();
        let sup = Supervisor {
            reconnect,
            digester: Digester::new(secret),
            key_looked_up: false,
            clock: clock.clone(),
            interactive: irx,
            bulk: brx,
            bulk_due: false,
            status: status.clone(),
            mail: mail.clone(),
        };
        let task = tokio::spawn(sup.run(conn));
        (
            Writer {
                interactive: itx,
                bulk: btx,
                status,
                mail,
                clock,
                options,
            },
            task,
        )
    }

    pub fn status(&self) -> &WriterStatus {
        &self.status
    }

    /// Woken after every commit that queued mail.
    pub fn mail_notify(&self) -> Arc<Notify> {
        self.mail.clone()
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Applies one unit; returns once it is committed (or with the unit's own error).
    pub async fn run<U: Unit>(&self, unit: U, priority: Priority) -> Result<U::Output> {
        Ok(self.run_timed(unit, priority).await?.0)
    }

    /// [`Writer::run`], also saying how long the transaction the unit committed in took,
    /// BEGIN to COMMIT (not its wait in the queue): what an interactive unit that arrived
    /// meanwhile waited for, when the unit is bulk work (whose pieces run alone).
    pub async fn run_timed<U: Unit>(
        &self,
        unit: U,
        priority: Priority,
    ) -> Result<(U::Output, Duration)> {
        let (reply, rx) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Queued {
            unit,
            out: None,
            reply,
        });
        let queue = match priority {
            Priority::Interactive => &self.interactive,
            Priority::Bulk => &self.bulk,
        };
        queue
            .send(job)
            .await
            .map_err(|_| StoreError::WriterUnavailable)?;
        match tokio::time::timeout(APPLY_TIMEOUT, rx).await {
            Ok(Ok(r)) => r,
            // The writer died with this unit in hand, or is stuck: the caller may try again.
            Ok(Err(_)) | Err(_) => Err(StoreError::WriterUnavailable),
        }
    }

    /// Applies one consent change set at interactive priority.
    pub async fn apply(&self, set: ChangeSet) -> Result<Applied> {
        self.run(set, Priority::Interactive).await
    }

    /// Applies a large change in bounded pieces at bulk priority, one piece after another;
    /// every piece is its own commit. Returns how many records were written.
    pub async fn apply_bulk(&self, items: Vec<(i64, Desired)>, meta: ChangeMeta) -> Result<u64> {
        let mut written = 0;
        // Every piece is its own commit but the change has one evidence row: one salt.
        let mut meta = meta;
        if !meta.evidence.is_empty() && meta.evidence.salt.is_none() {
            meta.evidence.salt = Some(rand::random());
        }
        for piece in items.chunks(BULK_PIECE) {
            let set = ChangeSet {
                items: piece.to_vec(),
                meta: meta.clone(),
            };
            written += self.run(set, Priority::Bulk).await?.records.len() as u64;
        }
        Ok(written)
    }

    /// After an erasure: on SQLite, copies the WAL into the database file and truncates it (on a
    /// connection of its own: a checkpoint cannot run inside the writer's transactions), so no
    /// earlier version of a page that held the erased data stays in the WAL; deleted content
    /// in the file itself is zeroed (`secure_delete`). PostgreSQL keeps dead row versions until
    /// VACUUM: its autovacuum (or the operator's) removes them.
    pub async fn checkpoint_wal(&self) -> Result<()> {
        if let WriteOptions::Sqlite(o) = &self.options {
            use sqlx::{ConnectOptions as _, Connection as _};
            let mut c = o.connect().await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut c)
                .await?;
            c.close().await?;
        }
        Ok(())
    }

    /// Whether a write transaction can be begun and committed now (for `/readyz`).
    pub async fn ping(&self, within: Duration) -> bool {
        matches!(
            tokio::time::timeout(within, self.run(Ping, Priority::Interactive)).await,
            Ok(Ok(()))
        )
    }
}

struct Supervisor {
    reconnect: WriteOptions,
    digester: Digester,
    /// Whether the current evidence key was read (once per writer; rotations arrive through
    /// the checkpoint unit).
    key_looked_up: bool,
    clock: Clock,
    interactive: mpsc::Receiver<Box<dyn Job>>,
    bulk: mpsc::Receiver<Box<dyn Job>>,
    /// The last batch was interactive: a bulk piece waiting goes next, so that a steady flow
    /// of interactive units never starves bulk work.
    bulk_due: bool,
    status: Arc<WriterStatus>,
    mail: Arc<Notify>,
}

/// Why the writer's loop ended.
enum Ended {
    /// Every handle is gone and the queues are empty: the connection was closed.
    Finished,
    /// The connection is no longer trustworthy (a COMMIT failed or its outcome is unknown).
    ConnectionLost,
}

impl Supervisor {
    async fn run(mut self, first: Conn) {
        let mut conn = Some(first);
        let mut backoff = Duration::from_millis(50);
        loop {
            let c = match conn.take() {
                Some(c) => c,
                None => match self.reconnect.connect().await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::error!(error = %e, "the writer cannot open the database; retrying");
                        if self.interactive.is_closed() && self.bulk.is_closed() {
                            return;
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                },
            };
            backoff = Duration::from_millis(50);
            let outcome = std::panic::AssertUnwindSafe(self.serve(c))
                .catch_unwind()
                .await;
            match outcome {
                Ok(Ended::Finished) => {
                    tracing::debug!("writer stopped");
                    return;
                }
                Ok(Ended::ConnectionLost) => {
                    tracing::warn!("the writer lost its connection; reconnecting");
                }
                Err(_) => {
                    tracing::error!("the writer panicked; restarting it on a new connection");
                }
            }
            self.status.restarts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Takes the next batch: every waiting interactive unit (up to the limit), or one bulk
    /// piece on its own. Interactive units never share a transaction with a bulk piece (their
    /// commit would wait for the piece's work): under a steady flow of them, batches alternate,
    /// and an interactive unit waits behind one piece at most. `None` once every handle is
    /// gone and nothing is left.
    async fn next_batch(&mut self) -> Option<Vec<Box<dyn Job>>> {
        if std::mem::take(&mut self.bulk_due) {
            if let Ok(j) = self.bulk.try_recv() {
                return Some(vec![j]);
            }
        }
        let mut jobs: Vec<Box<dyn Job>> = Vec::new();
        let first = tokio::select! {
            biased;
            j = self.interactive.recv() => match j {
                Some(j) => Some((j, true)),
                None => self.bulk.recv().await.map(|j| (j, false)),
            },
            j = self.bulk.recv() => match j {
                Some(j) => Some((j, false)),
                None => self.interactive.recv().await.map(|j| (j, true)),
            },
        };
        let (first, interactive) = first?;
        jobs.push(first);
        if interactive {
            while jobs.len() < MAX_BATCH {
                match self.interactive.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            self.bulk_due = true;
        }
        Some(jobs)
    }

    async fn serve(&mut self, mut conn: Conn) -> Ended {
        if !self.key_looked_up {
            match super::proof::current_key(conn.as_mut()).await {
                Ok(Some((id, _))) => self.digester.use_key(id.as_str()),
                Ok(None) => {} // no keys yet: evidence is digested as before keys had ids
                Err(e) => tracing::warn!(error = %e, "could not read the current key"),
            }
            self.key_looked_up = true;
        }
        let mut conn = Some(conn);
        while let Some(mut jobs) = self.next_batch().await {
            let Some(c) = conn.take() else {
                return Ended::ConnectionLost;
            };
            let started = Instant::now();
            let (c, result) = commit(c, &mut self.digester, &self.clock, &mut jobs).await;
            match result {
                Ok(wake) => {
                    let took = started.elapsed();
                    for job in jobs {
                        job.succeed(took);
                    }
                    if wake {
                        self.mail.notify_one();
                    }
                }
                Err(Failure::Unit(e)) if jobs.len() == 1 => {
                    jobs.pop().expect("one job").fail(e);
                }
                Err(Failure::Unit(e)) => {
                    // One bad unit must not sink the others: retry each on its own.
                    tracing::warn!(error = %e, batch = jobs.len(), "batch failed; retrying unit by unit");
                    let mut c = Some(c);
                    for mut job in jobs {
                        let Some(cc) = c.take() else {
                            job.fail(StoreError::WriterUnavailable);
                            continue;
                        };
                        let started = Instant::now();
                        let (cc, r) = commit(
                            cc,
                            &mut self.digester,
                            &self.clock,
                            std::slice::from_mut(&mut job),
                        )
                        .await;
                        match r {
                            Ok(wake) => {
                                job.succeed(started.elapsed());
                                if wake {
                                    self.mail.notify_one();
                                }
                                c = Some(cc);
                            }
                            Err(Failure::Unit(e)) => {
                                job.fail(e);
                                c = Some(cc);
                            }
                            Err(Failure::Commit(e)) => {
                                job.fail(e);
                                drop(cc);
                            }
                        }
                    }
                    match c {
                        Some(cc) => {
                            conn = Some(cc);
                            continue;
                        }
                        None => return Ended::ConnectionLost,
                    }
                }
                Err(Failure::Commit(e)) => {
                    // BEGIN or COMMIT failed: the outcome is unknown, the connection is
                    // suspect. Tell every caller to try again and start over on a new one;
                    // the next transaction reads the chain head from the database.
                    tracing::error!(error = %e, "a commit failed; reconnecting");
                    for job in jobs {
                        job.fail(StoreError::WriterUnavailable);
                    }
                    drop(c);
                    return Ended::ConnectionLost;
                }
            }
            conn = Some(c);
        }
        if let Some(c) = conn {
            if let Err(e) = c.close().await {
                tracing::warn!(error = %e, "closing the writer's connection");
            }
        }
        Ended::Finished
    }
}

enum Failure {
    /// A unit failed; the transaction was rolled back and the connection is fine.
    Unit(StoreError),
    /// BEGIN, the chain head, the append or COMMIT failed.
    Commit(StoreError),
}

/// Runs jobs in one transaction. Returns the connection back, and whether mail was queued.
async fn commit(
    mut conn: Conn,
    digester: &mut Digester,
    clock: &Clock,
    jobs: &mut [Box<dyn Job>],
) -> (Conn, std::result::Result<bool, Failure>) {
    if let Err(e) = begin_write(&mut conn).await {
        return (conn, Err(Failure::Commit(e)));
    }
    let (seq, head_hash) = match head(conn.as_mut()).await {
        Ok(h) => h,
        Err(e) => {
            let _ = execute(&mut conn, "ROLLBACK").await;
            return (conn, Err(Failure::Commit(e)));
        }
    };
    let mut tx = Tx {
        conn,
        digester: digester.clone(),
        salts: HashMap::new(),
        erased: HashSet::new(),
        now: clock.now(),
        seq,
        head: head_hash,
        states: HashMap::new(),
        loaded: HashSet::new(),
        records: Vec::new(),
        wake_mail: false,
    };
    let points: Vec<i64> = jobs.iter().flat_map(|j| j.points()).collect();
    let mut failure = tx.load(&points).await.err().map(Failure::Commit);
    if failure.is_none() {
        for job in jobs.iter_mut() {
            if let Err(e) = job.run(&mut tx).await {
                failure = Some(Failure::Unit(e));
                break;
            }
        }
    }
    if failure.is_none() && !tx.records.is_empty() {
        let records = std::mem::take(&mut tx.records);
        if let Err(e) = append(tx.conn.as_mut(), &records).await {
            // A refused append (a constraint) is a unit's fault when alone, else retry apart.
            failure = Some(Failure::Unit(e));
        }
    }
    let wake = tx.wake_mail;
    let mut conn = tx.conn;
    if failure.is_none() {
        *digester = tx.digester;
    }
    if let Some(f) = failure {
        if let Err(e) = execute(&mut conn, "ROLLBACK").await {
            return (conn, Err(Failure::Commit(e)));
        }
        return (conn, Err(f));
    }
    match super::backend::commit(&mut conn).await {
        Ok(()) => (conn, Ok(wake)),
        Err(e) => {
            let _ = execute(&mut conn, "ROLLBACK").await;
            (conn, Err(Failure::Commit(e)))
        }
    }
}
