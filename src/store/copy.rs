//! `prefcenter copy`: moves a whole deployment from one database to another (SQLite to
//! PostgreSQL and back), every table row for row with its ids, in foreign-key order, into an
//! empty, migrated target. The ledger's records keep their order, times and hashes, so the
//! copy verifies with the same secret.

use super::backend::{on, Conn, ConnMut, DbRow, Ts};
use super::{Result, StoreError};
use sqlx::QueryBuilder;

/// What a column holds, for reading it from one backend and writing it to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Time,
    Bool,
    Bytes,
}

/// Every table a deployment holds, parents before children, with every column. A migration
/// that adds a table or a column adds it here (a test compares this list with the schema).
pub const TABLES: &[(&str, &[(&str, Kind)])] = {
    use Kind::*;
    &[
        (
            "compliance_profiles",
            &[
                ("id", Int),
                ("key", Text),
                ("name", Text),
                ("brand_primary", Text),
                ("footer_address", Text),
                ("privacy_url", Text),
                ("default_locale", Text),
                ("form_version", Int),
                ("created_at", Time),
                ("sender_name", Text),
                ("sender_address", Text),
                ("reply_to", Text),
                ("catalog_version", Int),
                ("jurisdiction", Text),
                ("legal_footer", Text),
                ("doi_confirm_hours", Int),
                ("doi_reminder_hours", Int),
                ("trust_api_confirmation", Bool),
                ("trust_staff_opt_ins", Bool),
            ],
        ),
        (
            "purposes",
            &[
                ("id", Int),
                ("profile_id", Int),
                ("key", Text),
                ("name", Text),
                ("description", Text),
                ("enforcement", Text),
                ("channels", Text),
                ("mandatory", Bool),
                ("min_consent_level", Int),
                ("position", Int),
                ("retired_at", Time),
                ("created_at", Time),
            ],
        ),
        (
            "api_keys",
            &[
                ("id", Int),
                ("prefix", Text),
                ("key_hash", Bytes),
                ("name", Text),
                ("scopes", Text),
                ("profile_id", Int),
                ("created_at", Time),
                ("created_by", Text),
                ("revoked_at", Time),
                ("last_used_at", Time),
            ],
        ),
        (
            "webhook_endpoints",
            &[
                ("id", Int),
                ("url", Text),
                ("description", Text),
                ("events", Text),
                ("profile_id", Int),
                ("secret_salt", Bytes),
                ("start_seq", Int),
                ("created_at", Time),
                ("created_by", Text),
                ("disabled_at", Time),
                ("previous_salt", Bytes),
                ("previous_until", Time),
            ],
        ),
        ("webhook_cursor", &[("id", Int), ("ledger_seq", Int)]),
        (
            "webhook_deliveries",
            &[
                ("id", Int),
                ("endpoint_id", Int),
                ("message_id", Text),
                ("event_type", Text),
                ("contact_id", Int),
                ("ledger_seq", Int),
                ("payload", Text),
                ("status", Text),
                ("attempts", Int),
                ("next_attempt_at", Time),
                ("lease_until", Time),
                ("lease_owner", Text),
                ("last_error", Text),
                ("last_status", Int),
                ("created_at", Time),
                ("finished_at", Time),
            ],
        ),
        (
            "api_idempotency",
            &[
                ("api_key_id", Int),
                ("idem_key", Text),
                ("request_hash", Bytes),
                ("outcome", Text),
                ("contact_id", Int),
                ("created_at", Time),
            ],
        ),
        (
            "profile_versions",
            &[
                ("profile_id", Int),
                ("effective_at", Time),
                ("name", Text),
                ("footer_address", Text),
                ("legal_footer", Text),
                ("privacy_url", Text),
            ],
        ),
        (
            "purpose_versions",
            &[
                ("purpose_id", Int),
                ("effective_at", Time),
                ("enforcement", Text),
                ("channels", Text),
                ("mandatory", Bool),
                ("min_consent_level", Int),
                ("retired", Bool),
            ],
        ),
        (
            "topics",
            &[
                ("id", Int),
                ("purpose_id", Int),
                ("key", Text),
                ("name", Text),
                ("description", Text),
                ("position", Int),
                ("retired_at", Time),
                ("created_at", Time),
            ],
        ),
        (
            "form_drafts",
            &[
                ("profile_id", Int),
                ("design", Text),
                ("updated_at", Time),
                ("updated_by", Text),
            ],
        ),
        (
            "form_logos",
            &[
                ("sha256", Text),
                ("mime", Text),
                ("bytes", Bytes),
                ("width", Int),
                ("height", Int),
                ("created_at", Time),
            ],
        ),
        (
            "form_versions",
            &[
                ("profile_id", Int),
                ("version", Int),
                ("design", Text),
                ("items", Text),
                ("published_at", Time),
                ("published_by", Text),
            ],
        ),
        (
            "item_texts",
            &[
                ("subject_kind", Text),
                ("subject_id", Int),
                ("lang", Text),
                ("name", Text),
                ("description", Text),
            ],
        ),
        (
            "topic_versions",
            &[("topic_id", Int), ("effective_at", Time), ("retired", Bool)],
        ),
        (
            "contacts",
            &[
                ("id", Int),
                ("profile_id", Int),
                ("locale", Text),
                ("consent_level", Int),
                ("is_child", Bool),
                ("custodian_contact_id", Int),
                ("tracking_allowed", Bool),
                ("suppressed_at", Time),
                ("created_at", Time),
                ("name", Text),
            ],
        ),
        ("contact_terms", &[("term", Text), ("contact_id", Int)]),
        (
            "contact_points",
            &[
                ("id", Int),
                ("contact_id", Int),
                ("kind", Text),
                ("address", Text),
                ("created_at", Time),
                ("link_generation", Int),
            ],
        ),
        (
            "link_tokens",
            &[
                ("token_hash", Bytes),
                ("contact_point_id", Int),
                ("issued_at", Time),
                ("expires_at", Time),
            ],
        ),
        (
            "consent_ledger",
            &[
                ("seq", Int),
                ("occurred_at", Time),
                ("contact_point_id", Int),
                ("subject_kind", Text),
                ("subject_id", Int),
                ("channel", Text),
                ("old_value", Text),
                ("new_value", Text),
                ("custodian_confirmed", Bool),
                ("actor_kind", Text),
                ("actor_id", Text),
                ("source", Text),
                ("change_id", Text),
                ("form_version", Int),
                ("language", Text),
                ("request_id", Text),
                ("evidence_digest", Bytes),
                ("prev_hash", Bytes),
                ("hash", Bytes),
                ("confirmation", Text),
                ("evidence_key", Text),
                ("fact_old", Text),
                ("fact_new", Text),
            ],
        ),
        (
            "ledger_evidence",
            &[
                ("change_id", Text),
                ("justification", Text),
                ("ip", Text),
                ("user_agent", Text),
                ("salt", Bytes),
            ],
        ),
        (
            "suppressions",
            &[
                ("address_hash", Bytes),
                ("kind", Text),
                ("ledger_seq", Int),
                ("created_at", Time),
            ],
        ),
        (
            "consent_states",
            &[
                ("contact_point_id", Int),
                ("subject_kind", Text),
                ("subject_id", Int),
                ("channel", Text),
                ("value", Text),
                ("custodian_confirmed", Bool),
                ("ledger_seq", Int),
                ("set_at", Time),
            ],
        ),
        (
            "opt_in_requests",
            &[
                ("id", Int),
                ("contact_point_id", Int),
                ("items", Text),
                ("language", Text),
                ("created_at", Time),
                ("expires_at", Time),
                ("remind_at", Time),
                ("reminded_at", Time),
                ("closed_at", Time),
                ("outcome", Text),
                ("confirm_change_id", Text),
                ("custodian_point_id", Int),
            ],
        ),
        (
            "data_requests",
            &[
                ("id", Int),
                ("contact_id", Int),
                ("contact_point_id", Int),
                ("kind", Text),
                ("status", Text),
                ("requested_by", Text),
                ("language", Text),
                ("created_at", Time),
                ("due_at", Time),
                ("closed_at", Time),
            ],
        ),
        (
            "data_request_events",
            &[
                ("id", Int),
                ("request_id", Int),
                ("at", Time),
                ("event", Text),
                ("actor", Text),
                ("ip", Text),
                ("user_agent", Text),
            ],
        ),
        (
            "data_request_tokens",
            &[
                ("token_hash", Bytes),
                ("request_id", Int),
                ("message_id", Text),
                ("issued_at", Time),
                ("expires_at", Time),
            ],
        ),
        (
            "contact_changes",
            &[
                ("id", Int),
                ("contact_id", Int),
                ("at", Time),
                ("field", Text),
                ("old_value", Text),
                ("new_value", Text),
                ("actor_id", Text),
                ("source", Text),
                ("justification", Text),
                ("change_id", Text),
            ],
        ),
        (
            "imports",
            &[
                ("id", Int),
                ("profile_id", Int),
                ("file_name", Text),
                ("file_sha256", Text),
                ("mapping", Text),
                ("source_confirmed", Bool),
                ("status", Text),
                ("rows_total", Int),
                ("rows_done", Int),
                ("contacts_created", Int),
                ("records_written", Int),
                ("rows_unchanged", Int),
                ("rows_refused", Int),
                ("opt_ins_asked", Int),
                ("started_by", Text),
                ("started_at", Time),
                ("finished_at", Time),
            ],
        ),
        (
            "import_files",
            &[
                ("import_id", Int),
                ("position", Int),
                ("name", Text),
                ("content", Bytes),
            ],
        ),
        (
            "segments",
            &[
                ("id", Int),
                ("profile_id", Int),
                ("name", Text),
                ("definition", Text),
                ("created_by", Text),
                ("created_at", Time),
                ("updated_by", Text),
                ("updated_at", Time),
            ],
        ),
        (
            "import_errors",
            &[
                ("import_id", Int),
                ("line", Int),
                ("col", Text),
                ("why", Text),
            ],
        ),
        (
            "confirm_tokens",
            &[
                ("token_hash", Bytes),
                ("request_id", Int),
                ("message_id", Text),
                ("issued_at", Time),
            ],
        ),
        (
            "outbox",
            &[
                ("id", Int),
                ("kind", Text),
                ("contact_point_id", Int),
                ("request_id", Int),
                ("user_id", Int),
                ("message_id", Text),
                ("created_at", Time),
                ("status", Text),
                ("attempts", Int),
                ("next_attempt_at", Time),
                ("lease_until", Time),
                ("lease_owner", Text),
                ("last_error", Text),
                ("finished_at", Time),
                ("change_id", Text),
                ("data_request_id", Int),
            ],
        ),
        (
            "rate_windows",
            &[("window_start", Time), ("key", Bytes), ("hits", Int)],
        ),
        (
            "key_fingerprints",
            &[("name", Text), ("fingerprint", Text), ("recorded_at", Time)],
        ),
        (
            "signing_keys",
            &[
                ("id", Text),
                ("public_key", Bytes),
                ("created_at", Time),
                ("retired_at", Time),
            ],
        ),
        (
            "ledger_checkpoints",
            &[
                ("id", Int),
                ("seq", Int),
                ("hash", Bytes),
                ("signed_at", Time),
                ("key_id", Text),
                ("signature", Bytes),
            ],
        ),
        (
            "users",
            &[
                ("id", Int),
                ("email", Text),
                ("role", Text),
                ("password_hash", Text),
                ("created_at", Time),
                ("disabled_at", Time),
                ("last_sign_in_at", Time),
                ("sessions_after", Time),
                ("invited_by", Text),
            ],
        ),
        (
            "invite_tokens",
            &[
                ("token_hash", Bytes),
                ("user_id", Int),
                ("message_id", Text),
                ("issued_at", Time),
                ("expires_at", Time),
            ],
        ),
        (
            "console_sessions",
            &[("id", Text), ("data", Bytes), ("expires_at", Time)],
        ),
        (
            "console_setup",
            &[("id", Int), ("code_hash", Bytes), ("created_at", Time)],
        ),
        (
            "console_audit",
            &[
                ("id", Int),
                ("at", Time),
                ("actor_user_id", Int),
                ("actor", Text),
                ("kind", Text),
                ("subject", Text),
                ("before", Text),
                ("after", Text),
            ],
        ),
    ]
};

