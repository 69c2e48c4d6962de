//! The contact's pages and the RFC 8058 one-click POST.

use crate::helpers::*;
use sqlx::Connection;

#[tokio::test]
async fn get_and_head_change_nothing() {
    let app = spawn_app().await;
    let before = app.ledger_count().await;
    let states_before = app.states("holly@contoso.com").await;
    let t = app.token("holly");
    for path in [
        format!("/u/{t}"),
        format!("/p/{t}"),
        format!("/u/{t}/done/unchanged"),
    ] {
        for _ in 0..3 {
            assert_eq!(app.get(&path).await.status(), 200, "{path}");
            let head = app
                .client
                .head(format!("{}{path}", app.base))
                .send()
                .await
                .unwrap();
            assert_eq!(head.status(), 200, "HEAD {path}");
        }
    }
    assert_eq!(app.ledger_count().await, before);
    assert_eq!(app.states("holly@contoso.com").await, states_before);
    app.stop().await;
}

#[tokio::test]
async fn unsubscribe_page_lists_what_the_contact_receives() {
    let app = spawn_app().await;
    let html = app
        .get(&format!("/u/{}", app.token("holly")))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Unsubscribe from Product updates"));
    assert!(html.contains("Unsubscribe from Events"));
    assert!(
        !html.contains("Unsubscribe from Newsletter"),
        "holly opted out of the newsletter"
    );
    assert!(html.contains("h***y@contoso.com"));
    assert!(
        !html.contains("holly@contoso.com"),
        "the full address is not shown"
    );
    assert!(
        html.contains("4567 Main Street"),
        "legal footer with postal address"
    );
    assert!(html.contains("--brand:#0f5fa8"), "brand colour");
    assert!(
        !html.contains(".wasm") && !html.contains("<script src"),
        "no script needed"
    );
    app.stop().await;
}

#[tokio::test]
async fn one_click_post_without_cookies_unsubscribes() {
    let app = spawn_app().await;
    let t = app.token("frank");
    let before = app.ledger_count().await;
    let res = app
        .post_form(&format!("/u/{t}"), "List-Unsubscribe=One-Click")
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none(), "no redirect");
    assert!(res.headers().get("set-cookie").is_none(), "no cookie");
    // Commercial purpose + Newsletter + Events (Product updates was already off).
    assert_eq!(app.ledger_count().await, before + 3);
    for topic in ["Newsletter", "Product updates", "Events", "commercial"] {
        assert_eq!(
            app.state_of("frank@contoso.com", topic, "email")
                .await
                .as_deref(),
            Some("opted_out"),
            "{topic}"
        );
    }
    let sources: Vec<(String, String)> =
        sqlx::query_as("SELECT actor_kind, source FROM consent_ledger WHERE seq > $1")
            .bind(before)
            .fetch_all(&mut app.db().await)
            .await
            .unwrap();
    assert!(sources
        .iter()
        .all(|(a, s)| a == "one_click" && s == "one_click"));

    // A repeat is answered the same and changes nothing.
    let again = app
        .post_form(&format!("/u/{t}"), "List-Unsubscribe=One-Click")
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(app.ledger_count().await, before + 3);
    let page = app.get(&format!("/u/{t}")).await.text().await.unwrap();
    assert!(page.contains("not subscribed to any of our optional emails"));
    app.assert_ledger_sound().await;
    app.stop().await;
}

#[tokio::test]
async fn one_click_accepts_multipart() {
    let app = spawn_app().await;
    let t = app.token("holly");
    let body = "--b0undary\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b0undary--\r\n";
    let res = app
        .client
        .post(format!("{}/u/{t}", app.base))
        .header("content-type", "multipart/form-data; boundary=b0undary")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.state_of("holly@contoso.com", "Product updates", "email")
            .await
            .as_deref(),
        Some("opted_out")
    );
    // One-click is about email: the phone's text messages are untouched.
    assert_eq!(
        app.state_of("+14255550101", "Product updates", "sms")
            .await
            .as_deref(),
        Some("opted_in")
    );
    app.stop().await;
}

