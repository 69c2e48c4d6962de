//! The ceilings `benches/run.sh` measures prefcenter against, in the same run on the same
//! machine: a bare axum server (same runtime, same allocator, same HTTP stack, no application)
//! answering
//!
//! - `GET /page`: a static HTML page of `--page-bytes` bytes (the size of the contact's page),
//! - `GET /noop`: the small JSON `/healthz` answers, from a constant,
//! - `POST /noop`: nothing, after reading the body (the one-click's form),
//! - `POST /api/v1/decide`: a constant decision, with the headers and about the bytes of a
//!   real one, after reading the body (the ceiling of single decisions: the load tool sends
//!   and reads exactly what it does against prefcenter),
//! - `POST /write`: a durable write of the rows one one-click writes (four ledger records with
//!   their hash chain, one evidence row, four state upserts, for a contact point not written
//!   before), group-committed: a single task owns the write connection, takes everything
//!   queued, writes it in one `BEGIN IMMEDIATE` transaction, commits once, then answers each
//!   request. The database is a copy of the benchmark's seeded file, opened with prefcenter's
//!   own SQLite settings (`store::connect_options`): WAL, synchronous=FULL, foreign keys. On
//!   PostgreSQL (`--database-url postgres://…`, a copy of the seeded database) the transaction
//!   begins as prefcenter's writer begins it (`store::backend::begin_write`: the ledger's
//!   advisory lock), with the server's own durability settings.
//!
//! It prints `ceiling listening on http://ADDR` once it accepts connections.
//!
//!   cargo bench --features ssr --bench ceiling -- --db FILE --page-bytes N [--listen ADDR]
//!   cargo bench --features ssr --bench ceiling -- --database-url URL --page-bytes N
//!
//! With `CEILING_TRACE` set, it prints each write batch's size, work time and commit time to
//! stderr (what the group commit's batches look like under load).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prefcenter::store::{Conn, Ts};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, QueryBuilder, SqliteConnection};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Shared {
    page: Bytes,
    writes: mpsc::UnboundedSender<oneshot::Sender<bool>>,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let db = arg(&args, "--database-url")
        .or_else(|| arg(&args, "--db").map(|f| format!("sqlite://{f}")))
        .expect("--db FILE or --database-url URL (a copy of the seeded benchmark database)");
    let page_bytes: usize = arg(&args, "--page-bytes")
        .and_then(|n| n.parse().ok())
        .expect("--page-bytes N");
    let listen = arg(&args, "--listen").unwrap_or_else(|| "127.0.0.1:0".to_owned());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(serve(db, page_bytes, listen));
}

/// Runs `$body` with `$c` bound to the concrete connection of a `Conn` (once per backend).
macro_rules! both {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            Conn::Sqlite($c) => $body,
            Conn::Postgres($c) => $body,
        }
    };
}

async fn serve(db: String, page_bytes: usize, listen: String) {
    let mut conn = if db.starts_with("sqlite:") {
        let opts = prefcenter::store::connect_options(&db, false).expect("database URL");
        Conn::Sqlite(
            SqliteConnection::connect_with(&opts)
                .await
                .expect("open the database copy"),
        )
    } else {
        let opts = prefcenter::store::pg_connect_options(&db).expect("database URL");
        Conn::Postgres(
            PgConnection::connect_with(&opts)
                .await
                .expect("open the database copy"),
        )
    };
    let subjects = one_click_subjects(&mut conn).await;
    // Contact points nothing has written yet, from the top down.
    let next_point: i64 = both!(&mut conn, c => sqlx::query_scalar("SELECT MAX(id) FROM contact_points")
        .fetch_one(&mut *c)
        .await
        .expect("contact points"));
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(writer(conn, rx, subjects, AtomicI64::new(next_point)));

    let mut page = String::from("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ceiling</title></head><body><p>");
    while page.len() + 22 < page_bytes {
        page.push_str("lorem ipsum dolor sit ");
    }
    page.push_str("</p></body></html>");
    let shared = Arc::new(Shared {
        page: Bytes::from(page),
        writes: tx,
    });
    let app = Router::new()
        .route("/page", get(static_page))
        .route("/noop", get(noop_get).post(noop_post))
        .route("/api/v1/decide", axum::routing::post(decide_noop))
        .route("/write", axum::routing::post(write))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind(&listen).await.expect("bind");
    println!(
        "ceiling listening on http://{}",
        listener.local_addr().expect("address")
    );
    axum::serve(listener, app).await.expect("serve");
}

async fn static_page(State(s): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        s.page.clone(),
    )
        .into_response()
}

async fn noop_get() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

async fn noop_post(_body: Bytes) -> StatusCode {
    StatusCode::OK
}

/// A decision's answer as prefcenter gives it (headers and body), decided by nothing.
async fn decide_noop(_body: Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; frame-ancestors 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        r#"{"allowed":false,"reason":{"code":"opted_out","message":"The contact opted out.","record":1},"record":{"seq":1,"occurred_at":"2026-12-02T17:28:51.426023Z","value":"opted_out","source":"import","actor_kind":"import","change_id":"demo-seed-1","form_version":null,"language":null},"profile":"contoso","contact_known":true,"as_of":null}"#,
    )
        .into_response()
}

