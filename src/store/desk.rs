//! The staff desk's reads: contacts found by the start of a word of their name, address or
//! number (`domain::search`), and one contact whole (its points, facts, states, and the
//! records its states rest on).

use super::backend::{on, read, DbRow, Ts};
use super::contacts::StateRow;
use super::{Reader, Result, StoreError};
use crate::domain::search::prefix_range;
use crate::domain::{ActorKind, ConsentLevel, FactValues, PointKind, ProfileFact, Source};

/// Matching rows of the driving word's range kept, at most (a one-letter search of a million
/// contacts stays fast; its first matches, in term order, are shown).
const SCAN: i64 = 500;

/// Rows of the driving word's range looked at, at most, when other words must match too (two
/// common words that rarely meet do not scan a whole range): each costs a probe of the other
/// words' terms, so this bounds a search's work (a few milliseconds over 1,000,000 contacts).
const DRIVE: i64 = 1500;

/// A contact as a search lists it.
#[derive(Debug, Clone)]
pub struct Found {
    pub contact_id: i64,
    pub profile_id: i64,
    pub name: Option<String>,
    /// Live addresses: (kind, address).
    pub points: Vec<(PointKind, String)>,
    pub erased: bool,
    pub created_at: String,
}

/// What a search found: the contacts, and whether every word's matches were looked at (when
/// the rarest word of several is common, only its first terms are, and more typing finds the
/// rest).
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub found: Vec<Found>,
    pub partial: bool,
}

/// The contacts having, for each word, a term starting with it; the first `limit`, in the
/// order of the first word's matching term.
pub async fn search(read: &Reader, words: &[String], limit: i64) -> Result<Search> {
    if words.is_empty() {
        return Ok(Search::default());
    }
    let mut partial = false;
    // The word with the fewest terms drives; the others are checked per contact.
    let mut words: Vec<&String> = words.iter().collect();
    if words.len() > 1 {
        let mut counted = Vec::with_capacity(words.len());
        for w in words {
            let (lo, hi) = prefix_range(w);
            let n: i64 = read!(read, c => Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM contact_terms
                 WHERE term >= $1 AND term < $2 LIMIT $3) x",
            )
            .bind(lo.as_str())
            .bind(hi.as_str())
            .bind(DRIVE + 1)
            .fetch_one(&mut *c)
            .await?))?;
            counted.push((n, w));
        }
        counted.sort_by_key(|(n, _)| *n);
        partial = counted[0].0 > DRIVE;
        words = counted.into_iter().map(|(_, w)| w).collect();
    }
    let (first, rest) = words.split_first().expect("one word at least");
    let mut sql = String::from(
        "SELECT contact_id, MIN(term) AS first FROM (
             SELECT t0.contact_id, t0.term FROM (
                 SELECT contact_id, term FROM contact_terms
                 WHERE term >= $1 AND term < $2 ORDER BY term LIMIT $3) t0
             WHERE 1 = 1",
    );
    for i in 0..rest.len() {
        let (lo, hi) = (4 + 2 * i, 5 + 2 * i);
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM contact_terms t{n} WHERE t{n}.contact_id = t0.contact_id
                 AND t{n}.term >= ${lo} AND t{n}.term < ${hi})",
            n = i + 1
        ));
    }
    // No ORDER BY here: the driving range is read in term order and the scan stops at the
    // limit, instead of checking all of it and sorting what matched.
    let n = 4 + 2 * rest.len();
    sql.push_str(&format!(
        " LIMIT ${n}) m GROUP BY contact_id ORDER BY first, contact_id LIMIT ${}",
        n + 1
    ));
    let ranges: Vec<(String, String)> = std::iter::once(first)
        .chain(rest)
        .map(|w| prefix_range(w))
        .collect();
    let drive = if rest.is_empty() { SCAN } else { DRIVE };
    let ids: Vec<i64> = read!(read, c => {
        let mut q = sqlx::query(&sql);
        for (i, (lo, hi)) in ranges.iter().enumerate() {
            q = q.bind(lo.as_str()).bind(hi.as_str());
            if i == 0 {
                q = q.bind(drive);
            }
        }
        q.bind(SCAN)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| r.col::<i64>("contact_id"))
            .collect::<Result<Vec<_>>>()
    })?;
    let mut found = contacts_by_id(read, &ids).await?;
    found.sort_by_key(|f| ids.iter().position(|i| *i == f.contact_id));
    Ok(Search { found, partial })
}

