//! Consent imports: files read under a mapping (`domain::import`), a dry run that writes
//! nothing, and the real run through the writer in bounded low-priority batches. Each batch
//! commits its rows' ledger records (actor `import`, the file's name and SHA-256 and the row in
//! the evidence) with the import's progress, so a stopped import resumes from its last
//! committed batch; a second run of the same file changes nothing (a value already held is no
//! change). Erased addresses are refused; imported opt-ins are recorded as given only when the
//! admin declares the source confirmed them, otherwise each goes to double opt-in.

use super::consent::Result;
use super::optin::{desired, AskSettings, RequestOptIn};
use super::Core;
use crate::domain::import::{self as rules, Column, Layout, Mapping, MappingError, RowError};
use crate::domain::ledger::Evidence;
use crate::domain::parse::Lang;
use crate::domain::{ActorKind, Channel, ConsentLevel, ConsentValue, PointKind, Source, Subject};
use crate::store::catalog::Catalog;
use crate::store::contacts::{self, NewContact};
use crate::store::import::{self as db, Counts, Import, ImportError};
use crate::store::writer::{ChangeMeta, Priority, Tx, Unit};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long one batch should keep the writer. A batch is one unit of the writer and a
/// transaction of its own: a one-click that arrives meanwhile waits for it (one batch at most),
/// so its size is set by time, not rows ([`Pace`]), and a slower machine gets smaller batches.
/// A million long rows beside saturating one-click load on the benchmark's two cores, batches
/// of a fixed size: 500 rows (about 13 ms each) 31.7 s with a one-click p99 of 27 ms; 1,000
/// rows (about 25 ms) 26.9 s, 42 ms; sized to 25 ms: 26.2–29.9 s, p99 45–51 ms; to 20 ms (about
/// 900 rows): 28.6–31.2 s, p99 37–41 ms (56 once). The one-click's target is < 50 ms.
pub const BATCH_TIME: Duration = Duration::from_millis(20);

/// Rows per batch: the first batch's, and the bounds of the later ones.
const FIRST_BATCH: usize = 500;
const MIN_BATCH: usize = 50;
const MAX_BATCH: usize = 5_000;

/// The size of the next batch, from the time the writer spent on the ones before: as many rows
/// as take [`BATCH_TIME`] at the writer's time per row, smoothed over the last few batches (one
/// slow commit does not shrink the next batch much, and sizes stay steady: a one-click's wait
/// is set by the largest batches), and at most doubled from one batch to the next.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    rows: usize,
    /// Seconds per row, a moving average (a quarter of each new batch's).
    per_row: Option<f64>,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            rows: FIRST_BATCH,
            per_row: None,
        }
    }
}

impl Pace {
    /// Rows in the next batch.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// A batch of `rows` rows kept the writer for `took`.
    pub fn took(&mut self, rows: usize, took: Duration) {
        if rows == 0 {
            return;
        }
        let sample = took.as_secs_f64().max(1e-7) / rows as f64;
        let per_row = match self.per_row {
            None => sample,
            Some(p) => p + (sample - p) / 4.0,
        };
        self.per_row = Some(per_row);
        let fits = (BATCH_TIME.as_secs_f64() / per_row).min(self.rows as f64 * 2.0);
        self.rows = (fits.round() as usize).clamp(MIN_BATCH, MAX_BATCH);
    }
}

/// One file as given.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What the admin chose: the profile, the layout (else guessed), names mapped by hand
/// (`COLUMN=TOPIC`, `COLUMN=email` …, or a long file's `OPTION=TOPIC`), and whether the source
/// confirmed its opt-ins.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub profile: String,
    pub layout: Option<Layout>,
    pub maps: Vec<(String, String)>,
    pub source_confirmed: bool,
}

/// Why files cannot be imported as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    #[error("no profile has the key “{0}”")]
    UnknownProfile(String),
    #[error("{file}: {why}")]
    File { file: String, why: String },
    #[error("{file}: {error}")]
    Mapping { file: String, error: MappingError },
    #[error("“{0}” is not a topic, a purpose or a column role of this profile")]
    UnknownTarget(String),
    #[error("the files are not all in the same layout")]
    LayoutsDiffer,
    #[error("no file given")]
    NoFile,
}

/// One row ready to write: its addresses (the one its consent is on first), and its consent.
#[derive(Debug, Clone)]
pub struct PlannedRow {
    pub line: u64,
    pub points: Vec<(PointKind, String)>,
    pub items: Vec<(Subject, Channel, bool)>,
    pub consent_date: Option<String>,
    pub level: Option<ConsentLevel>,
    pub locale: Option<Lang>,
    pub child: Option<bool>,
}

/// Files read and checked against the profile: what a dry run shows and a run writes.
pub struct Plan {
    pub profile_id: i64,
    pub catalog: Arc<Catalog>,
    pub file_name: String,
    pub sha256: String,
    /// Every file's mapping, as JSON (an unfinished import of the same file resumes only under
    /// the same mapping).
    pub mapping: String,
    pub layout: Layout,
    /// Every data row in order: ready, or refused with why (a refused row keeps its place).
    rows: Rows,
    /// How many rows, and how many of them are refused while reading.
    total: usize,
    refused: usize,
    pub source_confirmed: bool,
}

/// A row read and checked: ready to write, or refused with why.
pub type PlannedEntry = std::result::Result<PlannedRow, Vec<RowError>>;

/// A plan's rows: kept whole (wide files merged on their key: the merge needs every row), or
/// read again from the files' text whenever they are needed, so a large file's rows are never
/// all in memory (an import writes them a batch at a time).
enum Rows {
    Kept(Vec<PlannedEntry>),
    Files(Vec<FileText>),
}

/// One file's text (UTF-8) and how it is read.
struct FileText {
    text: Arc<[u8]>,
    delimiter: u8,
    mapping: Mapping,
}

