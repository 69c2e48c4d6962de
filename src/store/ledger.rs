//! The consent ledger: append (for the writer), read back, verify the chain, and check that
//! the current state equals a replay of the ledger.

use super::backend::{begin_snapshot, on, read, ConnMut, DbRow, Ts};
use super::{proof, Reader};
use super::{Result, StoreError};
use crate::domain::ledger::{self, ChainError, Evidence, Hash, Record, Stored, Verifier};
use crate::domain::proof::{hex, signing_key, Checkpoint};
use crate::domain::{ActorKind, Channel, ConsentValue, Source, Subject};
use sqlx::QueryBuilder;
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

/// Appends records, their evidence and the states they set, in three statements, inside the
/// caller's transaction. SQLite takes multi-row `VALUES`; PostgreSQL takes one array per
/// column (`UNNEST`) in a single statement: its text is the same whatever the batch size, so
/// it is prepared once per connection instead of once per size, PostgreSQL plans no long
/// `VALUES` list (the writer's PostgreSQL session was its busiest process under one-click
/// load), and the three inserts cost one round trip.
pub async fn append(conn: ConnMut<'_>, records: &[NewRecord]) -> Result<()> {
    match conn {
        ConnMut::Postgres(c) => append_pg(c, records).await,
        sqlite => append_values(sqlite, records).await,
    }
}

async fn append_pg(conn: &mut sqlx::PgConnection, records: &[NewRecord]) -> Result<()> {
    let rs: Vec<&Record> = records.iter().map(|n| &n.record).collect();
    let mut with_evidence: Vec<&NewRecord> =
        records.iter().filter(|n| !n.evidence.is_empty()).collect();
    with_evidence.dedup_by(|a, b| a.record.change_id == b.record.change_id);
    let last: Vec<&Record> = last_per_key(records.iter().map(|n| &n.record));
    // One statement, one round trip: the records, their evidence and the states they set.
    sqlx::query(
        "WITH records AS (
             INSERT INTO consent_ledger (seq, occurred_at, contact_point_id, subject_kind,
                 subject_id, channel, old_value, new_value, custodian_confirmed, actor_kind,
                 actor_id, source, change_id, form_version, language, request_id,
                 evidence_digest, prev_hash, hash, confirmation, evidence_key)
             SELECT * FROM UNNEST($1::bigint[], $2::timestamptz[], $3::bigint[], $4::text[],
                 $5::bigint[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[],
                 $11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[], $16::text[],
                 $17::bytea[], $18::bytea[], $19::bytea[], $20::text[], $33::text[])
         ), evidence AS (
             INSERT INTO ledger_evidence (change_id, justification, ip, user_agent, salt)
             SELECT * FROM UNNEST($21::text[], $22::text[], $23::text[], $24::text[],
                 $34::bytea[])
             ON CONFLICT (change_id) DO NOTHING
         )
         INSERT INTO consent_states (contact_point_id, subject_kind, subject_id, channel, value,
             custodian_confirmed, ledger_seq, set_at)
         SELECT * FROM UNNEST($25::bigint[], $26::text[], $27::bigint[], $28::text[],
             $29::text[], $30::boolean[], $31::bigint[], $32::timestamptz[])
         ON CONFLICT (contact_point_id, subject_kind, subject_id, channel) DO UPDATE SET
         value = excluded.value, custodian_confirmed = excluded.custodian_confirmed,
         ledger_seq = excluded.ledger_seq, set_at = excluded.set_at",
    )
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
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The last record of each (contact point, subject, channel) key: the state it leaves. An
/// erasure record leaves no state of its point (the erasure deletes the point's rows).
fn last_per_key<'a>(records: impl Iterator<Item = &'a Record>) -> Vec<&'a Record> {
    let mut last: BTreeMap<(i64, Subject, Channel), &Record> = BTreeMap::new();
    for r in records {
        if r.subject == Subject::Erasure {
            last.retain(|k, _| k.0 != r.contact_point_id);
            continue;
        }
        last.insert((r.contact_point_id, r.subject, r.channel), r);
    }
    last.into_values().collect()
}

