//! Consent imports: the import's row (its file, mapping, progress and counts) and the rows it
//! could not take. The batches themselves write through the writer's units (`services::import`),
//! each moving the progress in the same transaction.

use super::backend::{on, read, DbRow, Ts};
use super::writer::Tx;
use super::Reader;
use super::Result;

/// An import and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub id: i64,
    pub profile_id: i64,
    pub file_name: String,
    pub file_sha256: String,
    pub mapping: String,
    pub source_confirmed: bool,
    pub done: bool,
    pub rows_total: i64,
    pub rows_done: i64,
    pub counts: Counts,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub contacts_created: i64,
    pub records_written: i64,
    pub rows_unchanged: i64,
    pub rows_refused: i64,
    pub opt_ins_asked: i64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.contacts_created += o.contacts_created;
        self.records_written += o.records_written;
        self.rows_unchanged += o.rows_unchanged;
        self.rows_refused += o.rows_refused;
        self.opt_ins_asked += o.opt_ins_asked;
    }
}

/// A row the import could not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub line: i64,
    pub column: String,
    pub why: String,
}

const COLUMNS: &str = "id, profile_id, file_name, file_sha256, mapping, source_confirmed, status,
    rows_total, rows_done, contacts_created, records_written, rows_unchanged, rows_refused,
    opt_ins_asked, started_by, started_at, finished_at";

fn import(r: &impl DbRow) -> Result<Import> {
    let status: String = r.col("status")?;
    Ok(Import {
        id: r.col("id")?,
        profile_id: r.col("profile_id")?,
        file_name: r.col("file_name")?,
        file_sha256: r.col("file_sha256")?,
        mapping: r.col("mapping")?,
        source_confirmed: r.col("source_confirmed")?,
        done: status == "done",
        rows_total: r.col("rows_total")?,
        rows_done: r.col("rows_done")?,
        counts: Counts {
            contacts_created: r.col("contacts_created")?,
            records_written: r.col("records_written")?,
            rows_unchanged: r.col("rows_unchanged")?,
            rows_refused: r.col("rows_refused")?,
            opt_ins_asked: r.col("opt_ins_asked")?,
        },
        started_by: r.col("started_by")?,
        started_at: r.col::<Ts>("started_at")?.into_string(),
        finished_at: r.col::<Option<Ts>>("finished_at")?.map(Ts::into_string),
    })
}

/// The unfinished import of this file under this mapping in this profile, if one was stopped
/// half-way (it resumes).
pub async fn unfinished(
    read: &Reader,
    profile_id: i64,
    sha256: &str,
    mapping: &str,
) -> Result<Option<Import>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM imports
         WHERE profile_id = $1 AND file_sha256 = $2 AND mapping = $3 AND status = 'running'
         ORDER BY id DESC LIMIT 1"
    );
    read!(read, c => sqlx::query(&sql)
        .bind(profile_id)
        .bind(sha256)
        .bind(mapping)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(import)
        .transpose())
}

pub async fn get(read: &Reader, id: i64) -> Result<Option<Import>> {
    let sql = format!("SELECT {COLUMNS} FROM imports WHERE id = $1");
    read!(read, c => sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(import)
        .transpose())
}

/// What a new import is.
pub struct NewImport<'a> {
    pub profile_id: i64,
    pub file_name: &'a str,
    pub file_sha256: &'a str,
    pub mapping: &'a str,
    pub source_confirmed: bool,
    pub rows_total: i64,
    pub started_by: &'a str,
}

/// Starts an import: its row.
pub async fn start(tx: &mut Tx, n: &NewImport<'_>) -> Result<i64> {
    let now = tx.now_str();
    let id: i64 = on!(tx.conn(), c => sqlx::query_scalar(
        "INSERT INTO imports (profile_id, file_name, file_sha256, mapping, source_confirmed,
             status, rows_total, rows_refused, started_by, started_at)
         VALUES ($1, $2, $3, $4, $5, 'running', $6, 0, $7, $8) RETURNING id",
    )
    .bind(n.profile_id)
    .bind(n.file_name)
    .bind(n.file_sha256)
    .bind(n.mapping)
    .bind(n.source_confirmed)
    .bind(n.rows_total)
    .bind(n.started_by)
    .bind(Ts::new(&now))
    .fetch_one(c)
    .await?);
    Ok(id)
}

/// Keeps rows the import could not take.
pub async fn add_errors(tx: &mut Tx, id: i64, errors: &[ImportError]) -> Result<()> {
    for chunk in errors.chunks(500) {
        on!(tx.conn(), c => {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO import_errors (import_id, line, col, why) ");
            q.push_values(chunk, |mut b, e| {
                b.push_bind(id)
                    .push_bind(e.line)
                    .push_bind(e.column.clone())
                    .push_bind(e.why.clone());
            });
            q.build().execute(&mut *c).await?;
        });
    }
    Ok(())
}

/// Moves an import on by a batch: `rows_done` is now `done`, its counts grow by `add`; the
/// last batch finishes it.
pub async fn advance(tx: &mut Tx, id: i64, done: i64, add: Counts) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => sqlx::query(
        "UPDATE imports SET rows_done = $2,
             contacts_created = contacts_created + $3, records_written = records_written + $4,
             rows_unchanged = rows_unchanged + $5, rows_refused = rows_refused + $6,
             opt_ins_asked = opt_ins_asked + $7,
             status = CASE WHEN $2 >= rows_total THEN 'done' ELSE status END,
             finished_at = CASE WHEN $2 >= rows_total THEN $8 ELSE finished_at END
         WHERE id = $1",
    )
    .bind(id)
    .bind(done)
    .bind(add.contacts_created)
    .bind(add.records_written)
    .bind(add.rows_unchanged)
    .bind(add.rows_refused)
    .bind(add.opt_ins_asked)
    .bind(Ts::new(&now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// The rows an import could not take, in file order.
pub async fn errors(read: &Reader, id: i64) -> Result<Vec<ImportError>> {
    read!(read, c => sqlx::query(
        "SELECT line, col, why FROM import_errors WHERE import_id = $1 ORDER BY line, col",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        Ok(ImportError {
            line: r.col("line")?,
            column: r.col("col")?,
            why: r.col("why")?,
        })
    })
    .collect())
}