impl Plan {
    /// How many rows the files hold (refused ones included).
    pub fn len(&self) -> usize {
        self.total
    }
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
    /// How many rows are refused while reading (before the database is asked).
    pub fn refused(&self) -> usize {
        self.refused
    }
    /// The rows from the `from`th on, in order, each read and checked as it comes.
    pub fn rows_from(&self, from: usize) -> Box<dyn Iterator<Item = PlannedEntry> + Send + '_> {
        match &self.rows {
            Rows::Kept(rows) => Box::new(rows[from.min(rows.len())..].iter().cloned()),
            Rows::Files(files) => Box::new(
                files
                    .iter()
                    .flat_map(move |f| {
                        let mut r = rules::RowReader::new(
                            std::io::Cursor::new(f.text.clone()),
                            f.delimiter,
                            f.mapping.clone(),
                        );
                        // The text was read whole once already: it holds no more rows than
                        // allowed (the error cannot come; it would refuse the row).
                        std::iter::from_fn(move || r.next_entry()).map(move |e| {
                            e.unwrap_or_else(|why| {
                                Err(vec![RowError {
                                    line: 0,
                                    column: String::new(),
                                    why,
                                }])
                            })
                            .and_then(|row| planned(&self.catalog, row))
                        })
                    })
                    .skip(from),
            ),
        }
    }
}

/// One file's header and the mapping guessed (and adjusted by hand) for it.
#[derive(Debug, Clone)]
pub struct FileMapping {
    pub name: String,
    pub header: Vec<String>,
    /// A long file's option names (the mapping step maps each).
    pub option_names: Vec<String>,
    pub mapping: Mapping,
}

/// What a column role is called in a hand mapping.
fn role(word: &str) -> Option<Column> {
    Some(match word.trim().to_ascii_lowercase().as_str() {
        "email" => Column::Email,
        "phone" => Column::Phone,
        "consent_id" | "id" => Column::ConsentId,
        "option" => Column::Option,
        "value" => Column::Value,
        "consent_date" | "date" => Column::ConsentDate,
        "level" | "consent_level" => Column::Level,
        "locale" | "language" => Column::Locale,
        "child" => Column::Child,
        "ignore" | "-" => Column::Ignored,
        _ => return None,
    })
}

/// The profile's topics and purposes as names map to them (topics first: a purpose's key
/// names the whole purpose).
fn targets(cat: &Catalog) -> Vec<rules::TopicName> {
    let mut out: Vec<rules::TopicName> = cat
        .topics
        .iter()
        .filter(|t| !t.retired)
        .map(|t| rules::TopicName {
            key: t.key.clone(),
            names: std::iter::once(t.name.clone())
                .chain(
                    cat.texts
                        .iter()
                        .filter(|x| x.subject == Subject::Topic(t.id))
                        .map(|x| x.name.clone()),
                )
                .collect(),
        })
        .collect();
    out.extend(
        cat.purposes
            .iter()
            .filter(|p| !p.retired && !p.mandatory)
            .map(|p| rules::TopicName {
                key: p.key.clone(),
                names: vec![p.name.clone()],
            }),
    );
    out
}

/// The subject a mapped key is: a topic's, else a purpose's.
fn subject_of<'c>(cat: &'c Catalog, key: &str) -> Option<(Subject, &'c crate::domain::Purpose)> {
    if let Some(t) = cat.topics.iter().find(|t| t.key == key && !t.retired) {
        return cat.purpose(t.purpose_id).map(|p| (Subject::Topic(t.id), p));
    }
    cat.purposes
        .iter()
        .find(|p| p.key == key && !p.retired)
        .map(|p| (Subject::Purpose(p.id), p))
}

/// Reads the files under the profile's catalogue and the hand mapping.
pub async fn prepare(
    core: &Core,
    files: &[SourceFile],
    o: &Options,
) -> Result<std::result::Result<Plan, PrepareError>> {
    let Some(profile_id) = crate::store::catalog::profile_id_by_key(&core.read, &o.profile).await?
    else {
        return Ok(Err(PrepareError::UnknownProfile(o.profile.clone())));
    };
    let cat = core.catalog(profile_id).await?;
    let mappings = match guess(&cat, files, o) {
        Ok(m) => m,
        Err(e) => return Ok(Err(e)),
    };
    let mappings: Vec<Mapping> = mappings.into_iter().map(|m| m.mapping).collect();
    Ok(plan(cat, profile_id, files, &mappings, o.source_confirmed))
}

/// Each file's mapping as guessed from its header and the profile's topics, with the hand
/// mapping applied (not yet checked: the mapping step shows what is missing).
pub fn guess(
    cat: &Catalog,
    files: &[SourceFile],
    o: &Options,
) -> std::result::Result<Vec<FileMapping>, PrepareError> {
    if files.is_empty() {
        return Err(PrepareError::NoFile);
    }
    let names = targets(cat);
    // A hand mapping's target: a column role, or a topic or purpose key (or name).
    let mut maps: Vec<(String, Column)> = Vec::new();
    for (from, to) in &o.maps {
        let target = match role(to) {
            Some(r) => r,
            None => match rules::match_topic(to, &names) {
                Some(key) => Column::Topic(key),
                None => return Err(PrepareError::UnknownTarget(to.clone())),
            },
        };
        maps.push((from.trim().to_owned(), target));
    }
    let mut out = Vec::new();
    for f in files {
        let (text, _) = rules::decode(&f.bytes);
        let (delimiter, header) = rules::header(&text).map_err(|why| PrepareError::File {
            file: f.name.clone(),
            why,
        })?;
        let mut columns = rules::guess_columns(&header, &names);
        for (i, h) in header.iter().enumerate() {
            if let Some((_, c)) = maps.iter().find(|(from, _)| from.eq_ignore_ascii_case(h)) {
                columns[i] = c.clone();
            }
        }
        let layout = o.layout.unwrap_or_else(|| rules::guess_layout(&columns));
        // A long file's options: mapped by hand, else to the topic they name.
        let mut options = Vec::new();
        let mut option_names = Vec::new();
        if let Some(i) = columns.iter().position(|c| *c == Column::Option) {
            option_names = rules::distinct_values(&text, delimiter, i, 200);
            for v in &option_names {
                let by_hand = maps.iter().find_map(|(from, c)| match c {
                    Column::Topic(k) if rules::fold_name(from) == rules::fold_name(v) => {
                        Some(k.clone())
                    }
                    _ => None,
                });
                if let Some(key) = by_hand.or_else(|| rules::match_topic(v, &names)) {
                    options.push((v.clone(), key));
                }
            }
        }
        out.push(FileMapping {
            name: f.name.clone(),
            header,
            option_names,
            mapping: Mapping {
                layout,
                columns,
                options,
            },
        });
    }
    Ok(out)
}