/// These contacts (any order), with their live addresses.
async fn contacts_by_id(read: &Reader, ids: &[i64]) -> Result<Vec<Found>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = (1..=ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",");
    let contacts_sql = format!(
        "SELECT id, profile_id, name, suppressed_at IS NOT NULL AS erased, created_at
         FROM contacts WHERE id IN ({list})"
    );
    let points_sql = format!(
        "SELECT contact_id, kind, address FROM contact_points
         WHERE contact_id IN ({list}) AND address IS NOT NULL ORDER BY id"
    );
    read!(read, c => {
        let mut q = sqlx::query(&contacts_sql);
        for id in ids {
            q = q.bind(id);
        }
        let mut found = q
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| {
                Ok(Found {
                    contact_id: r.col("id")?,
                    profile_id: r.col("profile_id")?,
                    name: r.col("name")?,
                    points: Vec::new(),
                    erased: r.col("erased")?,
                    created_at: r.col::<Ts>("created_at")?.into_string(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut q = sqlx::query(&points_sql);
        for id in ids {
            q = q.bind(id);
        }
        for r in q.fetch_all(&mut *c).await? {
            let id: i64 = r.col("contact_id")?;
            let kind: String = r.col("kind")?;
            let kind = PointKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("point kind {kind}")))?;
            if let Some(f) = found.iter_mut().find(|f| f.contact_id == id) {
                f.points.push((kind, r.col("address")?));
            }
        }
        Ok(found)
    })
}

/// One contact point of a contact.
#[derive(Debug, Clone)]
pub struct Point {
    pub id: i64,
    pub kind: PointKind,
    /// `None` once erased.
    pub address: Option<String>,
    pub created_at: String,
}

/// A ledger record as the desk shows the last change of a state: when, how, by whom.
#[derive(Debug, Clone)]
pub struct LastChange {
    pub seq: i64,
    pub occurred_at: String,
    pub source: Source,
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
}

/// A contact whole, as the desk's contact page shows it.
#[derive(Debug, Clone)]
pub struct Card {
    pub id: i64,
    pub profile_id: i64,
    pub name: Option<String>,
    pub locale: Option<String>,
    pub level: ConsentLevel,
    pub is_child: bool,
    pub custodian: Option<i64>,
    pub tracking: bool,
    pub erased_at: Option<String>,
    pub created_at: String,
    pub points: Vec<Point>,
    pub states: Vec<StateRow>,
    /// The records the states rest on.
    pub changes: Vec<LastChange>,
}

/// The contact with this id, with its points, states and the records they rest on.
pub async fn card(read: &Reader, contact_id: i64) -> Result<Option<Card>> {
    let mut conn = read.acquire().await?;
    let out: Result<Option<Card>> = super::backend::on!(conn.conn(), c => async {
        let Some(r) = sqlx::query(
            "SELECT id, profile_id, name, locale, consent_level, is_child, custodian_contact_id,
                    tracking_allowed, suppressed_at, created_at
             FROM contacts WHERE id = $1",
        )
        .bind(contact_id)
        .fetch_optional(&mut *c)
        .await?
        else {
            return Ok(None);
        };
        let level: i64 = r.col("consent_level")?;
        let mut card = Card {
            id: r.col("id")?,
            profile_id: r.col("profile_id")?,
            name: r.col("name")?,
            locale: r.col("locale")?,
            level: ConsentLevel::new(level)
                .ok_or_else(|| StoreError::Corrupt(format!("level {level}")))?,
            is_child: r.col("is_child")?,
            custodian: r.col("custodian_contact_id")?,
            tracking: r.col("tracking_allowed")?,
            erased_at: r.col::<Option<Ts>>("suppressed_at")?.map(Ts::into_string),
            created_at: r.col::<Ts>("created_at")?.into_string(),
            points: Vec::new(),
            states: Vec::new(),
            changes: Vec::new(),
        };
        for r in sqlx::query(
            "SELECT id, kind, address, created_at FROM contact_points
             WHERE contact_id = $1 ORDER BY id",
        )
        .bind(contact_id)
        .fetch_all(&mut *c)
        .await?
        {
            let kind: String = r.col("kind")?;
            card.points.push(Point {
                id: r.col("id")?,
                kind: PointKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("point kind {kind}")))?,
                address: r.col("address")?,
                created_at: r.col::<Ts>("created_at")?.into_string(),
            });
        }
        Ok(Some(card))
    }
    .await);
    let Some(mut card) = conn.checked(out)? else {
        return Ok(None);
    };
    let ids: Vec<i64> = card.points.iter().map(|p| p.id).collect();
    let states = super::contacts::states_of_points(conn.conn(), &ids).await;
    card.states = conn.checked(states)?;
    let seqs: Vec<i64> = card.states.iter().map(|s| s.entry.record).collect();
    let changes = changes(conn.conn(), &seqs).await;
    card.changes = conn.checked(changes)?;
    Ok(Some(card))
}

