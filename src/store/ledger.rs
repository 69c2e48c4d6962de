//! The consent ledger: append (for the writer), read back, verify the chain, and check that
//! the current state equals a replay of the ledger.

use super::backend::{begin_snapshot, on, read, ConnMut, DbRow, Ts};
use super::read::{Inline, KeptSql, Slot};
use super::{proof, Reader};
use super::{Result, StoreError};
use crate::domain::ledger::{self, ChainError, Evidence, Hash, Record, Stored, Verifier};
use crate::domain::proof::{hex, signing_key, Checkpoint};
use crate::domain::{ActorKind, Channel, ConsentValue, FactValues, Source, Subject};
use std::collections::BTreeMap;
use std::collections::HashMap;

/// A record ready to append, hashes computed.
pub struct NewRecord {
    pub record: Record,
    pub evidence: Evidence,
    pub evidence_digest: Hash,
    pub prev_hash: Hash,
    pub hash: Hash,
}

/// The last record's sequence number and hash (0 and GENESIS on an empty ledger).
pub async fn head(conn: ConnMut<'_>) -> Result<(i64, Hash)> {
    on!(conn, c => {
        let row = sqlx::query("SELECT seq, hash FROM consent_ledger ORDER BY seq DESC LIMIT 1")
            .fetch_optional(c)
            .await?;
        match row {
            None => Ok((0, ledger::GENESIS)),
            Some(r) => Ok((r.col("seq")?, to_hash(r.col("hash")?)?)),
        }
    })
}

fn to_hash(v: Vec<u8>) -> Result<Hash> {
    v.try_into()
        .map_err(|_| StoreError::Corrupt("hash is not 32 bytes".into()))
}

/// Appends records, their evidence and the states they set, inside the caller's transaction.
/// SQLite runs three prepared statements row by row ([`append_sqlite`]); PostgreSQL takes one
/// array per column (`UNNEST`) in a single statement: its text is the same whatever the batch
/// size, so it is prepared once per connection instead of once per size, PostgreSQL plans no long
/// `VALUES` list (the writer's PostgreSQL session was its busiest process under one-click
/// load), and the three inserts cost one round trip.
pub async fn append(conn: ConnMut<'_>, records: &[NewRecord]) -> Result<()> {
    match conn {
        ConnMut::Postgres(c) => append_pg(c, records).await,
        ConnMut::Sqlite(c) => append_sqlite(c, records).await,
    }
}

/// The columns of a record, its evidence and the state it sets, as both appends write them.
const RECORD_COLUMNS: &str = "consent_ledger (seq, occurred_at, contact_point_id, subject_kind,
    subject_id, channel, old_value, new_value, custodian_confirmed, actor_kind, actor_id, source,
    change_id, form_version, language, request_id, evidence_digest, prev_hash, hash, confirmation,
    evidence_key, fact_old, fact_new)";
const EVIDENCE_COLUMNS: &str = "ledger_evidence (change_id, justification, ip, user_agent, salt)";
const STATE_COLUMNS: &str = "consent_states (contact_point_id, subject_kind, subject_id, channel,
    value, custodian_confirmed, ledger_seq, set_at)";
/// A state already there takes the newer record's value.
const STATE_UPSERT: &str = "ON CONFLICT (contact_point_id, subject_kind, subject_id, channel)
    DO UPDATE SET value = excluded.value, custodian_confirmed = excluded.custodian_confirmed,
    ledger_seq = excluded.ledger_seq, set_at = excluded.set_at";

/// One evidence row per action, shared by its (contiguous) records; an action whose records
/// came in an earlier append already has its row (the inserts skip it).
fn evidence_rows(records: &[NewRecord]) -> Vec<&NewRecord> {
    let mut rows: Vec<&NewRecord> = records.iter().filter(|n| !n.evidence.is_empty()).collect();
    rows.dedup_by(|a, b| a.record.change_id == b.record.change_id);
    rows
}

