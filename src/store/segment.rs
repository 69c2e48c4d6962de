//! Segments: saved definitions (through the writer, each save and removal audited), and the
//! SQL an evaluated definition becomes, so a million contact points are counted by the
//! database in one statement and exported a page at a time.
//!
//! The SQL says what [`crate::domain::segment::Resolved::matches`] says, rule for rule: the
//! purpose's and topic's states joined in, the topic's own answer governing when it has one,
//! the decision's fixed parts (a disabled or retired purpose, a channel it does not use, a
//! mandatory purpose, the default of a non-restrictive purpose on email) settled before the
//! statement is written. `tests/it/segments.rs` checks the two agree on random data. As of a
//! past moment, each state is the last ledger record of its subject at that moment.

use super::audit::{self, Actor, Entry};
use super::backend::{on, read, DbRow, Ts};
use super::writer::{Tx, Unit};
use super::{Reader, Result};
use crate::domain::segment::{Check, PointFacts, Resolved};
use crate::domain::{
    Channel, ConsentLevel, ConsentValue, ContactFacts, Enforcement, StateEntry, Subject,
};
use futures_util::future::BoxFuture;

/// A saved segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub id: i64,
    pub profile_id: i64,
    pub name: String,
    /// `domain::segment::Definition` as JSON.
    pub definition: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

const COLUMNS: &str =
    "id, profile_id, name, definition, created_by, created_at, updated_by, updated_at";

fn segment(r: &impl DbRow) -> Result<Segment> {
    Ok(Segment {
        id: r.col("id")?,
        profile_id: r.col("profile_id")?,
        name: r.col("name")?,
        definition: r.col("definition")?,
        created_by: r.col("created_by")?,
        created_at: r.col::<Ts>("created_at")?.into_string(),
        updated_by: r.col("updated_by")?,
        updated_at: r.col::<Ts>("updated_at")?.into_string(),
    })
}

/// Every saved segment, by name.
pub async fn list(read: &Reader) -> Result<Vec<Segment>> {
    let sql = format!("SELECT {COLUMNS} FROM segments ORDER BY name, id");
    read!(read, c => sqlx::query(&sql)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(segment)
        .collect())
}

pub async fn get(read: &Reader, id: i64) -> Result<Option<Segment>> {
    let sql = format!("SELECT {COLUMNS} FROM segments WHERE id = $1");
    read!(read, c => sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(segment)
        .transpose())
}

/// Saves a new segment (`id: None`) or changes one; the output is its id, `None` when the
/// segment to change is gone.
pub struct SaveSegment {
    pub id: Option<i64>,
    pub profile_id: i64,
    pub name: String,
    pub definition: String,
    pub actor: Actor,
}

impl Unit for SaveSegment {
    type Output = Option<i64>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Option<i64>>> {
        Box::pin(async move {
            let now = Ts::new(tx.now_str());
            let who = actor_ref(&self.actor);
            let before: Option<(String, String)> = match self.id {
                None => None,
                Some(id) => on!(tx.conn(), c => sqlx::query_as(
                    "SELECT name, definition FROM segments WHERE id = $1 AND profile_id = $2",
                )
                .bind(id)
                .bind(self.profile_id)
                .fetch_optional(&mut *c)
                .await?),
            };
            let id: i64 = match self.id {
                None => on!(tx.conn(), c => sqlx::query_scalar(
                    "INSERT INTO segments (profile_id, name, definition, created_by, created_at,
                         updated_by, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $4, $5) RETURNING id",
                )
                .bind(self.profile_id)
                .bind(&self.name)
                .bind(&self.definition)
                .bind(&who)
                .bind(now.clone())
                .fetch_one(&mut *c)
                .await?),
                Some(id) => {
                    if before.is_none() {
                        return Ok(None);
                    }
                    on!(tx.conn(), c => sqlx::query(
                        "UPDATE segments SET name = $1, definition = $2, updated_by = $3,
                             updated_at = $4 WHERE id = $5",
                    )
                    .bind(&self.name)
                    .bind(&self.definition)
                    .bind(&who)
                    .bind(now.clone())
                    .bind(id)
                    .execute(&mut *c)
                    .await
                    .map(|_| ())?);
                    id
                }
            };
            let json = |name: &str, def: &str| {
                serde_json::json!({
                    "name": name,
                    "definition": serde_json::from_str::<serde_json::Value>(def).unwrap_or_default(),
                })
            };
            let entry = Entry {
                kind: if before.is_some() {
                    "segment.change"
                } else {
                    "segment.create"
                },
                subject: format!("segment {id} {}", self.name),
                before: before.as_ref().map(|(n, d)| json(n, d)),
                after: Some(json(&self.name, &self.definition)),
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(Some(id))
        })
    }
}