/// The records with these sequence numbers (when, how, by whom), read on their own.
pub async fn changes_of(read: &Reader, seqs: &[i64]) -> Result<Vec<LastChange>> {
    let mut conn = read.acquire().await?;
    let out = changes(conn.conn(), seqs).await;
    conn.checked(out)
}

/// The records with these sequence numbers (when, how, by whom).
async fn changes(conn: super::backend::ConnMut<'_>, seqs: &[i64]) -> Result<Vec<LastChange>> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let list = (1..=seqs.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT seq, occurred_at, source, actor_kind, actor_id FROM consent_ledger
         WHERE seq IN ({list})"
    );
    super::backend::on!(conn, c => {
        let mut q = sqlx::query(&sql);
        for s in seqs {
            q = q.bind(s);
        }
        q.fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| {
                let source: String = r.col("source")?;
                let actor: String = r.col("actor_kind")?;
                Ok(LastChange {
                    seq: r.col("seq")?,
                    occurred_at: r.col::<Ts>("occurred_at")?.into_string(),
                    source: Source::parse(&source)
                        .ok_or_else(|| StoreError::Corrupt(format!("source {source}")))?,
                    actor_kind: ActorKind::parse(&actor)
                        .ok_or_else(|| StoreError::Corrupt(format!("actor {actor}")))?,
                    actor_id: r.col("actor_id")?,
                })
            })
            .collect()
    })
}

/// What a contact's history is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub subject: Option<crate::domain::Subject>,
    pub source: Option<Source>,
    /// From this moment (stored format), inclusive.
    pub from: Option<String>,
    /// Before this moment (stored format).
    pub to: Option<String>,
    /// Records before this sequence number (the next page).
    pub before: Option<i64>,
}

/// One ledger record of a contact, with its evidence while kept.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub seq: i64,
    pub occurred_at: String,
    pub contact_point_id: i64,
    pub subject: crate::domain::Subject,
    pub channel: crate::domain::Channel,
    pub old_value: crate::domain::ConsentValue,
    pub new_value: crate::domain::ConsentValue,
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    pub source: Source,
    pub change_id: String,
    pub justification: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A profile record's values.
    pub fact: Option<FactValues>,
}