/// Reads the files under their mappings (one per file, checked here) into the rows to write.
pub fn plan(
    cat: Arc<Catalog>,
    profile_id: i64,
    files: &[SourceFile],
    mappings: &[Mapping],
    source_confirmed: bool,
) -> std::result::Result<Plan, PrepareError> {
    if files.is_empty() || files.len() != mappings.len() {
        return Err(PrepareError::NoFile);
    }
    let layout = mappings[0].layout;
    if mappings.iter().any(|m| m.layout != layout) {
        return Err(PrepareError::LayoutsDiffer);
    }
    // Each row is checked against the catalogue as it is read; only wide files to merge are
    // kept whole (the merge needs every row), the others are read again when written.
    let merging = layout == Layout::Wide && files.len() > 1;
    let (mut reads, mut texts) = (Vec::new(), Vec::new());
    let (mut total, mut refused) = (0, 0);
    for (f, mapping) in files.iter().zip(mappings) {
        mapping.check().map_err(|error| PrepareError::Mapping {
            file: f.name.clone(),
            error,
        })?;
        let (text, _) = rules::decode(&f.bytes);
        let delimiter = rules::sniff_delimiter(&text);
        let failed = |why| PrepareError::File {
            file: f.name.clone(),
            why,
        };
        if merging {
            reads.push(rules::read(&text, delimiter, mapping).map_err(failed)?);
        } else {
            rules::read_each(&text, delimiter, mapping, |e| {
                total += 1;
                refused += e.and_then(|r| planned(&cat, r)).is_err() as usize;
            })
            .map_err(failed)?;
            texts.push(FileText {
                text: Arc::from(text.as_bytes()),
                delimiter,
                mapping: mapping.clone(),
            });
        }
    }
    let rows = if merging {
        let rows: Vec<PlannedEntry> = rules::merge(reads)
            .entries
            .into_iter()
            .map(|e| e.and_then(|r| planned(&cat, r)))
            .collect();
        total = rows.len();
        refused = rows.iter().filter(|r| r.is_err()).count();
        Rows::Kept(rows)
    } else {
        Rows::Files(texts)
    };
    let sha256 = match files {
        [one] => rules::file_hash(&one.bytes),
        many => rules::file_hash(
            many.iter()
                .map(|f| rules::file_hash(&f.bytes))
                .collect::<Vec<_>>()
                .join("\n")
                .as_bytes(),
        ),
    };
    let named: Vec<(&str, &Mapping)> = files
        .iter()
        .map(|f| f.name.as_str())
        .zip(mappings)
        .collect();
    Ok(Plan {
        profile_id,
        catalog: cat,
        file_name: files
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(" + "),
        sha256,
        mapping: serde_json::to_string(&named).unwrap_or_default(),
        layout,
        rows,
        total,
        refused,
        source_confirmed,
    })
}

/// A row read, checked against the catalogue: each topic the profile's, on a channel its
/// purpose sends by.
fn planned(cat: &Catalog, r: rules::Row) -> std::result::Result<PlannedRow, Vec<RowError>> {
    let mut points = Vec::new();
    if let Some(e) = &r.email {
        points.push((PointKind::Email, e.as_str().to_owned()));
    }
    if let Some(p) = &r.phone {
        points.push((PointKind::Phone, p.as_str().to_owned()));
    }
    let kind = points[0].0;
    let mut items = Vec::with_capacity(r.items.len());
    for (key, on) in &r.items {
        let Some((subject, purpose)) = subject_of(cat, key) else {
            return Err(vec![RowError {
                line: r.line,
                column: format!("topic {key}"),
                why: "not a topic of this profile".into(),
            }]);
        };
        let channel = match kind {
            PointKind::Email => Channel::Email,
            PointKind::Phone if purpose.channels.contains(&Channel::Sms) => Channel::Sms,
            PointKind::Phone => Channel::Phone,
        };
        if !purpose.channels.contains(&channel) {
            return Err(vec![RowError {
                line: r.line,
                column: format!("topic {key}"),
                why: format!("{} is not sent by {}", purpose.name, channel.as_str()),
            }]);
        }
        items.push((subject, channel, *on));
    }
    Ok(PlannedRow {
        line: r.line,
        points,
        items,
        consent_date: r.consent_date,
        level: r.level,
        locale: r.locale,
        child: r.child,
    })
}

/// A refused row's column and why (never the address).
fn refusal_error(line: u64, r: super::record::Refusal) -> RowError {
    use super::record::Refusal;
    let (column, why) = match r {
        Refusal::SuppressedEmail => (
            "Email",
            "this address was erased: it is never imported again",
        ),
        Refusal::SuppressedPhone => (
            "Phone",
            "this number was erased: it is never imported again",
        ),
        Refusal::OtherProfileEmail => ("Email", "this address is a contact of another profile"),
        Refusal::OtherProfilePhone => ("Phone", "this number is a contact of another profile"),
        Refusal::TwoContacts => (
            "Phone",
            "the address and the number are two different contacts",
        ),
    };
    RowError {
        line,
        column: column.into(),
        why: why.into(),
    }
}

