//! Webhooks from outside: a real receiver (an HTTP server in the test) verifies every message
//! with the Standard Webhooks reference library, sees each change once and in order per
//! contact, and receives what it missed while it was down; deliveries are listed and replayed
//! in the console; an erasure erases the kept payloads; private addresses are refused when
//! registered and when delivered to.

use crate::api::admin;
use crate::helpers::{beside, spawn_app, spawn_app_on, TestApp};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver got: (headers, body) of each request, in arrival order.
type Got = Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>;

/// A receiver on `port` (0: any); returns its address and a stopper.
async fn receiver(port: u16, got: Got) -> (u16, tokio::sync::oneshot::Sender<()>) {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            |axum::extract::State(got): axum::extract::State<Got>,
             headers: axum::http::HeaderMap,
             body: String| async move {
                got.lock().unwrap().push((headers, body));
                axum::http::StatusCode::NO_CONTENT
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app.with_state(got))
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    (port, stop)
}

async fn one_click(app: &TestApp, who: &str) {
    let res = app
        .client
        .post(app.link(who))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&mut app.db().await)
        .await
        .unwrap()
}

/// Waits (real time, up to 20 s) until `f` holds.
async fn until(what: &str, mut f: impl AsyncFnMut() -> bool) {
    for _ in 0..400 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting: {what}");
}