/// The contact's ledger records, newest first, `limit` at most.
pub async fn history(
    read: &Reader,
    contact_id: i64,
    f: &HistoryFilter,
    limit: i64,
) -> Result<Vec<HistoryRow>> {
    use crate::domain::{Channel, ConsentValue, Subject};
    let mut sql = String::from(
        "SELECT l.seq, l.occurred_at, l.contact_point_id, l.subject_kind, l.subject_id, l.channel,
                l.old_value, l.new_value, l.actor_kind, l.actor_id, l.source, l.change_id,
                e.justification, e.ip, e.user_agent, l.fact_old, l.fact_new
         FROM consent_ledger l LEFT JOIN ledger_evidence e ON e.change_id = l.change_id
         WHERE l.contact_point_id IN (SELECT id FROM contact_points WHERE contact_id = $1)",
    );
    let mut n = 1;
    let mut next = |sql: &mut String, clause: &str| {
        n += 1;
        sql.push_str(&clause.replace('?', &format!("${n}")));
    };
    if f.subject.is_some() {
        next(&mut sql, " AND l.subject_kind = ?");
        next(&mut sql, " AND l.subject_id = ?");
    }
    if f.source.is_some() {
        next(&mut sql, " AND l.source = ?");
    }
    if f.from.is_some() {
        next(&mut sql, " AND l.occurred_at >= ?");
    }
    if f.to.is_some() {
        next(&mut sql, " AND l.occurred_at < ?");
    }
    if f.before.is_some() {
        next(&mut sql, " AND l.seq < ?");
    }
    next(&mut sql, " ORDER BY l.seq DESC LIMIT ?");
    read!(read, c => {
        let mut q = sqlx::query(&sql).bind(contact_id);
        if let Some(s) = f.subject {
            q = q.bind(s.kind_str()).bind(s.id());
        }
        if let Some(s) = f.source {
            q = q.bind(s.as_str());
        }
        if let Some(t) = &f.from {
            q = q.bind(Ts::new(t));
        }
        if let Some(t) = &f.to {
            q = q.bind(Ts::new(t));
        }
        if let Some(b) = f.before {
            q = q.bind(b);
        }
        let bad = |what: String| StoreError::Corrupt(what);
        q.bind(limit)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| {
                let sk: String = r.col("subject_kind")?;
                let ch: String = r.col("channel")?;
                let old: String = r.col("old_value")?;
                let new: String = r.col("new_value")?;
                let actor: String = r.col("actor_kind")?;
                let source: String = r.col("source")?;
                let subject = Subject::from_parts(&sk, r.col("subject_id")?)
                    .ok_or_else(|| bad(format!("subject {sk}")))?;
                Ok(HistoryRow {
                    seq: r.col("seq")?,
                    occurred_at: r.col::<Ts>("occurred_at")?.into_string(),
                    contact_point_id: r.col("contact_point_id")?,
                    subject,
                    channel: Channel::parse(&ch).ok_or_else(|| bad(format!("channel {ch}")))?,
                    old_value: ConsentValue::parse(&old)
                        .ok_or_else(|| bad(format!("value {old}")))?,
                    new_value: ConsentValue::parse(&new)
                        .ok_or_else(|| bad(format!("value {new}")))?,
                    actor_kind: ActorKind::parse(&actor)
                        .ok_or_else(|| bad(format!("actor {actor}")))?,
                    actor_id: r.col("actor_id")?,
                    source: Source::parse(&source)
                        .ok_or_else(|| bad(format!("source {source}")))?,
                    change_id: r.col("change_id")?,
                    justification: r.col("justification")?,
                    ip: r.col("ip")?,
                    user_agent: r.col("user_agent")?,
                    fact: matches!(subject, Subject::Profile(_)).then_some(FactValues {
                        old: r.col("fact_old")?,
                        new: r.col("fact_new")?,
                    }),
                })
            })
            .collect()
    })
}

/// The states of these points as the ledger had them at `at` (stored format): each
/// subject's and channel's last record at or before it.
pub async fn states_as_of(read: &Reader, ids: &[i64], at: &str) -> Result<Vec<StateRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = (2..ids.len() + 2)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT l.contact_point_id, l.subject_kind, l.subject_id, l.channel,
                l.new_value AS value, l.custodian_confirmed, l.seq AS ledger_seq
         FROM consent_ledger l
         WHERE l.contact_point_id IN ({list}) AND l.subject_kind IN ('purpose', 'topic') AND l.seq = (
             SELECT MAX(m.seq) FROM consent_ledger m
             WHERE m.contact_point_id = l.contact_point_id
               AND m.subject_kind = l.subject_kind AND m.subject_id = l.subject_id
               AND m.channel = l.channel AND m.occurred_at <= $1)"
    );
    read!(read, c => {
        let mut q = sqlx::query(&sql).bind(Ts::new(at));
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(&mut *c)
            .await?
            .iter()
            .map(super::contacts::state_row)
            .collect()
    })
}