/// What the import would do, writing nothing: contacts created, records, rows unchanged and
/// refused (with why), opt-ins that would be sent to double opt-in.
pub async fn dry_run(core: &Core, plan: &Plan) -> Result<(Counts, Vec<RowError>)> {
    use std::collections::HashMap;
    let mut counts = Counts::default();
    let mut errors: Vec<RowError> = Vec::new();
    // What earlier rows of the file set: (address) → contact state, so a file that names a
    // contact twice counts as the run will.
    let mut seen: HashMap<(PointKind, String), HashMap<(Subject, Channel), ConsentValue>> =
        HashMap::new();
    for row in plan.rows_from(0) {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                counts.rows_refused += 1;
                errors.extend(e);
                continue;
            }
        };
        let key = row.points[0].clone();
        if key.0 == PointKind::Phone && !plan.source_confirmed && row.items.iter().any(|i| i.2) {
            counts.rows_refused += 1;
            errors.push(phone_opt_in(row.line));
            continue;
        }
        let known = match seen.get(&key) {
            Some(_) => None,
            None => contacts::addressed(&core.read, key.0, &key.1, None).await?,
        };
        if !seen.contains_key(&key) {
            let refused = match &known {
                Some(a) if a.suppressed => Some(super::record::Refusal::suppressed(key.0)),
                Some(a) if a.profile_id != plan.profile_id => Some(match key.0 {
                    PointKind::Email => super::record::Refusal::OtherProfileEmail,
                    PointKind::Phone => super::record::Refusal::OtherProfilePhone,
                }),
                Some(_) => None,
                None => crate::store::erasure::suppressed_address(
                    &core.read,
                    &core.secret,
                    key.0,
                    &key.1,
                )
                .await?
                .map(|_| super::record::Refusal::suppressed(key.0)),
            };
            if let Some(r) = refused {
                counts.rows_refused += 1;
                errors.push(refusal_error(row.line, r));
                continue;
            }
            match &known {
                None => counts.contacts_created += 1,
                Some(a) => {
                    // The profile's facts the row changes: a record each.
                    counts.records_written += row.level.is_some_and(|l| l != a.level) as i64
                        + row.child.is_some_and(|c| c != a.is_child) as i64;
                }
            }
            let states = known
                .map(|a| {
                    a.states
                        .iter()
                        .map(|s| ((s.subject, s.channel), s.entry.value))
                        .collect()
                })
                .unwrap_or_default();
            seen.insert(key.clone(), states);
        }
        let states = seen.get_mut(&key).expect("inserted above");
        let mut changed = 0;
        let mut asked = false;
        for &(subject, channel, on) in &row.items {
            let cur = states.get(&(subject, channel)).copied().unwrap_or_default();
            let want = match (on, plan.source_confirmed) {
                (false, _) => ConsentValue::OptedOut,
                (true, true) => ConsentValue::OptedIn,
                (true, false) if cur == ConsentValue::OptedIn => continue,
                (true, false) => {
                    asked = true;
                    ConsentValue::Pending
                }
            };
            if want != cur {
                changed += 1;
                states.insert((subject, channel), want);
            }
        }
        counts.records_written += changed;
        counts.opt_ins_asked += asked as i64;
        if changed == 0 {
            counts.rows_unchanged += 1;
        }
    }
    errors.sort_by_key(|e| e.line);
    Ok((counts, errors))
}

/// Starts the import (or finds the unfinished one of the same file and mapping) and writes
/// every batch not yet committed; returns the import as it ends and the rows it refused.
/// `progress` hears of each batch (rows done, of rows).
pub async fn run(
    core: &Core,
    plan: &Plan,
    started_by: &str,
    progress: impl FnMut(i64, i64),
) -> Result<(Import, Vec<ImportError>)> {
    let id = match db::unfinished(&core.read, plan.profile_id, &plan.sha256, &plan.mapping).await? {
        Some(i) => i.id,
        None => {
            core.writer
                .run(
                    Start {
                        new: StartRow {
                            profile_id: plan.profile_id,
                            file_name: plan.file_name.clone(),
                            sha256: plan.sha256.clone(),
                            mapping: plan.mapping.clone(),
                            source_confirmed: plan.source_confirmed,
                            rows_total: plan.len() as i64,
                            started_by: started_by.to_owned(),
                        },
                    },
                    Priority::Bulk,
                )
                .await?
        }
    };
    write(core, plan, id, progress).await
}

/// Writes every batch of import `id` not yet committed (from its `rows_done` on).
pub async fn write(
    core: &Core,
    plan: &Plan,
    id: i64,
    mut progress: impl FnMut(i64, i64),
) -> Result<(Import, Vec<ImportError>)> {
    let mut import = db::get(&core.read, id)
        .await?
        .ok_or_else(|| crate::store::StoreError::Missing(format!("import {id}")))?;
    let settings = AskSettings::from(core, &plan.catalog.profile);
    let total = plan.len();
    let mut done = import.rows_done.max(0) as usize;
    progress(done as i64, total as i64);
    let mut rows = plan.rows_from(done);
    let mut pace = Pace::default();
    while done < total {
        let upto = (done + pace.rows()).min(total);
        let (written, took) = core
            .writer
            .run_timed(
                Batch {
                    import_id: id,
                    profile_id: plan.profile_id,
                    rows: rows.by_ref().take(upto - done).collect(),
                    from: done as i64,
                    upto: upto as i64,
                    catalog: plan.catalog.clone(),
                    settings: settings.clone(),
                    source_confirmed: plan.source_confirmed,
                    evidence: format!(
                        "Imported from “{}” (SHA-256 {})",
                        plan.file_name, plan.sha256
                    ),
                    secret: core.secret.clone(),
                },
                Priority::Bulk,
            )
            .await?;
        if written {
            // A batch another instance had written did nothing: it says nothing of the pace.
            pace.took(upto - done, took);
        }
        tracing::debug!(
            import = id,
            rows = upto - done,
            took_us = took.as_micros() as u64,
            next = pace.rows(),
            "import batch committed"
        );
        done = match written {
            true => upto,
            // Another instance wrote this batch (both resumed the import): go on from where
            // it is, or stop when it is done.
            false => match db::get(&core.read, id).await? {
                Some(i) if !i.done => {
                    let at = i.rows_done.max(0) as usize;
                    rows = plan.rows_from(at);
                    at
                }
                _ => total,
            },
        };
        progress(done as i64, total as i64);
    }
    import = db::get(&core.read, id)
        .await?
        .ok_or_else(|| crate::store::StoreError::Missing(format!("import {id}")))?;
    let errors = db::errors(&core.read, id).await?;
    Ok((import, errors))
}

