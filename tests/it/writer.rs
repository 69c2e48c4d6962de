//! The single writer on a real SQLite file: units that fail alone, a writer that dies and comes
//! back, bulk work that lets interactive units through, and random action sequences whose
//! ledger always verifies and always replays to the stored state.

use futures_util::future::BoxFuture;
use prefcenter::domain::ledger::Desired;
use prefcenter::domain::{ActorKind, Channel, ConsentValue, Source, Subject};
use prefcenter::store::writer::{ChangeMeta, ChangeSet, Priority, Tx, Unit, Writer};
use prefcenter::store::{self, Clock, StoreError};
use proptest::prelude::*;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

async fn writer_on(
    dir: &std::path::Path,
    contacts: usize,
) -> (Writer, tokio::task::JoinHandle<()>, store::Reader, String) {
    let url = crate::helpers::fresh_database(dir).await;
    let mut db = store::open(&url, 2).await.unwrap();
    prefcenter::services::demo::seed(&mut db.write)
        .await
        .unwrap();
    if contacts > 0 {
        prefcenter::services::demo::bench_contacts(&mut db.write, contacts, 30)
            .await
            .unwrap();
    }
    let (w, task) = Writer::spawn(db.write, db.write_options, KEY.into(), Clock::system());
    (w, task, db.read, url)
}

/// A connection of sqlx's Any driver to the database at `url` (for hand-written SQL).
async fn read_any(url: &str) -> sqlx::AnyConnection {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url).await.unwrap()
}

fn meta(id: &str) -> ChangeMeta {
    ChangeMeta {
        actor_kind: ActorKind::System,
        actor_id: None,
        source: Source::System,
        change_id: id.to_owned(),
        form_version: None,
        language: None,
        request_id: None,
        confirmation: None,
        evidence: Default::default(),
    }
}

fn set(cp: i64, topic: i64, value: ConsentValue, id: &str) -> ChangeSet {
    ChangeSet {
        items: vec![(
            cp,
            Desired {
                subject: Subject::Topic(topic),
                channel: Channel::Email,
                value,
                custodian_confirmed: false,
                only_if_current: None,
            },
        )],
        meta: meta(id),
    }
}

struct Panics;
impl Unit for Panics {
    type Output = ();
    fn apply<'a>(&'a self, _tx: &'a mut Tx) -> BoxFuture<'a, store::Result<()>> {
        Box::pin(async { panic!("a bug in a unit") })
    }
}

struct Refuses;
impl Unit for Refuses {
    type Output = ();
    fn apply<'a>(&'a self, _tx: &'a mut Tx) -> BoxFuture<'a, store::Result<()>> {
        Box::pin(async { Err(StoreError::Missing("what this unit needed".into())) })
    }
}

struct Nothing;
impl Unit for Nothing {
    type Output = ();
    fn apply<'a>(&'a self, _tx: &'a mut Tx) -> BoxFuture<'a, store::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

async fn verified(read: &store::Reader) {
    let report = store::ledger::verify(read, KEY, &[]).await.unwrap();
    assert!(report.ok(), "{report:?}");
}

#[tokio::test]
async fn a_writer_that_dies_is_restarted_and_its_caller_told_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    let (w, task, read, _) = writer_on(dir.path(), 0).await;
    let err = w.run(Panics, Priority::Interactive).await.unwrap_err();
    assert!(matches!(err, StoreError::WriterUnavailable), "{err:?}");
    assert!(err.is_transient());
    let applied = w
        .apply(set(1, 1, ConsentValue::OptedOut, "after-panic"))
        .await
        .unwrap();
    assert_eq!(applied.records.len(), 1);
    assert_eq!(w.status().restarts(), 1);
    assert!(w.ping(std::time::Duration::from_secs(2)).await);
    verified(&read).await;
    drop(w);
    task.await.unwrap();
}

