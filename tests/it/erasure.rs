//! Erasure that keeps the proof: a contact erased leaves no trace of her address or her
//! evidence in the database file, its WAL or the data folder; the ledger still verifies and
//! names the erasure record; her links stop working; a later sign-up with her address sends
//! and records nothing. Evidence removed without an erasure record is tampering.

use crate::helpers::*;
use crate::proof::{connect, prefcenter, stdout, verify};
use std::path::Path;
use std::time::Duration;

const HOLLY: &str = "holly@contoso.com";
const HOLLY_IP: &str = "198.51.100.23";
const HOLLY_UA: &str = "HollysOwnBrowser/7.1";

/// Every file under `dir` whose bytes contain `needle`, found by `grep` in a process of its
/// own. Not read from this process: it may hold the database open (a server under test), and
/// opening and closing one of the database's files here would drop every POSIX lock this
/// process holds on it (SQLite's included); a command run beside the server next would then
/// find the WAL index unowned, reset it under the server's mapping, and the test process dies
/// of SIGBUS (seen once in CI).
pub(crate) fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let out = std::process::Command::new("grep")
        .args(["-r", "-l", "-F", "--"])
        .arg(needle)
        .arg(dir)
        .output()
        .expect("grep runs");
    // 0: found, 1: not found; anything else is grep's own trouble.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "grep: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// On SQLite, with the server stopped: whatever it wrote since copied into the file, the WAL
/// emptied (so a search of the folder sees what the file holds).
pub(crate) async fn checkpoint(db_url: &str) {
    let mut db = connect(db_url).await;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut db)
        .await
        .unwrap();
}

async fn outbox_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap()
}

/// Rows holding Holly's evidence or address.
async fn holly_rows(db_url: &str) -> i64 {
    let mut db = connect(db_url).await;
    sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM ledger_evidence WHERE ip = '198.51.100.23'
                 OR user_agent = 'HollysOwnBrowser/7.1')
              + (SELECT COUNT(*) FROM contact_points WHERE address = 'holly@contoso.com')",
    )
    .fetch_one(&mut db)
    .await
    .unwrap()
}