fn actor_ref(a: &Actor) -> String {
    match a.user_id {
        Some(id) => format!("user:{id}"),
        None => a.name.clone(),
    }
}

/// Removes a segment; `false` when it was gone already.
pub struct DeleteSegment {
    pub id: i64,
    pub actor: Actor,
}

impl Unit for DeleteSegment {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let name: Option<String> = on!(tx.conn(), c => sqlx::query_scalar(
                "DELETE FROM segments WHERE id = $1 RETURNING name",
            )
            .bind(self.id)
            .fetch_optional(&mut *c)
            .await?);
            let Some(name) = name else {
                return Ok(false);
            };
            let entry = Entry {
                kind: "segment.delete",
                subject: format!("segment {} {name}", self.id),
                before: Some(serde_json::json!({ "name": name })),
                after: None,
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(true)
        })
    }
}

/// Records in the audit log that a user exported a segment's members (who took which
/// audience, when, as of which moment).
pub struct NoteExport {
    pub id: i64,
    pub name: String,
    pub as_of: Option<String>,
    pub columns: Vec<String>,
    pub actor: Actor,
}

impl Unit for NoteExport {
    type Output = ();
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let entry = Entry {
                kind: "segment.export",
                subject: format!("segment {} {}", self.id, self.name),
                before: None,
                after: Some(serde_json::json!({
                    "as_of": self.as_of,
                    "columns": self.columns,
                })),
            };
            audit::record(tx, &self.actor, entry).await
        })
    }
}

/// A value a segment's statement binds.
#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Text(String),
    Time(String),
}

/// A definition as SQL: the `FROM … WHERE …` part and its values, for one profile, as of now
/// or of a past moment.
#[derive(Debug, Clone)]
pub struct Audience {
    from_where: String,
    binds: Vec<Bind>,
    profile_id: i64,
    resolved: Resolved,
    at: Option<String>,
}

struct Builder {
    binds: Vec<Bind>,
    /// The joined states: subject, its value's and custodian flag's columns.
    joins: Vec<(Subject, String, String)>,
    join_sql: String,
    at: Option<String>,
    /// The parameter holding the profile's language (a contact without one has it).
    default_locale: String,
}

