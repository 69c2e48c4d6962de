//! Segments and the dashboard: an analyst's saved audiences (counted, sampled and exported as
//! things stand or as of a past moment, on the definitions of that moment), and the trend of
//! opt-ins, opt-outs and asks to confirm per purpose and topic, with bursts of one-clicks.

use super::consent::Result;
use super::Core;
use crate::domain::report::{self, Bucket, Burst};
use crate::domain::segment::{self, Column, Day, Definition, Invalid, Resolved};
use crate::domain::Subject;
use crate::store::audit::Actor;
use crate::store::catalog::Catalog;
use crate::store::segment::{self as db, Audience, Member};
use crate::store::writer::Priority;
use futures_util::StreamExt as _;
use std::sync::Arc;

/// Why a segment cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// The rules name what the profile does not have (then).
    Invalid(Invalid),
    /// The profile did not exist at that moment.
    NoProfileThen,
    /// The kept rules could not be read (changed by hand in the database).
    Unreadable,
}

impl Unusable {
    pub fn message(&self) -> String {
        match self {
            Unusable::Invalid(i) => i.message(),
            Unusable::NoProfileThen => "The profile did not exist at that moment.".into(),
            Unusable::Unreadable => "The segment's rules cannot be read.".into(),
        }
    }
}

/// A definition evaluated against one version of its profile's catalogue.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub cat: Arc<Catalog>,
    pub resolved: Resolved,
    pub audience: Audience,
    /// The moment, when not now.
    pub at: Option<String>,
}

/// The catalogue of `profile_id` now or as of `at`.
async fn catalog_at(
    core: &Core,
    profile_id: i64,
    at: Option<&str>,
) -> Result<Option<Arc<Catalog>>> {
    Ok(match at {
        None => Some(core.catalog(profile_id).await?),
        Some(at) => crate::store::catalog::load_as_of(&core.read, profile_id, at)
            .await?
            .map(Arc::new),
    })
}

/// Checks `def` against the profile's purposes and topics (of `at`, when given) and writes its
/// statement.
pub async fn evaluate(
    core: &Core,
    profile_id: i64,
    def: &Definition,
    at: Option<&str>,
) -> Result<std::result::Result<Evaluated, Unusable>> {
    let Some(cat) = catalog_at(core, profile_id, at).await? else {
        return Ok(Err(Unusable::NoProfileThen));
    };
    let resolved = match def.resolve(&cat.purposes, &cat.topics, &cat.profile.default_locale) {
        Ok(r) => r,
        Err(e) => return Ok(Err(Unusable::Invalid(e))),
    };
    let audience = Audience::of(profile_id, &resolved, at);
    Ok(Ok(Evaluated {
        cat,
        resolved,
        audience,
        at: at.map(str::to_owned),
    }))
}

/// A kept definition.
pub fn definition(s: &db::Segment) -> std::result::Result<Definition, Unusable> {
    serde_json::from_str(&s.definition).map_err(|_| Unusable::Unreadable)
}

pub async fn count(core: &Core, e: &Evaluated) -> Result<i64> {
    Ok(db::count(&core.read, &e.audience).await?)
}

/// The first `n` members, in contact point order.
pub async fn sample(core: &Core, e: &Evaluated, n: i64) -> Result<Vec<Member>> {
    Ok(db::page(&core.read, &e.audience, 0, n).await?)
}

/// Names a purpose, or a topic of it, by key in `cat` ("Newsletter › Weekly"); the key itself
/// when the catalogue no longer has it.
pub fn namer(cat: &Catalog) -> impl Fn(&str, Option<&str>) -> String + '_ {
    move |p: &str, t: Option<&str>| {
        let purpose = cat.purposes.iter().find(|x| x.key == p);
        let pname = purpose.map_or_else(|| p.to_owned(), |x| x.name.clone());
        match t {
            None => pname,
            Some(t) => {
                let tname = purpose
                    .and_then(|x| cat.topics_of(x.id).find(|y| y.key == t))
                    .map_or_else(|| t.to_owned(), |y| y.name.clone());
                format!("{pname} › {tname}")
            }
        }
    }
}

/// The definition in words, on the names of `cat`.
pub fn words(def: &Definition, cat: &Catalog) -> Vec<String> {
    let name = namer(cat);
    segment::words(def, &name)
}

/// Saves a segment (new when `id` is `None`); `None` when the one to change is gone.
pub async fn save(
    core: &Core,
    id: Option<i64>,
    profile_id: i64,
    name: &str,
    def: &Definition,
    actor: &Actor,
) -> Result<Option<i64>> {
    let definition = serde_json::to_string(def).unwrap_or_default();
    Ok(core
        .writer
        .run(
            db::SaveSegment {
                id,
                profile_id,
                name: name.to_owned(),
                definition,
                actor: actor.clone(),
            },
            Priority::Interactive,
        )
        .await?)
}

