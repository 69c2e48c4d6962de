//! Proof of the ledger from outside: signed checkpoints catch a truncated tail and a rewrite
//! with recomputed hashes (which the hash chain alone cannot), keys rotate without breaking
//! verification, and verify reads one snapshot, read-only.

use crate::helpers::{beside, postgres, spawn_app, spawn_app_with, TestApp};
use prefcenter::domain::ledger::record_hash;
use sqlx::{AnyConnection, Connection};
use std::path::Path;
use std::process::{Command, Output};

pub(crate) fn prefcenter(args: &[&str], db_url: &str, data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prefcenter"))
        .args(args)
        .args(["--database-url", db_url])
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap()
}

pub(crate) fn stdout(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `prefcenter ledger checkpoint`, kept in a file outside the data folder.
async fn keep_checkpoint(app: &TestApp, outside: &Path) -> serde_json::Value {
    let out = beside(&["ledger", "checkpoint"], app).await;
    assert!(out.status.success(), "{}", stdout(&out));
    std::fs::write(outside, &out.stdout).unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

pub(crate) async fn connect(db_url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(db_url).await.unwrap()
}

/// What someone holding the database's owner rights does first: the triggers go.
pub(crate) async fn drop_ledger_triggers(db: &mut AnyConnection) {
    for t in ["consent_ledger_no_update", "consent_ledger_no_delete"] {
        let sql = if postgres().is_some() {
            format!("DROP TRIGGER {t} ON consent_ledger")
        } else {
            format!("DROP TRIGGER {t}")
        };
        sqlx::query(&sql).execute(&mut *db).await.unwrap();
    }
}

/// Rebuilds the state table from what is left of the ledger, so that "state equals replay"
/// holds again after the edit.
async fn rebuild_states(db: &mut AnyConnection) {
    sqlx::query("DELETE FROM consent_states")
        .execute(&mut *db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO consent_states (contact_point_id, subject_kind, subject_id, channel, value,
             custodian_confirmed, ledger_seq, set_at)
         SELECT l.contact_point_id, l.subject_kind, l.subject_id, l.channel, l.new_value,
             l.custodian_confirmed, l.seq, l.occurred_at
         FROM consent_ledger l
         WHERE l.seq = (SELECT MAX(m.seq) FROM consent_ledger m
             WHERE m.contact_point_id = l.contact_point_id AND m.subject_kind = l.subject_kind
               AND m.subject_id = l.subject_id AND m.channel = l.channel)",
    )
    .execute(&mut *db)
    .await
    .unwrap();
}

async fn count(db: &mut AnyConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&mut *db).await.unwrap()
}

pub(crate) fn verify(db_url: &str, data_dir: &Path, checkpoint: Option<&Path>) -> (bool, String) {
    let mut args = vec!["ledger", "verify"];
    let file;
    if let Some(c) = checkpoint {
        file = c.to_str().unwrap().to_owned();
        args.extend(["--checkpoint", &file]);
    }
    let out = prefcenter(&args, db_url, data_dir);
    (out.status.success(), stdout(&out))
}

#[tokio::test]
async fn a_truncated_tail_is_caught_by_a_checkpoint_even_with_the_state_table_rebuilt() {
    let app = spawn_app().await;
    let t = app.token("holly");
    app.post_form(&format!("/u/{t}"), "List-Unsubscribe=One-Click")
        .await;
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("checkpoint.json");
    let cp = keep_checkpoint(&app, &file).await;
    let head = cp["seq"].as_i64().unwrap();
    assert!(head > 5, "{cp}");
    assert!(cp["key_id"].as_str().unwrap().starts_with("sig-"));
    let db_url = app.db_url.clone();
    let dir = app.stop().await;
    let (ok, out) = verify(&db_url, dir.path(), Some(&file));
    assert!(ok, "{out}");
    assert!(out.contains("ledger OK"), "{out}");

    // Holly's unsubscribe is deleted, the states made to match what is left.
    let mut db = connect(&db_url).await;
    let holly_records = count(
        &mut db,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM consent_ledger WHERE change_id =
             (SELECT change_id FROM consent_ledger ORDER BY seq DESC LIMIT 1)",
    )
    .await;
    assert!(holly_records >= 1);
    drop_ledger_triggers(&mut db).await;
    sqlx::query("DELETE FROM consent_states")
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query(&format!(
        "DELETE FROM consent_ledger WHERE seq > {}",
        head - holly_records
    ))
    .execute(&mut db)
    .await
    .unwrap();
    rebuild_states(&mut db).await;

    // The checkpoints the database keeps catch it...
    let (ok, out) = verify(&db_url, dir.path(), None);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("record {head}")) && out.contains("truncated"),
        "{out}"
    );
    // ...and once they are deleted too, the chain alone looks whole: only a checkpoint kept
    // elsewhere still tells.
    sqlx::query("DELETE FROM ledger_checkpoints")
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    let (ok, out) = verify(&db_url, dir.path(), None);
    assert!(ok, "{out}");
    let (ok, out) = verify(&db_url, dir.path(), Some(&file));
    assert!(!ok, "{out}");
    assert!(
        out.contains("given checkpoint") && out.contains("truncated"),
        "{out}"
    );
}