/// What an export of change records is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// From this moment (stored format), inclusive; before `to`.
    pub from: Option<String>,
    pub to: Option<String>,
    pub source: Option<Source>,
    pub actor: Option<ActorKind>,
    /// A purpose or topic.
    pub subject: Option<crate::domain::Subject>,
    /// One contact's records (their data package).
    pub contact: Option<i64>,
}

/// One change record as the export writes it.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub seq: i64,
    pub occurred_at: String,
    pub contact_id: i64,
    pub name: Option<String>,
    /// `None` once erased.
    pub address: Option<String>,
    pub channel: String,
    pub purpose: Option<String>,
    pub topic: Option<String>,
    pub old_value: String,
    pub new_value: String,
    pub source: String,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub change_id: String,
    pub justification: Option<String>,
}

/// The change records after `after` (a sequence number) under `f`, in ledger order, `limit`
/// at most: the export reads them a page at a time.
pub async fn export_page(
    read: &Reader,
    f: &ExportFilter,
    after: i64,
    limit: i64,
) -> Result<Vec<ExportRow>> {
    let mut sql = String::from(
        "SELECT l.seq, l.occurred_at, cp.contact_id, c.name, cp.address, l.channel,
                COALESCE(p.key, tp.key) AS purpose, t.key AS topic, l.old_value, l.new_value,
                l.source, l.actor_kind, l.actor_id, l.change_id, e.justification, l.subject_kind,
                l.subject_id, l.fact_old, l.fact_new
         FROM consent_ledger l
         JOIN contact_points cp ON cp.id = l.contact_point_id
         JOIN contacts c ON c.id = cp.contact_id
         LEFT JOIN topics t ON l.subject_kind = 'topic' AND t.id = l.subject_id
         LEFT JOIN purposes tp ON tp.id = t.purpose_id
         LEFT JOIN purposes p ON l.subject_kind = 'purpose' AND p.id = l.subject_id
         LEFT JOIN ledger_evidence e ON e.change_id = l.change_id
         WHERE l.seq > $1",
    );
    let mut n = 1;
    let mut next = |sql: &mut String, clause: &str| {
        n += 1;
        sql.push_str(&clause.replace('?', &format!("${n}")));
    };
    if f.from.is_some() {
        next(&mut sql, " AND l.occurred_at >= ?");
    }
    if f.to.is_some() {
        next(&mut sql, " AND l.occurred_at < ?");
    }
    if f.source.is_some() {
        next(&mut sql, " AND l.source = ?");
    }
    if f.actor.is_some() {
        next(&mut sql, " AND l.actor_kind = ?");
    }
    if f.subject.is_some() {
        next(&mut sql, " AND l.subject_kind = ?");
        next(&mut sql, " AND l.subject_id = ?");
    }
    if f.contact.is_some() {
        next(&mut sql, " AND cp.contact_id = ?");
    }
    next(&mut sql, " ORDER BY l.seq LIMIT ?");
    read!(read, c => {
        let mut q = sqlx::query(&sql).bind(after);
        if let Some(t) = &f.from {
            q = q.bind(Ts::new(t));
        }
        if let Some(t) = &f.to {
            q = q.bind(Ts::new(t));
        }
        if let Some(s) = f.source {
            q = q.bind(s.as_str());
        }
        if let Some(a) = f.actor {
            q = q.bind(a.as_str());
        }
        if let Some(s) = f.subject {
            q = q.bind(s.kind_str()).bind(s.id());
        }
        if let Some(contact) = f.contact {
            q = q.bind(contact);
        }
        q.bind(limit)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| {
                // A profile record: purpose `profile`, topic the fact, values the fact's.
                let kind: String = r.col("subject_kind")?;
                let fact = (kind == "profile")
                    .then(|| r.col::<i64>("subject_id"))
                    .transpose()?
                    .and_then(ProfileFact::from_id);
                let value = |col: &str, fact_col: &str| -> Result<String> {
                    Ok(match fact {
                        Some(_) => r.col::<Option<String>>(fact_col)?.unwrap_or_else(|| "none".into()),
                        None => r.col(col)?,
                    })
                };
                Ok(ExportRow {
                    seq: r.col("seq")?,
                    occurred_at: r.col::<Ts>("occurred_at")?.into_string(),
                    contact_id: r.col("contact_id")?,
                    name: r.col("name")?,
                    address: r.col("address")?,
                    channel: r.col("channel")?,
                    purpose: match fact {
                        Some(_) => Some("profile".to_owned()),
                        None => r.col("purpose")?,
                    },
                    topic: match fact {
                        Some(f) => Some(f.as_str().to_owned()),
                        None => r.col("topic")?,
                    },
                    old_value: value("old_value", "fact_old")?,
                    new_value: value("new_value", "fact_new")?,
                    source: r.col("source")?,
                    actor_kind: r.col("actor_kind")?,
                    actor_id: r.col("actor_id")?,
                    change_id: r.col("change_id")?,
                    justification: r.col("justification")?,
                })
            })
            .collect()
    })
}

