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
    /// Uploaded on the console, not started yet (the mapping step).
    pub draft: bool,
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
        draft: status == "draft",
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
    // A finished import's files are not needed any more.
    on!(tx.conn(), c => sqlx::query(
        "DELETE FROM import_files WHERE import_id = $1
           AND EXISTS (SELECT 1 FROM imports WHERE id = $1 AND status = 'done')",
    )
    .bind(id)
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

/// A console upload: a draft import with its files kept (and the mapping guessed for them).
pub struct NewDraft<'a> {
    pub profile_id: i64,
    pub files: &'a [(String, Vec<u8>)],
    pub file_name: &'a str,
    pub file_sha256: &'a str,
    pub mapping: &'a str,
    pub source_confirmed: bool,
    pub started_by: &'a str,
}

pub async fn create_draft(tx: &mut Tx, n: &NewDraft<'_>) -> Result<i64> {
    let now = tx.now_str();
    let id: i64 = on!(tx.conn(), c => sqlx::query_scalar(
        "INSERT INTO imports (profile_id, file_name, file_sha256, mapping, source_confirmed,
             status, rows_total, started_by, started_at)
         VALUES ($1, $2, $3, $4, $5, 'draft', 0, $6, $7) RETURNING id",
    )
    .bind(n.profile_id)
    .bind(n.file_name)
    .bind(n.file_sha256)
    .bind(n.mapping)
    .bind(n.source_confirmed)
    .bind(n.started_by)
    .bind(Ts::new(&now))
    .fetch_one(c)
    .await?);
    for (i, (name, bytes)) in n.files.iter().enumerate() {
        on!(tx.conn(), c => sqlx::query(
            "INSERT INTO import_files (import_id, position, name, content) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(name)
        .bind(bytes)
        .execute(c)
        .await
        .map(|_| ())?);
    }
    Ok(id)
}

/// An import's kept files, in order: (name, bytes).
pub async fn files(read: &Reader, id: i64) -> Result<Vec<(String, Vec<u8>)>> {
    read!(read, c => Ok(sqlx::query_as(
        "SELECT name, content FROM import_files WHERE import_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?))
}

/// A draft's mapping and declaration, as the mapping step last saved them; `false` when the
/// import is no longer a draft.
pub async fn set_mapping(
    tx: &mut Tx,
    id: i64,
    mapping: &str,
    source_confirmed: bool,
) -> Result<bool> {
    on!(tx.conn(), c => Ok(sqlx::query(
        "UPDATE imports SET mapping = $2, source_confirmed = $3 WHERE id = $1 AND status = 'draft'",
    )
    .bind(id)
    .bind(mapping)
    .bind(source_confirmed)
    .execute(c)
    .await?
    .rows_affected()
        == 1))
}

/// A draft starts: running from now, with this many rows; `false` when it was not a draft
/// (started twice, or discarded).
pub async fn begin(tx: &mut Tx, id: i64, sha256: &str, rows_total: i64) -> Result<bool> {
    let now = tx.now_str();
    let started = on!(tx.conn(), c => sqlx::query(
        "UPDATE imports SET status = 'running', rows_total = $2, file_sha256 = $3, started_at = $4
         WHERE id = $1 AND status = 'draft'",
    )
    .bind(id)
    .bind(rows_total)
    .bind(sha256)
    .bind(Ts::new(&now))
    .execute(c)
    .await?
    .rows_affected())
        == 1;
    if started && rows_total == 0 {
        advance(tx, id, 0, Counts::default()).await?;
    }
    Ok(started)
}

/// A draft discarded: its files and its row go.
pub async fn discard(tx: &mut Tx, id: i64) -> Result<bool> {
    let status: Option<String> = on!(tx.conn(), c => sqlx::query_scalar(
        "SELECT status FROM imports WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await?);
    if status.as_deref() != Some("draft") {
        return Ok(false);
    }
    on!(tx.conn(), c => {
        sqlx::query("DELETE FROM import_files WHERE import_id = $1").bind(id).execute(&mut *c).await?;
        sqlx::query("DELETE FROM import_errors WHERE import_id = $1").bind(id).execute(&mut *c).await?;
        sqlx::query("DELETE FROM imports WHERE id = $1").bind(id).execute(&mut *c).await?;
    });
    Ok(true)
}

/// How many rows of an import are done, inside the writer's transaction (a batch checks it
/// is the next one: two instances resuming the same import never write a batch twice).
pub async fn rows_done(tx: &mut Tx, id: i64) -> Result<Option<i64>> {
    on!(tx.conn(), c => Ok(sqlx::query_scalar(
        "SELECT rows_done FROM imports WHERE id = $1 AND status = 'running'",
    )
    .bind(id)
    .fetch_optional(c)
    .await?))
}

/// The newest imports first, `limit` at most.
pub async fn list(read: &Reader, limit: i64) -> Result<Vec<Import>> {
    let sql = format!("SELECT {COLUMNS} FROM imports ORDER BY id DESC LIMIT $1");
    read!(read, c => sqlx::query(&sql)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(import)
        .collect())
}

/// Running imports whose files are kept (the console's: a server resumes them when it starts).
pub async fn running_with_files(read: &Reader) -> Result<Vec<i64>> {
    read!(read, c => Ok(sqlx::query_scalar(
        "SELECT i.id FROM imports i WHERE i.status = 'running'
           AND EXISTS (SELECT 1 FROM import_files f WHERE f.import_id = i.id)
         ORDER BY i.id",
    )
    .fetch_all(&mut *c)
    .await?))
}

/// An erasure's part: every kept file's cells holding the erased address or number emptied
/// (`domain::import::scrub`); returns how many files changed.
pub async fn scrub_files(tx: &mut Tx, email: Option<&str>, phone: Option<&str>) -> Result<u64> {
    let kept: Vec<(i64, i64, Vec<u8>)> = on!(tx.conn(), c => sqlx::query_as(
        "SELECT import_id, position, content FROM import_files ORDER BY import_id, position",
    )
    .fetch_all(c)
    .await?);
    let mut changed = 0;
    for (id, position, content) in kept {
        let Some(clean) = crate::domain::import::scrub(&content, email, phone) else {
            continue;
        };
        on!(tx.conn(), c => sqlx::query(
            "UPDATE import_files SET content = $3 WHERE import_id = $1 AND position = $2",
        )
        .bind(id)
        .bind(position)
        .bind(clean)
        .execute(c)
        .await
        .map(|_| ())?);
        changed += 1;
    }
    Ok(changed)
}