#[tokio::test]
async fn a_rewrite_with_recomputed_hashes_is_caught_by_a_checkpoint() {
    let app = spawn_app().await;
    let t = app.token("holly");
    app.post_form(&format!("/u/{t}"), "List-Unsubscribe=One-Click")
        .await;
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("checkpoint.json");
    keep_checkpoint(&app, &file).await;
    let db_url = app.db_url.clone();
    let read = app.reader().await;
    let records = prefcenter::store::ledger::records_from(&read, 1)
        .await
        .unwrap();
    read.close().await;
    let dir = app.stop().await;

    // Her unsubscribe becomes a consent, and every hash from there on is recomputed.
    let k = records
        .iter()
        .rposition(|s| s.record.new_value == prefcenter::domain::ConsentValue::OptedOut)
        .unwrap();
    let mut db = connect(&db_url).await;
    drop_ledger_triggers(&mut db).await;
    sqlx::query("DELETE FROM ledger_checkpoints")
        .execute(&mut db)
        .await
        .unwrap();
    let mut prev = records[k].prev_hash;
    for (i, s) in records.iter().enumerate().skip(k) {
        let mut r = s.record.clone();
        if i == k {
            r.new_value = prefcenter::domain::ConsentValue::OptedIn;
        }
        let hash = record_hash(&prev, &r, &s.evidence_digest);
        sqlx::query(
            "UPDATE consent_ledger SET new_value = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
        )
        .bind(r.new_value.as_str())
        .bind(prev.to_vec())
        .bind(hash.to_vec())
        .bind(r.seq)
        .execute(&mut db)
        .await
        .unwrap();
        prev = hash;
    }
    rebuild_states(&mut db).await;
    db.close().await.unwrap();

    let (ok, out) = verify(&db_url, dir.path(), None);
    assert!(ok, "the rewrite is consistent on its own: {out}");
    let (ok, out) = verify(&db_url, dir.path(), Some(&file));
    assert!(!ok, "{out}");
    assert!(out.contains("rewritten"), "{out}");
}