impl Builder {
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    /// The joined state of `subject` on `channel` (one join per subject): its value's column
    /// (NULL when not set) and its custodian flag's. The join names the primary key of the
    /// states (or the ledger's record), so each point costs one lookup.
    fn state(&mut self, subject: Subject, channel: Channel) -> (String, String) {
        if let Some((_, v, cc)) = self.joins.iter().find(|(s, _, _)| *s == subject) {
            return (v.clone(), cc.clone());
        }
        let a = format!("s{}", self.joins.len());
        let kind = self.bind(Bind::Text(subject.kind_str().to_owned()));
        let id = self.bind(Bind::Int(subject.id()));
        let ch = self.bind(Bind::Text(channel.as_str().to_owned()));
        let (join, v) = match self.at.clone() {
            None => (
                format!(
                    " LEFT JOIN consent_states {a} ON {a}.contact_point_id = cp.id
                       AND {a}.subject_kind = {kind} AND {a}.subject_id = {id}
                       AND {a}.channel = {ch} AND {a}.value <> 'not_set'"
                ),
                format!("{a}.value"),
            ),
            Some(at) => {
                let at = self.bind(Bind::Time(at));
                (
                    format!(
                        " LEFT JOIN consent_ledger {a} ON {a}.seq = (SELECT MAX(m.seq)
                             FROM consent_ledger m WHERE m.contact_point_id = cp.id
                               AND m.subject_kind = {kind} AND m.subject_id = {id}
                               AND m.channel = {ch} AND m.occurred_at <= {at})
                           AND {a}.new_value <> 'not_set'"
                    ),
                    format!("{a}.new_value"),
                )
            }
        };
        let cc = format!("{a}.custodian_confirmed");
        self.join_sql.push_str(&join);
        self.joins.push((subject, v.clone(), cc.clone()));
        (v, cc)
    }

    fn check(&mut self, check: &Check, channel: Channel) -> String {
        match check {
            Check::Consent {
                purpose,
                topic,
                allowed,
            } => {
                let allow = self.consent(purpose, topic.as_ref(), channel);
                if *allowed {
                    allow
                } else {
                    format!("NOT ({allow})")
                }
            }
            Check::MinLevel(l) => {
                let l = self.bind(Bind::Int(i64::from(l.get())));
                format!("c.consent_level >= {l}")
            }
            Check::NoChildWithoutCustodian => match self.at.clone() {
                None => "(NOT c.is_child OR EXISTS (SELECT 1 FROM consent_states x
                      WHERE x.contact_point_id = cp.id AND x.value = 'opted_in'
                        AND x.custodian_confirmed))"
                    .to_owned(),
                Some(at) => {
                    let at = self.bind(Bind::Time(at));
                    format!(
                        "(NOT c.is_child OR EXISTS (SELECT 1 FROM consent_ledger x
                          WHERE x.contact_point_id = cp.id AND x.new_value = 'opted_in'
                            AND x.custodian_confirmed AND x.occurred_at <= {at}
                            AND x.seq = (SELECT MAX(m.seq) FROM consent_ledger m
                                WHERE m.contact_point_id = x.contact_point_id
                                  AND m.subject_kind = x.subject_kind
                                  AND m.subject_id = x.subject_id
                                  AND m.channel = x.channel AND m.occurred_at <= {at})))"
                    )
                }
            },
            Check::Tracking(true) => "c.tracking_allowed".to_owned(),
            Check::Tracking(false) => "NOT c.tracking_allowed".to_owned(),
            Check::Locale(ls) => {
                let list: Vec<String> = ls
                    .iter()
                    .map(|l| self.bind(Bind::Text(l.clone())))
                    .collect();
                // The profile's language stands for a contact's missing one.
                format!(
                    "COALESCE(c.locale, {}) IN ({})",
                    self.default_locale,
                    list.join(", ")
                )
            }
            Check::Created { from, to } => {
                let mut parts = vec!["1 = 1".to_owned()];
                if let Some(f) = from {
                    parts.push(format!(
                        "c.created_at >= {}",
                        self.bind(Bind::Time(f.clone()))
                    ));
                }
                if let Some(t) = to {
                    parts.push(format!(
                        "c.created_at <= {}",
                        self.bind(Bind::Time(t.clone()))
                    ));
                }
                format!("({})", parts.join(" AND "))
            }
            Check::Changed { from, to } => {
                let mut parts = vec!["z.at IS NOT NULL".to_owned()];
                if let Some(f) = from {
                    parts.push(format!("z.at >= {}", self.bind(Bind::Time(f.clone()))));
                }
                if let Some(t) = to {
                    parts.push(format!("z.at <= {}", self.bind(Bind::Time(t.clone()))));
                }
                let upto = match self.at.clone() {
                    Some(at) => format!(" AND l.occurred_at <= {}", self.bind(Bind::Time(at))),
                    None => String::new(),
                };
                format!(
                    "EXISTS (SELECT 1 FROM (SELECT MAX(l.occurred_at) AS at FROM consent_ledger l
                         WHERE l.contact_point_id = cp.id{upto}) z WHERE {})",
                    parts.join(" AND ")
                )
            }
        }
    }

    /// The decision (`domain::decide`) for one purpose (and topic) on `channel`, as a
    /// predicate on a contact point that is not erased.
    fn consent(
        &mut self,
        purpose: &crate::domain::Purpose,
        topic: Option<&crate::domain::Topic>,
        channel: Channel,
    ) -> String {
        if purpose.enforcement == Enforcement::Disabled
            || purpose.retired
            || topic.is_some_and(|t| t.retired)
            || !purpose.channels.contains(&channel)
        {
            return "1 = 0".to_owned();
        }
        let level = if purpose.min_level > ConsentLevel::UNKNOWN {
            let l = self.bind(Bind::Int(i64::from(purpose.min_level.get())));
            format!("c.consent_level >= {l}")
        } else {
            "1 = 1".to_owned()
        };
        if purpose.mandatory {
            return level;
        }
        let (pv, pc) = self.state(Subject::Purpose(purpose.id), channel);
        let (value, custodian) = match topic {
            None => (pv, pc),
            Some(t) => {
                let (tv, tc) = self.state(Subject::Topic(t.id), channel);
                (
                    format!("COALESCE({tv}, {pv})"),
                    format!("CASE WHEN {tv} IS NOT NULL THEN {tc} ELSE {pc} END"),
                )
            }
        };
        let opted_in =
            format!("COALESCE({value}, '') = 'opted_in' AND (NOT c.is_child OR {custodian})");
        // Nothing on record: allowed only for an adult on a non-restrictive purpose by email.
        let default = purpose.enforcement != Enforcement::Restrictive && channel == Channel::Email;
        if default {
            format!("{level} AND (({opted_in}) OR ({value} IS NULL AND NOT c.is_child))")
        } else {
            format!("{level} AND ({opted_in})")
        }
    }
}