async fn append_pg(conn: &mut sqlx::PgConnection, records: &[NewRecord]) -> Result<()> {
    let rs: Vec<&Record> = records.iter().map(|n| &n.record).collect();
    let with_evidence = evidence_rows(records);
    let last: Vec<&Record> = last_per_key(records.iter().map(|n| &n.record));
    // One statement, one round trip: the records, their evidence and the states they set.
    sqlx::query(&format!(
        "WITH records AS (
             INSERT INTO {RECORD_COLUMNS}
             SELECT * FROM UNNEST($1::bigint[], $2::timestamptz[], $3::bigint[], $4::text[],
                 $5::bigint[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[],
                 $11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[], $16::text[],
                 $17::bytea[], $18::bytea[], $19::bytea[], $20::text[], $33::text[], $35::text[],
                 $36::text[])
         ), evidence AS (
             INSERT INTO {EVIDENCE_COLUMNS}
             SELECT * FROM UNNEST($21::text[], $22::text[], $23::text[], $24::text[],
                 $34::bytea[])
             ON CONFLICT (change_id) DO NOTHING
         )
         INSERT INTO {STATE_COLUMNS}
         SELECT * FROM UNNEST($25::bigint[], $26::text[], $27::bigint[], $28::text[],
             $29::text[], $30::boolean[], $31::bigint[], $32::timestamptz[])
         {STATE_UPSERT}"
    ))
    .bind(rs.iter().map(|r| r.seq).collect::<Vec<_>>())
    .bind(
        rs.iter()
            .map(|r| Ts(r.occurred_at.clone()))
            .collect::<Vec<_>>(),
    )
    .bind(rs.iter().map(|r| r.contact_point_id).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.subject.kind_str()).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.subject.id()).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.channel.as_str()).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.old_value.as_str()).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.new_value.as_str()).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.custodian_confirmed).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.actor_kind.as_str()).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.actor_id.clone()).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.source.as_str()).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.change_id.clone()).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.form_version).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.language.clone()).collect::<Vec<_>>())
    .bind(rs.iter().map(|r| r.request_id.clone()).collect::<Vec<_>>())
    .bind(
        records
            .iter()
            .map(|n| n.evidence_digest.to_vec())
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|n| n.prev_hash.to_vec())
            .collect::<Vec<_>>(),
    )
    .bind(records.iter().map(|n| n.hash.to_vec()).collect::<Vec<_>>())
    .bind(
        rs.iter()
            .map(|r| r.confirmation.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        with_evidence
            .iter()
            .map(|n| n.record.change_id.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        with_evidence
            .iter()
            .map(|n| n.evidence.justification.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        with_evidence
            .iter()
            .map(|n| n.evidence.ip.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        with_evidence
            .iter()
            .map(|n| n.evidence.user_agent.clone())
            .collect::<Vec<_>>(),
    )
    .bind(last.iter().map(|r| r.contact_point_id).collect::<Vec<_>>())
    .bind(
        last.iter()
            .map(|r| r.subject.kind_str())
            .collect::<Vec<_>>(),
    )
    .bind(last.iter().map(|r| r.subject.id()).collect::<Vec<_>>())
    .bind(last.iter().map(|r| r.channel.as_str()).collect::<Vec<_>>())
    .bind(
        last.iter()
            .map(|r| r.new_value.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        last.iter()
            .map(|r| r.custodian_confirmed)
            .collect::<Vec<_>>(),
    )
    .bind(last.iter().map(|r| r.seq).collect::<Vec<_>>())
    .bind(
        last.iter()
            .map(|r| Ts(r.occurred_at.clone()))
            .collect::<Vec<_>>(),
    )
    .bind(
        rs.iter()
            .map(|r| r.evidence_key.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        with_evidence
            .iter()
            .map(|n| n.evidence.salt.map(|s| s.to_vec()))
            .collect::<Vec<_>>(),
    )
    .bind(
        rs.iter()
            .map(|r| r.fact.as_ref().and_then(|f| f.old.clone()))
            .collect::<Vec<_>>(),
    )
    .bind(
        rs.iter()
            .map(|r| r.fact.as_ref().and_then(|f| f.new.clone()))
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The last record of each (contact point, subject, channel) key: the state it leaves. An
/// erasure record leaves no state of its point (the erasure deletes the point's rows); a
/// profile record sets no consent state.
fn last_per_key<'a>(records: impl Iterator<Item = &'a Record>) -> Vec<&'a Record> {
    let mut last: BTreeMap<(i64, Subject, Channel), &Record> = BTreeMap::new();
    for r in records {
        match r.subject {
            Subject::Erasure => {
                last.retain(|k, _| k.0 != r.contact_point_id);
                continue;
            }
            Subject::Profile(_) => continue,
            Subject::Purpose(_) | Subject::Topic(_) => {}
        }
        last.insert((r.contact_point_id, r.subject, r.channel), r);
    }
    last.into_values().collect()
}

/// SQLite: one prepared statement each for the records, their evidence and the states they set,
/// run row by row on the writer's connection through rusqlite (see `backend::raw_sqlite`: through
/// sqlx, binding a batch's values cost more than inserting them).
async fn append_sqlite(conn: &mut sqlx::SqliteConnection, records: &[NewRecord]) -> Result<()> {
    let with_evidence = evidence_rows(records);
    // The projection: the last record per key wins (records are in seq order).
    let last = last_per_key(records.iter().map(|n| &n.record));
    super::backend::raw_sqlite(conn, records.len(), |db| {
        let mut insert = db.prepare(&format!(
            "INSERT INTO {RECORD_COLUMNS}
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18, ?19, ?20, ?21, ?22, ?23)"
        ))?;
        for n in records {
            let r = &n.record;
            let fact = r.fact.as_ref();
            insert.execute(rusqlite::params![
                r.seq,
                r.occurred_at,
                r.contact_point_id,
                r.subject.kind_str(),
                r.subject.id(),
                r.channel.as_str(),
                r.old_value.as_str(),
                r.new_value.as_str(),
                r.custodian_confirmed,
                r.actor_kind.as_str(),
                r.actor_id,
                r.source.as_str(),
                r.change_id,
                r.form_version,
                r.language,
                r.request_id,
                &n.evidence_digest[..],
                &n.prev_hash[..],
                &n.hash[..],
                r.confirmation,
                r.evidence_key,
                fact.and_then(|f| f.old.as_deref()),
                fact.and_then(|f| f.new.as_deref()),
            ])?;
        }
        if !with_evidence.is_empty() {
            let mut evidence = db.prepare(&format!(
                "INSERT INTO {EVIDENCE_COLUMNS} VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (change_id) DO NOTHING"
            ))?;
            for n in &with_evidence {
                let e = &n.evidence;
                evidence.execute(rusqlite::params![
                    n.record.change_id,
                    e.justification,
                    e.ip,
                    e.user_agent,
                    e.salt.as_ref().map(|s| &s[..]),
                ])?;
            }
        }
        if !last.is_empty() {
            let mut state = db.prepare(&format!(
                "INSERT INTO {STATE_COLUMNS} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) {STATE_UPSERT}"
            ))?;
            for r in last {
                state.execute(rusqlite::params![
                    r.contact_point_id,
                    r.subject.kind_str(),
                    r.subject.id(),
                    r.channel.as_str(),
                    r.new_value.as_str(),
                    r.custodian_confirmed,
                    r.seq,
                    r.occurred_at,
                ])?;
            }
        }
        Ok(())
    })
    .await
}

const SELECT_STORED: &str =
    "SELECT l.seq, l.occurred_at, l.contact_point_id, l.subject_kind, l.subject_id, l.channel,
        l.old_value, l.new_value, l.custodian_confirmed, l.actor_kind, l.actor_id, l.source,
        l.change_id, l.form_version, l.language, l.request_id, l.evidence_digest, l.prev_hash,
        l.hash, l.confirmation, l.evidence_key, e.change_id AS ev_change, e.justification, e.ip,
        e.user_agent, e.salt, l.fact_old, l.fact_new
     FROM consent_ledger l LEFT JOIN ledger_evidence e ON e.change_id = l.change_id";

/// One stored record's columns as read, before they are parsed (two readers fill it: sqlx's
/// rows by name, and the SQLite verify path's rows by position).
struct RawStored {
    seq: i64,
    occurred_at: String,
    contact_point_id: i64,
    subject_kind: String,
    subject_id: i64,
    channel: String,
    old_value: String,
    new_value: String,
    custodian_confirmed: bool,
    actor_kind: String,
    actor_id: Option<String>,
    source: String,
    change_id: String,
    form_version: Option<i64>,
    language: Option<String>,
    request_id: Option<String>,
    evidence_digest: Vec<u8>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    confirmation: Option<String>,
    evidence_key: Option<String>,
    /// `Some` when the evidence row exists.
    evidence: Option<RawEvidence>,
    fact_old: Option<String>,
    fact_new: Option<String>,
}

/// An evidence row's columns: justification, IP, user agent, salt.
type RawEvidence = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
);

impl RawStored {
    fn parse(self) -> Result<Stored> {
        let bad = |what: &str| StoreError::Corrupt(format!("record {}: {what}", self.seq));
        let subject = Subject::from_parts(&self.subject_kind, self.subject_id)
            .ok_or_else(|| bad(&self.subject_kind))?;
        // Values on a record of another kind are kept too: the verifier refuses them.
        let fact = (matches!(subject, Subject::Profile(_))
            || self.fact_old.is_some()
            || self.fact_new.is_some())
        .then_some(FactValues {
            old: self.fact_old,
            new: self.fact_new,
        });
        let record = Record {
            seq: self.seq,
            occurred_at: self.occurred_at,
            contact_point_id: self.contact_point_id,
            subject,
            channel: Channel::parse(&self.channel).ok_or_else(|| bad(&self.channel))?,
            old_value: ConsentValue::parse(&self.old_value).ok_or_else(|| bad(&self.old_value))?,
            new_value: ConsentValue::parse(&self.new_value).ok_or_else(|| bad(&self.new_value))?,
            fact,
            custodian_confirmed: self.custodian_confirmed,
            actor_kind: ActorKind::parse(&self.actor_kind).ok_or_else(|| bad(&self.actor_kind))?,
            actor_id: self.actor_id,
            source: Source::parse(&self.source).ok_or_else(|| bad(&self.source))?,
            change_id: self.change_id,
            form_version: self.form_version,
            language: self.language,
            request_id: self.request_id,
            confirmation: self.confirmation,
            evidence_key: self.evidence_key,
        };
        let evidence = self
            .evidence
            .map(
                |(justification, ip, user_agent, salt)| -> Result<Evidence> {
                    Ok(Evidence {
                        justification,
                        ip,
                        user_agent,
                        salt: salt
                            .map(|v| v.try_into())
                            .transpose()
                            .map_err(|_| bad("an evidence salt is not 16 bytes"))?,
                    })
                },
            )
            .transpose()?;
        Ok(Stored {
            record,
            // No row: written without personal evidence, erased, or removed (the verifier
            // tells which).
            evidence,
            evidence_digest: to_hash(self.evidence_digest)?,
            prev_hash: to_hash(self.prev_hash)?,
            hash: to_hash(self.hash)?,
        })
    }
}

fn stored_record(r: &impl DbRow) -> Result<Stored> {
    let ev_change: Option<String> = r.col("ev_change")?;
    let evidence = match ev_change {
        None => None,
        Some(_) => Some((
            r.col("justification")?,
            r.col("ip")?,
            r.col("user_agent")?,
            r.col("salt")?,
        )),
    };
    RawStored {
        seq: r.col("seq")?,
        occurred_at: r.col::<Ts>("occurred_at")?.0,
        contact_point_id: r.col("contact_point_id")?,
        subject_kind: r.col("subject_kind")?,
        subject_id: r.col("subject_id")?,
        channel: r.col("channel")?,
        old_value: r.col("old_value")?,
        new_value: r.col("new_value")?,
        custodian_confirmed: r.col("custodian_confirmed")?,
        actor_kind: r.col("actor_kind")?,
        actor_id: r.col("actor_id")?,
        source: r.col("source")?,
        change_id: r.col("change_id")?,
        form_version: r.col("form_version")?,
        language: r.col("language")?,
        request_id: r.col("request_id")?,
        evidence_digest: r.col("evidence_digest")?,
        prev_hash: r.col("prev_hash")?,
        hash: r.col("hash")?,
        confirmation: r.col("confirmation")?,
        evidence_key: r.col("evidence_key")?,
        evidence,
        fact_old: r.col("fact_old")?,
        fact_new: r.col("fact_new")?,
    }
    .parse()
}

/// What verification gathers while the ledger and the state table stream by.
struct Scan<'a, 'k> {
    verifier: &'a mut Verifier<'k>,
    chain_error: &'a mut Option<ChainError>,
    /// The hash of every record a checkpoint vouches for.
    wanted: &'a mut HashMap<i64, Option<Hash>>,
    actual: &'a mut BTreeMap<StateKey, (ConsentValue, bool, i64)>,
}

impl Scan<'_, '_> {
    fn record(&mut self, s: Stored) {
        if let Some(slot) = self.wanted.get_mut(&s.record.seq) {
            *slot = Some(s.hash);
        }
        if self.chain_error.is_none() {
            if let Err(e) = self.verifier.feed(&s) {
                *self.chain_error = Some(e);
            }
        }
    }

    fn end_of_ledger(&mut self) {
        if self.chain_error.is_none() {
            *self.chain_error = self.verifier.finish().err();
        }
    }

    fn state(&mut self, raw: RawState) -> Result<()> {
        let bad = |what: String| StoreError::Corrupt(format!("a consent state: {what}"));
        let key = (
            raw.contact_point_id,
            Subject::from_parts(&raw.subject_kind, raw.subject_id)
                .ok_or_else(|| bad(raw.subject_kind.clone()))?,
            Channel::parse(&raw.channel).ok_or_else(|| bad(raw.channel.clone()))?,
        );
        let val = (
            ConsentValue::parse(&raw.value).ok_or_else(|| bad(raw.value.clone()))?,
            raw.custodian_confirmed,
            raw.ledger_seq,
        );
        self.actual.insert(key, val);
        Ok(())
    }
}

struct RawState {
    contact_point_id: i64,
    subject_kind: String,
    subject_id: i64,
    channel: String,
    value: String,
    custodian_confirmed: bool,
    ledger_seq: i64,
}

const SELECT_STATES: &str = "SELECT contact_point_id, subject_kind, subject_id, channel, value,
        custodian_confirmed, ledger_seq
     FROM consent_states";

/// Reads the ledger and the state table of an SQLite file in one snapshot of its own, row by
/// row in this thread (rusqlite): sqlx hands every row from its worker thread to the caller's,
/// which made a million records take 16 s. Synchronous: the caller is a command or a test.
fn scan_sqlite_file(path: &std::path::Path, scan: &mut Scan<'_, '_>) -> Result<()> {
    use rusqlite::OpenFlags;
    let fail = |e: rusqlite::Error| match e {
        rusqlite::Error::SqliteFailure(..) => StoreError::Io(std::io::Error::other(format!(
            "reading {}: {e}",
            path.display()
        ))),
        e => StoreError::Corrupt(format!("reading the ledger: {e}")),
    };
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(fail)?;
    // A deferred transaction: the snapshot is taken at the first read and held to the end.
    conn.execute_batch("BEGIN DEFERRED").map_err(fail)?;
    {
        let sql = format!("{SELECT_STORED} ORDER BY l.seq");
        let mut stmt = conn.prepare(&sql).map_err(fail)?;
        let mut rows = stmt.query([]).map_err(fail)?;
        while let Some(r) = rows.next().map_err(fail)? {
            let ev_change: Option<String> = r.get(21).map_err(fail)?;
            let raw = RawStored {
                seq: r.get(0).map_err(fail)?,
                occurred_at: r.get(1).map_err(fail)?,
                contact_point_id: r.get(2).map_err(fail)?,
                subject_kind: r.get(3).map_err(fail)?,
                subject_id: r.get(4).map_err(fail)?,
                channel: r.get(5).map_err(fail)?,
                old_value: r.get(6).map_err(fail)?,
                new_value: r.get(7).map_err(fail)?,
                custodian_confirmed: r.get(8).map_err(fail)?,
                actor_kind: r.get(9).map_err(fail)?,
                actor_id: r.get(10).map_err(fail)?,
                source: r.get(11).map_err(fail)?,
                change_id: r.get(12).map_err(fail)?,
                form_version: r.get(13).map_err(fail)?,
                language: r.get(14).map_err(fail)?,
                request_id: r.get(15).map_err(fail)?,
                evidence_digest: r.get(16).map_err(fail)?,
                prev_hash: r.get(17).map_err(fail)?,
                hash: r.get(18).map_err(fail)?,
                confirmation: r.get(19).map_err(fail)?,
                evidence_key: r.get(20).map_err(fail)?,
                evidence: match ev_change {
                    None => None,
                    Some(_) => Some((
                        r.get(22).map_err(fail)?,
                        r.get(23).map_err(fail)?,
                        r.get(24).map_err(fail)?,
                        r.get(25).map_err(fail)?,
                    )),
                },
                fact_old: r.get(26).map_err(fail)?,
                fact_new: r.get(27).map_err(fail)?,
            };
            scan.record(raw.parse()?);
        }
        scan.end_of_ledger();
        let mut stmt = conn.prepare(SELECT_STATES).map_err(fail)?;
        let mut rows = stmt.query([]).map_err(fail)?;
        while let Some(r) = rows.next().map_err(fail)? {
            scan.state(RawState {
                contact_point_id: r.get(0).map_err(fail)?,
                subject_kind: r.get(1).map_err(fail)?,
                subject_id: r.get(2).map_err(fail)?,
                channel: r.get(3).map_err(fail)?,
                value: r.get(4).map_err(fail)?,
                custodian_confirmed: r.get(5).map_err(fail)?,
                ledger_seq: r.get(6).map_err(fail)?,
            })?;
        }
    }
    conn.execute_batch("ROLLBACK").map_err(fail)?;
    Ok(())
}

/// Reads the ledger and the state table on a PostgreSQL connection, in the snapshot of the
/// transaction it is in.
async fn scan_pg(c: &mut sqlx::PgConnection, scan: &mut Scan<'_, '_>) -> Result<()> {
    use futures_util::StreamExt as _;
    {
        let sql = format!("{SELECT_STORED} ORDER BY l.seq");
        let mut rows = sqlx::query(&sql).fetch(&mut *c);
        while let Some(row) = rows.next().await {
            scan.record(stored_record(&row?)?);
        }
    }
    scan.end_of_ledger();
    let mut rows = sqlx::query(SELECT_STATES).fetch(&mut *c);
    while let Some(r) = rows.next().await {
        let r = r?;
        scan.state(RawState {
            contact_point_id: r.col("contact_point_id")?,
            subject_kind: r.col("subject_kind")?,
            subject_id: r.col("subject_id")?,
            channel: r.col("channel")?,
            value: r.col("value")?,
            custodian_confirmed: r.col("custodian_confirmed")?,
            ledger_seq: r.col("ledger_seq")?,
        })?;
    }
    Ok(())
}

/// The records one action produced for one contact's points, in order.
pub async fn by_change(read: &Reader, change_id: &str, contact_id: i64) -> Result<Vec<Record>> {
    Ok(stored_by_change(read, change_id, contact_id)
        .await?
        .into_iter()
        .map(|s| s.record)
        .collect())
}

/// The same records as stored, with their hashes (what a receipt names).
pub async fn stored_by_change(
    read: &Reader,
    change_id: &str,
    contact_id: i64,
) -> Result<Vec<Stored>> {
    let sql = format!(
        "{SELECT_STORED} JOIN contact_points cp ON cp.id = l.contact_point_id
         WHERE l.change_id = $1 AND cp.contact_id = $2 ORDER BY l.seq"
    );
    read!(read, c => sqlx::query(&sql)
        .bind(change_id)
        .bind(contact_id)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(stored_record)
        .collect())
}

/// Where a record named by a receipt stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The ledger has no record with that number.
    Missing,
    /// The ledger's record with that number has another hash.
    HashDiffers,
    /// The record is there; `current` when the state it set is still the contact's state
    /// (no later record changed it, and the contact was not erased).
    Holds { current: bool },
}

/// The standing of each `(seq, hash)`, in one snapshot. At most [`MAX_NAMED`] at once.
pub async fn standing(read: &Reader, named: &[(i64, Hash)]) -> Result<Vec<Standing>> {
    if named.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=named.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT l.seq, l.hash, s.ledger_seq
         FROM consent_ledger l LEFT JOIN consent_states s
           ON s.contact_point_id = l.contact_point_id AND s.subject_kind = l.subject_kind
          AND s.subject_id = l.subject_id AND s.channel = l.channel
         WHERE l.seq IN ({})",
        marks.join(", ")
    );
    let found: HashMap<i64, (Vec<u8>, Option<i64>)> = read!(read, c => {
        let mut q = sqlx::query(&sql);
        for (seq, _) in named {
            q = q.bind(*seq);
        }
        q.fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| Ok((r.col("seq")?, (r.col("hash")?, r.col("ledger_seq")?))))
            .collect::<Result<_>>()
    })?;
    Ok(named
        .iter()
        .map(|(seq, hash)| match found.get(seq) {
            None => Standing::Missing,
            Some((h, _)) if h[..] != hash[..] => Standing::HashDiffers,
            Some((_, state)) => Standing::Holds {
                current: *state == Some(*seq),
            },
        })
        .collect())
}