async fn append_values(conn: ConnMut<'_>, records: &[NewRecord]) -> Result<()> {
    on!(conn, conn => {
    // SQLite allows 32766 bound parameters, PostgreSQL 65535; 20 per row keeps a chunk of 500
    // well inside both.
    for chunk in records.chunks(500) {
        let mut q = QueryBuilder::new(
            "INSERT INTO consent_ledger (seq, occurred_at, contact_point_id, subject_kind, subject_id,
             channel, old_value, new_value, custodian_confirmed, actor_kind, actor_id, source,
             change_id, form_version, language, request_id, evidence_digest, prev_hash, hash,
             confirmation, evidence_key) ",
        );
        q.push_values(chunk, |mut b, n| {
            let r = &n.record;
            b.push_bind(r.seq)
                .push_bind(Ts(r.occurred_at.clone()))
                .push_bind(r.contact_point_id)
                .push_bind(r.subject.kind_str())
                .push_bind(r.subject.id())
                .push_bind(r.channel.as_str())
                .push_bind(r.old_value.as_str())
                .push_bind(r.new_value.as_str())
                .push_bind(r.custodian_confirmed)
                .push_bind(r.actor_kind.as_str())
                .push_bind(r.actor_id.clone())
                .push_bind(r.source.as_str())
                .push_bind(r.change_id.clone())
                .push_bind(r.form_version)
                .push_bind(r.language.clone())
                .push_bind(r.request_id.clone())
                .push_bind(n.evidence_digest.to_vec())
                .push_bind(n.prev_hash.to_vec())
                .push_bind(n.hash.to_vec())
                .push_bind(r.confirmation.clone())
                .push_bind(r.evidence_key.clone());
        });
        q.build().execute(&mut *conn).await?;

        // One evidence row per action, shared by its (contiguous) records.
        let mut with_evidence: Vec<&NewRecord> =
            chunk.iter().filter(|n| !n.evidence.is_empty()).collect();
        with_evidence.dedup_by(|a, b| a.record.change_id == b.record.change_id);
        if !with_evidence.is_empty() {
            let mut q = QueryBuilder::new(
                "INSERT INTO ledger_evidence (change_id, justification, ip, user_agent, salt) ",
            );
            q.push_values(with_evidence, |mut b, n| {
                b.push_bind(n.record.change_id.clone())
                    .push_bind(n.evidence.justification.clone())
                    .push_bind(n.evidence.ip.clone())
                    .push_bind(n.evidence.user_agent.clone())
                    .push_bind(n.evidence.salt.map(|s| s.to_vec()));
            });
            // An action split across chunks already has its row.
            q.push(" ON CONFLICT (change_id) DO NOTHING");
            q.build().execute(&mut *conn).await?;
        }

        // The projection: the last record per key wins (records are in seq order).
        let last = last_per_key(chunk.iter().map(|n| &n.record));
        if last.is_empty() {
            continue; // erasure records only: no state to write
        }
        let mut q = QueryBuilder::new(
            "INSERT INTO consent_states (contact_point_id, subject_kind, subject_id, channel, value,
             custodian_confirmed, ledger_seq, set_at) ",
        );
        q.push_values(last, |mut b, r| {
            b.push_bind(r.contact_point_id)
                .push_bind(r.subject.kind_str())
                .push_bind(r.subject.id())
                .push_bind(r.channel.as_str())
                .push_bind(r.new_value.as_str())
                .push_bind(r.custodian_confirmed)
                .push_bind(r.seq)
                .push_bind(Ts(r.occurred_at.clone()));
        });
        q.push(
            " ON CONFLICT (contact_point_id, subject_kind, subject_id, channel) DO UPDATE SET
              value = excluded.value, custodian_confirmed = excluded.custodian_confirmed,
              ledger_seq = excluded.ledger_seq, set_at = excluded.set_at",
        );
        q.build().execute(&mut *conn).await?;
    }
    });
    Ok(())
}

const SELECT_STORED: &str =
    "SELECT l.seq, l.occurred_at, l.contact_point_id, l.subject_kind, l.subject_id, l.channel,
        l.old_value, l.new_value, l.custodian_confirmed, l.actor_kind, l.actor_id, l.source,
        l.change_id, l.form_version, l.language, l.request_id, l.evidence_digest, l.prev_hash,
        l.hash, l.confirmation, l.evidence_key, e.change_id AS ev_change, e.justification, e.ip,
        e.user_agent, e.salt
     FROM consent_ledger l LEFT JOIN ledger_evidence e ON e.change_id = l.change_id";

