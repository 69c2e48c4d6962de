//! Consent imports from outside: `prefcenter import` (the real binary) on the seeds' own
//! example tables, a file with bad rows in a dry run, a second run of the same file, and an
//! import killed half-way then run again.

use crate::helpers::{beside, fresh_database, spawn_app_at, TestApp};
use crate::proof::stdout;

/// A server on a fresh database with Contoso's catalogue and its contacts but no consent
/// recorded yet (the demo's initial consent is not applied).
async fn empty_contoso() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(dir.path()).await;
    let mut db = prefcenter::store::open(&db_url, 1).await.unwrap();
    let seeded = prefcenter::services::demo::seed(&mut db.write)
        .await
        .unwrap();
    assert!(seeded.is_some());
    db.read.close().await;
    db.write.close().await.unwrap();
    spawn_app_at(dir, db_url).await
}

/// Writes `text` to a file in the app's folder; returns its path.
fn file(app: &TestApp, name: &str, text: &str) -> String {
    let path = app.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

async fn import(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut all = vec!["import", "--profile", "contoso"];
    all.extend_from_slice(args);
    let out = beside(&all, app).await;
    (out.status.success(), stdout(&out))
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&mut app.db().await)
        .await
        .unwrap()
}

/// (address, topic) → value on email, for the seed's two topics.
async fn seed_states(app: &TestApp) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for who in ["holly@contoso.com", "frank@contoso.com"] {
        for (what, ch, v) in app.states(who).await {
            if ch == "email" && (what == "Newsletter" || what == "Product updates") {
                out.push((who.to_owned(), what, v));
            }
        }
    }
    out
}

