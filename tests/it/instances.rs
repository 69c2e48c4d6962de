//! Several instances on one database: two real processes take one-click POSTs and page saves
//! alternately from 64 connections while one of them is killed with SIGKILL; every
//! acknowledged change is there afterwards, every queued email is sent (a message the dead
//! instance was sending may arrive twice, with the same Message-ID), and the combined ledger
//! verifies. An instance with another secret refuses to start. On SQLite the two processes
//! share one file; on PostgreSQL (`PREFCENTER_TEST_POSTGRES`) one database.

use crate::crash::start_with;
use crate::helpers::{fresh_database, post_form_to};
use crate::smtp::{free_port, Reply, Smtp};
use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

const SECRET: &str = "instances-test-secret-0123456789abcdef";

/// What a request asked for, and what topic 1 on email is afterwards.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Action {
    OneClick,
    SaveNewsletter,
}

impl Action {
    /// Topic 1 (the newsletter, an opt-out purpose) on email after this action, from `before`:
    /// a one-click opts out; ticking the box of a topic one receives by default changes
    /// nothing, ticking it after an opt-out asks for confirmation.
    fn after(self, before: &'static str) -> &'static str {
        match (self, before) {
            (Action::OneClick, _) => "opted_out",
            (Action::SaveNewsletter, "not_set") => "not_set",
            (Action::SaveNewsletter, _) => "pending",
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_lose_nothing_when_one_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(dir.path()).await;
    // 128 contacts with links, made before either instance starts.
    let tokens = {
        let mut db = prefcenter::store::open(&db_url, 1).await.unwrap();
        prefcenter::services::demo::seed(&mut db.write)
            .await
            .unwrap();
        let t = prefcenter::services::demo::bench_contacts(&mut db.write, 128, 30)
            .await
            .unwrap();
        db.read.close().await;
        db.write.close().await.unwrap();
        t
    };
    // The first email hangs in DATA: instance A is handing it over when it is killed.
    let smtp = Smtp::start_on(free_port(), &[Reply::Stall(Duration::from_secs(6))]);
    let (da, db_dir) = (dir.path().join("a"), dir.path().join("b"));
    let mut a = start_with(&da, &db_url, smtp.port, &["--secret", SECRET]);
    let client = crate::helpers::client();
    // Holly opts out, then asks for the newsletter again: A queues the confirmation and
    // starts sending it.
    let holly = a.link("holly");
    let res = post_form_to(&client, &holly, "List-Unsubscribe=One-Click").await;
    assert_eq!(res.status(), 200);
    let res = post_form_to(&client, &holly, "action=save&t1.email=on&t2.email=on").await;
    assert_eq!(res.status(), 303);
    smtp.wait_for_attempt().await;
    assert_eq!(smtp.attempts(), 1, "A is sending");
    let mut b = start_with(&db_dir, &db_url, smtp.port, &["--secret", SECRET]);
    let bases = [a.base.clone(), b.base.clone()];

    // 64 connections, each owning two contacts: it alternates instances and actions.
    let mut tasks = Vec::new();
    for task in 0..64usize {
        let mine = [tokens[task].clone(), tokens[task + 64].clone()];
        let (client, bases) = (client.clone(), bases.clone());
        tasks.push(tokio::spawn(async move {
            let mut log: Vec<(String, Action, bool, usize)> = Vec::new();
            for i in 0..24usize {
                let token = &mine[i % 2];
                let which = (i / 2 + task) % 2;
                let base = &bases[which];
                let action = if (i / 2) % 2 == 0 {
                    Action::SaveNewsletter
                } else {
                    Action::OneClick
                };
                let body = match action {
                    Action::OneClick => "List-Unsubscribe=One-Click",
                    Action::SaveNewsletter => "action=save&t1.email=on",
                };
                let res = client
                    .post(format!("{base}/u/{token}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .timeout(Duration::from_secs(20))
                    .send()
                    .await;
                let ok = matches!(&res, Ok(r) if r.status() == 200 || r.status() == 303);
                if let Ok(r) = &res {
                    // A refusal (not a lost connection) is a bug, not a crash.
                    assert!(
                        r.status().is_success() || r.status() == 303,
                        "{}",
                        r.status()
                    );
                }
                log.push((token.clone(), action, ok, which));
            }
            log
        }));
    }
    // Kill instance A while the load runs (and while it is still handing Holly's email over).
    tokio::time::sleep(Duration::from_millis(400)).await;
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    let mut logs = Vec::new();
    for t in tasks {
        logs.extend(t.await.unwrap());
    }
    let acknowledged = logs.iter().filter(|l| l.2).count();
    let lost = logs.len() - acknowledged;
    assert!(
        logs.iter().filter(|l| l.3 == 1).all(|l| l.2),
        "the survivor answered every request"
    );
    assert!(
        logs.iter().any(|l| l.3 == 0 && l.2) && lost > 0,
        "the kill happened under load: {acknowledged} acknowledged, {lost} lost"
    );

    // Every acknowledged change is there: topic 1 on email is what the contact's requests made
    // of it in order, where a request that got no answer may or may not have committed before
    // the kill.
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&db_url).await.unwrap();
    let states: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
        "SELECT cp.address, s.value FROM consent_states s
         JOIN contact_points cp ON cp.id = s.contact_point_id
         WHERE s.subject_kind = 'topic' AND s.subject_id = 1 AND s.channel = 'email'",
    )
    .fetch_all(&mut db)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let mut by_token: HashMap<&str, Vec<(Action, bool)>> = HashMap::new();
    for (t, a, ok, _) in &logs {
        by_token.entry(t).or_default().push((*a, *ok));
    }
    for (token, history) in &by_token {
        let mut allowed: Vec<&'static str> = vec!["not_set"];
        for (action, ok) in history {
            let next: Vec<&'static str> = allowed.iter().map(|s| action.after(s)).collect();
            if *ok {
                allowed = next;
            } else {
                allowed.extend(next);
            }
            allowed.sort_unstable();
            allowed.dedup();
        }
        let point = bench_address(&mut db, token).await;
        let got = states.get(&point).map(String::as_str).unwrap_or("not_set");
        assert!(
            allowed.contains(&got),
            "{point}: {got}, expected one of {allowed:?} ({history:?})"
        );
    }

    // Every queued email is sent once the dead instance's leases run out; a message it was
    // handing over when killed may arrive twice, always with the same Message-ID.
    let mut queued = i64::MAX;
    for _ in 0..300 {
        queued = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'queued'")
            .fetch_one(&mut db)
            .await
            .unwrap();
        if queued == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(queued, 0, "the survivor sends what the dead instance left");
    let sent: Vec<String> =
        sqlx::query_scalar("SELECT message_id FROM outbox WHERE status = 'sent'")
            .fetch_all(&mut db)
            .await
            .unwrap();
    assert!(!sent.is_empty(), "saves queued confirmations");
    // The copy A was handing over arrives when the stalled exchange ends.
    let mut holly_mail = Vec::new();
    for _ in 0..200 {
        holly_mail = smtp
            .received()
            .into_iter()
            .filter(|m| m.to == vec!["holly@contoso.com".to_owned()])
            .collect();
        if holly_mail.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for m in smtp.received() {
        let id = m.header("Message-ID").unwrap();
        let id = id
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned();
        *seen.entry(id).or_default() += 1;
    }
    for id in &sent {
        let n = seen
            .get(id.trim_start_matches('<').trim_end_matches('>'))
            .copied()
            .unwrap_or(0);
        assert!((1..=2).contains(&n), "{id} arrived {n} times");
    }
    let twice = seen.values().filter(|n| **n > 1).count();
    assert_eq!(
        holly_mail.len(),
        2,
        "the survivor sent the dead instance's email again"
    );
    assert_eq!(
        holly_mail[0].header("Message-ID"),
        holly_mail[1].header("Message-ID"),
        "a resend is the same message"
    );
    eprintln!(
        "{acknowledged} acknowledged, {lost} unanswered; {} emails sent, {twice} of them twice",
        sent.len()
    );
    assert_eq!(
        twice, 1,
        "only the message in flight at the kill is sent again"
    );
    // A message the dead instance handed over may since have been cancelled (its request was
    // withdrawn before the survivor took the lease over): it still came from the outbox.
    let all: Vec<String> = sqlx::query_scalar("SELECT message_id FROM outbox")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let all: Vec<&str> = all
        .iter()
        .map(|m| m.trim_start_matches('<').trim_end_matches('>'))
        .collect();
    for id in seen.keys() {
        assert!(all.contains(&id.as_str()), "{id} is not from the outbox");
    }
    db.close().await.unwrap();

    Command::new("kill")
        .arg("-TERM")
        .arg(b.child.id().to_string())
        .status()
        .unwrap();
    assert!(b.child.wait().unwrap().success());
    let verify = Command::new(env!("CARGO_BIN_EXE_prefcenter"))
        .args([
            "ledger",
            "verify",
            "--database-url",
            &db_url,
            "--secret",
            SECRET,
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && out.contains("ledger OK"),
        "{out}"
    );
}

/// The address of the bench contact a token belongs to.
async fn bench_address(db: &mut sqlx::AnyConnection, token: &str) -> String {
    let hash = prefcenter::domain::token::LinkToken::parse(token)
        .unwrap()
        .hash();
    sqlx::query_scalar(
        "SELECT cp.address FROM link_tokens t JOIN contact_points cp ON cp.id = t.contact_point_id
         WHERE t.token_hash = $1",
    )
    .bind(hash.0.to_vec())
    .fetch_one(db)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_instance_with_another_secret_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(dir.path()).await;
    let run = |secret: &str| {
        Command::new(env!("CARGO_BIN_EXE_prefcenter"))
            .args(["migrate", "--database-url", &db_url])
            .output()
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_prefcenter"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                &db_url,
                "--secret",
                secret,
            ])
            .arg("--data-dir")
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A server that starts is stopped once it has had the time to refuse.
        std::thread::sleep(Duration::from_millis(1500));
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let _ = child.wait();
        child.wait_with_output().unwrap()
    };
    let first = run("first-secret-of-this-deployment-0123456789");
    let first_err = String::from_utf8_lossy(&first.stderr);
    assert!(!first_err.contains("fingerprint"), "{first_err}");
    let other = run("another-secret-entirely-0123456789abcdefgh");
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(!other.status.success(), "{err}");
    assert!(
        err.contains("not the one this database was written with")
            && err.contains("PREFCENTER_SECRET"),
        "{err}"
    );
    assert!(
        !err.contains("another-secret"),
        "the secret itself is never shown: {err}"
    );
}

/// A page without what differs from one rendering to the next (nonces, signed form stamps).
fn comparable(html: &str) -> String {
    let html = crate::helpers::normalise(html);
    let mut out = String::new();
    let mut rest = html.as_str();
    while let Some(i) = rest.find("name=\"stamp\" value=\"") {
        out.push_str(&rest[..i + 20]);
        rest = &rest[i + 20..];
        rest = &rest[rest.find('"').unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn a_deployment_copied_to_the_other_backend_serves_the_same_pages_and_verifies() {
    let app = crate::helpers::spawn_app().await;
    let (holly, frank) = (app.token("holly"), app.token("frank"));
    app.post_form(&format!("/u/{frank}"), "List-Unsubscribe=One-Click")
        .await;
    // A pending opt-in and a queued confirmation email come along too.
    let res = app
        .post_form(
            &format!("/u/{holly}"),
            "action=save&t1.email=on&t2.email=on",
        )
        .await;
    assert_eq!(res.status(), 303);
    let mut before = Vec::new();
    for path in [
        format!("/u/{holly}"),
        format!("/p/{holly}"),
        format!("/u/{frank}"),
        format!("/p/{frank}?lang=fr"),
    ] {
        before.push((path.clone(), app.get(&path).await.text().await.unwrap()));
    }
    let from = app.db_url.clone();
    let dir = app.stop().await;

    // On SQLite alone: to another SQLite file. With a PostgreSQL server: PostgreSQL to SQLite,
    // then that copy back to a new PostgreSQL database.
    let mut hops = vec![format!("sqlite://{}/copy.db", dir.path().display())];
    if crate::helpers::postgres().is_some() {
        hops.push(fresh_database(dir.path()).await);
    }
    let mut from = from;
    for to in &hops {
        let copy = Command::new(env!("CARGO_BIN_EXE_prefcenter"))
            .args(["copy", "--from", &from, "--to", to, "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&copy.stdout);
        assert!(
            copy.status.success() && out.contains("ledger OK there"),
            "{out}{}",
            String::from_utf8_lossy(&copy.stderr)
        );
        assert!(out.contains("outbox               1"), "{out}");
        // Copying again into the same database is refused and changes nothing.
        let again = Command::new(env!("CARGO_BIN_EXE_prefcenter"))
            .args(["copy", "--from", &from, "--to", to, "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
        from = to.clone();
    }

    let copied = crate::helpers::spawn_app_at(dir, from).await;
    for (path, page) in &before {
        let res = copied.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            comparable(&res.text().await.unwrap()),
            comparable(page),
            "{path}"
        );
    }
    copied.assert_ledger_sound().await;
    // The copy takes new changes on the chain it brought.
    let res = copied
        .post_form(&format!("/u/{holly}"), "List-Unsubscribe=One-Click")
        .await;
    assert_eq!(res.status(), 200);
    copied.assert_ledger_sound().await;
    copied.stop().await;
}

#[tokio::test]
async fn copy_knows_every_table_and_column_of_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let mut db = prefcenter::store::open(&url, 1).await.unwrap();
    let tables_sql = if crate::helpers::postgres().is_some() {
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'"
    };
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut any = sqlx::AnyConnection::connect(&url).await.unwrap();
    let mut tables: Vec<String> = sqlx::query_scalar(tables_sql)
        .fetch_all(&mut any)
        .await
        .unwrap();
    tables.sort();
    let mut known: Vec<String> = prefcenter::store::copy::TABLES
        .iter()
        .map(|t| t.0.to_owned())
        .collect();
    known.sort();
    assert_eq!(tables, known, "copy's table list is the schema's");
    for (table, columns) in prefcenter::store::copy::TABLES {
        let mut have = prefcenter::store::copy::columns_of(db.write.as_mut(), table)
            .await
            .unwrap();
        have.sort();
        let mut listed: Vec<String> = columns.iter().map(|c| c.0.to_owned()).collect();
        listed.sort();
        assert_eq!(have, listed, "{table}");
    }
    any.close().await.unwrap();
    db.read.close().await;
    db.write.close().await.unwrap();
}

#[tokio::test]
async fn a_catalogue_change_shows_on_every_instance_within_a_second() {
    let a = crate::helpers::spawn_app().await;
    let b = crate::helpers::spawn_second(&a).await;
    let page = format!("/p/{}", a.token("holly"));
    for app in [&a, &b] {
        let html = app.get(&page).await.text().await.unwrap();
        assert!(html.contains("Newsletter") && !html.contains("Monthly letter"));
    }
    // The admin renames a topic (the console will do this through the writer).
    let mut db = a.db().await;
    sqlx::query("UPDATE topics SET name = 'Monthly letter' WHERE key = 'newsletter'")
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query("UPDATE compliance_profiles SET catalog_version = catalog_version + 1")
        .execute(&mut db)
        .await
        .unwrap();
    // Within the second, each instance may still show what it cached.
    for app in [&a, &b] {
        let html = app.get(&page).await.text().await.unwrap();
        assert!(html.contains("Newsletter"), "cached for up to a second");
    }
    for app in [&a, &b] {
        app.clock
            .advance(prefcenter::services::CATALOG_CHECK + std::time::Duration::from_millis(10));
        let html = app.get(&page).await.text().await.unwrap();
        assert!(
            html.contains("Monthly letter") && !html.contains("Newsletter"),
            "{html}"
        );
    }
    use sqlx::Connection as _;
    db.close().await.unwrap();
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn instances_run_as_a_role_that_may_not_change_the_ledger() {
    // PostgreSQL only: SQLite has no roles.
    let Some(_) = crate::helpers::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let admin_url = fresh_database(dir.path()).await;
    // `prefcenter migrate` as the owner, then the README's grants to a role of its own.
    let migrate = Command::new(env!("CARGO_BIN_EXE_prefcenter"))
        .args(["migrate", "--database-url", &admin_url])
        .output()
        .unwrap();
    assert!(migrate.status.success());
    let role = format!("app_{}", std::process::id());
    let database = admin_url.rsplit('/').next().unwrap().to_owned();
    use sqlx::{Connection as _, Executor as _};
    let mut owner = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    owner
        .execute(
            format!(
                "DROP ROLE IF EXISTS {role};
                 CREATE ROLE {role} LOGIN PASSWORD 'app-password';
                 GRANT CONNECT ON DATABASE {database} TO {role};
                 GRANT USAGE ON SCHEMA public TO {role};
                 GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
                 GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role};
                 REVOKE UPDATE, DELETE, TRUNCATE ON consent_ledger FROM {role};"
            )
            .as_str(),
        )
        .await
        .unwrap();
    let host = admin_url
        .split_once('@')
        .unwrap()
        .1
        .rsplit_once('/')
        .unwrap()
        .0;
    let app_url = format!("postgres://{role}:app-password@{host}/{database}");
    let app = crate::helpers::spawn_app_at(dir, app_url.clone()).await;
    let res = app
        .post_form(
            &format!("/u/{}", app.token("frank")),
            "List-Unsubscribe=One-Click",
        )
        .await;
    assert_eq!(res.status(), 200, "the role writes consent");
    let mut as_app = sqlx::PgConnection::connect(&app_url).await.unwrap();
    for sql in [
        "UPDATE consent_ledger SET new_value = 'opted_in'",
        "DELETE FROM consent_ledger",
        "TRUNCATE consent_ledger CASCADE",
    ] {
        let e = as_app.execute(sql).await.unwrap_err().to_string();
        assert!(e.contains("permission denied"), "{sql}: {e}");
    }
    as_app.close().await.unwrap();
    app.assert_ledger_sound().await;
    app.stop().await;
    owner.close().await.unwrap();
}

#[tokio::test]
async fn the_sign_up_limit_holds_across_instances() {
    let flags = ["--signup-rate-per-minute", "3"];
    let (a, _) = crate::helpers::spawn_app_on(0, &flags).await;
    let b = crate::helpers::spawn_second_on(&a, &flags).await;
    // Both clocks to the start of a minute, so the four tries share one window.
    let now = a.clock.now();
    let into = Duration::from_secs(u64::from(now.second()))
        + Duration::from_nanos(u64::from(now.nanosecond()));
    let to_next = Duration::from_secs(60) - into + Duration::from_millis(200);
    a.clock.advance(to_next);
    b.clock.advance(to_next);
    let mut got = Vec::new();
    for (i, app) in [&a, &b, &a, &b].into_iter().enumerate() {
        let res = app
            .post_form(
                "/s/contoso",
                &format!("email=s{i}%40example.com&t1.email=on"),
            )
            .await;
        got.push(res.status().as_u16());
        if res.status() == 429 {
            let wait: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
        }
    }
    // Each instance saw two: alone, neither would refuse.
    assert_eq!(got, vec![303, 303, 303, 429]);
    // The count keeps no address: only a keyed hash of it.
    let mut db = a.db().await;
    let keys: Vec<Vec<u8>> = sqlx::query_scalar("SELECT key FROM rate_windows")
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert!(!keys[0].windows(4).any(|w| w == [127, 0, 0, 1]));
    // The next minute is a new window.
    a.clock.advance(Duration::from_secs(60));
    let res = a
        .post_form("/s/contoso", "email=s9%40example.com&t1.email=on")
        .await;
    assert_eq!(res.status(), 303);
    use sqlx::Connection as _;
    db.close().await.unwrap();
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_database_migrated_from_the_former_per_backend_files_is_adopted() {
    use prefcenter::store::{migrations, Backend};
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(dir.path()).await;
    let backend = Backend::of_url(&db_url).unwrap();
    assert!(!prefcenter::store::migrate(&db_url)
        .await
        .unwrap()
        .is_empty());
    // As the former files left it: their checksums recorded.
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&db_url)
        .await
        .unwrap();
    let former: Vec<_> = migrations::FORMER_CHECKSUMS
        .iter()
        .filter(|f| f.0 == backend)
        .collect();
    assert_eq!(former.len(), 5);
    for (_, version, hex) in &former {
        let sql = match backend {
            Backend::Sqlite => {
                format!("UPDATE _sqlx_migrations SET checksum = X'{hex}' WHERE version = {version}")
            }
            Backend::Postgres => format!(
                "UPDATE _sqlx_migrations SET checksum = '\\x{hex}'::bytea WHERE version = {version}"
            ),
        };
        sqlx::query(&sql).execute(&mut db).await.unwrap();
    }
    // `prefcenter migrate` (and a starting server) would refuse a modified migration: it
    // applies nothing, and the checksums are today's afterwards.
    assert!(prefcenter::store::migrate(&db_url)
        .await
        .unwrap()
        .is_empty());
    for m in migrations::migrator(backend).iter() {
        let recorded: Vec<u8> = sqlx::query_scalar(&format!(
            "SELECT checksum FROM _sqlx_migrations WHERE version = {}",
            m.version
        ))
        .fetch_one(&mut db)
        .await
        .unwrap();
        assert_eq!(recorded, m.checksum.to_vec(), "version {}", m.version);
    }
}