pub async fn delete(core: &Core, id: i64, actor: &Actor) -> Result<bool> {
    Ok(core
        .writer
        .run(
            db::DeleteSegment {
                id,
                actor: actor.clone(),
            },
            Priority::Interactive,
        )
        .await?)
}

/// What an export writes.
#[derive(Debug, Clone)]
pub struct ExportSpec {
    pub columns: Vec<Column>,
    /// What the unsubscribe links leave (`None`: everything optional).
    pub links_for: Option<Subject>,
}

/// Notes the export in the audit log, then streams the members as CSV (formula-safe), a page
/// at a time, each row's links minted as it is written.
pub async fn export(
    core: Arc<Core>,
    seg: &db::Segment,
    e: Evaluated,
    spec: ExportSpec,
    actor: &Actor,
) -> Result<impl futures_util::Stream<Item = std::result::Result<Vec<u8>, std::io::Error>>> {
    core.writer
        .run(
            db::NoteExport {
                id: seg.id,
                name: seg.name.clone(),
                as_of: e.at.clone(),
                columns: spec.columns.iter().map(|c| c.key().to_owned()).collect(),
                actor: actor.clone(),
            },
            Priority::Interactive,
        )
        .await?;
    let links = if spec.columns.iter().any(|c| c.is_link()) {
        Some(super::links::question_in(&core, &e.cat, spec.links_for).await?)
    } else {
        None
    };
    const PAGE: i64 = 5000;
    // The pages are read on a task of their own, one ahead of the rows being written: the
    // database finds the next page while this one's links are minted.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<Member>>>(2);
    let reader = core.clone();
    tokio::spawn(async move {
        let mut after = 0i64;
        loop {
            let page = db::page(&reader.read, &e.audience, after, PAGE)
                .await
                .map_err(Into::into);
            let next = match &page {
                Ok(rows) if rows.len() as i64 == PAGE => rows.last().map(|r| r.point_id),
                _ => None,
            };
            // The download was abandoned: stop reading.
            if tx.send(page).await.is_err() {
                return;
            }
            match next {
                Some(n) => after = n,
                None => return,
            }
        }
    });
    // Each page is written (its links minted, its CSV) on a blocking thread, two pages at
    // once and in order: minting is most of an export's work, and every core takes part.
    let pages = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|page| (page, rx))
    });
    let columns: Arc<[Column]> = spec.columns.into();
    let links = Arc::new(links);
    Ok(pages
        .enumerate()
        .map(move |(i, page)| {
            let (core, columns, links) = (core.clone(), columns.clone(), links.clone());
            async move {
                let rows = page.map_err(|e| std::io::Error::other(e.to_string()))?;
                tokio::task::spawn_blocking(move || {
                    chunk(&core, &rows, &columns, links.as_ref().as_ref(), i == 0)
                })
                .await
                .map_err(std::io::Error::other)
            }
        })
        .buffered(2))
}

/// Rows of an export as CSV.
fn chunk(
    core: &Core,
    rows: &[Member],
    columns: &[Column],
    links: Option<&super::links::LinkQuestion>,
    header: bool,
) -> Vec<u8> {
    use crate::domain::export::safe_cell;
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 200));
    if header {
        let heads: Vec<&str> = columns
            .iter()
            .flat_map(|c| c.headers().iter().copied())
            .collect();
        // Writing to memory cannot fail.
        let _ = w.write_record(&heads);
    }
    let mut record: Vec<String> = Vec::new();
    for m in rows {
        record.clear();
        let l =
            links.and_then(|q| super::links::point_links(core, q, m.point_id, m.link_generation));
        for c in columns {
            match c {
                Column::Address => record.push(m.address.clone()),
                Column::ContactId => record.push(m.contact_id.to_string()),
                Column::Name => record.push(m.name.clone().unwrap_or_default()),
                Column::Language => record.push(m.locale.clone().unwrap_or_default()),
                Column::ConsentLevel => record.push(m.level.to_string()),
                Column::Created => record.push(m.created_at.clone()),
                Column::CenterUrl => {
                    record.push(l.as_ref().map(|l| l.center_url.clone()).unwrap_or_default())
                }
                Column::UnsubscribeUrl => record.push(
                    l.as_ref()
                        .map(|l| l.unsubscribe_url.clone())
                        .unwrap_or_default(),
                ),
                Column::ListUnsubscribe => {
                    record.push(
                        l.as_ref()
                            .map(|l| l.list_unsubscribe.clone())
                            .unwrap_or_default(),
                    );
                    record.push(
                        l.as_ref()
                            .map(|l| l.list_unsubscribe_post.clone())
                            .unwrap_or_default(),
                    );
                }
            }
        }
        let _ = w.write_record(record.iter().map(|f| safe_cell(f).into_owned()));
    }
    w.into_inner().unwrap_or_default()
}