#[tokio::test]
async fn a_failing_unit_gets_its_own_error_and_does_not_sink_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (w, task, read, _) = writer_on(dir.path(), 200).await;
    let mut handles = Vec::new();
    for i in 0..200 {
        let w = w.clone();
        handles.push(tokio::spawn(async move {
            w.apply(set(3 + i, 1, ConsentValue::OptedOut, &format!("c{i}")))
                .await
                .map(|a| a.records.len())
        }));
    }
    let bad = w.run(Refuses, Priority::Interactive).await.unwrap_err();
    assert!(matches!(bad, StoreError::Missing(_)), "{bad:?}");
    assert!(!bad.is_transient());
    for h in handles {
        assert_eq!(h.await.unwrap().unwrap(), 1);
    }
    verified(&read).await;
    drop(w);
    task.await.unwrap();
}

#[tokio::test]
async fn interactive_units_pass_a_bulk_unit_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let (w, task, read, _) = writer_on(dir.path(), 20_000).await;
    let points = prefcenter::store::contacts::email_points(&read, 20_000)
        .await
        .unwrap();
    let items: Vec<(i64, Desired)> = points
        .iter()
        .map(|&cp| set(cp, 1, ConsentValue::OptedOut, "bulk").items[0])
        .collect();
    let bulk = {
        let w = w.clone();
        tokio::spawn(async move { w.apply_bulk(items, meta("bulk")).await })
    };
    // Wait until the bulk unit has committed its first piece, then ask for an interactive one.
    while store::ledger::count(&read).await.unwrap() < 250 {
        tokio::task::yield_now().await;
    }
    let one = w
        .apply(set(1, 2, ConsentValue::OptedOut, "one-click"))
        .await
        .unwrap();
    assert_eq!(one.records.len(), 1);
    assert!(
        !bulk.is_finished(),
        "the interactive unit did not wait for the whole bulk unit"
    );
    assert_eq!(bulk.await.unwrap().unwrap(), 20_000);
    verified(&read).await;
    drop(w);
    task.await.unwrap();
}

/// A unit run timed hears how long its own transaction took, not how long it waited behind
/// the bulk work queued before it (an import sizes its batches by that time).
#[tokio::test]
async fn a_timed_unit_hears_its_transaction_time_not_its_wait_in_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let (w, task, read, _) = writer_on(dir.path(), 20_000).await;
    let points = prefcenter::store::contacts::email_points(&read, 20_000)
        .await
        .unwrap();
    // Eight bulk units at once: each keeps its next piece queued.
    let mut bulk = Vec::new();
    for part in points.chunks(2_500) {
        let items: Vec<(i64, Desired)> = part
            .iter()
            .map(|&cp| set(cp, 1, ConsentValue::OptedOut, "bulk").items[0])
            .collect();
        let w = w.clone();
        bulk.push(tokio::spawn(async move {
            w.apply_bulk(items, meta("bulk")).await
        }));
    }
    while store::ledger::count(&read).await.unwrap() < 250 {
        tokio::task::yield_now().await;
    }
    // Queued behind the pieces the other units queued first; writes nothing itself.
    let asked = std::time::Instant::now();
    let ((), took) = w.run_timed(Nothing, Priority::Bulk).await.unwrap();
    let waited = asked.elapsed();
    assert!(took > std::time::Duration::ZERO);
    assert!(
        took * 4 < waited,
        "its own transaction {took:?}, with the wait for the pieces before it {waited:?}"
    );
    for b in bulk {
        assert_eq!(b.await.unwrap().unwrap(), 2_500);
    }
    verified(&read).await;
    drop(w);
    task.await.unwrap();
}