fn kept_mail(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("mail"))
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".eml"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_erased_contact_leaves_no_trace_and_the_ledger_still_proves_everything() {
    let (app, _) = spawn_app_on(0, &["--trust-forwarded-for"]).await;
    let t = app.token("holly");
    // Holly asks for the Newsletter from a distinctive address, through the trusted proxy.
    let res = app
        .client
        .post(format!("{}/u/{t}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", HOLLY_IP)
        .header("user-agent", HOLLY_UA)
        .body("action=save&t1.email=on&t2.email=on&t3.email=on&t2.sms=on")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let done = res.headers()["location"].to_str().unwrap().to_owned();
    let receipt_path = format!("{}/receipt", done.split('?').next().unwrap());
    let receipt = app.get(&receipt_path).await.text().await.unwrap();
    // Her confirmation email is kept as a file (no SMTP server configured).
    let mut mail = Vec::new();
    for _ in 0..200 {
        mail = kept_mail(app.dir.path());
        if !mail.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(mail.len(), 1, "no confirmation email was kept");
    if postgres().is_none() {
        for needle in [HOLLY, HOLLY_IP, HOLLY_UA] {
            assert!(
                !files_containing(app.dir.path(), needle).is_empty(),
                "{needle} should be stored before the erasure"
            );
        }
    } else {
        assert_eq!(
            holly_rows(&app.db_url).await,
            2,
            "her address and her evidence"
        );
    }
    let outside = tempfile::tempdir().unwrap();
    let before = outside.path().join("checkpoint.json");
    let out = beside(&["ledger", "checkpoint"], &app).await;
    assert!(out.status.success(), "{}", stdout(&out));
    std::fs::write(&before, &out.stdout).unwrap();
    let ledger_before = app.ledger_count().await;

    // Erased from the command line while the server runs.
    let out = beside(
        &[
            "contact",
            "erase",
            HOLLY,
            "--reason",
            "Erasure request by email, ticket 4411",
            "--actor",
            "dpo",
        ],
        &app,
    )
    .await;
    assert!(out.status.success(), "{}", stdout(&out));
    let said = stdout(&out);
    assert!(said.contains("erased contact"), "{said}");
    assert!(
        !said.contains(HOLLY),
        "the command repeats the address: {said}"
    );
    // One erasure record per contact point (her email and her phone).
    assert_eq!(app.ledger_count().await, ledger_before + 2);
    assert!(kept_mail(app.dir.path()).is_empty(), "her email file stays");

    // The ledger verifies, against the checkpoint kept before too, and names the erasure.
    let out = beside(
        &["ledger", "verify", "--checkpoint", before.to_str().unwrap()],
        &app,
    )
    .await;
    let report = stdout(&out);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains(&format!("erasure: record {}", ledger_before + 1))
            && report.contains("is erased by it"),
        "{report}"
    );

    // Her receipt is still genuine (she keeps it), but what it records no longer stands;
    // her link no longer gives one.
    let checked = app.check_receipt(&receipt).await;
    assert_eq!(
        (checked["valid"].as_bool(), checked["standing"].as_str()),
        (Some(true), Some("superseded")),
        "{checked}"
    );
    assert_eq!(app.get(&receipt_path).await.status(), 404);

    // Her old link: the answer every invalid link gets.
    let one_click = app
        .post_form(&format!("/u/{t}"), "List-Unsubscribe=One-Click")
        .await;
    assert_eq!(one_click.status(), 404);
    assert_eq!(app.get(&format!("/u/{t}")).await.status(), 404);

    // A later sign-up with her address: the same answer as anyone gets, nothing sent, nothing
    // recorded.
    let (outbox, ledger) = (outbox_rows(&app).await, app.ledger_count().await);
    let signup = app
        .post_form("/s/contoso", "email=holly%40contoso.com&t1.email=on")
        .await;
    let fresh = app
        .post_form("/s/contoso", "email=someone.new%40example.com&t1.email=on")
        .await;
    assert_eq!(signup.status(), fresh.status());
    assert_eq!(signup.headers()["location"], fresh.headers()["location"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        outbox_rows(&app).await,
        outbox + 1,
        "only the new address gets mail"
    );
    assert!(app.ledger_count().await > ledger);
    let mut db = app.db().await;
    let holly_points: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM contact_points WHERE address = 'holly@contoso.com'",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(holly_points, 0);
    drop(db);

    // Erasing again says so, naming the record that did it.
    let again = beside(&["contact", "erase", HOLLY, "--reason", "again"], &app).await;
    assert!(again.status.success(), "{}", stdout(&again));
    assert!(
        stdout(&again).contains("erased already"),
        "{}",
        stdout(&again)
    );

    let db_url = app.db_url.clone();
    let dir = app.stop().await;
    if postgres().is_none() {
        checkpoint(&db_url).await;
    }
    for needle in [HOLLY, HOLLY_IP, HOLLY_UA] {
        let found = files_containing(dir.path(), needle);
        assert!(found.is_empty(), "{needle} is still in {found:?}");
    }
    if postgres().is_some() {
        // PostgreSQL's files are the server's: the rows are what the application controls.
        assert_eq!(holly_rows(&db_url).await, 0);
    }
    let (ok, report) = verify(&db_url, dir.path(), Some(&before));
    assert!(ok, "{report}");
}

#[tokio::test]
async fn evidence_removed_without_an_erasure_record_is_tampering() {
    let (app, _) = spawn_app_on(0, &["--trust-forwarded-for"]).await;
    let t = app.token("frank");
    let res = app
        .client
        .post(format!("{}/u/{t}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "203.0.113.9")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seq: i64 =
        sqlx::query_scalar("SELECT MIN(seq) FROM consent_ledger WHERE source = 'one_click'")
            .fetch_one(&mut app.db().await)
            .await
            .unwrap();
    let db_url = app.db_url.clone();
    let dir = app.stop().await;
    let (ok, out) = verify(&db_url, dir.path(), None);
    assert!(ok, "{out}");

    let mut db = connect(&db_url).await;
    sqlx::query("DELETE FROM ledger_evidence WHERE ip = '203.0.113.9'")
        .execute(&mut db)
        .await
        .unwrap();
    drop(db);
    let (ok, out) = verify(&db_url, dir.path(), None);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("record {seq}")) && out.contains("tampered"),
        "{out}"
    );
    // The machine-readable report says the same.
    let json = prefcenter(&["ledger", "verify", "--json"], &db_url, dir.path());
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["report"]["first_bad_record"], seq);
}

#[tokio::test]
async fn an_erasure_needs_a_reason_and_a_real_address() {
    let app = spawn_app().await;
    let no_reason = beside(&["contact", "erase", HOLLY, "--reason", "  "], &app).await;
    assert!(!no_reason.status.success());
    assert!(
        stdout(&no_reason).contains("--reason is required"),
        "{}",
        stdout(&no_reason)
    );
    let bad = beside(
        &["contact", "erase", "not-an-address", "--reason", "x"],
        &app,
    )
    .await;
    assert!(!bad.status.success());
    assert!(
        stdout(&bad).contains("is not an email address"),
        "{}",
        stdout(&bad)
    );
    let nobody = beside(
        &["contact", "erase", "nobody@example.com", "--reason", "x"],
        &app,
    )
    .await;
    assert_eq!(nobody.status.code(), Some(1));
    assert!(
        stdout(&nobody).contains("no contact has the address"),
        "{}",
        stdout(&nobody)
    );
    // Nothing happened to anyone.
    assert!(app
        .state_of(HOLLY, "Product updates", "email")
        .await
        .is_some());
    app.assert_ledger_sound().await;
}