#[tokio::test]
async fn a_receiver_verifies_every_message_sees_each_change_once_in_order_and_catches_up() {
    let (app, _) = spawn_app_on(
        0,
        &[
            "--webhooks-allow-private",
            "--webhook-retry-base-ms",
            "1000",
        ],
    )
    .await;
    let base = app.base.clone();
    let got: Got = Arc::default();
    let (port, stop) = receiver(0, got.clone()).await;
    let mut b = admin(&app).await;
    let page = b.get("/admin/webhooks").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No endpoint yet"));
    let csrf = b.console_token().await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let made = b
        .post(
            "/admin/webhooks",
            &format!(
                "csrf={csrf}&url={}&description=CRM&event=consent.changed&event=contact.erased&profile=",
                crate::console::urlencode(&url)
            ),
            Some(&base),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let at = made
        .body
        .find("value=\"whsec_")
        .expect("the secret is shown")
        + 7;
    let secret: String = made.body[at..].chars().take_while(|c| *c != '"').collect();
    let listed = b.get("/admin/webhooks").await;
    assert!(!listed.body.contains(&secret), "shown once");
    let start = count(&app, "SELECT COALESCE(MAX(seq), 0) FROM consent_ledger").await;

    // Changes of two contacts: every record is delivered, signed, once.
    one_click(&app, "holly").await;
    one_click(&app, "frank").await;
    let since = format!("SELECT COUNT(*) FROM consent_ledger WHERE seq > {start}");
    let records = || count(&app, &since);
    let want = records().await;
    assert!(want >= 4, "{want}");
    until("the first deliveries", async || {
        got.lock().unwrap().len() as i64 >= want
    })
    .await;

    // The receiver goes down; more changes happen; it comes back on the same address.
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let res = app
        .client
        .post(app.link("holly"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("action=unsubscribe_all")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let want_all = records().await;
    assert!(want_all > want, "more records while down");
    until("a failed try while down", async || {
        count(&app, "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'queued' AND attempts > 0 AND last_error IS NOT NULL").await > 0
    })
    .await;
    let endpoint = count(&app, "SELECT MAX(id) FROM webhook_endpoints").await;
    let detail = b.get(&format!("/admin/webhooks/{endpoint}")).await;
    assert!(
        detail.body.contains("Retrying"),
        "the console shows the retry"
    );
    let (_, stop) = receiver(port, got.clone()).await;
    // The retry is due within minutes of backoff (the console's session outlives that).
    app.clock.advance(Duration::from_secs(600));
    until("the missed deliveries", async || {
        got.lock().unwrap().len() as i64 >= want_all
    })
    .await;

    // Every message verifies with the reference library, each record once, in order per
    // contact.
    let wh = standardwebhooks::Webhook::new(&secret).unwrap();
    let received = got.lock().unwrap().clone();
    let mut ids = std::collections::HashSet::new();
    let mut last_per_contact: HashMap<i64, i64> = HashMap::new();
    for (headers, body) in &received {
        wh.verify(body.as_bytes(), headers)
            .expect("the signature verifies");
        let id = headers["webhook-id"].to_str().unwrap().to_owned();
        assert!(ids.insert(id.clone()), "{id} twice");
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["type"], "consent.changed");
        let (contact, seq) = (
            v["data"]["contact"].as_i64().unwrap(),
            v["data"]["seq"].as_i64().unwrap(),
        );
        assert_eq!(id, format!("msg_{seq}"));
        if let Some(prev) = last_per_contact.insert(contact, seq) {
            assert!(prev < seq, "contact {contact}: {seq} after {prev}");
        }
        assert!(v["data"]["address"].is_string());
    }
    assert_eq!(received.len() as i64, want_all, "each change once");
    // A forged or altered message does not verify.
    let (headers, body) = &received[0];
    assert!(wh
        .verify(body.replace("opted", "OPTED").as_bytes(), headers)
        .is_err());
    assert!(
        standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap()
            .verify(body.as_bytes(), headers)
            .is_err()
    );

    // The console lists them delivered, with the receiver's answer; one is sent again.
    until("every delivery recorded", async || {
        count(
            &app,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'",
        )
        .await
            == want_all
    })
    .await;
    let detail = b.get(&format!("/admin/webhooks/{endpoint}")).await;
    assert!(
        detail.body.contains("Delivered") && detail.body.contains("204"),
        "{}",
        detail.body
    );
    let first = count(&app, "SELECT MIN(id) FROM webhook_deliveries").await;
    let csrf = b.console_token().await;
    let replayed = b
        .post(
            &format!("/admin/webhooks/deliveries/{first}/replay"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(replayed.status, 303, "{}", replayed.body);
    until("the replay", async || {
        got.lock().unwrap().len() as i64 > want_all
    })
    .await;

    // Holly is erased: her kept payloads go, receivers hear of it by her contact id alone.
    let holly = count(
        &app,
        "SELECT contact_id FROM contact_points WHERE address = 'holly@contoso.com'",
    )
    .await;
    let out = beside(
        &[
            "contact",
            "erase",
            "holly@contoso.com",
            "--reason",
            "asked to be forgotten",
        ],
        &app,
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    until("the erasure event", async || {
        got.lock()
            .unwrap()
            .iter()
            .any(|(_, b)| b.contains("contact.erased"))
    })
    .await;
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM webhook_deliveries WHERE contact_id = {holly} AND payload LIKE '%holly%'")).await,
        0,
        "no payload keeps her address"
    );
    let erased: Value = serde_json::from_str(
        &got.lock()
            .unwrap()
            .iter()
            .find(|(_, b)| b.contains("contact.erased"))
            .unwrap()
            .1,
    )
    .unwrap();
    assert_eq!(erased["data"]["contact"], holly);
    assert!(!erased.to_string().contains("holly@"));
    let hers = count(&app, &format!("SELECT MIN(id) FROM webhook_deliveries WHERE contact_id = {holly} AND event_type = 'consent.changed'")).await;
    let csrf = b.console_token().await;
    let refused = b
        .post(
            &format!("/admin/webhooks/deliveries/{hers}/replay"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(
        refused.status, 409,
        "an erased payload cannot be sent again"
    );
    let _ = stop.send(());
    app.stop().await;
}

/// A host name that resolves to this machine: its own name when that resolves to a loopback or
/// private address, else `localhost`.
async fn local_name() -> String {
    let own = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .to_owned();
    if !own.is_empty() {
        let found: Vec<std::net::SocketAddr> =
            match tokio::net::lookup_host((own.clone(), 80)).await {
                Ok(a) => a.collect(),
                Err(_) => Vec::new(),
            };
        {
            let addrs = found;
            if !addrs.is_empty()
                && addrs
                    .iter()
                    .all(|a| !prefcenter::domain::webhook::is_public(a.ip()))
            {
                return own;
            }
        }
    }
    "localhost".to_owned()
}

#[tokio::test]
async fn private_addresses_are_refused_when_registered_and_when_delivered_to() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let got: Got = Arc::default();
    let (port, stop) = receiver(0, got.clone()).await;
    let mut b = admin(&app).await;
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://{}:{port}/hook", local_name().await),
        "http://localhost/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "ftp://example.com/".to_owned(),
    ] {
        let csrf = b.console_token().await;
        let res = b
            .post(
                "/admin/webhooks",
                &format!(
                    "csrf={csrf}&url={}&event=consent.changed",
                    crate::console::urlencode(&url)
                ),
                Some(&base),
            )
            .await;
        assert_eq!(res.status, 400, "{url}");
        assert!(res.body.contains("id=\"hook-url-error\""), "{url}");
    }
    let csrf = b.console_token().await;
    let res = b
        .post(
            "/admin/webhooks",
            &format!("csrf={csrf}&url=https%3A%2F%2Fexample.com%2Fh"),
            Some(&base),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Choose at least one event."));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_endpoints").await,
        0
    );

    // An endpoint whose name later resolves to this machine (DNS rebinding) is refused at
    // delivery, when its address resolves: a row written straight into the table, as if its
    // name had changed since it was registered. The name is this machine's own (it resolves
    // to a loopback or private address on any ordinary host).
    let name = local_name().await;
    let mut db = app.db().await;
    sqlx::query(
        "INSERT INTO webhook_cursor (id, ledger_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM consent_ledger",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let start = count(&app, "SELECT COALESCE(MAX(seq), 0) FROM consent_ledger").await;
    let at = if app.db_url.starts_with("postgres") {
        "$4::timestamptz"
    } else {
        "$4"
    };
    sqlx::query(&format!(
        "INSERT INTO webhook_endpoints (url, description, events, secret_salt, start_seq, created_at, created_by)
         VALUES ($1, '', 'consent.changed', $2, $3, {at}, 'test')"
    ))
    .bind(format!("http://{name}:{port}/hook"))
    .bind(vec![0u8; 16])
    .bind(start)
    .bind(prefcenter::store::now())
    .execute(&mut db)
    .await
    .unwrap();
    one_click(&app, "holly").await;
    until("the refused try", async || {
        count(
            &app,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed'",
        )
        .await
            > 0
    })
    .await;
    let error: String = sqlx::query_scalar(
        "SELECT last_error FROM webhook_deliveries WHERE status = 'failed' LIMIT 1",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert!(error.contains("refused"), "{error}");
    assert!(
        got.lock().unwrap().is_empty(),
        "nothing reached the private address"
    );
    let _ = stop.send(());
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_previous_one_for_a_day() {
    let (app, _) = spawn_app_on(0, &["--webhooks-allow-private"]).await;
    let base = app.base.clone();
    let got: Got = Arc::default();
    let (port, stop) = receiver(0, got.clone()).await;
    let mut b = admin(&app).await;
    let csrf = b.console_token().await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let shown = |body: &str| {
        let at = body.find("value=\"whsec_").expect("a secret is shown") + 7;
        body[at..]
            .chars()
            .take_while(|c| *c != '"')
            .collect::<String>()
    };
    let made = b
        .post(
            "/admin/webhooks",
            &format!(
                "csrf={csrf}&url={}&description=CRM&event=consent.changed&profile=",
                crate::console::urlencode(&url)
            ),
            Some(&base),
        )
        .await;
    let old = shown(&made.body);
    let endpoint = count(&app, "SELECT MAX(id) FROM webhook_endpoints").await;
    let rotated = b
        .post(
            &format!("/admin/webhooks/{endpoint}/rotate"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = shown(&rotated.body);
    assert_ne!(new, old);
    assert!(rotated.body.contains("previous secret signs too until"));
    let page = b.get(&format!("/admin/webhooks/{endpoint}")).await;
    assert!(!page.body.contains(&new), "shown once");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM console_audit WHERE kind = 'webhook.rotate_secret'"
        )
        .await,
        1
    );
    let (old_wh, new_wh) = (
        standardwebhooks::Webhook::new(&old).unwrap(),
        standardwebhooks::Webhook::new(&new).unwrap(),
    );

    // Within the day: two signatures, each secret verifies.
    one_click(&app, "holly").await;
    until("a delivery", async || !got.lock().unwrap().is_empty()).await;
    let (headers, body) = got.lock().unwrap()[0].clone();
    let sigs = headers["webhook-signature"].to_str().unwrap().to_owned();
    assert_eq!(sigs.split(' ').count(), 2, "{sigs}");
    old_wh
        .verify(body.as_bytes(), &headers)
        .expect("the previous secret");
    new_wh
        .verify(body.as_bytes(), &headers)
        .expect("the new secret");

    // A day later: the new secret alone.
    app.clock.advance(Duration::from_secs(25 * 3600));
    // Frank's own delivery (one of Holly's may still arrive late, signed before the day ended).
    let frank: i64 = count(
        &app,
        "SELECT contact_id FROM contact_points WHERE address = 'frank@contoso.com'",
    )
    .await;
    let his = format!("\"contact\":{frank},");
    one_click(&app, "frank").await;
    until("a later delivery", async || {
        got.lock().unwrap().iter().any(|(_, b)| b.contains(&his))
    })
    .await;
    let (headers, body) = got
        .lock()
        .unwrap()
        .iter()
        .find(|(_, b)| b.contains(&his))
        .unwrap()
        .clone();
    assert_eq!(
        headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        1
    );
    new_wh
        .verify(body.as_bytes(), &headers)
        .expect("the new secret");
    assert!(old_wh.verify(body.as_bytes(), &headers).is_err());
    // No such endpoint: nothing rotated.
    let mut b = admin_again(&app).await;
    let page = b.get(&format!("/admin/webhooks/{endpoint}")).await;
    assert!(
        !page.body.contains("previous secret signs too"),
        "past its day, the previous secret is not named"
    );
    let csrf = b.console_token().await;
    let missing = b
        .post(
            "/admin/webhooks/999999/rotate",
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(missing.status, 404);
    let _ = stop.send(());
    app.stop().await;
}

/// The admin signed in again (after the clock moved past the session's life).
async fn admin_again(app: &TestApp) -> crate::console::Browser<'_> {
    let mut b = crate::console::Browser::new(app);
    assert_eq!(
        b.sign_in("admin@contoso.com", crate::console::GOOD)
            .await
            .status,
        303
    );
    b
}

#[tokio::test]
async fn a_change_of_a_contact_s_profile_is_its_own_event_with_the_fact_and_its_values() {
    let (app, _) = spawn_app_on(0, &["--webhooks-allow-private"]).await;
    let base = app.base.clone();
    let got: Got = Arc::default();
    let (port, stop) = receiver(0, got.clone()).await;
    let mut b = admin(&app).await;
    let csrf = b.console_token().await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let made = b
        .post(
            "/admin/webhooks",
            &format!(
                "csrf={csrf}&url={}&description=CRM&event=contact.profile_changed&profile=",
                crate::console::urlencode(&url)
            ),
            Some(&base),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    // A consent change is not asked for; a change of the consent level by the API is.
    one_click(&app, "holly").await;
    let key = crate::api::make_key(&mut b, &base, &["write", "read"], None).await;
    let res = app
        .client
        .post(format!("{base}/api/v1/contacts"))
        .header("authorization", format!("Bearer {key}"))
        .json(&serde_json::json!({"email": "holly@contoso.com", "consent_level": 5}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    until("the profile event", async || {
        !got.lock().unwrap().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = got.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "only the profile change");
    let v: Value = serde_json::from_str(&received[0].1).unwrap();
    assert_eq!(v["type"], "contact.profile_changed");
    assert_eq!(v["data"]["fact"]["name"], "consent_level");
    assert_eq!(v["data"]["fact"]["new"], "5");
    assert_eq!(v["data"]["actor"], "api_key");
    assert_eq!(v["data"]["purpose"], Value::Null);
    // The API's history of Holly lists it with its values too.
    let res = app
        .client
        .get(format!(
            "{base}/api/v1/contacts/history?email=holly%40contoso.com"
        ))
        .header("authorization", format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(body.contains("\"name\":\"consent_level\""), "{body}");
    let _ = stop.send(());
    app.stop().await;
}