/// The most records [`standing`] looks up at once (a receipt of one change names far fewer).
pub const MAX_NAMED: usize = 1000;

/// The stored records from `seq` on, in order, with their hashes and evidence (tools and tests
/// that look at the chain itself).
pub async fn records_from(read: &Reader, seq: i64) -> Result<Vec<Stored>> {
    let sql = format!("{SELECT_STORED} WHERE l.seq >= $1 ORDER BY l.seq");
    read!(read, c => sqlx::query(&sql)
        .bind(seq)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(stored_record)
        .collect())
}

/// How many records the ledger holds.
pub async fn count(read: &Reader) -> Result<i64> {
    read!(read, c => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM consent_ledger")
        .fetch_one(&mut *c)
        .await?))
}

/// What `ledger verify` found.
#[derive(Debug, serde::Serialize)]
pub struct VerifyReport {
    pub records: u64,
    /// The hash of the last record, hex.
    pub head: String,
    /// The first break in the chain, if any.
    pub chain_error: Option<String>,
    /// The record the chain breaks at.
    pub first_bad_record: Option<i64>,
    /// State rows that differ from a replay of the ledger.
    pub state_mismatches: Vec<String>,
    /// Signing keys whose recorded public key this secret does not derive.
    pub key_errors: Vec<String>,
    /// Stored checkpoints whose signature and head hold.
    pub checkpoints_verified: u64,
    /// Checkpoints that do not hold: (which, why). A given one (`--checkpoint`) is named
    /// "given".
    pub checkpoint_errors: Vec<(String, String)>,
    /// The latest stored checkpoint's record, if any.
    pub latest_checkpoint: Option<i64>,
    /// Erasure records, each with the records whose personal evidence it voided.
    pub erasures: Vec<ledger::Erasure>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.chain_error.is_none()
            && self.state_mismatches.is_empty()
            && self.key_errors.is_empty()
            && self.checkpoint_errors.is_empty()
    }
}

