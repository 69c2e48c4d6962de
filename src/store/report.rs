//! The dashboard's counts: consent changes per purpose or topic and day, the states as they
//! stand, and the one-click actions with the network they came from. Read from the ledger and
//! the consent states; nothing here writes.

use super::backend::{read, DbRow, Ts};
use super::{Reader, Result};
use crate::domain::Subject;

/// The day of a timestamp column, `YYYY-MM-DD` in UTC: the one place the two dialects differ
/// in this module.
fn day_of(sqlite: bool, column: &str) -> String {
    if sqlite {
        format!("substr({column}, 1, 10)")
    } else {
        format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
    }
}

/// `(subject_kind = 'purpose' AND subject_id IN (…)) OR (… topics …)` over `alias`, with the
/// ids written in (they are the catalogue's integers, never text from a request).
fn subjects_sql(alias: &str, subjects: &[Subject]) -> String {
    let ids = |want: fn(&Subject) -> Option<i64>| {
        subjects
            .iter()
            .filter_map(want)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let purposes = ids(|s| match s {
        Subject::Purpose(i) => Some(*i),
        _ => None,
    });
    let topics = ids(|s| match s {
        Subject::Topic(i) => Some(*i),
        _ => None,
    });
    let mut parts = Vec::new();
    if !purposes.is_empty() {
        parts.push(format!(
            "({alias}.subject_kind = 'purpose' AND {alias}.subject_id IN ({purposes}))"
        ));
    }
    if !topics.is_empty() {
        parts.push(format!(
            "({alias}.subject_kind = 'topic' AND {alias}.subject_id IN ({topics}))"
        ));
    }
    if parts.is_empty() {
        "1 = 0".to_owned()
    } else {
        format!("({})", parts.join(" OR "))
    }
}

/// How many records of a subject set a value on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    pub subject: Subject,
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `opted_in`, `opted_out` or `pending`.
    pub value: String,
    pub count: i64,
}

/// The ledger's opt-ins, opt-outs and asks to confirm of `subjects` between two moments (both
/// included), per subject, day and value.
pub async fn day_counts(
    read: &Reader,
    subjects: &[Subject],
    from: &str,
    to: &str,
) -> Result<Vec<DayCount>> {
    let sqlite = matches!(read, Reader::Sqlite(_));
    let sql = format!(
        "SELECT l.subject_kind, l.subject_id, {} AS day, l.new_value, COUNT(*) AS n
         FROM consent_ledger l
         WHERE l.occurred_at >= $1 AND l.occurred_at <= $2 AND {}
           AND l.new_value IN ('opted_in', 'opted_out', 'pending')
         GROUP BY l.subject_kind, l.subject_id, {}, l.new_value",
        day_of(sqlite, "l.occurred_at"),
        subjects_sql("l", subjects),
        day_of(sqlite, "l.occurred_at"),
    );
    read!(read, c => sqlx::query(&sql)
        .bind(Ts::new(from))
        .bind(Ts::new(to))
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| -> Result<Option<DayCount>> {
            let kind: String = r.col("subject_kind")?;
            let Some(subject) = Subject::from_parts(&kind, r.col("subject_id")?) else {
                return Ok(None);
            };
            Ok(Some(DayCount {
                subject,
                day: r.col("day")?,
                value: r.col("new_value")?,
                count: r.col("n")?,
            }))
        })
        .filter_map(Result::transpose)
        .collect())
}

/// How many points stand at each value of `subjects` now (any channel).
pub async fn standing(read: &Reader, subjects: &[Subject]) -> Result<Vec<(Subject, String, i64)>> {
    let sql = format!(
        "SELECT s.subject_kind, s.subject_id, s.value, COUNT(*) AS n FROM consent_states s
         WHERE {} AND s.value IN ('opted_in', 'opted_out', 'pending')
         GROUP BY s.subject_kind, s.subject_id, s.value",
        subjects_sql("s", subjects)
    );
    read!(read, c => sqlx::query(&sql)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| -> Result<Option<(Subject, String, i64)>> {
            let kind: String = r.col("subject_kind")?;
            let id: i64 = r.col("subject_id")?;
            let value: String = r.col("value")?;
            let n: i64 = r.col("n")?;
            Ok(Subject::from_parts(&kind, id).map(|s| (s, value, n)))
        })
        .filter_map(Result::transpose)
        .collect())
}

/// The one-click actions on `subjects` between two moments (both included): when each was
/// and the address its evidence kept (none when the server keeps no addresses).
pub async fn one_clicks(
    read: &Reader,
    subjects: &[Subject],
    from: &str,
    to: &str,
) -> Result<Vec<(String, String)>> {
    let sql = format!(
        "SELECT MIN(l.occurred_at) AS at, e.ip FROM consent_ledger l
         JOIN ledger_evidence e ON e.change_id = l.change_id
         WHERE l.source = 'one_click' AND l.occurred_at >= $1 AND l.occurred_at <= $2
           AND e.ip IS NOT NULL AND {}
         GROUP BY l.change_id, e.ip",
        subjects_sql("l", subjects)
    );
    read!(read, c => sqlx::query(&sql)
        .bind(Ts::new(from))
        .bind(Ts::new(to))
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| Ok((r.col::<Ts>("at")?.into_string(), r.col("ip")?)))
        .collect())
}