/// An opt-in on a phone point the source did not confirm: this server confirms by email only.
fn phone_opt_in(line: u64) -> RowError {
    RowError {
        line,
        column: "Phone".into(),
        why: "an opt-in by phone needs a source that confirmed it (this server confirms by \
              email only)"
            .into(),
    }
}

fn kept(e: &RowError) -> ImportError {
    ImportError {
        line: e.line as i64,
        column: e.column.clone(),
        why: e.why.clone(),
    }
}

struct StartRow {
    profile_id: i64,
    file_name: String,
    sha256: String,
    mapping: String,
    source_confirmed: bool,
    rows_total: i64,
    started_by: String,
}

struct Start {
    new: StartRow,
}

impl Unit for Start {
    type Output = i64;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, crate::store::Result<i64>> {
        Box::pin(async move {
            let n = &self.new;
            let id = db::start(
                tx,
                &db::NewImport {
                    profile_id: n.profile_id,
                    file_name: &n.file_name,
                    file_sha256: &n.sha256,
                    mapping: &n.mapping,
                    source_confirmed: n.source_confirmed,
                    rows_total: n.rows_total,
                    started_by: &n.started_by,
                },
            )
            .await?;
            if n.rows_total == 0 {
                db::advance(tx, id, 0, Counts::default()).await?;
            }
            Ok(id)
        })
    }
}

/// One batch of rows, written with the import's progress.
struct Batch {
    import_id: i64,
    profile_id: i64,
    rows: Vec<std::result::Result<PlannedRow, Vec<RowError>>>,
    /// The rows done before this batch: it writes only if the import still stands there.
    from: i64,
    upto: i64,
    catalog: Arc<Catalog>,
    settings: AskSettings,
    source_confirmed: bool,
    /// The file's name and hash, as every row's evidence starts.
    evidence: String,
    secret: Arc<[u8]>,
}

impl Unit for Batch {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, crate::store::Result<bool>> {
        Box::pin(async move {
            if db::rows_done(tx, self.import_id).await? != Some(self.from) {
                return Ok(false);
            }
            let mut counts = Counts::default();
            let mut errors = Vec::new();
            let mut known = self.known(tx).await?;
            // First every row's contact, found or new (the new ones created together), then
            // each row's consent.
            let mut fresh = Fresh::new(tx, &known).await?;
            let owners: Vec<Option<Owner>> = self
                .rows
                .iter()
                .map(|row| match row {
                    Ok(row) => Some(self.contact_of(tx, row, &mut known, &mut fresh)),
                    Err(_) => None,
                })
                .collect();
            crate::store::contacts::insert_new(tx, &fresh.rows).await?;
            for (row, owner) in self.rows.iter().zip(owners) {
                let refused = match (row, owner) {
                    (Err(e), _) => e.clone(),
                    (Ok(row), Some(owner)) => match self.row(tx, row, owner, &mut known).await? {
                        Ok(c) => {
                            counts += c;
                            continue;
                        }
                        Err(e) => vec![e],
                    },
                    (Ok(_), None) => continue,
                };
                counts.rows_refused += 1;
                errors.extend(refused.iter().map(kept));
            }
            db::add_errors(tx, self.import_id, &errors).await?;
            db::advance(tx, self.import_id, self.upto, counts).await?;
            Ok(true)
        })
    }
}

/// (contact, point, profile, erased or suppressed, child)
type KnownPoint = (i64, i64, i64, bool, bool);

/// Why a row of a batch has no contact to write to.
enum Refused {
    /// An opt-in by phone that the source did not confirm.
    PhoneOptIn,
    Refusal(super::record::Refusal),
}

impl From<super::record::Refusal> for Refused {
    fn from(r: super::record::Refusal) -> Refused {
        Refused::Refusal(r)
    }
}

/// A row's contact: (contact, its points in the row's order, created by this row, child).
type Owner = std::result::Result<(i64, Vec<i64>, bool, bool), Refused>;

/// The contacts and points a batch creates, with ids taken for them up front: as many as the
/// batch has addresses not found (a new contact has at least one; unused ids are skipped).
struct Fresh {
    contact_ids: std::vec::IntoIter<i64>,
    point_ids: std::vec::IntoIter<i64>,
    rows: crate::store::contacts::NewRows<'static>,
}

impl Fresh {
    async fn new(tx: &mut Tx, known: &Known) -> crate::store::Result<Fresh> {
        let n = known.unknown;
        Ok(Fresh {
            contact_ids: contacts::new_contact_ids(tx, n).await?.into_iter(),
            point_ids: contacts::new_point_ids(tx, n).await?.into_iter(),
            rows: Default::default(),
        })
    }

    fn contact(&mut self, c: NewContact<'static>) -> i64 {
        let id = self
            .contact_ids
            .next()
            .expect("an id per address not found");
        self.rows.contacts.push((id, c));
        id
    }

    fn point(&mut self, contact: i64, kind: PointKind, address: &str) -> i64 {
        let id = self.point_ids.next().expect("an id per address not found");
        self.rows
            .points
            .push((id, contact, kind, address.to_owned()));
        id
    }
}

/// A batch's addresses as found before its rows are written (one lookup per kind of address and
/// one of the suppression list for the batch, not per row), kept up to date as rows add
/// contacts and points.
struct Known {
    /// (kind, address) → what is known of its point.
    points: HashMap<(PointKind, String), KnownPoint>,
    /// Suppression hashes of the addresses not found that are on the suppression list.
    suppressed: std::collections::HashSet<Vec<u8>>,
    /// How many distinct addresses of the batch were not found.
    unknown: usize,
}