type StateKey = (i64, Subject, Channel);

/// Verifies the ledger in one read-only snapshot (so it can run beside a live server): the
/// hash chain, each record's old value against the state before it, the state table against
/// a replay (no missing and no extra rows), the signing keys against the ones `key` derives,
/// and every stored checkpoint and the `given` ones (signature, and that the ledger still
/// holds the head each vouches for).
pub async fn verify(read: &Reader, key: &[u8], given: &[Checkpoint]) -> Result<VerifyReport> {
    let mut verifier = Verifier::new(key);
    let mut chain_error = None;
    let mut actual: BTreeMap<StateKey, (ConsentValue, bool, i64)> = BTreeMap::new();
    let file = read.sqlite_file();
    let mut conn = read.acquire().await?;
    let (keys, stored, wanted) = {
        let out: Result<_> = on!(conn.conn(), c => async {
            begin_snapshot(ConnMut::from(&mut *c)).await?;
            let keys = proof::public_keys_in(ConnMut::from(&mut *c)).await?;
            let stored = proof::checkpoints_in(ConnMut::from(&mut *c)).await?;
            let mut wanted: HashMap<i64, Option<Hash>> = stored
                .iter()
                .chain(given)
                .map(|cp| (cp.seq, None))
                .collect();
            let mut scan = Scan {
                verifier: &mut verifier,
                chain_error: &mut chain_error,
                wanted: &mut wanted,
                actual: &mut actual,
            };
            match (ConnMut::from(&mut *c), &file) {
                (ConnMut::Postgres(c), _) => scan_pg(c, &mut scan).await?,
                // The file's ledger and states in a snapshot of their own, taken after this
                // one: the keys and checkpoints read here are all still there (append-only),
                // so every checkpoint read vouches for a record the later snapshot holds.
                (ConnMut::Sqlite(_), Some(path)) => scan_sqlite_file(path, &mut scan)?,
                (ConnMut::Sqlite(_), None) => {
                    return Err(StoreError::Missing("an SQLite database without a file".into()))
                }
            }
            sqlx::Executor::execute(&mut *c, "ROLLBACK").await?;
            Ok((keys, stored, wanted))
        }
        .await);
        conn.checked(out)?
    };
    drop(conn);

    let mut state_mismatches = Vec::new();
    if chain_error.is_none() {
        for (k, e) in verifier.states() {
            let want = (e.value, e.custodian_confirmed, e.record);
            if actual.get(k) != Some(&want) {
                state_mismatches.push(format!(
                    "contact point {} {} {} on {}: ledger says {} (record {}), state table says {}",
                    k.0,
                    k.1.kind_str(),
                    k.1.id(),
                    k.2,
                    e.value.as_str(),
                    e.record,
                    actual
                        .get(k)
                        .map(|a| format!("{} (record {})", a.0.as_str(), a.2))
                        .unwrap_or_else(|| "nothing".into())
                ));
            }
        }
        for k in actual.keys().filter(|k| !verifier.states().contains_key(k)) {
            state_mismatches.push(format!(
                "contact point {} {} {} on {}: state without any ledger record",
                k.0,
                k.1.kind_str(),
                k.1.id(),
                k.2
            ));
        }
    }

    let key_errors: Vec<String> = keys
        .iter()
        .filter(|k| {
            k.verifying_key().map(|v| v.to_bytes())
                != Some(signing_key(key, &k.id).verifying_key().to_bytes())
        })
        .map(|k| {
            format!(
                "signing key {} is not this deployment's (the secret derives another)",
                k.id
            )
        })
        .collect();
    let mut checkpoint_errors = Vec::new();
    let mut checkpoints_verified = 0;
    let named = stored
        .iter()
        .enumerate()
        .map(|(i, cp)| {
            (
                format!("stored checkpoint {} (record {})", i + 1, cp.seq),
                cp,
            )
        })
        .chain(
            given
                .iter()
                .map(|cp| (format!("given checkpoint (record {})", cp.seq), cp)),
        );
    for (i, (name, cp)) in named.enumerate() {
        let hash = wanted.get(&cp.seq).copied().flatten();
        match cp
            .check_signature(&keys)
            .and_then(|()| cp.check_against(hash.as_ref()))
        {
            Ok(()) if i < stored.len() => checkpoints_verified += 1,
            Ok(()) => {}
            Err(e) => checkpoint_errors.push((name, e.to_string())),
        }
    }
    Ok(VerifyReport {
        records: verifier.checked,
        head: hex(&verifier.head()),
        first_bad_record: chain_error.as_ref().map(ChainError::seq),
        chain_error: chain_error.map(|e| e.to_string()),
        state_mismatches,
        key_errors,
        checkpoints_verified,
        checkpoint_errors,
        latest_checkpoint: stored.last().map(|cp| cp.seq),
        erasures: verifier.erasures().to_vec(),
    })
}