impl Audience {
    /// The statement of `r` over `profile_id`'s points of the channel's kind that are not
    /// erased, as things stand or, with `at`, as they stood then.
    pub fn of(profile_id: i64, r: &Resolved, at: Option<&str>) -> Audience {
        let mut b = Builder {
            binds: Vec::new(),
            joins: Vec::new(),
            join_sql: String::new(),
            at: at.map(str::to_owned),
            default_locale: String::new(),
        };
        let profile = b.bind(Bind::Int(profile_id));
        let kind = b.bind(Bind::Text(r.channel.point_kind().as_str().to_owned()));
        b.default_locale = b.bind(Bind::Text(r.default_locale.clone()));
        let mut wh = format!(
            "c.profile_id = {profile} AND cp.kind = {kind} AND cp.address IS NOT NULL
             AND c.suppressed_at IS NULL"
        );
        if let Some(at) = at {
            let at = b.bind(Bind::Time(at.to_owned()));
            wh.push_str(&format!(" AND c.created_at <= {at}"));
        }
        if !r.groups.is_empty() {
            let groups: Vec<String> = r
                .groups
                .iter()
                .map(|g| {
                    let checks: Vec<String> = g
                        .iter()
                        .map(|c| format!("({})", b.check(c, r.channel)))
                        .collect();
                    format!("({})", checks.join(" AND "))
                })
                .collect();
            wh.push_str(&format!(" AND ({})", groups.join(" OR ")));
        }
        Audience {
            from_where: format!(
                "FROM contact_points cp JOIN contacts c ON c.id = cp.contact_id{} WHERE {wh}",
                b.join_sql
            ),
            binds: b.binds,
            profile_id,
            resolved: r.clone(),
            at: at.map(str::to_owned),
        }
    }
}

macro_rules! bound {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Int(v) => q.bind(*v),
                Bind::Text(v) => q.bind(v.as_str()),
                Bind::Time(v) => q.bind(Ts::new(v.as_str())),
            };
        }
        q
    }};
}