/// A change of a contact's profile fact (consent level, child, custodian, tracking): a ledger
/// record of its own.
#[derive(Debug, Clone)]
pub struct ProfileChange {
    pub seq: i64,
    pub at: String,
    pub fact: ProfileFact,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub actor_kind: ActorKind,
    /// `user:{id}` for staff.
    pub actor_id: Option<String>,
    pub source: Source,
    /// Erased with the contact's evidence.
    pub justification: Option<String>,
}

/// The changes of a contact's profile facts the ledger holds, newest first (those of one
/// action, when `change_id` is given).
pub async fn profile_changes(
    read: &Reader,
    contact_id: i64,
    change_id: Option<&str>,
) -> Result<Vec<ProfileChange>> {
    read!(read, c => sqlx::query(
        "SELECT l.seq, l.occurred_at, l.subject_id, l.fact_old, l.fact_new, l.actor_kind,
                l.actor_id, l.source, e.justification
         FROM consent_ledger l LEFT JOIN ledger_evidence e ON e.change_id = l.change_id
         WHERE l.contact_point_id IN (SELECT id FROM contact_points WHERE contact_id = $1)
           AND l.subject_kind = 'profile' AND ($2 IS NULL OR l.change_id = $2)
         ORDER BY l.seq DESC",
    )
    .bind(contact_id)
    .bind(change_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        let bad = |what: String| StoreError::Corrupt(what);
        let fact: i64 = r.col("subject_id")?;
        let actor: String = r.col("actor_kind")?;
        let source: String = r.col("source")?;
        Ok(ProfileChange {
            seq: r.col("seq")?,
            at: r.col::<Ts>("occurred_at")?.into_string(),
            fact: ProfileFact::from_id(fact).ok_or_else(|| bad(format!("profile fact {fact}")))?,
            old_value: r.col("fact_old")?,
            new_value: r.col("fact_new")?,
            actor_kind: ActorKind::parse(&actor).ok_or_else(|| bad(format!("actor {actor}")))?,
            actor_id: r.col("actor_id")?,
            source: Source::parse(&source).ok_or_else(|| bad(format!("source {source}")))?,
            justification: r.col("justification")?,
        })
    })
    .collect())
}

/// A contact's profile as staff change it: consent level, child, custodian, tracking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileFacts {
    pub level: ConsentLevel,
    pub child: bool,
    pub custodian: Option<i64>,
    pub tracking: bool,
}

