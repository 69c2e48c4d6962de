//! The console's audit log: read it page by page, and export it as CSV (formula-safe cells,
//! streamed in pages so memory stays bounded however long the log).

use super::consent::Result;
use super::Core;
use crate::domain::export::safe_cell;
use crate::store::audit::{self, Filter, Line};

/// Lines on one page of the log.
pub const PAGE: i64 = 100;

/// A day given as `YYYY-MM-DD`, as the start of that day (UTC) in the stored format; `None`
/// when it is not such a day.
pub fn day_start(day: &str, plus_days: i64) -> Option<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(day.trim(), &format).ok()?;
    let date = date.checked_add(time::Duration::days(plus_days))?;
    Some(crate::store::format_time(date.midnight().assume_utc()))
}

pub async fn page(core: &Core, filter: &Filter) -> Result<Vec<Line>> {
    Ok(audit::list(&core.read, filter, PAGE).await?)
}

/// The actors and kinds to filter by.
pub async fn choices(core: &Core) -> Result<(Vec<String>, Vec<String>)> {
    Ok(audit::choices(&core.read).await?)
}

pub const CSV_HEADER: [&str; 7] = ["id", "at", "actor", "kind", "subject", "before", "after"];

/// The CSV text of some lines (with the header when `header`).
pub fn csv_chunk(lines: &[Line], header: bool) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut write = |fields: &[&str]| {
        let safe: Vec<std::borrow::Cow<'_, str>> = fields.iter().map(|f| safe_cell(f)).collect();
        // Writing to memory cannot fail.
        let _ = w.write_record(safe.iter().map(|c| c.as_ref()));
    };
    if header {
        write(&CSV_HEADER);
    }
    for l in lines {
        let id = l.id.to_string();
        write(&[
            &id,
            &l.at,
            &l.actor,
            &l.kind,
            &l.subject,
            l.before.as_deref().unwrap_or(""),
            l.after.as_deref().unwrap_or(""),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// The whole (filtered) log as CSV chunks, read a page at a time as the reader takes them.
pub fn csv_stream(
    core: std::sync::Arc<Core>,
    filter: Filter,
) -> impl futures_util::Stream<Item = std::result::Result<Vec<u8>, std::io::Error>> {
    const CHUNK: i64 = 1000;
    futures_util::stream::unfold(
        (core, filter, true, false),
        |(core, mut filter, first, done)| async move {
            if done {
                return None;
            }
            match audit::list(&core.read, &filter, CHUNK).await {
                Ok(lines) => {
                    let last = (lines.len() as i64) < CHUNK;
                    filter.before_id = lines.last().map(|l| l.id).or(filter.before_id);
                    let bytes = csv_chunk(&lines, first);
                    Some((Ok(bytes), (core, filter, false, last)))
                }
                Err(e) => Some((
                    Err(std::io::Error::other(e.to_string())),
                    (core, filter, false, true),
                )),
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_read_strictly() {
        assert_eq!(
            day_start("2026-11-24", 0).as_deref(),
            Some("2026-11-24T00:00:00.000000Z")
        );
        assert_eq!(
            day_start("2026-11-30", 1).as_deref(),
            Some("2026-12-01T00:00:00.000000Z")
        );
        for bad in ["", "24/11/2026", "2026-13-01", "2026-11-24T00:00", "x"] {
            assert_eq!(day_start(bad, 0), None, "{bad}");
        }
    }

    #[test]
    fn csv_cells_are_quoted_and_formula_safe() {
        let line = Line {
            id: 1,
            at: "2026-11-24T10:00:00.000000Z".into(),
            actor: "=cmd|' /C calc'!A0@contoso.com".into(),
            kind: "user.role".into(),
            subject: "user 2 a,b@contoso.com".into(),
            before: Some(r#"{"role":"staff"}"#.into()),
            after: None,
        };
        let text = String::from_utf8(csv_chunk(&[line], true)).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("id,at,actor,kind,subject,before,after"));
        let row = lines.next().unwrap();
        assert!(row.contains("'=cmd|"), "{row}");
        assert!(row.contains("\"user 2 a,b@contoso.com\""), "{row}");
        assert!(row.contains(r#""{""role"":""staff""}""#), "{row}");
    }
}