impl Batch {
    /// Looks every address of the batch up at once, the suppression list for the unknown
    /// ones, and reads the states of the points found (each row then reads none).
    async fn known(&self, tx: &mut Tx) -> crate::store::Result<Known> {
        let mut points = HashMap::new();
        for kind in [PointKind::Email, PointKind::Phone] {
            let mut addresses: Vec<String> = self
                .rows
                .iter()
                .filter_map(|r| r.as_ref().ok())
                .flat_map(|r| r.points.iter())
                .filter(|(k, _)| *k == kind)
                .map(|(_, a)| a.clone())
                .collect();
            addresses.sort_unstable();
            addresses.dedup();
            for (o, child) in contacts::points_by_addresses(tx, kind, &addresses).await? {
                let Some(address) = o.address.clone() else {
                    continue;
                };
                points.insert(
                    (kind, address),
                    (
                        o.contact_id,
                        o.contact_point_id,
                        o.profile_id,
                        o.suppressed,
                        child,
                    ),
                );
            }
        }
        let mut unknown: Vec<Vec<u8>> = self
            .rows
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .flat_map(|r| r.points.iter())
            .filter(|(k, a)| !points.contains_key(&(*k, a.clone())))
            .map(|(k, a)| crate::domain::ledger::address_hash(&self.secret, *k, a).to_vec())
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        let suppressed = crate::store::erasure::suppressed_among_tx(tx, &unknown).await?;
        let found: Vec<i64> = points.values().map(|p| p.1).collect();
        tx.preload(&found).await?;
        Ok(Known {
            points,
            suppressed,
            unknown: unknown.len(),
        })
    }

    /// The row's contact (found by one of its addresses, or new) and its points, in the row's
    /// order: `record::find_or_create` on what [`Batch::known`] found, the new contacts and
    /// points given ids and kept in `fresh` (written together before any row's consent). A
    /// row refused before its contact is looked at (a phone opt-in the source did not confirm)
    /// creates nothing.
    fn contact_of(
        &self,
        tx: &mut Tx,
        row: &PlannedRow,
        known: &mut Known,
        fresh: &mut Fresh,
    ) -> Owner {
        use super::record::Refusal;
        let email = row.points[0].0 == PointKind::Email;
        if !email && !self.source_confirmed && row.items.iter().any(|i| i.2) {
            return Err(Refused::PhoneOptIn);
        }
        let mut found = Vec::with_capacity(row.points.len());
        for (kind, address) in &row.points {
            match known.points.get(&(*kind, address.clone())) {
                Some(&(_, _, _, true, _)) => return Err(Refusal::suppressed(*kind).into()),
                Some(&(_, _, profile, _, _)) if profile != self.profile_id => {
                    return Err(Refusal::other_profile(*kind).into())
                }
                Some(&(contact, cp, _, _, child)) => found.push(Some((contact, cp, child))),
                None => {
                    let h = crate::domain::ledger::address_hash(&self.secret, *kind, address);
                    if known.suppressed.contains(h.as_slice()) {
                        return Err(Refusal::suppressed(*kind).into());
                    }
                    found.push(None);
                }
            }
        }
        let mut owners: Vec<(i64, bool)> =
            found.iter().flatten().map(|(c, _, ch)| (*c, *ch)).collect();
        owners.dedup_by_key(|o| o.0);
        if owners.len() > 1 {
            return Err(Refusal::TwoContacts.into());
        }
        let (contact, created, child) = match owners.first() {
            Some(&(c, child)) => (c, false, child),
            None => {
                let new = NewContact {
                    profile_id: self.profile_id,
                    name: None,
                    locale: row.locale.map(|l| l.code()),
                    level: row.level.unwrap_or(ConsentLevel::UNKNOWN),
                    is_child: row.child.unwrap_or(false),
                };
                let child = new.is_child;
                (fresh.contact(new), true, child)
            }
        };
        let mut ids = Vec::with_capacity(row.points.len());
        for ((kind, address), f) in row.points.iter().zip(found) {
            ids.push(match f {
                Some((_, cp, _)) => cp,
                None => {
                    let cp = fresh.point(contact, *kind, address);
                    tx.created_point(cp);
                    known.points.insert(
                        (*kind, address.clone()),
                        (contact, cp, self.profile_id, false, child),
                    );
                    cp
                }
            });
        }
        Ok((contact, ids, created, child))
    }

    async fn row(
        &self,
        tx: &mut Tx,
        row: &PlannedRow,
        owner: Owner,
        known: &mut Known,
    ) -> crate::store::Result<std::result::Result<Counts, RowError>> {
        let cat = &self.catalog;
        let lang = row
            .locale
            .unwrap_or_else(|| super::consent::contact_lang(None, cat));
        let email = row.points[0].0 == PointKind::Email;
        let (contact, cps, created, known_child) = match owner {
            Ok(x) => x,
            Err(Refused::PhoneOptIn) => return Ok(Err(phone_opt_in(row.line))),
            Err(Refused::Refusal(r)) => return Ok(Err(refusal_error(row.line, r))),
        };
        // An earlier row of the batch may have changed whether the contact is a child.
        let known_child = known
            .points
            .get(&row.points[0])
            .map_or(known_child, |p| p.4);
        let mut why = format!("{}, row {}", self.evidence, row.line);
        if let Some(d) = &row.consent_date {
            why.push_str(&format!("; consent given {d}"));
        }
        if self.source_confirmed {
            why.push_str("; the source confirmed its opt-ins by double opt-in");
        }
        let meta = ChangeMeta {
            actor_kind: ActorKind::Import,
            actor_id: Some(format!("import:{}", self.import_id)),
            source: Source::Import,
            change_id: super::consent::new_change_id(),
            form_version: None,
            language: Some(lang.code().to_owned()),
            request_id: None,
            confirmation: None,
            evidence: Evidence {
                justification: Some(why),
                ..Evidence::default()
            },
        };
        let mut counts = Counts {
            contacts_created: created as i64,
            ..Counts::default()
        };
        let mut child = known_child;
        if !created {
            if row.locale.is_some() {
                contacts::update_contact(tx, contact, row.locale.map(|l| l.code())).await?;
            }
            // The profile's facts are read only when the row gives one.
            let facts = match row.level.is_some() || row.child.is_some() {
                true => crate::store::desk::profile_facts(tx, contact).await?,
                false => None,
            };
            if let Some((_, before, _)) = facts {
                let after = crate::store::desk::ProfileFacts {
                    level: row.level.unwrap_or(before.level),
                    child: row.child.unwrap_or(before.child),
                    ..before
                };
                child = after.child;
                let changed =
                    crate::store::desk::set_profile(tx, contact, (before, after), &meta).await?;
                counts.records_written += changed.len() as i64;
                // Later rows of the batch see the contact as it is now.
                for p in known.points.values_mut().filter(|p| p.0 == contact) {
                    p.4 = child;
                }
            }
        }
        let cp = cps[0];
        // A child's opt-ins are never taken on the file's word: the custodian confirms them.
        let trusted = self.source_confirmed && !child;
        let (mut wanted, mut other) = (Vec::new(), Vec::new());
        for &(subject, channel, on) in &row.items {
            match (on, trusted) {
                (false, _) => other.push((cp, desired(subject, channel, ConsentValue::OptedOut))),
                (true, true) => other.push((cp, desired(subject, channel, ConsentValue::OptedIn))),
                (true, false) if email => wanted.push((subject, channel)),
                // A child's opt-in by phone: nobody to ask by email (left unchanged).
                (true, false) => {}
            }
        }
        let done = RequestOptIn {
            cp,
            wanted,
            other,
            meta,
            lang,
            settings: self.settings.clone(),
        }
        .apply(tx)
        .await?;
        counts.records_written += done.applied.records.len() as i64;
        if done.asked != super::optin::Asked::Nothing {
            counts.opt_ins_asked += 1;
        }
        if counts.records_written == 0 && counts.contacts_created == 0 {
            counts.rows_unchanged += 1;
        }
        Ok(Ok(counts))
    }
}