/// What an API answer says about the ledger record it rests on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RecordSummary {
    pub seq: i64,
    pub occurred_at: String,
    pub value: String,
    pub source: String,
    pub actor_kind: String,
    pub change_id: String,
    pub form_version: Option<i64>,
    pub language: Option<String>,
}

/// The columns of a [`RecordSummary`], in its fields' order.
const SUMMARY_SQL: &str = "SELECT seq, occurred_at, new_value, source, actor_kind, change_id,
        form_version, language
     FROM consent_ledger WHERE seq = $1";

/// [`record_summary`]'s statement, kept on every inline connection.
static SUMMARY: KeptSql = KeptSql {
    slot: Slot::Record,
    sql: || SUMMARY_SQL,
};

/// [`record_summary`] on an inline connection (within its read transaction).
pub(super) fn record_summary_inline(
    c: &Inline,
    seq: i64,
) -> rusqlite::Result<Option<RecordSummary>> {
    let mut stmt = c.kept(&SUMMARY)?;
    let mut rows = stmt.query([seq])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(RecordSummary {
        seq: r.get(0)?,
        occurred_at: r.get(1)?,
        value: r.get(2)?,
        source: r.get(3)?,
        actor_kind: r.get(4)?,
        change_id: r.get(5)?,
        form_version: r.get(6)?,
        language: r.get(7)?,
    }))
}