async fn write(State(s): State<Arc<Shared>>, _body: Bytes) -> StatusCode {
    let (tx, rx) = oneshot::channel();
    if s.writes.send(tx).is_err() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match rx.await {
        Ok(true) => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The subjects a bench contact's one-click writes: the demo's first purpose and its topics.
async fn one_click_subjects(conn: &mut Conn) -> Vec<(&'static str, i64)> {
    both!(conn, c => {
        let purpose: i64 = sqlx::query_scalar("SELECT id FROM purposes ORDER BY id LIMIT 1")
            .fetch_one(&mut *c)
            .await
            .expect("a purpose (seed the database first)");
        let topics: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM topics WHERE purpose_id = $1 ORDER BY id")
                .bind(purpose)
                .fetch_all(&mut *c)
                .await
                .expect("topics");
        let mut subjects = vec![("purpose", purpose)];
        subjects.extend(topics.into_iter().map(|t| ("topic", t)));
        subjects
    })
}

async fn writer(
    mut conn: Conn,
    mut rx: mpsc::UnboundedReceiver<oneshot::Sender<bool>>,
    subjects: Vec<(&'static str, i64)>,
    next_point: AtomicI64,
) {
    let (mut seq, head) = prefcenter::store::ledger::head(conn.as_mut())
        .await
        .expect("ledger head");
    let mut prev = head.to_vec();
    let mut batch = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let now = Ts(prefcenter::store::now());
        // Three multi-row statements per batch, as prefcenter's writer does: a statement is a
        // round trip to sqlx's connection thread, so one per row would measure that instead.
        let mut records = Vec::with_capacity(batch.len() * subjects.len());
        let mut changes = Vec::with_capacity(batch.len());
        for _ in &batch {
            let point = next_point.fetch_sub(1, Ordering::Relaxed);
            let change = format!("{seq:016x}");
            for (kind, id) in &subjects {
                seq += 1;
                let hash = Sha256::new()
                    .chain_update(&prev)
                    .chain_update(seq.to_be_bytes())
                    .finalize()
                    .to_vec();
                records.push((seq, point, *kind, *id, change.clone(), prev, hash.clone()));
                prev = hash;
            }
            changes.push(change);
        }
        let t0 = std::time::Instant::now();
        let ok = async {
            prefcenter::store::backend::begin_write(&mut conn).await?;
            both!(&mut conn, tx => {
            for chunk in records.chunks(500) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO consent_ledger (seq, occurred_at, contact_point_id, subject_kind,
                     subject_id, channel, old_value, new_value, actor_kind, source, change_id,
                     evidence_digest, prev_hash, hash) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(r.0)
                        .push_bind(&now)
                        .push_bind(r.1)
                        .push_bind(r.2)
                        .push_bind(r.3)
                        .push_bind("email")
                        .push_bind("not_set")
                        .push_bind("opted_out")
                        .push_bind("contact")
                        .push_bind("one_click")
                        .push_bind(&r.4)
                        .push_bind(&r.6)
                        .push_bind(&r.5)
                        .push_bind(&r.6);
                });
                q.build().execute(&mut *tx).await?;
                let mut q = QueryBuilder::new(
                    "INSERT INTO consent_states (contact_point_id, subject_kind, subject_id,
                     channel, value, custodian_confirmed, ledger_seq, set_at) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(r.1)
                        .push_bind(r.2)
                        .push_bind(r.3)
                        .push_bind("email")
                        .push_bind("opted_out")
                        .push_bind(false)
                        .push_bind(r.0)
                        .push_bind(&now);
                });
                q.push(
                    " ON CONFLICT (contact_point_id, subject_kind, subject_id, channel)
                     DO UPDATE SET value = excluded.value, ledger_seq = excluded.ledger_seq,
                     set_at = excluded.set_at",
                );
                q.build().execute(&mut *tx).await?;
            }
            for chunk in changes.chunks(500) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO ledger_evidence (change_id, justification, ip, user_agent) ",
                );
                q.push_values(chunk, |mut b, c| {
                    b.push_bind(c)
                        .push_bind(None::<String>)
                        .push_bind("127.0.0.0")
                        .push_bind("wrk");
                });
                q.build().execute(&mut *tx).await?;
            }
            });
            let t1 = std::time::Instant::now();
            prefcenter::store::backend::execute(&mut conn, "COMMIT").await?;
            if std::env::var_os("CEILING_TRACE").is_some() {
                eprintln!(
                    "batch {} work {:?} commit {:?}",
                    batch.len(),
                    t1 - t0,
                    t1.elapsed()
                );
            }
            Ok::<_, prefcenter::store::StoreError>(())
        }
        .await;
        if let Err(e) = &ok {
            eprintln!("ceiling write failed: {e}");
            let _ = prefcenter::store::backend::execute(&mut conn, "ROLLBACK").await;
        }
        for reply in batch.drain(..) {
            let _ = reply.send(ok.is_ok());
        }
    }
}