// ---------------------------------------------------------------------------------------------
// The console: an upload kept as a draft, its mapping step and dry run, then the run in the
// background (resumed when a server starts).

/// What the mapping step shows of a draft: each file's header and options with the mapping
/// saved (guessed at upload), and what the columns may map to.
pub struct Draft {
    pub import: Import,
    pub files: Vec<FileMapping>,
    /// (key, name) of the profile's topics and purposes.
    pub targets: Vec<(String, String)>,
}

/// The mappings a draft saved, by file.
fn saved(import: &Import) -> Vec<Mapping> {
    serde_json::from_str::<Vec<(String, Mapping)>>(&import.mapping)
        .map(|v| v.into_iter().map(|(_, m)| m).collect())
        .unwrap_or_default()
}

fn source_files(kept: Vec<(String, Vec<u8>)>) -> Vec<SourceFile> {
    kept.into_iter()
        .map(|(name, bytes)| SourceFile { name, bytes })
        .collect()
}

/// Keeps an upload as a draft, its mapping guessed; refused when a file is not CSV.
pub async fn upload(
    core: &Core,
    profile_id: i64,
    files: Vec<SourceFile>,
    source_confirmed: bool,
    started_by: &str,
) -> Result<std::result::Result<i64, PrepareError>> {
    let cat = core.catalog(profile_id).await?;
    let guessed = match guess(&cat, &files, &Options::default()) {
        Ok(g) => g,
        Err(e) => return Ok(Err(e)),
    };
    let named: Vec<(&str, &Mapping)> = guessed
        .iter()
        .map(|g| (g.name.as_str(), &g.mapping))
        .collect();
    let mapping = serde_json::to_string(&named).unwrap_or_default();
    struct Upload {
        profile_id: i64,
        files: Vec<(String, Vec<u8>)>,
        name: String,
        sha: String,
        mapping: String,
        source_confirmed: bool,
        started_by: String,
    }
    impl Unit for Upload {
        type Output = i64;
        fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, crate::store::Result<i64>> {
            Box::pin(async move {
                let draft = db::NewDraft {
                    profile_id: self.profile_id,
                    files: &self.files,
                    file_name: &self.name,
                    file_sha256: &self.sha,
                    mapping: &self.mapping,
                    source_confirmed: self.source_confirmed,
                    started_by: &self.started_by,
                };
                db::create_draft(tx, &draft).await
            })
        }
    }
    let name = files
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(" + ");
    let sha = rules::file_hash(
        files
            .iter()
            .map(|f| rules::file_hash(&f.bytes))
            .collect::<Vec<_>>()
            .join("\n")
            .as_bytes(),
    );
    let unit = Upload {
        profile_id,
        files: files.into_iter().map(|f| (f.name, f.bytes)).collect(),
        name,
        sha,
        mapping,
        source_confirmed,
        started_by: started_by.to_owned(),
    };
    Ok(Ok(core.writer.run(unit, Priority::Interactive).await?))
}

/// A draft as the mapping step shows it; `None`: no such import.
pub async fn draft(core: &Core, id: i64) -> Result<Option<Draft>> {
    let Some(import) = db::get(&core.read, id).await? else {
        return Ok(None);
    };
    let cat = core.catalog(import.profile_id).await?;
    let files = source_files(db::files(&core.read, id).await?);
    let mut out = guess(&cat, &files, &Options::default()).unwrap_or_default();
    for (f, m) in out.iter_mut().zip(saved(&import)) {
        if m.columns.len() == f.header.len() {
            f.mapping = m;
        }
    }
    let targets = targets(&cat)
        .into_iter()
        .map(|t| (t.key, t.names.into_iter().next().unwrap_or_default()))
        .collect();
    Ok(Some(Draft {
        import,
        files: out,
        targets,
    }))
}

/// The plan of a kept import under its saved mapping.
async fn kept_plan(
    core: &Core,
    import: &Import,
) -> Result<std::result::Result<Plan, PrepareError>> {
    let cat = core.catalog(import.profile_id).await?;
    let files = source_files(db::files(&core.read, import.id).await?);
    Ok(plan(
        cat,
        import.profile_id,
        &files,
        &saved(import),
        import.source_confirmed,
    ))
}