fn stored_record(r: &impl DbRow) -> Result<Stored> {
    let bad = |what: String| StoreError::Corrupt(what);
    let s = |name: &str| -> Result<String> { r.col::<String>(name) };
    let sk = s("subject_kind")?;
    let ch = s("channel")?;
    let (ov, nv, ak, src) = (
        s("old_value")?,
        s("new_value")?,
        s("actor_kind")?,
        s("source")?,
    );
    let record = Record {
        seq: r.col("seq")?,
        occurred_at: r.col::<Ts>("occurred_at")?.0,
        contact_point_id: r.col("contact_point_id")?,
        subject: Subject::from_parts(&sk, r.col("subject_id")?).ok_or_else(|| bad(sk.clone()))?,
        channel: Channel::parse(&ch).ok_or_else(|| bad(ch.clone()))?,
        old_value: ConsentValue::parse(&ov).ok_or_else(|| bad(ov.clone()))?,
        new_value: ConsentValue::parse(&nv).ok_or_else(|| bad(nv.clone()))?,
        custodian_confirmed: r.col("custodian_confirmed")?,
        actor_kind: ActorKind::parse(&ak).ok_or_else(|| bad(ak.clone()))?,
        actor_id: r.col("actor_id")?,
        source: Source::parse(&src).ok_or_else(|| bad(src.clone()))?,
        change_id: s("change_id")?,
        form_version: r.col("form_version")?,
        language: r.col("language")?,
        request_id: r.col("request_id")?,
        confirmation: r.col("confirmation")?,
        evidence_key: r.col("evidence_key")?,
    };
    let ev_change: Option<String> = r.col("ev_change")?;
    let evidence = ev_change
        .map(|_| -> Result<Evidence> {
            Ok(Evidence {
                justification: r.col("justification")?,
                ip: r.col("ip")?,
                user_agent: r.col("user_agent")?,
                salt: r
                    .col::<Option<Vec<u8>>>("salt")?
                    .map(|v| v.try_into())
                    .transpose()
                    .map_err(|_| StoreError::Corrupt("an evidence salt is not 16 bytes".into()))?,
            })
        })
        .transpose()?;
    Ok(Stored {
        record,
        // No row: written without personal evidence, erased, or removed (the verifier tells).
        evidence,
        evidence_digest: to_hash(r.col("evidence_digest")?)?,
        prev_hash: to_hash(r.col("prev_hash")?)?,
        hash: to_hash(r.col("hash")?)?,
    })
}

/// The records one action produced for one contact's points, in order.
pub async fn by_change(read: &Reader, change_id: &str, contact_id: i64) -> Result<Vec<Record>> {
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
        .map(|r| stored_record(r).map(|s| s.record))
        .collect())
}

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

fn state_entry(r: &impl DbRow) -> Result<(StateKey, (ConsentValue, bool, i64))> {
    let sk: String = r.col("subject_kind")?;
    let ch: String = r.col("channel")?;
    let v: String = r.col("value")?;
    let key = (
        r.col("contact_point_id")?,
        Subject::from_parts(&sk, r.col("subject_id")?).ok_or(StoreError::Corrupt(sk))?,
        Channel::parse(&ch).ok_or(StoreError::Corrupt(ch))?,
    );
    let val = (
        ConsentValue::parse(&v).ok_or(StoreError::Corrupt(v))?,
        r.col("custodian_confirmed")?,
        r.col("ledger_seq")?,
    );
    Ok((key, val))
}

/// Verifies the ledger in one read-only snapshot (so it can run beside a live server): the
/// hash chain, each record's old value against the state before it, the state table against
/// a replay (no missing and no extra rows), the signing keys against the ones `key` derives,
/// and every stored checkpoint and the `given` ones (signature, and that the ledger still
/// holds the head each vouches for).
pub async fn verify(read: &Reader, key: &[u8], given: &[Checkpoint]) -> Result<VerifyReport> {
    use futures_util::StreamExt as _;
    let mut verifier = Verifier::new(key);
    let mut chain_error = None;
    let mut actual: BTreeMap<StateKey, (ConsentValue, bool, i64)> = BTreeMap::new();
    let mut conn = read.acquire().await?;
    let (keys, stored, wanted) = {
        let out: Result<_> = on!(conn.conn(), c => async {
            begin_snapshot(ConnMut::from(&mut *c)).await?;
            let keys = proof::public_keys_in(ConnMut::from(&mut *c)).await?;
            let stored = proof::checkpoints_in(ConnMut::from(&mut *c)).await?;
            // The hash of every record a checkpoint vouches for, read as the chain streams by.
            let mut wanted: HashMap<i64, Option<Hash>> = stored
                .iter()
                .chain(given)
                .map(|cp| (cp.seq, None))
                .collect();
            let sql = format!("{SELECT_STORED} ORDER BY l.seq");
            let mut rows = sqlx::query(&sql).fetch(&mut *c);
            while let Some(row) = rows.next().await {
                let s = stored_record(&row?)?;
                if let Some(slot) = wanted.get_mut(&s.record.seq) {
                    *slot = Some(s.hash);
                }
                if chain_error.is_none() {
                    if let Err(e) = verifier.feed(&s) {
                        chain_error = Some(e);
                    }
                }
            }
            drop(rows);
            if chain_error.is_none() {
                chain_error = verifier.finish().err();
            }
            for r in sqlx::query(
                "SELECT contact_point_id, subject_kind, subject_id, channel, value,
                        custodian_confirmed, ledger_seq
                 FROM consent_states",
            )
            .fetch_all(&mut *c)
            .await?
            {
                let (key, val) = state_entry(&r)?;
                actual.insert(key, val);
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