fn want(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[tokio::test]
async fn the_seeds_example_tables_import_into_exactly_the_consent_each_describes() {
    // 001: the long table (a row per contact and option; the Consent ID is the source's key).
    let app = empty_contoso().await;
    assert!(seed_states(&app).await.is_empty(), "nothing recorded yet");
    let long = file(
        &app,
        "consent.csv",
        "Consent ID (primary key),Email (alternate key),Consent option,Consent value\n\
         1,holly@contoso.com,Newsletter,False\n\
         2,holly@contoso.com,Product updates,True\n\
         3,frank@contoso.com,Newsletter,True\n\
         4,frank@contoso.com,Product updates,False\n",
    );
    let (ok, out) = import(&app, &[&long, "--source-confirmed"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("long layout, 4 row(s) read"), "{out}");
    assert!(out.contains("4 ledger record(s) written"), "{out}");
    let expected = want(&[
        ("holly@contoso.com", "Newsletter", "opted_out"),
        ("holly@contoso.com", "Product updates", "opted_in"),
        ("frank@contoso.com", "Newsletter", "opted_in"),
        ("frank@contoso.com", "Product updates", "opted_out"),
    ]);
    assert_eq!(seed_states(&app).await, expected);
    // Each record names the import, the file and its row.
    let why: String = sqlx::query_scalar(
        "SELECT e.justification FROM consent_ledger l
         JOIN ledger_evidence e ON e.change_id = l.change_id
         JOIN contact_points cp ON cp.id = l.contact_point_id
         WHERE cp.address = 'frank@contoso.com' AND l.actor_kind = 'import' AND l.source = 'import'
         ORDER BY l.seq LIMIT 1",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert!(why.contains("“consent.csv” (SHA-256 "), "{why}");
    assert!(why.contains("row 4"), "{why}");
    // The same file again changes nothing.
    let records = app.ledger_count().await;
    let (ok, out) = import(&app, &[&long, "--source-confirmed"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("0 ledger record(s) written, 4 row(s) unchanged"),
        "{out}"
    );
    assert_eq!(app.ledger_count().await, records);
    app.assert_ledger_sound().await;
    app.stop().await;

    // 002, example 1: the wide table (a column per topic), semicolons and a byte-order mark.
    let app = empty_contoso().await;
    let wide = file(
        &app,
        "wide.csv",
        "\u{feff}Consent ID;Email;Newsletter consent;Product update consent\n\
         1;holly@contoso.com;True;True\n\
         2;frank@contoso.com;True;False\n",
    );
    let (ok, out) = import(&app, &[&wide, "--source-confirmed"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("wide layout, 2 row(s) read"), "{out}");
    assert_eq!(
        seed_states(&app).await,
        want(&[
            ("holly@contoso.com", "Newsletter", "opted_in"),
            ("holly@contoso.com", "Product updates", "opted_in"),
            ("frank@contoso.com", "Newsletter", "opted_in"),
            ("frank@contoso.com", "Product updates", "opted_out"),
        ])
    );
    app.stop().await;

    // 002, example 2: the same consent in two tables, merged on the email address.
    let app = empty_contoso().await;
    let first = file(
        &app,
        "newsletter.csv",
        "Consent ID,Email,Newsletter consent\n1,holly@contoso.com,True\n2,frank@contoso.com,True\n",
    );
    let second = file(
        &app,
        "updates.csv",
        "Consent ID,Email,Product update consent\n1,holly@contoso.com,True\n2,frank@contoso.com,False\n",
    );
    let (ok, out) = import(&app, &[&first, &second, "--source-confirmed"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("newsletter.csv + updates.csv: wide layout, 2 row(s) read"),
        "{out}"
    );
    assert_eq!(
        seed_states(&app).await,
        want(&[
            ("holly@contoso.com", "Newsletter", "opted_in"),
            ("holly@contoso.com", "Product updates", "opted_in"),
            ("frank@contoso.com", "Newsletter", "opted_in"),
            ("frank@contoso.com", "Product updates", "opted_out"),
        ])
    );
    app.assert_ledger_sound().await;
    app.stop().await;
}

#[tokio::test]
async fn unconfirmed_opt_ins_go_to_double_opt_in_and_the_dry_run_says_so_first() {
    let app = empty_contoso().await;
    let f = file(
        &app,
        "new.csv",
        "Email,Newsletter consent,Events consent\nana@example.com,yes,no\nfrank@contoso.com,1,0\n",
    );
    let records = app.ledger_count().await;
    let (ok, out) = import(&app, &[&f, "--dry-run"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("dry run, nothing written: 1 contact(s) would be created, 4 ledger record(s) would be written, 0 row(s) unchanged, 0 row(s) refused, 2 opt-in(s) would be sent to double opt-in"),
        "{out}"
    );
    assert_eq!(
        app.ledger_count().await,
        records,
        "a dry run writes nothing"
    );
    let (ok, out) = import(&app, &[&f]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("1 contact(s) created, 4 ledger record(s) written"),
        "{out}"
    );
    assert_eq!(
        app.state_of("ana@example.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("pending")
    );
    assert_eq!(
        app.state_of("ana@example.com", "Events", "email")
            .await
            .as_deref(),
        Some("opted_out")
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'confirm'").await,
        2,
        "each opt-in is asked to confirm"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_file_with_bad_rows_lists_each_with_its_line_column_and_why_and_writes_nothing_in_a_dry_run(
) {
    let app = empty_contoso().await;
    // An erased address is never imported again.
    let out = beside(
        &["contact", "erase", "frank@contoso.com", "--reason", "asked"],
        &app,
    )
    .await;
    assert!(out.status.success(), "{}", stdout(&out));
    let bad = file(
        &app,
        "bad.csv",
        "Consent ID,Email,Consent option,Consent value\n\
         1,holly@contoso.com,Newsletter,maybe\n\
         2,not-an-address,Newsletter,True\n\
         3,holly@contoso.com,Carrier pigeons,True\n\
         4,frank@contoso.com,Newsletter,True\n\
         5,holly@contoso.com,Events,Opt-in\n",
    );
    let errors = app.dir.path().join("errors.csv");
    let records = app.ledger_count().await;
    let (ok, out) = import(
        &app,
        &[
            &bad,
            "--dry-run",
            "--source-confirmed",
            "--errors-out",
            errors.to_str().unwrap(),
        ],
    )
    .await;
    assert!(!ok, "refused rows exit non-zero: {out}");
    assert!(out.contains("1 ledger record(s) would be written"), "{out}");
    assert!(out.contains("4 row(s) refused"), "{out}");
    assert!(
        out.contains("line 2, Consent value: “maybe” is not a consent value"),
        "{out}"
    );
    assert!(out.contains("line 3, Email:"), "{out}");
    assert!(
        out.contains("line 4, Consent option: “Carrier pigeons” is not mapped to a topic"),
        "{out}"
    );
    assert!(
        out.contains("line 5, Email: this address was erased"),
        "{out}"
    );
    assert!(
        !out.contains("frank@"),
        "the erased address is not repeated: {out}"
    );
    let csv = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(
        csv.starts_with("line,column,why\n2,Consent value,"),
        "{csv}"
    );
    assert_eq!(
        app.ledger_count().await,
        records,
        "a dry run writes nothing"
    );
    // The real run takes the good row and keeps the refused ones with the import.
    let (ok, out) = import(
        &app,
        &[
            &bad,
            "--source-confirmed",
            "--map",
            "Carrier pigeons=events",
        ],
    )
    .await;
    assert!(!ok, "{out}");
    assert!(out.contains("1 ledger record(s) written"), "{out}");
    assert!(out.contains("3 row(s) refused"), "{out}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM import_errors").await, 3);
    assert_eq!(
        app.state_of("holly@contoso.com", "Events", "email")
            .await
            .as_deref(),
        Some("opted_in")
    );
    // Nothing is read from a file that is not one, or mapped to what the profile lacks.
    let (ok, out) = import(&app, &[&bad, "--map", "Newsletter=nothing"]).await;
    assert!(!ok && out.contains("“nothing” is not a topic"), "{out}");
    app.stop().await;
}

/// A long file of `n` contacts, two options each, alternating values.
fn long_file(n: usize) -> String {
    let mut s = String::from("Consent ID,Email,Consent option,Consent value,Consent date\n");
    for i in 0..n {
        for (j, option) in ["Newsletter", "Product updates"].iter().enumerate() {
            let on = (i + j) % 3 != 0;
            s.push_str(&format!(
                "{},person{i}@example.org,{option},{on},2024-0{}-1{}\n",
                2 * i + j,
                1 + i % 9,
                j
            ));
        }
    }
    s
}

/// Every imported state: (address, topic, value), sorted.
async fn imported(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT cp.address, t.key, s.value FROM consent_states s
         JOIN contact_points cp ON cp.id = s.contact_point_id
         JOIN topics t ON s.subject_kind = 'topic' AND t.id = s.subject_id
         WHERE cp.address LIKE 'person%' ORDER BY 1, 2",
    )
    .fetch_all(&mut app.db().await)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_import_killed_half_way_and_run_again_ends_as_an_uninterrupted_one() {
    let text = long_file(5000);
    // Uninterrupted.
    let whole = empty_contoso().await;
    let f = file(&whole, "people.csv", &text);
    let (ok, out) = import(&whole, &[&f, "--source-confirmed"]).await;
    assert!(ok, "{out}");
    let expected = imported(&whole).await;
    assert_eq!(expected.len(), 10_000);
    let expected_records = count(&whole, "SELECT COUNT(*) FROM consent_ledger WHERE actor_kind = 'import' AND actor_id LIKE 'import:%'").await;
    whole.stop().await;

    // Killed (SIGKILL) once a batch has committed, then the same command again.
    let app = empty_contoso().await;
    let f = file(&app, "people.csv", &text);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_prefcenter"))
        .args(["import", &f, "--profile", "contoso", "--source-confirmed"])
        .args(["--database-url", &app.db_url])
        .arg("--data-dir")
        .arg(app.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut committed = 0;
    for _ in 0..2000 {
        committed = count(&app, "SELECT COALESCE(MAX(rows_done), 0) FROM imports").await;
        if committed > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(committed > 0, "a batch committed before the kill");
    let (done, total): (i64, i64) = sqlx::query_as("SELECT rows_done, rows_total FROM imports")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert!(done < total, "killed half-way: {done} of {total}");
    let (ok, out) = import(&app, &[&f, "--source-confirmed"]).await;
    assert!(ok, "{out}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM imports").await,
        1,
        "resumed, not restarted"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM imports WHERE status = 'done' AND rows_done = rows_total"
        )
        .await,
        1
    );
    assert_eq!(imported(&app).await, expected);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM consent_ledger WHERE actor_kind = 'import' AND actor_id LIKE 'import:%'").await,
        expected_records,
        "no row written twice"
    );
    app.assert_ledger_sound().await;
    app.stop().await;
}

/// An upload of the import form: the profile and the files.
async fn upload(
    b: &mut crate::console::Browser<'_>,
    csrf: &str,
    profile: i64,
    files: &[(&str, &str)],
) -> crate::console::Answer {
    let boundary = "----prefcenterImport9Kz";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"profile\"\r\n\r\n{profile}\r\n"
    );
    for (name, text) in files {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n{text}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let req = b
        .app
        .client
        .post(format!("{}/admin/imports", b.app.base))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("origin", b.app.base.clone())
        .body(body);
    b.send(req).await
}

#[tokio::test]
async fn an_admin_uploads_maps_checks_and_imports_on_the_console_and_an_erasure_empties_the_kept_file(
) {
    use crate::console::{create_user, csrf_of, Browser, GOOD};
    let app = empty_contoso().await;
    let base = app.base.clone();
    assert!(create_user(&app, "admin@contoso.com", "admin", GOOD).0);
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);
    // Staff cannot import.
    let mut s = Browser::new(&app);
    assert_eq!(s.sign_in("staff@contoso.com", GOOD).await.status, 303);
    assert_eq!(s.get("/admin/imports").await.status, 403);
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("admin@contoso.com", GOOD).await.status, 303);
    let page = b.get("/admin/imports").await;
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page.body);
    let profile = count(
        &app,
        "SELECT id FROM compliance_profiles WHERE key = 'contoso'",
    )
    .await;
    // A long file whose option "Pigeon post" the mapping step maps by hand.
    let text = "Consent ID,Email,Consent option,Consent value\n\
                1,holly@contoso.com,Newsletter,False\n\
                2,holly@contoso.com,Pigeon post,True\n\
                3,frank@contoso.com,Newsletter,True\n\
                4,ana@example.com,Newsletter,maybe\n";
    let up = upload(&mut b, &csrf, profile, &[("consent.csv", text)]).await;
    assert_eq!(up.status, 303, "{}", up.body);
    let id = up.location.rsplit('/').next().unwrap().to_owned();
    let page = b.get(&format!("/admin/imports/{id}")).await;
    assert!(page.body.contains("Check (dry run)"), "{}", page.body);
    assert!(page.body.contains("Pigeon post"));
    let kept = count(&app, "SELECT COUNT(*) FROM import_files").await;
    assert_eq!(kept, 1);

    // Holly is erased while the upload waits: her address leaves the kept file.
    let out = beside(
        &["contact", "erase", "holly@contoso.com", "--reason", "asked"],
        &app,
    )
    .await;
    assert!(out.status.success(), "{}", stdout(&out));
    let content: Vec<u8> = sqlx::query_scalar("SELECT content FROM import_files")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    let content = String::from_utf8(content).unwrap();
    assert!(!content.contains("holly"), "{content}");
    assert_eq!(content.lines().count(), 5, "rows keep their place");

    // The mapping step: the columns as guessed, the option mapped by hand to Events.
    let form = format!(
        "csrf={csrf}&layout=long&c0.0=consent_id&c0.1=email&c0.2=option&c0.3=value\
         &on0.0=Newsletter&o0.0=newsletter&on0.1=Pigeon+post&o0.1=events&source_confirmed=on"
    );
    let checked = b
        .post(&format!("/admin/imports/{id}/check"), &form, Some(&base))
        .await;
    assert_eq!(checked.status, 200, "{}", checked.body);
    assert!(
        checked.body.contains("Dry run: nothing was written"),
        "{}",
        checked.body
    );
    assert!(
        checked.body.contains("1 ledger records would be written"),
        "{}",
        checked.body
    );
    assert!(checked.body.contains("3 rows refused"), "{}", checked.body);
    assert!(checked.body.contains("is not a consent value"));
    let csv = b.get(&format!("/admin/imports/{id}/errors.csv")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with("line,column,why\n2,"), "{}", csv.body);
    assert_eq!(
        app.ledger_count().await,
        count(&app, "SELECT COUNT(*) FROM consent_ledger").await
    );
    let before = app.ledger_count().await;

    // Started: it runs in the background; the page follows it and ends done.
    let started = b
        .post(
            &format!("/admin/imports/{id}/start"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let mut done = false;
    for _ in 0..200 {
        let page = b.get(&format!("/admin/imports/{id}")).await;
        if page.body.contains("Done: all 4 rows.") {
            done = true;
            assert!(
                page.body.contains("1 ledger records written"),
                "{}",
                page.body
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(done, "the import finished");
    assert_eq!(app.ledger_count().await, before + 1);
    assert_eq!(
        app.state_of("frank@contoso.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("opted_in")
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM import_files").await,
        0,
        "the file goes when done"
    );
    // A bad upload is told, not kept.
    let bad = upload(&mut b, &csrf, profile, &[("empty.csv", "")]).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("Choose one or more CSV files"));
    let missing = b.get("/admin/imports/999").await;
    assert_eq!(missing.status, 404);
    app.assert_ledger_sound().await;
    app.stop().await;
}

#[tokio::test]
async fn a_row_that_makes_a_contact_a_child_holds_for_the_later_rows_of_the_same_batch() {
    let app = empty_contoso().await;
    // One batch: the contact is created an adult, made a child by its second row; its third
    // row says nothing of age. Trusted opt-ins are an adult's only: the second and third wait
    // for a custodian's confirmation, on the file's word or not.
    let f = file(
        &app,
        "kid.csv",
        "Consent ID,Email,Consent option,Consent value,Child\n\
         1,kid@example.com,Newsletter,True,no\n\
         2,kid@example.com,Product updates,True,yes\n\
         3,kid@example.com,Events,True,\n",
    );
    let (ok, out) = import(&app, &[&f, "--source-confirmed", "--map", "Child=child"]).await;
    assert!(ok, "{out}");
    assert_eq!(
        app.state_of("kid@example.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("opted_in")
    );
    for later in ["Product updates", "Events"] {
        let v = app.state_of("kid@example.com", later, "email").await;
        assert_ne!(v.as_deref(), Some("opted_in"), "{later}: {v:?}");
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM contacts c JOIN contact_points cp ON cp.contact_id = c.id
             WHERE cp.address = 'kid@example.com' AND c.is_child"
        )
        .await,
        1
    );
    app.stop().await;
}