#[tokio::test]
async fn wrong_tokens_are_indistinguishable() {
    let app = spawn_app().await;
    // An expired token of a real contact, planted directly.
    let expired = prefcenter::services::new_token();
    sqlx::query("INSERT INTO link_tokens (token_hash, contact_point_id, issued_at, expires_at) VALUES ($1, 1, '2020-01-01T00:00:00.000000Z', '2020-02-01T00:00:00.000000Z')")
        .bind(expired.hash().0.to_vec())
        .execute(&mut app.db().await)
        .await
        .unwrap();
    let unknown = prefcenter::services::new_token();
    let mut pages = Vec::new();
    for t in [
        unknown.as_str(),
        expired.as_str(),
        "AAAA",
        "not-a-token-at-all!",
        "%00%ff",
        &"a".repeat(500),
    ] {
        let res = app.get(&format!("/u/{t}")).await;
        let status = res.status();
        pages.push((status, normalise(&res.text().await.unwrap())));
        let p = app.get(&format!("/p/{t}")).await;
        assert_eq!(p.status(), 404);
        let post = app
            .post_form(&format!("/u/{t}"), "List-Unsubscribe=One-Click")
            .await;
        let post_status = post.status();
        pages.push((post_status, normalise(&post.text().await.unwrap())));
    }
    let (first_status, first_get) = &pages[0];
    assert_eq!(*first_status, 404);
    assert!(first_get.contains("This link is not valid"));
    for (i, (s, body)) in pages.iter().enumerate().step_by(2) {
        assert_eq!(s, first_status, "GET #{i}");
        assert_eq!(body, first_get, "GET #{i} body differs");
    }
    let (post_status, post_body) = &pages[1];
    assert_eq!(*post_status, 404);
    for (i, (s, body)) in pages.iter().enumerate().skip(1).step_by(2) {
        assert_eq!(s, post_status, "POST #{i}");
        assert_eq!(body, post_body, "POST #{i} body differs");
    }
    assert_eq!(app.ledger_count().await, 7, "only the demo's records");
    app.stop().await;
}