/// The dashboard's question: a profile, a range of days and how to group them.
#[derive(Debug, Clone)]
pub struct Period {
    pub from: Day,
    pub to: Day,
    pub bucket: Bucket,
}

/// The most buckets a chart shows (a year of days).
pub const MAX_BUCKETS: usize = 400;

/// How many one-clicks from one network in one minute make a burst.
pub const BURST_THRESHOLD: u64 = 10;

/// One purpose's or topic's trend.
#[derive(Debug, Clone)]
pub struct Trend {
    pub subject: Subject,
    /// "Newsletter" or "Newsletter › Weekly".
    pub name: String,
    /// Per bucket: opt-ins, opt-outs, asks to confirm.
    pub opt_ins: Vec<u64>,
    pub opt_outs: Vec<u64>,
    pub pending: Vec<u64>,
    /// As things stand: points opted in, opted out, waiting for confirmation.
    pub standing: [i64; 3],
}

/// The dashboard of one profile over a period.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub buckets: Vec<Day>,
    pub trends: Vec<Trend>,
    pub bursts: Vec<Burst>,
}

pub async fn dashboard(core: &Core, profile_id: i64, period: &Period) -> Result<Dashboard> {
    let cat = core.catalog(profile_id).await?;
    let mut trends: Vec<Trend> = Vec::new();
    let name = namer(&cat);
    let buckets = period.bucket.range(&period.from, &period.to, MAX_BUCKETS);
    let trend = |subject: Subject, name: String| Trend {
        subject,
        name,
        opt_ins: vec![0; buckets.len()],
        opt_outs: vec![0; buckets.len()],
        pending: vec![0; buckets.len()],
        standing: [0; 3],
    };
    for p in cat.purposes.iter().filter(|p| !p.mandatory) {
        trends.push(trend(Subject::Purpose(p.id), name(&p.key, None)));
        for t in cat.topics_of(p.id) {
            trends.push(trend(Subject::Topic(t.id), name(&p.key, Some(&t.key))));
        }
    }
    let subjects: Vec<Subject> = trends.iter().map(|t| t.subject).collect();
    let (from, to) = (period.from.start(), period.to.end());
    let counts = crate::store::report::day_counts(&core.read, &subjects, &from, &to).await?;
    for c in counts {
        let (Some(day), Some(t)) = (
            Day::parse(&c.day),
            trends.iter_mut().find(|t| t.subject == c.subject),
        ) else {
            continue;
        };
        let start = period.bucket.start(&day);
        let Ok(i) = buckets.binary_search(&start) else {
            continue;
        };
        let n = u64::try_from(c.count).unwrap_or(0);
        match c.value.as_str() {
            "opted_in" => t.opt_ins[i] += n,
            "opted_out" => t.opt_outs[i] += n,
            "pending" => t.pending[i] += n,
            _ => {}
        }
    }
    for (s, value, n) in crate::store::report::standing(&core.read, &subjects).await? {
        if let Some(t) = trends.iter_mut().find(|t| t.subject == s) {
            match value.as_str() {
                "opted_in" => t.standing[0] = n,
                "opted_out" => t.standing[1] = n,
                "pending" => t.standing[2] = n,
                _ => {}
            }
        }
    }
    let clicks = crate::store::report::one_clicks(&core.read, &subjects, &from, &to).await?;
    Ok(Dashboard {
        buckets,
        trends,
        bursts: report::bursts(&clicks, BURST_THRESHOLD),
    })
}

/// The dashboard's numbers as CSV: one row per purpose or topic and bucket.
pub fn dashboard_csv(d: &Dashboard, bucket: Bucket) -> Vec<u8> {
    use crate::domain::export::safe_cell;
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "subject",
        "name",
        "period",
        "opt_ins",
        "opt_outs",
        "asked_to_confirm",
    ]);
    for t in &d.trends {
        let key = match t.subject {
            Subject::Purpose(id) => format!("purpose:{id}"),
            Subject::Topic(id) => format!("topic:{id}"),
            _ => continue,
        };
        for (i, b) in d.buckets.iter().enumerate() {
            let _ = w.write_record([
                key.clone(),
                safe_cell(&t.name).into_owned(),
                bucket.label(b),
                t.opt_ins[i].to_string(),
                t.opt_outs[i].to_string(),
                t.pending[i].to_string(),
            ]);
        }
    }
    w.into_inner().unwrap_or_default()
}