/// A contact's profile facts and whether it was erased, inside the writer's transaction.
pub async fn profile_facts(
    tx: &mut super::writer::Tx,
    contact_id: i64,
) -> Result<Option<(i64, ProfileFacts, bool)>> {
    on!(tx.conn(), c => {
        let Some(r) = sqlx::query(
            "SELECT profile_id, consent_level, is_child, custodian_contact_id, tracking_allowed,
                    suppressed_at IS NOT NULL AS erased
             FROM contacts WHERE id = $1",
        )
        .bind(contact_id)
        .fetch_optional(c)
        .await?
        else {
            return Ok(None);
        };
        let level: i64 = r.col("consent_level")?;
        Ok(Some((
            r.col("profile_id")?,
            ProfileFacts {
                level: ConsentLevel::new(level)
                    .ok_or_else(|| StoreError::Corrupt(format!("level {level}")))?,
                child: r.col("is_child")?,
                custodian: r.col("custodian_contact_id")?,
                tracking: r.col("tracking_allowed")?,
            },
            r.col("erased")?,
        )))
    })
}

/// The values a profile fact's record keeps, before and after.
pub fn fact_values(before: &ProfileFacts, after: &ProfileFacts) -> Vec<(ProfileFact, FactValues)> {
    let level = |l: ConsentLevel| Some(l.get().to_string());
    let flag = |b: bool| Some(if b { "yes" } else { "no" }.to_owned());
    let id = |c: Option<i64>| c.map(|c| c.to_string());
    [
        (
            ProfileFact::ConsentLevel,
            level(before.level),
            level(after.level),
        ),
        (ProfileFact::Child, flag(before.child), flag(after.child)),
        (
            ProfileFact::Custodian,
            id(before.custodian),
            id(after.custodian),
        ),
        (
            ProfileFact::Tracking,
            flag(before.tracking),
            flag(after.tracking),
        ),
    ]
    .into_iter()
    .filter(|(_, old, new)| old != new)
    .map(|(f, old, new)| (f, FactValues { old, new }))
    .collect()
}

/// The point a contact's profile records are kept on (its first live email point, else its
/// first live point; an erased one too when `erased`): erasing the contact erases it, and
/// their evidence with it.
async fn profile_point(
    tx: &mut super::writer::Tx,
    contact_id: i64,
    erased: bool,
) -> Result<Option<(i64, crate::domain::Channel)>> {
    let row: Option<(i64, String)> = on!(tx.conn(), c => sqlx::query_as(
        "SELECT id, kind FROM contact_points
         WHERE contact_id = $1 AND (address IS NOT NULL OR $2)
         ORDER BY CASE WHEN address IS NULL THEN 1 ELSE 0 END,
                  CASE kind WHEN 'email' THEN 0 ELSE 1 END, id
         LIMIT 1",
    )
    .bind(contact_id)
    .bind(erased)
    .fetch_optional(c)
    .await?);
    Ok(row.and_then(|(id, kind)| {
        let channel = match PointKind::parse(&kind)? {
            PointKind::Email => crate::domain::Channel::Email,
            PointKind::Phone => crate::domain::Channel::Phone,
        };
        Some((id, channel))
    }))
}