/// Saves a draft's mapping and runs its dry run; `None`: not a draft (any more).
pub async fn check(
    core: &Core,
    id: i64,
    mappings: Vec<Mapping>,
    source_confirmed: bool,
) -> Result<Option<std::result::Result<(Counts, Vec<RowError>), PrepareError>>> {
    let Some(import) = db::get(&core.read, id).await? else {
        return Ok(None);
    };
    let files = source_files(db::files(&core.read, id).await?);
    let named: Vec<(&str, &Mapping)> = files
        .iter()
        .map(|f| f.name.as_str())
        .zip(mappings.iter())
        .collect();
    let json = serde_json::to_string(&named).unwrap_or_default();
    struct Save(i64, String, bool);
    impl Unit for Save {
        type Output = bool;
        fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, crate::store::Result<bool>> {
            Box::pin(db::set_mapping(tx, self.0, &self.1, self.2))
        }
    }
    if !core
        .writer
        .run(Save(id, json, source_confirmed), Priority::Interactive)
        .await?
    {
        return Ok(None);
    }
    let cat = core.catalog(import.profile_id).await?;
    let plan = match plan(cat, import.profile_id, &files, &mappings, source_confirmed) {
        Ok(p) => p,
        Err(e) => return Ok(Some(Err(e))),
    };
    Ok(Some(Ok(dry_run(core, &plan).await?)))
}

/// Starts a draft under its saved mapping and writes it in the background; `None`: not a
/// draft (started already, or discarded).
pub async fn start(
    core: &Arc<Core>,
    id: i64,
) -> Result<Option<std::result::Result<(), PrepareError>>> {
    let Some(import) = db::get(&core.read, id).await?.filter(|i| !i.done) else {
        return Ok(None);
    };
    let plan = match kept_plan(core, &import).await? {
        Ok(p) => p,
        Err(e) => return Ok(Some(Err(e))),
    };
    struct Begin(i64, String, i64);
    impl Unit for Begin {
        type Output = bool;
        fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, crate::store::Result<bool>> {
            Box::pin(db::begin(tx, self.0, &self.1, self.2))
        }
    }
    let began = core
        .writer
        .run(
            Begin(id, plan.sha256.clone(), plan.len() as i64),
            Priority::Interactive,
        )
        .await?;
    if !began {
        return Ok(None);
    }
    in_background(core.clone(), plan, id);
    Ok(Some(Ok(())))
}

/// Writes an import's remaining batches on a task of its own.
fn in_background(core: Arc<Core>, plan: Plan, id: i64) {
    tokio::spawn(async move {
        match write(&core, &plan, id, |_, _| {}).await {
            Ok((i, _)) => tracing::info!(import = id, rows = i.rows_done, "import done"),
            Err(e) => tracing::error!(import = id, error = %e, "import stopped"),
        }
    });
}

/// Resumes the console's running imports (a server stopped in the middle of one): each from
/// its last committed batch.
pub async fn resume_all(core: &Arc<Core>) -> Result<usize> {
    let ids = db::running_with_files(&core.read).await?;
    let mut resumed = 0;
    for id in ids {
        let Some(import) = db::get(&core.read, id).await? else {
            continue;
        };
        match kept_plan(core, &import).await? {
            Ok(plan) => {
                in_background(core.clone(), plan, id);
                resumed += 1;
            }
            Err(e) => tracing::error!(import = id, error = %e, "an import cannot resume"),
        }
    }
    Ok(resumed)
}

/// Discards a draft (its files go); `false`: not a draft.
pub async fn discard(core: &Core, id: i64) -> Result<bool> {
    struct Discard(i64);
    impl Unit for Discard {
        type Output = bool;
        fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, crate::store::Result<bool>> {
            Box::pin(db::discard(tx, self.0))
        }
    }
    Ok(core.writer.run(Discard(id), Priority::Interactive).await?)
}

/// The refused rows a draft's dry run finds under its saved mapping (the mapping's own
/// problem as one row when it cannot be used).
pub async fn draft_errors(core: &Core, import: &Import) -> Result<Vec<RowError>> {
    match kept_plan(core, import).await? {
        Ok(plan) => Ok(dry_run(core, &plan).await?.1),
        Err(e) => Ok(vec![RowError {
            line: 1,
            column: String::new(),
            why: e.to_string(),
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_batch_that_took_the_time_keeps_its_size() {
        let mut p = Pace::default();
        p.took(FIRST_BATCH, BATCH_TIME);
        assert_eq!(p.rows(), FIRST_BATCH);
    }

    #[test]
    fn the_first_batch_sets_the_pace_and_a_batch_at_most_doubles() {
        let mut fast = Pace::default();
        fast.took(500, ms(1));
        assert_eq!(fast.rows(), 1000, "at most doubled");
        fast.took(1000, ms(2));
        assert_eq!(fast.rows(), 2000);
        // 500 rows in 16 ms: 625 fit in 20 ms.
        let mut near = Pace::default();
        near.took(500, ms(16));
        assert_eq!(near.rows(), 625);
        let mut slow = Pace::default();
        slow.took(500, ms(1000));
        assert_eq!(slow.rows(), MIN_BATCH);
    }

    #[test]
    fn one_slow_batch_moves_the_pace_a_quarter_of_the_way() {
        // 32 µs a row: 625 rows make 20 ms. Then one batch at 160 µs a row (a checkpoint,
        // a busy core): the average becomes 64 µs, 312.5 rows.
        assert_eq!(BATCH_TIME, ms(20));
        let mut p = Pace::default();
        p.took(500, ms(16));
        assert_eq!(p.rows(), 625);
        p.took(625, ms(100));
        assert!((312..=313).contains(&p.rows()), "{}", p.rows());
        // Back at 32 µs: it recovers over a few batches, without overshooting.
        let mut sizes = Vec::new();
        for _ in 0..12 {
            let rows = p.rows();
            p.took(rows, Duration::from_micros(32 * rows as u64));
            sizes.push(p.rows());
        }
        assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
        assert!((600..=625).contains(&p.rows()), "{sizes:?}");
    }

    #[test]
    fn batches_stay_within_bounds() {
        let mut p = Pace::default();
        for _ in 0..30 {
            let rows = p.rows();
            p.took(rows, Duration::ZERO);
        }
        assert_eq!(p.rows(), MAX_BATCH);
        for _ in 0..30 {
            let rows = p.rows();
            p.took(rows, Duration::from_secs(10));
        }
        assert_eq!(p.rows(), MIN_BATCH);
        p.took(0, Duration::ZERO);
        assert_eq!(p.rows(), MIN_BATCH, "an empty batch says nothing");
    }
}