/// How many points the audience holds.
///
/// On SQLite, as things stand, the points are counted by [`count_merged`]: the database's one
/// thread per statement would take over a second for a million points, where ordered passes
/// over ranges of ids on every core take a fraction. Otherwise the statement counts them
/// (PostgreSQL runs one statement on several workers itself).
pub async fn count(read: &Reader, a: &Audience) -> Result<i64> {
    if let (Some(reads), Some(n), None) = (read.inline().cloned(), read.sqlite_connections(), &a.at)
    {
        if !a
            .resolved
            .groups
            .iter()
            .flatten()
            .any(|c| matches!(c, Check::Changed { .. }))
        {
            let threads = std::thread::available_parallelism()
                .map_or(1, |c| c.get() as u32)
                .clamp(1, n.max(1));
            let (profile, resolved) = (a.profile_id, a.resolved.clone());
            return tokio::task::spawn_blocking(move || {
                count_merged(&reads, profile, &resolved, threads as i64)
            })
            .await
            .map_err(|e| super::StoreError::Missing(format!("the count's thread: {e}")))?;
        }
    }
    let sql = format!("SELECT COUNT(*) {}", a.from_where);
    read!(read, c => bound!(sqlx::query_scalar::<_, i64>(&sql), &a.binds)
        .fetch_one(&mut *c)
        .await
        .map_err(Into::into))
}

/// SQLite, as things stand: each range of point ids read on a thread of its own, in one read
/// transaction, as two passes in id order (the points with their contacts, and their consent
/// states, which lie in the same order), merged here; each point is held to
/// [`Resolved::matches`], the domain's own evaluation. Not for a definition that reads the last
/// change (the passes do not read the ledger).
fn count_merged(
    reads: &super::read::InlineReads,
    profile_id: i64,
    r: &Resolved,
    threads: i64,
) -> Result<i64> {
    let (lo, hi): (Option<i64>, Option<i64>) = reads
        .scan(|c| {
            // Two subqueries: each is one step to an end of the key (MIN and MAX together
            // would scan every row).
            c.query_row(
                "SELECT (SELECT MIN(id) FROM contact_points), (SELECT MAX(id) FROM contact_points)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
        })
        .map_err(lite)?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(0);
    };
    // More ranges than threads, each thread taking the next one not taken: a thread that
    // falls behind (its core busy with something else) leaves the rest to the others.
    let ranges = threads * 8;
    let step = (hi - lo) / ranges + 1;
    let next = std::sync::atomic::AtomicI64::new(0);
    let kind = r.channel.point_kind().as_str();
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..threads)
            .map(|_| {
                let next = &next;
                scope.spawn(move || -> rusqlite::Result<i64> {
                    reads.scan(|c| {
                        let mut n = 0;
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if i >= ranges {
                                return Ok(n);
                            }
                            let from = lo + i * step;
                            n += count_range(c, profile_id, kind, r, from, from + step)?;
                        }
                    })
                })
            })
            .collect();
        parts
            .into_iter()
            .map(|p| match p.join() {
                Ok(n) => n.map_err(lite),
                Err(_) => Err(super::StoreError::Missing("a count's thread failed".into())),
            })
            .sum()
    })
}

/// An SQLite error of a pass read without sqlx (the file is unreadable or busy past the wait).
fn lite(e: rusqlite::Error) -> super::StoreError {
    super::StoreError::Io(std::io::Error::other(e))
}

/// The consent values a state row may hold, in the order [`STATE_CODE`] numbers them from 1.
const VALUES: [ConsentValue; 4] = [
    ConsentValue::OptedIn,
    ConsentValue::OptedOut,
    ConsentValue::Pending,
    ConsentValue::NotSet,
];