/// Writes a contact's profile facts, and one ledger record per fact that changed (who, how,
/// why: `meta`); returns the facts changed. A contact without a live point (none to keep the
/// records on) is left unchanged.
pub async fn set_profile(
    tx: &mut super::writer::Tx,
    contact_id: i64,
    (before, after): (ProfileFacts, ProfileFacts),
    meta: &super::writer::ChangeMeta,
) -> Result<Vec<ProfileFact>> {
    let changes = fact_values(&before, &after);
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let Some(point) = profile_point(tx, contact_id, false).await? else {
        return Ok(Vec::new());
    };
    for (fact, values) in &changes {
        tx.profile_record(point, *fact, values.clone(), meta, None);
    }
    on!(tx.conn(), c => sqlx::query(
        "UPDATE contacts SET consent_level = $2, is_child = $3, custodian_contact_id = $4,
             tracking_allowed = $5
         WHERE id = $1",
    )
    .bind(contact_id)
    .bind(i64::from(after.level.get()))
    .bind(after.child)
    .bind(after.custodian)
    .bind(after.tracking)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(changes.into_iter().map(|(f, _)| f).collect())
}

/// Moves the profile changes kept in `contact_changes` (before the ledger held them, schema
/// 24) into the ledger, each with its own time, actor, source and justification; returns how
/// many (the justifications of an erased contact's were emptied by the erasure already).
pub async fn move_kept_profile_changes(tx: &mut super::writer::Tx) -> Result<u64> {
    type Row = (
        i64,
        i64,
        Ts,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
    );
    let rows: Vec<(Row, Option<String>, String)> = on!(tx.conn(), c => {
        let rows = sqlx::query(
            "SELECT id, contact_id, at, field, old_value, new_value, actor_id, source,
                    justification, change_id
             FROM contact_changes ORDER BY id",
        )
        .fetch_all(&mut *c)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    (
                        r.col("id")?,
                        r.col("contact_id")?,
                        r.col("at")?,
                        r.col("field")?,
                        r.col("old_value")?,
                        r.col("new_value")?,
                        r.col("actor_id")?,
                        r.col("source")?,
                    ),
                    r.col("justification")?,
                    r.col("change_id")?,
                ))
            })
            .collect::<Result<Vec<_>>>()?
    });
    let mut moved = 0;
    for ((_, contact, at, field, old, new, actor, source), justification, change_id) in &rows {
        let (Some(fact), Some(source)) = (ProfileFact::parse(field), Source::parse(source)) else {
            continue;
        };
        let Some(point) = profile_point(tx, *contact, true).await? else {
            continue;
        };
        let meta = super::writer::ChangeMeta {
            actor_kind: ActorKind::Staff,
            actor_id: Some(actor.clone()),
            source,
            change_id: change_id.clone(),
            form_version: None,
            language: None,
            request_id: None,
            confirmation: None,
            evidence: crate::domain::ledger::Evidence {
                justification: justification.clone(),
                ..Default::default()
            },
        };
        let values = FactValues {
            old: old.clone(),
            new: new.clone(),
        };
        tx.profile_record(point, fact, values, &meta, Some(at.clone().into_string()));
        moved += 1;
    }
    if !rows.is_empty() {
        on!(tx.conn(), c => sqlx::query("DELETE FROM contact_changes")
            .execute(c)
            .await
            .map(|_| ())?);
    }
    Ok(moved)
}

/// The email address of a contact (its first live one): a custodian as the desk shows it.
pub async fn email_of(read: &Reader, contact_id: i64) -> Result<Option<String>> {
    read!(read, c => Ok(sqlx::query_scalar(
        "SELECT address FROM contact_points
         WHERE contact_id = $1 AND kind = 'email' AND address IS NOT NULL ORDER BY id LIMIT 1",
    )
    .bind(contact_id)
    .fetch_optional(&mut *c)
    .await?))
}

/// The opted-in states of a contact's points not confirmed by a custodian: (point, subject,
/// channel).
pub async fn unconfirmed_opt_ins(
    tx: &mut super::writer::Tx,
    contact_id: i64,
) -> Result<Vec<(i64, crate::domain::Subject, crate::domain::Channel)>> {
    let rows: Vec<(i64, String, i64, String)> = on!(tx.conn(), c => {
        use sqlx::Row as _;
        sqlx::query(
            "SELECT s.contact_point_id, s.subject_kind, s.subject_id, s.channel
             FROM consent_states s JOIN contact_points cp ON cp.id = s.contact_point_id
             WHERE cp.contact_id = $1 AND cp.address IS NOT NULL AND s.value = 'opted_in'
               AND s.custodian_confirmed = $2
             ORDER BY s.contact_point_id, s.subject_kind, s.subject_id, s.channel",
        )
        .bind(contact_id)
        .bind(false)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?
    });
    Ok(rows
        .into_iter()
        .filter_map(|(cp, kind, id, ch)| {
            Some((
                cp,
                crate::domain::Subject::from_parts(&kind, id)?,
                crate::domain::Channel::parse(&ch)?,
            ))
        })
        .collect())
}