/// Tables whose `id` the database assigns (PostgreSQL's identity sequences follow the copy).
const IDENTITY_TABLES: &[&str] = &[
    "compliance_profiles",
    "purposes",
    "topics",
    "contacts",
    "contact_points",
    "opt_in_requests",
    "outbox",
    "ledger_checkpoints",
    "users",
    "console_audit",
    "api_keys",
    "webhook_endpoints",
    "webhook_deliveries",
    "data_requests",
    "data_request_events",
    "contact_changes",
    "imports",
    "segments",
];

/// Rows per statement: at most 23 columns, well inside both backends' parameter limits.
const CHUNK: i64 = 500;

#[derive(Debug, Clone)]
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Time(Option<Ts>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

fn read_row(r: &impl DbRow, columns: &[(&str, Kind)]) -> Result<Vec<Value>> {
    columns
        .iter()
        .map(|(name, kind)| {
            Ok(match kind {
                Kind::Int => Value::Int(r.col(name)?),
                Kind::Text => Value::Text(r.col(name)?),
                Kind::Time => Value::Time(r.col(name)?),
                Kind::Bool => Value::Bool(r.col(name)?),
                Kind::Bytes => Value::Bytes(r.col(name)?),
            })
        })
        .collect()
}

/// How many rows each table had, as copied.
pub type Counts = Vec<(&'static str, u64)>;

/// Copies every table of `from` into `to`, which must be migrated and hold no data; all of
/// it in one transaction on the target (a failed copy leaves it empty).
pub async fn copy(from: &mut Conn, to: &mut Conn) -> Result<Counts> {
    for (table, _) in TABLES {
        let n = count(to.as_mut(), table).await?;
        if n > 0 {
            return Err(StoreError::NotEmpty(format!(
                "the target database is not empty ({table} has {n} rows): copy into a new, empty database"
            )));
        }
    }
    super::backend::begin_write(to).await?;
    let copied = match copy_tables(from, to).await {
        Ok(c) => super::backend::follow_explicit_ids(to, IDENTITY_TABLES)
            .await
            .map(|_| c),
        Err(e) => Err(e),
    };
    super::backend::finish(to, copied).await
}

async fn copy_tables(from: &mut Conn, to: &mut Conn) -> Result<Counts> {
    let mut counts = Vec::new();
    for (table, columns) in TABLES {
        let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
        let key = names[0];
        let mut offset = 0i64;
        let mut copied = 0u64;
        loop {
            // Ordered by the first column (the key), so the ledger goes in seq order.
            let sql = format!(
                "SELECT {} FROM {table} ORDER BY {key} LIMIT {CHUNK} OFFSET {offset}",
                names.join(", ")
            );
            let rows: Vec<Vec<Value>> = on!(from.as_mut(), c => sqlx::query(&sql)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(|r| read_row(r, columns))
                .collect::<Result<_>>()?);
            if rows.is_empty() {
                break;
            }
            insert(to.as_mut(), table, &names, &rows).await?;
            copied += rows.len() as u64;
            offset += CHUNK;
        }
        counts.push((*table, copied));
    }
    Ok(counts)
}

async fn insert(conn: ConnMut<'_>, table: &str, names: &[&str], rows: &[Vec<Value>]) -> Result<()> {
    let head = format!("INSERT INTO {table} ({}) ", names.join(", "));
    on!(conn, c => {
        let mut q = QueryBuilder::new(head);
        q.push_values(rows, |mut b, row| {
            for v in row {
                match v {
                    Value::Int(x) => b.push_bind(*x),
                    Value::Text(x) => b.push_bind(x.clone()),
                    Value::Time(x) => b.push_bind(x.clone()),
                    Value::Bool(x) => b.push_bind(*x),
                    Value::Bytes(x) => b.push_bind(x.clone()),
                };
            }
        });
        q.build().execute(&mut *c).await?;
    });
    Ok(())
}

async fn count(conn: ConnMut<'_>, table: &str) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    on!(conn, c => Ok(sqlx::query_scalar(&sql).fetch_one(&mut *c).await?))
}

/// The columns of a table as the database has them (to check [`TABLES`] against the schema).
pub async fn columns_of(conn: ConnMut<'_>, table: &str) -> Result<Vec<String>> {
    on!(conn, c => {
        let sql = format!("SELECT * FROM {table} LIMIT 1");
        let described = sqlx::Executor::describe(&mut *c, sql.as_str()).await?;
        Ok(described.columns().iter().map(|col| sqlx::Column::name(col).to_owned()).collect())
    })
}