/// A state row's kind, channel, value and custodian flag as one integer, written from the
/// enums' own names: kind 1 purpose, 2 topic (0 other); channel × 4 (1 + its place in
/// `Channel::ALL`); value × 16 (1 + its place in [`VALUES`]); custodian × 128. Reading one
/// integer instead of three texts and a flag is most of what a pass over a million states saves.
fn state_code() -> String {
    let case = |column: &str, names: Vec<&str>| {
        let whens: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("WHEN '{n}' THEN {}", i + 1))
            .collect();
        format!("(CASE {column} {} ELSE 0 END)", whens.join(" "))
    };
    format!(
        "{} + 4 * {} + 16 * {} + 128 * custodian_confirmed",
        case(
            "subject_kind",
            vec![Subject::Purpose(0).kind_str(), Subject::Topic(0).kind_str()]
        ),
        case("channel", Channel::ALL.iter().map(|c| c.as_str()).collect()),
        case("value", VALUES.iter().map(|v| v.as_str()).collect()),
    )
}

/// A state of [`state_code`]'s code and its subject's id, when the code names one.
fn decode_state(code: i64, subject_id: i64) -> Option<(Subject, Channel, StateEntry)> {
    let subject = match code & 3 {
        1 => Subject::Purpose(subject_id),
        2 => Subject::Topic(subject_id),
        _ => return None,
    };
    let channel = *Channel::ALL.get(((code >> 2) & 3).checked_sub(1)? as usize)?;
    let value = *VALUES.get(((code >> 4) & 7).checked_sub(1)? as usize)?;
    Some((
        subject,
        channel,
        StateEntry {
            value,
            custodian_confirmed: code & 128 != 0,
            // Which record a state rests on decides nothing.
            record: 0,
        },
    ))
}

/// [`count_merged`]'s work on the points `from..to`.
fn count_range(
    c: &rusqlite::Connection,
    profile_id: i64,
    kind: &str,
    r: &Resolved,
    from: i64,
    to: i64,
) -> rusqlite::Result<i64> {
    // Only the columns the rules read; the level, child and tracking flags as one integer.
    let checks = || r.groups.iter().flatten();
    let column = |needed: bool, name: &'static str, none: &'static str| match needed {
        true => name,
        false => none,
    };
    let points = format!(
        "SELECT cp.id, c.consent_level * 4 + c.is_child * 2 + c.tracking_allowed, {}, {}
         FROM contact_points cp JOIN contacts c ON c.id = cp.contact_id
         WHERE c.profile_id = ?1 AND cp.kind = ?2 AND cp.address IS NOT NULL
           AND c.suppressed_at IS NULL AND cp.id >= ?3 AND cp.id < ?4
         ORDER BY cp.id",
        column(
            checks().any(|c| matches!(c, Check::Locale(_))),
            "c.locale",
            "NULL"
        ),
        column(
            checks().any(|c| matches!(c, Check::Created { .. })),
            "c.created_at",
            "''"
        ),
    );
    let mut points = c.prepare_cached(&points)?;
    // A state that says nothing (`not_set`) decides as no state does (`domain::decision`'s
    // governing state passes over it, and no rule reads it), so it stays in the database:
    // comparing the value costs less than coding and handing over a row.
    let mut states = c.prepare_cached(&format!(
        "SELECT contact_point_id, subject_id, {}
         FROM consent_states WHERE contact_point_id >= ?1 AND contact_point_id < ?2
           AND value <> '{}'
         ORDER BY contact_point_id, subject_kind, subject_id, channel",
        state_code(),
        ConsentValue::NotSet.as_str()
    ))?;
    let mut points = points.query(rusqlite::params![profile_id, kind, from, to])?;
    let mut states = states.query(rusqlite::params![from, to])?;
    let read = |s: &rusqlite::Row| -> rusqlite::Result<(i64, i64, i64)> {
        Ok((s.get(0)?, s.get(1)?, s.get(2)?))
    };
    let mut next = states.next()?.map(read).transpose()?;
    let mut facts = PointFacts::default();
    let mut n = 0;
    while let Some(p) = points.next()? {
        let id: i64 = p.get(0)?;
        let flags: i64 = p.get(1)?;
        facts.contact = ContactFacts {
            level: ConsentLevel::new(flags >> 2).unwrap_or_default(),
            is_child: flags & 2 != 0,
            erased: false,
        };
        facts.tracking_allowed = flags & 1 != 0;
        // The texts go into the buffers of the point before (no allocation per point).
        match p.get_ref(2)?.as_str_or_null()? {
            Some(l) => {
                let buf = facts.locale.get_or_insert_with(String::new);
                buf.clear();
                buf.push_str(l);
            }
            None => facts.locale = None,
        }
        facts.created_at.clear();
        facts.created_at.push_str(p.get_ref(3)?.as_str()?);
        facts.states.clear();
        // States of points not counted (another kind, profile, or erased) are passed over.
        while let Some((point, subject, code)) = next {
            if point > id {
                break;
            }
            if point == id {
                facts.states.extend(decode_state(code, subject));
            }
            next = states.next()?.map(read).transpose()?;
        }
        n += r.matches(&facts) as i64;
    }
    Ok(n)
}