#[tokio::test]
async fn keys_rotate_twice_and_everything_signed_keeps_verifying() {
    let (app, tokens) = spawn_app_with(3).await;
    let outside = tempfile::tempdir().unwrap();
    let mut kept = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let r = app
            .post_form(&format!("/u/{token}"), "List-Unsubscribe=One-Click")
            .await;
        assert_eq!(r.status(), 200);
        let file = outside.path().join(format!("checkpoint-{i}.json"));
        kept.push((file.clone(), keep_checkpoint(&app, &file).await));
        if i < 2 {
            let out = beside(&["keys", "rotate"], &app).await;
            assert!(out.status.success(), "{}", stdout(&out));
            assert!(stdout(&out).contains("new key sig-"), "{}", stdout(&out));
        }
    }
    let ids: std::collections::BTreeSet<String> = kept
        .iter()
        .map(|(_, cp)| cp["key_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3, "{kept:?}");

    // Every key stays published, the newest last.
    let keys: serde_json::Value = app
        .get("/.well-known/prefcenter/keys")
        .await
        .json()
        .await
        .unwrap();
    let published: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(published.len(), 3, "{keys}");
    assert!(ids.iter().all(|id| published.contains(&id.as_str())));
    assert_eq!(keys["keys"][0]["algorithm"], "Ed25519");

    let db_url = app.db_url.clone();
    let dir = app.stop().await;
    for (file, _) in &kept {
        let (ok, out) = verify(&db_url, dir.path(), Some(file));
        assert!(ok, "{out}");
    }
    let (ok, out) = verify(&db_url, dir.path(), None);
    assert!(
        ok && out.contains("3 stored checkpoint(s) verified"),
        "{out}"
    );

    // A public key swapped in the database is named, and the server refuses to start on it.
    let mut db = connect(&db_url).await;
    let first = &published[0];
    sqlx::query("UPDATE signing_keys SET public_key = $1 WHERE id = $2")
        .bind(vec![9u8; 32])
        .bind(*first)
        .execute(&mut db)
        .await
        .unwrap();
    let (ok, out) = verify(&db_url, dir.path(), None);
    assert!(
        !ok && out.contains(&format!("signing key {first} is not this deployment's")),
        "{out}"
    );
    let last = published[2];
    sqlx::query("UPDATE signing_keys SET public_key = $1 WHERE id = $2")
        .bind(vec![9u8; 32])
        .bind(last)
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    let cli = crate::helpers::cli(dir.path(), &db_url, &[]);
    let err = prefcenter::server::prepare(&cli.settings, "http://127.0.0.1:1")
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains(&format!("signing key {last}")),
        "{err}"
    );
}

#[tokio::test]
async fn verify_is_read_only_and_speaks_json() {
    // A file that is not a prefcenter database stays as it was: nothing is created or migrated.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let out = prefcenter(
        &["ledger", "verify"],
        &format!("sqlite://{}", empty.display()),
        dir.path(),
    );
    assert!(!out.status.success());
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    assert!(
        !dir.path().join("empty.db-wal").exists()
            || std::fs::metadata(dir.path().join("empty.db-wal"))
                .unwrap()
                .len()
                == 0
    );

    let app = spawn_app().await;
    let db_url = app.db_url.clone();
    let dir = app.stop().await;
    let out = prefcenter(&["ledger", "verify", "--json"], &db_url, dir.path());
    assert!(out.status.success(), "{}", stdout(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert!(v["report"]["records"].as_u64().unwrap() > 0);
    assert_eq!(
        v["report"]["checkpoints_verified"], 1,
        "the shutdown's: {v}"
    );

    // A checkpoint file that is not one is a clear error.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"hello\": 1}").unwrap();
    let (ok, out) = verify(&db_url, dir.path(), Some(&bad));
    assert!(!ok && out.contains("is not a ledger checkpoint"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_beside_a_server_under_load_sees_one_consistent_snapshot() {
    let (app, tokens) = spawn_app_with(400).await;
    let key = std::fs::read_to_string(app.dir.path().join("secret")).unwrap();
    let read = prefcenter::store::reader(&app.db_url, 1).await.unwrap();
    let base = app.base.clone();
    let client = crate::helpers::client();
    let load = tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in tokens.chunks(tokens.len() / 32) {
            let (client, base, chunk) = (client.clone(), base.clone(), chunk.to_vec());
            tasks.spawn(async move {
                for t in chunk {
                    let r = crate::helpers::post_form_to(
                        &client,
                        &format!("{base}/u/{t}"),
                        "List-Unsubscribe=One-Click",
                    )
                    .await;
                    assert_eq!(r.status(), 200);
                }
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
    });
    let mut runs = 0;
    while !load.is_finished() || runs < 3 {
        let report = prefcenter::store::ledger::verify(&read, key.trim().as_bytes(), &[])
            .await
            .unwrap();
        assert!(report.ok(), "{report:?}");
        runs += 1;
    }
    load.await.unwrap();
    read.close().await;
    app.stop().await;
}