/// The record a decision rests on. On SQLite it is read inline like the decision's own lookup
/// (`contacts::addressed`): through the pool it cost a decision of a contact with states half
/// its rate and most of its p99 (25,400/s and p99 94–141 ms against 43,000/s and 5–7 ms).
pub async fn record_summary(read: &Reader, seq: i64) -> Result<Option<RecordSummary>> {
    if let Some(inline) = read.inline() {
        let found = inline.with(|c| record_summary_inline(c, seq))?;
        if let Some(found) = found {
            return Ok(found);
        }
    }
    read!(read, c => {
        let Some(r) = sqlx::query(SUMMARY_SQL)
        .bind(seq)
        .fetch_optional(&mut *c)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(RecordSummary {
            seq: r.col("seq")?,
            occurred_at: r.col::<Ts>("occurred_at")?.into_string(),
            value: r.col("new_value")?,
            source: r.col("source")?,
            actor_kind: r.col("actor_kind")?,
            change_id: r.col("change_id")?,
            form_version: r.col("form_version")?,
            language: r.col("language")?,
        }))
    })
}

/// A ledger record as the API's history and changes feed give it (no personal evidence).
#[derive(Debug, Clone)]
pub struct FeedRow {
    pub seq: i64,
    pub occurred_at: String,
    pub kind: String,
    /// `None` once the contact was erased.
    pub address: Option<String>,
    pub contact_id: i64,
    pub profile_id: i64,
    pub subject: Subject,
    pub channel: String,
    pub old_value: String,
    pub new_value: String,
    pub actor_kind: String,
    pub source: String,
    pub change_id: String,
    pub form_version: Option<i64>,
    pub language: Option<String>,
    /// A profile record's values.
    pub fact: Option<FactValues>,
}