/// A member of an audience: the point and what the export's columns show of its contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub point_id: i64,
    pub address: String,
    pub link_generation: i64,
    pub contact_id: i64,
    pub name: Option<String>,
    pub locale: Option<String>,
    pub level: i64,
    pub created_at: String,
}

/// The members after point `after`, in point order, `limit` at most: the sample is the first
/// page, the export reads every page.
///
/// On SQLite the page comes back as one row, a JSON array of the members (sqlx hands each row
/// over from its connection's thread on its own: for a page of thousands, most of the cost).
pub async fn page(read: &Reader, a: &Audience, after: i64, limit: i64) -> Result<Vec<Member>> {
    let n = a.binds.len();
    let sql = format!(
        "SELECT cp.id, cp.address, cp.link_generation, c.id AS contact_id, c.name, c.locale,
                c.consent_level, c.created_at
         {} AND cp.id > ${} ORDER BY cp.id LIMIT ${}",
        a.from_where,
        n + 1,
        n + 2
    );
    if read.sqlite_file().is_some() {
        /// (point, address, link generation, contact, name, locale, level, created)
        type Json = (
            i64,
            Option<String>,
            i64,
            i64,
            Option<String>,
            Option<String>,
            i64,
            String,
        );
        let sql = format!(
            "SELECT {} FROM ({sql}) m",
            super::backend::json_rows(
                true,
                "m.id, m.address, m.link_generation, m.contact_id, m.name, m.locale, \
                 m.consent_level, m.created_at"
            )
        );
        let text: Option<String> = read!(read, c => bound!(sqlx::query_scalar(&sql), &a.binds)
            .bind(after)
            .bind(limit)
            .fetch_one(&mut *c)
            .await
            .map_err(Into::into))?;
        let mut rows: Vec<Json> = serde_json::from_str(text.as_deref().unwrap_or("[]"))
            .map_err(|e| super::StoreError::Corrupt(format!("a segment's page: {e}")))?;
        rows.sort_unstable_by_key(|r| r.0);
        return Ok(rows
            .into_iter()
            .map(
                |(
                    point_id,
                    address,
                    link_generation,
                    contact_id,
                    name,
                    locale,
                    level,
                    created_at,
                )| {
                    Member {
                        point_id,
                        address: address.unwrap_or_default(),
                        link_generation,
                        contact_id,
                        name,
                        locale,
                        level,
                        created_at,
                    }
                },
            )
            .collect());
    }
    read!(read, c => bound!(sqlx::query(&sql), &a.binds)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            Ok(Member {
                point_id: r.col("id")?,
                address: r.col::<Option<String>>("address")?.unwrap_or_default(),
                link_generation: r.col("link_generation")?,
                contact_id: r.col("contact_id")?,
                name: r.col("name")?,
                locale: r.col("locale")?,
                level: r.col("consent_level")?,
                created_at: r.col::<Ts>("created_at")?.into_string(),
            })
        })
        .collect())
}