/// Interactive units arriving without pause (many callers, each sending its next at once)
/// do not starve a bulk unit: the writer alternates their batches with its pieces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_steady_flow_of_interactive_units_does_not_starve_a_bulk_unit() {
    let dir = tempfile::tempdir().unwrap();
    let (w, task, read, _) = writer_on(dir.path(), 3_000).await;
    let points = prefcenter::store::contacts::email_points(&read, 3_000)
        .await
        .unwrap();
    let items: Vec<(i64, Desired)> = points[1_000..]
        .iter()
        .map(|&cp| set(cp, 1, ConsentValue::OptedOut, "bulk").items[0])
        .collect();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let callers: Vec<_> = points[..1_000]
        .chunks(125)
        .map(|mine| {
            let (w, done, mine) = (w.clone(), done.clone(), mine.to_vec());
            tokio::spawn(async move {
                let mut sent = 0u64;
                for round in 0.. {
                    for &cp in &mine {
                        if done.load(std::sync::atomic::Ordering::Relaxed) {
                            return sent;
                        }
                        let value = match round % 2 {
                            0 => ConsentValue::OptedOut,
                            _ => ConsentValue::OptedIn,
                        };
                        w.apply(set(cp, 2, value, &format!("i-{cp}-{round}")))
                            .await
                            .unwrap();
                        sent += 1;
                    }
                }
                sent
            })
        })
        .collect();
    let bulk = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        w.apply_bulk(items, meta("bulk")),
    )
    .await
    .expect("the bulk unit finished while interactive units kept coming")
    .unwrap();
    assert_eq!(bulk, 2_000);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut interactive = 0;
    for c in callers {
        interactive += c.await.unwrap();
    }
    assert!(interactive > 0);
    verified(&read).await;
    drop(w);
    task.await.unwrap();
}

#[derive(Debug, Clone)]
struct Action {
    point: i64,
    topic: i64,
    value: ConsentValue,
}

fn action() -> impl Strategy<Value = Action> {
    (
        1i64..=2,
        1i64..=3,
        prop_oneof![
            Just(ConsentValue::OptedIn),
            Just(ConsentValue::OptedOut),
            Just(ConsentValue::Pending),
            Just(ConsentValue::NotSet)
        ],
    )
        .prop_map(|(point, topic, value)| Action {
            point,
            topic,
            value,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Through the real writer and SQL: whatever the actions and however they group into
    /// batches, the chain verifies, each record's old value is the previous new value of its
    /// key, and the state table equals a replay of the ledger.
    #[test]
    fn the_real_writer_keeps_state_equal_to_the_replayed_ledger(
        actions in proptest::collection::vec(action(), 1..40),
        concurrent in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let (w, task, read, url) = writer_on(dir.path(), 0).await;
            let mut handles = Vec::new();
            for (i, a) in actions.iter().enumerate() {
                let s = set(a.point, a.topic, a.value, &format!("p{i}"));
                if concurrent {
                    let w = w.clone();
                    handles.push(tokio::spawn(async move { w.apply(s).await.unwrap() }));
                } else {
                    w.apply(s).await.unwrap();
                }
            }
            for h in handles {
                h.await.unwrap();
            }
            verified(&read).await;
            let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
                "SELECT contact_point_id, subject_id || '', old_value, new_value FROM consent_ledger ORDER BY seq",
            )
            .fetch_all(&mut read_any(&url).await)
            .await
            .unwrap();
            let mut last = std::collections::HashMap::new();
            for (cp, subject, old, new) in rows {
                let prev = last.insert((cp, subject), new).unwrap_or_else(|| "not_set".to_owned());
                assert_eq!(old, prev);
            }
            drop(w);
            task.await.unwrap();
        });
    }
}

#[tokio::test]
async fn readyz_says_unavailable_while_writes_cannot_be_made() {
    use sqlx::Executor as _;
    let app = crate::helpers::spawn_app().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    // Another process holds the write lock: reads work, writes cannot be made.
    let mut other = app.db().await;
    // SQLite's write lock, or the lock every PostgreSQL writer takes before it writes.
    if crate::helpers::postgres().is_some() {
        other.execute("BEGIN").await.unwrap();
        other
            .execute(prefcenter::store::backend::LEDGER_LOCK_SQL)
            .await
            .unwrap();
    } else {
        other.execute("BEGIN IMMEDIATE").await.unwrap();
    }
    let busy = app.get("/readyz").await;
    assert_eq!(busy.status(), 503);
    let body = busy.text().await.unwrap();
    assert!(
        body.contains("\"write\":false") && body.contains("\"read\":true"),
        "{body}"
    );
    // Liveness does not depend on the database.
    assert_eq!(app.get("/healthz").await.status(), 200);
    other.execute("ROLLBACK").await.unwrap();
    let mut ready = 0;
    for _ in 0..100 {
        ready = app.get("/readyz").await.status().as_u16();
        if ready == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(ready, 200);
    app.stop().await;
}