#[tokio::test]
async fn every_change_writes_exactly_one_ledger_record_in_the_same_transaction() {
    let app = spawn_app().await;
    let t = app.token("holly");
    let before = app.ledger_count().await;
    let res = app
        .post_form(&format!("/u/{t}"), "action=unsubscribe&topic=t2.email")
        .await;
    assert_eq!(res.status(), 303);
    let to = res
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(to.starts_with(&format!("/u/{t}/done/")), "{to}");
    assert_eq!(app.ledger_count().await, before + 1);
    #[allow(clippy::type_complexity)]
    let (seq, old, new, fv, lang, ip, ua): (i64, String, String, Option<i64>, Option<String>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT l.seq, l.old_value, l.new_value, l.form_version, l.language, e.ip, e.user_agent
         FROM consent_ledger l LEFT JOIN ledger_evidence e ON e.change_id = l.change_id ORDER BY l.seq DESC LIMIT 1",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!((old.as_str(), new.as_str()), ("opted_in", "opted_out"));
    assert_eq!(
        (fv, lang.as_deref()),
        (Some(1), Some("en")),
        "what the contact saw"
    );
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    assert!(ua.is_none(), "reqwest sends no user agent by default");
    let state_seq: i64 = sqlx::query_scalar(
        "SELECT s.ledger_seq FROM consent_states s JOIN contact_points cp ON cp.id = s.contact_point_id
         WHERE cp.address = 'holly@contoso.com' AND s.subject_kind = 'topic' AND s.subject_id = 2 AND s.channel = 'email'",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!(
        state_seq, seq,
        "the state row points at the record that set it"
    );

    // The done page says what changed and offers an undo, which restores the state.
    let done = app.get(&to).await.text().await.unwrap();
    assert!(
        done.contains("You will no longer receive:")
            && done.contains("<li>Product updates by email</li>"),
        "{done}"
    );
    assert!(done.contains("Undo this change"));
    let change = to.rsplit('/').next().unwrap().split('?').next().unwrap();
    let undo = app
        .post_form(&format!("/u/{t}/undo"), &format!("change={change}&lang=en"))
        .await;
    assert_eq!(undo.status(), 303);
    // Undo never skips double opt-in: what was opted in is asked for again by email.
    assert_eq!(
        app.state_of("holly@contoso.com", "Product updates", "email")
            .await
            .as_deref(),
        Some("pending")
    );
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'confirm'")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(queued, 1, "the undo queued a confirmation email");
    let undone = app
        .get(undo.headers().get("location").unwrap().to_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(undone.contains("Your change was undone"));
    assert!(
        !undone.contains("Undo this change"),
        "an undo is not undone again"
    );
    assert!(
        undone.contains("Waiting for your confirmation")
            && undone.contains("<li>Product updates by email</li>"),
        "{undone}"
    );
    // Another contact's link cannot see this change.
    let other = app
        .get(&format!("/u/{}/done/{change}", app.token("frank")))
        .await;
    assert_eq!(other.status(), 404);
    // Undoing twice changes nothing more.
    let n = app.ledger_count().await;
    app.post_form(&format!("/u/{t}/undo"), &format!("change={change}"))
        .await;
    assert_eq!(app.ledger_count().await, n);
    app.assert_ledger_sound().await;
    app.stop().await;
}

#[tokio::test]
async fn subscription_center_withdraws_at_once_and_new_choices_go_pending() {
    let app = spawn_app().await;
    let t = app.token("holly");
    // Keep Events on email, drop Product updates, ask for the Newsletter; leave texts as they are.
    let body = "action=save&t1.email=on&t3.email=on&t1.sms=on&t2.sms=on&t3.sms=on";
    let res = app.post_form(&format!("/u/{t}"), body).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.state_of("holly@contoso.com", "Product updates", "email")
            .await
            .as_deref(),
        Some("opted_out")
    );
    assert_eq!(
        app.state_of("holly@contoso.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("pending")
    );
    assert_eq!(
        app.state_of("holly@contoso.com", "Events", "email").await,
        None,
        "unchanged, still the default"
    );
    let center = app.get(&format!("/p/{t}")).await.text().await.unwrap();
    assert!(center.contains("waiting for your confirmation"));
    // Unticking every text-message box opts the phone out, per topic.
    let res = app
        .post_form(&format!("/u/{t}"), "action=save&t1.email=on&t3.email=on")
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.state_of("+14255550101", "Events", "sms")
            .await
            .as_deref(),
        Some("opted_out")
    );
    app.assert_ledger_sound().await;
    app.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_page_and_changes_nothing() {
    let app = spawn_app().await;
    let t = app.token("holly");
    let before = app.ledger_count().await;
    for body in [
        "action=explode",
        "",
        "action=unsubscribe",
        "action=unsubscribe&topic=t999.email",
        "action=unsubscribe&topic=%27%3B--",
        "action=save&t999.email=on",
        "action=save&t1.fax=on",
        "%%%%",
    ] {
        let res = app.post_form(&format!("/u/{t}"), body).await;
        assert_eq!(res.status(), 400, "{body:?}");
        let html = res.text().await.unwrap();
        assert!(html.contains("We could not read that request"), "{body:?}");
    }
    // Mandatory (transactional) purposes cannot be unsubscribed from a page.
    let res = app
        .post_form(&format!("/u/{t}"), "action=unsubscribe&topic=p2.email")
        .await;
    assert_eq!(res.status(), 400);
    let res = app.post_form(&format!("/u/{t}/undo"), "change=nope").await;
    assert_eq!(res.status(), 400);
    let big = format!("action=save&x={}", "a".repeat(100 * 1024));
    let res = app.post_form(&format!("/u/{t}"), &big).await;
    assert_eq!(res.status(), 413);
    assert_eq!(app.ledger_count().await, before);
    app.stop().await;
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        format!("/u/{}", app.token("holly")),
        "/u/bad".to_owned(),
        "/".to_owned(),
    ] {
        let res = app.get(&path).await;
        let h = res.headers();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("'nonce-"),
            "{csp}"
        );
        assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer");
        assert_eq!(h.get("cache-control").unwrap(), "no-store");
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    }
    let css = app.get("/pkg/prefcenter.css").await;
    assert_eq!(css.status(), 200);
    assert!(css
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    // The liveness probe is outside the page middleware: JSON, never cached, never sniffed.
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    assert_eq!(health.headers()["cache-control"], "no-store");
    assert_eq!(health.text().await.unwrap(), r#"{"status":"ok"}"#);
    assert_eq!(app.get("/no/such/page").await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn the_database_refuses_to_edit_or_delete_ledger_records() {
    let app = spawn_app().await;
    let mut db = app.db().await;
    let upd = sqlx::query("UPDATE consent_ledger SET new_value = 'opted_in' WHERE seq = 1")
        .execute(&mut db)
        .await;
    assert!(upd.unwrap_err().to_string().contains("append-only"));
    let del = sqlx::query("DELETE FROM consent_ledger WHERE seq = 1")
        .execute(&mut db)
        .await;
    assert!(del.unwrap_err().to_string().contains("append-only"));
    if crate::helpers::postgres().is_some() {
        let truncate = sqlx::query("TRUNCATE consent_ledger CASCADE")
            .execute(&mut db)
            .await;
        assert!(truncate.unwrap_err().to_string().contains("append-only"));
    }
    app.stop().await;
}

/// Record 1 copied under a new sequence number with this subject kind and channel.
fn copied_record(seq: i64, kind: &str, channel: &str) -> String {
    const COLUMNS: &str = "occurred_at, contact_point_id, subject_kind, subject_id, channel,
        old_value, new_value, custodian_confirmed, actor_kind, actor_id, source, change_id,
        form_version, language, request_id, evidence_digest, prev_hash, hash, confirmation,
        evidence_key, fact_old, fact_new";
    let picked = COLUMNS
        .replace("subject_kind,", &format!("'{kind}',"))
        .replace("subject_id, channel,", &format!("subject_id, '{channel}',"));
    format!(
        "INSERT INTO consent_ledger (seq, {COLUMNS})
         SELECT {seq}, {picked} FROM consent_ledger WHERE seq = 1"
    )
}

#[tokio::test]
async fn the_ledger_refuses_a_record_of_an_unknown_kind_or_channel() {
    // On SQLite the two checks are comparisons joined by OR (migration 29), not IN lists.
    let app = spawn_app().await;
    let mut db = app.db().await;
    for (kind, channel) in [
        ("consent", "email"),
        ("Topic", "email"),
        ("topic", "fax"),
        ("purpose", "Email"),
        ("", "sms"),
    ] {
        let e = sqlx::query(&copied_record(900_000, kind, channel))
            .execute(&mut db)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.to_lowercase().contains("check"),
            "{kind:?} {channel:?}: {e}"
        );
    }
    // Every kind and channel the model has is still taken.
    let kinds = ["purpose", "topic", "profile", "erasure"];
    let channels = ["email", "sms", "phone"];
    let mut seq = 900_000;
    for kind in kinds {
        for channel in channels {
            seq += 1;
            sqlx::query(&copied_record(seq, kind, channel))
                .execute(&mut db)
                .await
                .unwrap_or_else(|e| panic!("{kind} {channel}: {e}"));
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn the_writer_connection_runs_rusqlite_inside_its_own_transaction() {
    use prefcenter::store::{backend, Conn, StoreError};
    if crate::helpers::postgres().is_some() {
        return; // SQLite's handle only
    }
    let app = spawn_app().await;
    let Conn::Sqlite(mut c) = app.store_conn().await else {
        panic!("an SQLite connection");
    };
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut c)
        .await
        .unwrap();
    // A row written through rusqlite is seen by sqlx on the same connection, uncommitted.
    let wrote = backend::raw_sqlite(&mut c, 1, |db| {
        db.execute(&copied_record(900_001, "topic", "email"), [])
    })
    .await
    .unwrap();
    assert_eq!(wrote, 1);
    let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consent_ledger WHERE seq = 900001")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(seen, 1);
    // A refused statement is the statement's fault (the writer blames its unit), not the
    // database's (which would be retried); the transaction stays usable.
    let refused = backend::raw_sqlite(&mut c, 1, |db| {
        db.execute(&copied_record(900_002, "topic", "fax"), [])
    })
    .await
    .unwrap_err();
    assert!(matches!(refused, StoreError::Refused(_)), "{refused:?}");
    sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consent_ledger WHERE seq > 900000")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(after, 0, "rolled back with the transaction");
    app.stop().await;
}

#[tokio::test]
async fn ledger_verify_catches_an_edited_record() {
    let app = spawn_app().await;
    let t = app.token("holly");
    app.post_form(&format!("/u/{t}"), "List-Unsubscribe=One-Click")
        .await;
    let db_url = app.db_url.clone();
    let tmp = app.stop().await;
    let dir = tmp.path().to_owned();

    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_prefcenter"))
            .args([
                "ledger",
                "verify",
                "--database-url",
                &db_url,
                "--data-dir",
                dir.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let ok = run();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ledger OK"));

    // Someone with the database's owner rights edits a record behind the triggers' back.
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&db_url).await.unwrap();
    let drop_trigger = if crate::helpers::postgres().is_some() {
        "DROP TRIGGER consent_ledger_no_update ON consent_ledger"
    } else {
        "DROP TRIGGER consent_ledger_no_update"
    };
    sqlx::query(drop_trigger).execute(&mut db).await.unwrap();
    sqlx::query("UPDATE consent_ledger SET new_value = 'opted_in' WHERE seq = 5")
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    let broken = run();
    assert_eq!(broken.status.code(), Some(1));
    let out = String::from_utf8_lossy(&broken.stdout);
    assert!(out.contains("record 5") && out.contains("edited"), "{out}");

    // A database that is not there is an error, not an empty ledger that "verifies".
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_prefcenter"))
        .args([
            "ledger",
            "verify",
            "--database-url",
            &format!("sqlite://{}/nope.db", dir.display()),
        ])
        .output()
        .unwrap();
    assert!(!missing.status.success());
}

#[tokio::test]
async fn concurrent_one_clicks_never_fail_and_the_chain_stays_whole() {
    let (app, tokens) = spawn_app_with(300).await;
    let before = app.ledger_count().await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for t in tokens {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.post_form(&format!("/u/{t}"), "List-Unsubscribe=One-Click")
                .await
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    // Each bench contact: Commercial + 3 topics on email.
    assert_eq!(app.ledger_count().await, before + 300 * 4);
    app.assert_ledger_sound().await;
    let app = std::sync::Arc::into_inner(app).unwrap();
    app.stop().await;
}