/// Which records a page of the feed holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct FeedPage {
    /// Only this profile's contacts.
    pub profile: Option<i64>,
    /// Only this contact point's records.
    pub point: Option<i64>,
    /// Records after this one, oldest first (the changes feed)…
    pub after: Option<i64>,
    /// …or before this one, newest first (a contact's history).
    pub before: Option<i64>,
    pub newest_first: bool,
    pub limit: i64,
}

/// A page of ledger records (one query; the clauses it needs only).
pub async fn feed(read: &Reader, page: FeedPage) -> Result<Vec<FeedRow>> {
    let mut sql = String::from(
        "SELECT l.seq, l.occurred_at, cp.kind, cp.address, c.id AS contact_id, c.profile_id,
                l.subject_kind,
                l.subject_id, l.channel, l.old_value, l.new_value, l.actor_kind, l.source,
                l.change_id, l.form_version, l.language, l.fact_old, l.fact_new
         FROM consent_ledger l
         JOIN contact_points cp ON cp.id = l.contact_point_id
         JOIN contacts c ON c.id = cp.contact_id
         WHERE 1 = 1",
    );
    let mut n = 0;
    let mut param = |sql: &mut String, clause: &str| {
        n += 1;
        sql.push_str(&clause.replace('?', &format!("${n}")));
    };
    if page.profile.is_some() {
        param(&mut sql, " AND c.profile_id = ?");
    }
    if page.point.is_some() {
        param(&mut sql, " AND l.contact_point_id = ?");
    }
    if page.after.is_some() {
        param(&mut sql, " AND l.seq > ?");
    }
    if page.before.is_some() {
        param(&mut sql, " AND l.seq < ?");
    }
    sql.push_str(if page.newest_first {
        " ORDER BY l.seq DESC"
    } else {
        " ORDER BY l.seq"
    });
    param(&mut sql, " LIMIT ?");
    read!(read, c => {
        let mut q = sqlx::query(&sql);
        for v in [page.profile, page.point, page.after, page.before].into_iter().flatten() {
            q = q.bind(v);
        }
        let rows = q.bind(page.limit).persistent(false).fetch_all(&mut *c).await?;
        rows.iter()
            .map(|r| {
                let sk: String = r.col("subject_kind")?;
                let subject = Subject::from_parts(&sk, r.col("subject_id")?)
                    .ok_or_else(|| StoreError::Corrupt(format!("subject {sk}")))?;
                Ok(FeedRow {
                    seq: r.col("seq")?,
                    occurred_at: r.col::<Ts>("occurred_at")?.into_string(),
                    kind: r.col("kind")?,
                    address: r.col("address")?,
                    contact_id: r.col("contact_id")?,
                    profile_id: r.col("profile_id")?,
                    subject,
                    channel: r.col("channel")?,
                    old_value: r.col("old_value")?,
                    new_value: r.col("new_value")?,
                    actor_kind: r.col("actor_kind")?,
                    source: r.col("source")?,
                    change_id: r.col("change_id")?,
                    form_version: r.col("form_version")?,
                    language: r.col("language")?,
                    fact: matches!(subject, Subject::Profile(_)).then_some(FactValues {
                        old: r.col("fact_old")?,
                        new: r.col("fact_new")?,
                    }),
                })
            })
            .collect()
    })
}