/// Every point of `profile_id`'s channel kind with what the domain's evaluation reads, loaded
/// plainly (no rule in SQL), as things stand or as of `at`: what the test that holds the SQL
/// to the domain compares against. Small data sets only.
pub async fn all_facts(
    read: &Reader,
    profile_id: i64,
    channel: Channel,
    at: Option<&str>,
) -> Result<Vec<(i64, PointFacts)>> {
    use std::collections::HashMap;
    let kind = channel.point_kind().as_str();
    let points: Vec<(i64, PointFacts)> = read!(read, c => sqlx::query(
        "SELECT cp.id, c.consent_level, c.is_child, c.suppressed_at IS NOT NULL AS erased,
                c.tracking_allowed, c.locale, c.created_at
         FROM contact_points cp JOIN contacts c ON c.id = cp.contact_id
         WHERE c.profile_id = $1 AND cp.kind = $2 AND cp.address IS NOT NULL
         ORDER BY cp.id",
    )
    .bind(profile_id)
    .bind(kind)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        let level: i64 = r.col("consent_level")?;
        Ok((
            r.col("id")?,
            PointFacts {
                contact: ContactFacts {
                    level: ConsentLevel::new(level).unwrap_or_default(),
                    is_child: r.col("is_child")?,
                    erased: r.col("erased")?,
                },
                tracking_allowed: r.col("tracking_allowed")?,
                locale: r.col("locale")?,
                created_at: r.col::<Ts>("created_at")?.into_string(),
                last_change: None,
                states: Vec::new(),
            },
        ))
    })
    .collect::<Result<Vec<_>>>())?;
    let mut by_id: HashMap<i64, PointFacts> = points
        .into_iter()
        .filter(|(_, f)| at.is_none_or(|at| f.created_at.as_str() <= at))
        .collect();
    // The ledger, in order, up to the moment: each record replaces the state of its subject
    // and channel, and the last one's time is the last change.
    /// (point, subject kind, subject id, channel, value, custodian, seq, when)
    type Record = (i64, String, i64, String, String, bool, i64, String);
    let records: Vec<Record> = read!(read, c => sqlx::query(
            "SELECT l.contact_point_id, l.subject_kind, l.subject_id, l.channel, l.new_value,
                    l.custodian_confirmed, l.seq, l.occurred_at
             FROM consent_ledger l JOIN contact_points cp ON cp.id = l.contact_point_id
             JOIN contacts c ON c.id = cp.contact_id
             WHERE c.profile_id = $1 AND cp.kind = $2 ORDER BY l.seq",
        )
        .bind(profile_id)
        .bind(kind)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.col("contact_point_id")?,
                r.col("subject_kind")?,
                r.col("subject_id")?,
                r.col("channel")?,
                r.col("new_value")?,
                r.col("custodian_confirmed")?,
                r.col("seq")?,
                r.col::<Ts>("occurred_at")?.into_string(),
            ))
        })
        .collect::<Result<Vec<_>>>())?;
    for (point, kind, id, ch, value, cc, seq, occurred) in records {
        if at.is_some_and(|at| occurred.as_str() > at) {
            continue;
        }
        let Some(f) = by_id.get_mut(&point) else {
            continue;
        };
        if f.last_change
            .as_deref()
            .is_none_or(|l| occurred.as_str() > l)
        {
            f.last_change = Some(occurred.clone());
        }
        let (Some(subject), Some(ch), Some(value)) = (
            Subject::from_parts(&kind, id),
            Channel::parse(&ch),
            ConsentValue::parse(&value),
        ) else {
            continue;
        };
        if !matches!(subject, Subject::Purpose(_) | Subject::Topic(_)) {
            continue;
        }
        let entry = StateEntry {
            value,
            custodian_confirmed: cc,
            record: seq,
        };
        match f
            .states
            .iter_mut()
            .find(|(s, c, _)| *s == subject && *c == ch)
        {
            Some(slot) => slot.2 = entry,
            None => f.states.push((subject, ch, entry)),
        }
    }
    let mut out: Vec<(i64, PointFacts)> = by_id.into_iter().collect();
    out.sort_by_key(|(id, _)| *id);
    Ok(out)
}
