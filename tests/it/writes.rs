//! The API's writes from outside: contacts created and updated by address, consent collected
//! on a sending system's own form (double opt-in, or trusted on the caller's word where the
//! profile says so), idempotency keys, and erased addresses that never come back.

use crate::api::{admin, decide, make_key};
use crate::helpers::{beside, spawn_app, TestApp};
use serde_json::{json, Value};

/// A write: (status, body, whether it was a replay).
async fn write(
    app: &TestApp,
    key: &str,
    path: &str,
    idem: Option<&str>,
    body: &Value,
) -> (u16, Value, bool) {
    let mut req = app
        .client
        .post(format!("{}{path}", app.base))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = idem {
        req = req.header("idempotency-key", k);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let replayed = res.headers().get("idempotent-replayed").is_some();
    let text = res.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, v, replayed)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&mut app.db().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn contacts_are_created_and_updated_once_per_idempotency_key_and_erased_ones_never_return() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["write", "read"], None).await;
    let contacts = || count(&app, "SELECT COUNT(*) FROM contacts");
    let before = contacts().await;

    let new = json!({"email": "ana@EXAMPLE.com", "profile": "contoso", "locale": "fr", "consent_level": 3});
    let (status, v, replayed) = write(&app, &key, "/api/v1/contacts", Some("k-1"), &new).await;
    assert_eq!((status, replayed), (201, false), "{v}");
    assert_eq!(v["created"], true);
    assert_eq!(v["contact"]["address"], "ana@example.com");
    assert_eq!(v["contact"]["consent_level"], 3);
    assert!(v["contact"]["consent"].as_array().unwrap().len() > 3);
    // The retry of the same call: the same answer, marked, and no second contact.
    let (status, again, replayed) = write(&app, &key, "/api/v1/contacts", Some("k-1"), &new).await;
    assert_eq!(
        (status, replayed, again["created"].as_bool()),
        (201, true, Some(true))
    );
    assert_eq!(contacts().await, before + 1);
    // The same key with another request is refused; without a key the call is a plain upsert.
    let other = json!({"email": "ana@example.com", "consent_level": 5});
    let (status, v, _) = write(&app, &key, "/api/v1/contacts", Some("k-1"), &other).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    let (status, v, _) = write(&app, &key, "/api/v1/contacts", None, &other).await;
    assert_eq!((status, v["created"].as_bool()), (200, Some(false)), "{v}");
    assert_eq!(v["contact"]["consent_level"], 5);
    assert_eq!(contacts().await, before + 1);
    // The change is in the audit log, by the key.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM console_audit WHERE kind = 'contact.update' AND actor LIKE 'API key pck_%'").await,
        1
    );
    // And in the ledger: a record of the level, 3 → 5, by the key.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM consent_ledger WHERE subject_kind = 'profile' AND subject_id = 1 AND fact_old = '3' AND fact_new = '5' AND actor_kind = 'api_key' AND source = 'api'").await,
        1
    );
    app.assert_ledger_sound().await;

    // A phone number joins the contact found by its email address.
    let both = json!({"email": "ana@example.com", "phone": "+1 425 555 0199"});
    let (status, v, _) = write(&app, &key, "/api/v1/contacts", None, &both).await;
    assert_eq!((status, v["created"].as_bool()), (200, Some(false)), "{v}");
    let res = app
        .client
        .get(format!("{}/api/v1/contacts?phone=%2B14255550199", app.base))
        .header("authorization", format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["consent_level"], 5);
    // Two addresses of two contacts cannot become one.
    let (status, _, _) = write(
        &app,
        &key,
        "/api/v1/contacts",
        None,
        &json!({"phone": "+14255550188", "profile": "contoso"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, v, _) = write(
        &app,
        &key,
        "/api/v1/contacts",
        None,
        &json!({"email": "ana@example.com", "phone": "+14255550188"}),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("two_contacts")));

    // Refusals, each with its code and field.
    for (body, want) in [
        (
            json!({"profile": "contoso"}),
            (422, "invalid_field", Some("email")),
        ),
        (
            json!({"email": "x@example.com", "profile": "contoso", "consent_level": 9}),
            (422, "invalid_field", Some("consent_level")),
        ),
        (
            json!({"email": "x@example.com", "profile": "contoso", "locale": "xx"}),
            (422, "invalid_field", Some("locale")),
        ),
        (
            json!({"email": "x@example.com", "profile": "nope"}),
            (404, "unknown_profile", None),
        ),
        (
            json!({"email": "x@example.com"}),
            (422, "profile_required", Some("profile")),
        ),
        (
            json!({"email": "x@example.com", "profile": "contoso", "name": "X"}),
            (400, "malformed_body", None),
        ),
    ] {
        let (status, v, _) = write(&app, &key, "/api/v1/contacts", None, &body).await;
        assert_eq!(
            (status, v["code"].as_str().unwrap(), v["field"].as_str()),
            want,
            "{body}"
        );
    }
    // An address of another profile's contact is not this profile's to take.
    let csrf = b.console_token().await;
    let made = b
        .post(
            "/admin/profiles/new",
            &crate::setup::form(&[
                ("csrf", &csrf),
                ("key", "contoso-eu"),
                ("name", "Contoso Europe"),
                ("sender_address", "news@contoso.eu"),
                ("footer_address", "1 Rue de Rivoli, Paris"),
                ("default_locale", "fr"),
            ]),
            Some(&base),
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let (status, v, _) = write(
        &app,
        &key,
        "/api/v1/contacts",
        None,
        &json!({"email": "ana@example.com", "profile": "contoso-eu"}),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str(), v["field"].as_str()),
        (409, Some("other_profile"), Some("email"))
    );
    // Oversized and malformed bodies.
    let big = json!({"email": "x@example.com", "profile": "contoso", "locale": "x".repeat(20_000)});
    let (status, v, _) = write(&app, &key, "/api/v1/contacts", None, &big).await;
    assert_eq!((status, v["code"].as_str()), (413, Some("body_too_large")));
    let res = app
        .client
        .post(format!("{}/api/v1/consent", app.base))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let long = "k".repeat(256);
    let (status, v, _) = write(&app, &key, "/api/v1/contacts", Some(&long), &new).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_idempotency_key"))
    );
    let reader = make_key(&mut b, &base, &["read"], None).await;
    let (status, v, _) = write(&app, &reader, "/api/v1/contacts", None, &new).await;
    assert_eq!((status, v["code"].as_str()), (403, Some("missing_scope")));

    // Erased: the address is refused with its own code, and the kept outcome is gone with it.
    let (status, _, _) = write(
        &app,
        &key,
        "/api/v1/contacts",
        Some("k-gone"),
        &json!({"email": "gone@example.com", "profile": "contoso"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM api_idempotency WHERE idem_key = 'k-gone'"
        )
        .await,
        1
    );
    for who in ["gone@example.com", "holly@contoso.com"] {
        let out = beside(
            &["contact", "erase", who, "--reason", "asked to be forgotten"],
            &app,
        )
        .await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM api_idempotency WHERE idem_key = 'k-gone'"
        )
        .await,
        0
    );
    for who in ["gone@example.com", "holly@contoso.com"] {
        let (status, v, _) = write(
            &app,
            &key,
            "/api/v1/contacts",
            None,
            &json!({"email": who, "profile": "contoso"}),
        )
        .await;
        assert_eq!(
            (status, v["code"].as_str(), v["field"].as_str()),
            (409, Some("suppressed"), Some("email")),
            "{who}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn consent_from_an_external_form_goes_through_double_opt_in_unless_the_profile_trusts_the_caller(
) {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["write", "decide"], None).await;
    let reason = |who: &'static str, topic: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let q =
                json!({"email": who, "purpose": "commercial", "topic": topic, "channel": "email"});
            let (status, v, _) = decide(app, Some(&key), &q.to_string()).await;
            assert_eq!(status, 200, "{v}");
            v["reason"]["code"].as_str().unwrap().to_owned()
        }
    };
    let form = json!({
        "email": "webinar@example.com",
        "profile": "contoso",
        "source": "Webinar sign-up",
        "form_url": "https://contoso.com/webinar",
        "captured_at": "2026-11-20T09:30:00Z",
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11)",
        "confirmed": true,
        "changes": [
            {"purpose": "commercial", "topic": "newsletter", "channel": "email", "value": "opted_in"},
            {"purpose": "commercial", "topic": "events", "channel": "email", "value": "opted_out"}
        ]
    });
    // The profile does not trust callers: the opt-in waits for this server's email.
    let (status, v, _) = write(&app, &key, "/api/v1/consent", Some("form-1"), &form).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["created"].as_bool(), v["trusted"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(v["confirmation"], "email_queued");
    assert_eq!(
        (
            v["changes"][0]["value"].as_str(),
            v["changes"][1]["value"].as_str()
        ),
        (Some("pending"), Some("opted_out"))
    );
    assert_eq!(
        reason("webinar@example.com", "newsletter").await,
        "pending_confirmation"
    );
    assert_eq!(reason("webinar@example.com", "events").await, "opted_out");
    let mails = || {
        count(&app, "SELECT COUNT(*) FROM outbox o JOIN contact_points p ON p.id = o.contact_point_id WHERE p.address = 'webinar@example.com'")
    };
    assert_eq!(mails().await, 1);
    // The record names the key and keeps what the caller reported, as its word.
    let (actor, source): (String, String) = sqlx::query_as(
        "SELECT actor_id, source FROM consent_ledger l JOIN contact_points p ON p.id = l.contact_point_id
         WHERE p.address = 'webinar@example.com' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!((actor.starts_with("pck_"), source.as_str()), (true, "api"));
    let said: String = sqlx::query_scalar(
        "SELECT e.justification FROM ledger_evidence e JOIN consent_ledger l ON l.change_id = e.change_id
         JOIN contact_points p ON p.id = l.contact_point_id
         WHERE p.address = 'webinar@example.com' LIMIT 1",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert!(
        said.contains("Webinar sign-up")
            && said.contains("https://contoso.com/webinar")
            && said.contains("as reported by API key"),
        "{said}"
    );
    let ip: Option<String> = sqlx::query_scalar(
        "SELECT e.ip FROM ledger_evidence e JOIN consent_ledger l ON l.change_id = e.change_id
         JOIN contact_points p ON p.id = l.contact_point_id
         WHERE p.address = 'webinar@example.com' LIMIT 1",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!(
        ip.as_deref(),
        Some("203.0.113.7"),
        "kept as the server's setting says (full here)"
    );
    // A retry writes nothing and sends nothing.
    let (status, again, replayed) =
        write(&app, &key, "/api/v1/consent", Some("form-1"), &form).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again["changes"], v["changes"]);
    assert_eq!(mails().await, 1);

    // The admin trusts callers' own confirmation (the profile form's box): now it is recorded
    // as opted in, and the record says on whose word.
    let profile: (String, String, Option<String>, Option<String>, String, String) = sqlx::query_as(
        "SELECT key, name, sender_name, sender_address, footer_address, default_locale FROM compliance_profiles WHERE key = 'contoso'",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    let id = count(
        &app,
        "SELECT id FROM compliance_profiles WHERE key = 'contoso'",
    )
    .await;
    let csrf = b.console_token().await;
    let saved = b
        .post(
            &format!("/admin/profiles/{id}/edit"),
            &crate::setup::form(&[
                ("csrf", &csrf),
                ("key", &profile.0),
                ("name", &profile.1),
                ("sender_name", profile.2.as_deref().unwrap_or("")),
                ("sender_address", profile.3.as_deref().unwrap_or("")),
                ("footer_address", &profile.4),
                ("default_locale", &profile.5),
                ("trust_api_confirmation", "on"),
            ]),
            Some(&base),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let edit = b.get(&format!("/admin/profiles/{id}/edit")).await;
    assert!(
        edit.body.contains(
            "id=\"f-trust_api_confirmation\" name=\"trust_api_confirmation\" value=\"on\" checked"
        ),
        "the box shows ticked"
    );
    let trusted = json!({
        "email": "crm@example.com", "profile": "contoso", "source": "CRM import", "confirmed": true,
        "changes": [{"purpose": "commercial", "topic": "newsletter", "channel": "email", "value": "opted_in"}]
    });
    let (status, v, _) = write(&app, &key, "/api/v1/consent", None, &trusted).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (
            v["trusted"].as_bool(),
            v["confirmation"].as_str(),
            v["changes"][0]["value"].as_str()
        ),
        (Some(true), Some("none"), Some("opted_in"))
    );
    assert_eq!(reason("crm@example.com", "newsletter").await, "opted_in");
    // Without "confirmed" the trusting profile still asks.
    let (_, v, _) = write(&app, &key, "/api/v1/consent", None, &json!({
        "email": "asked@example.com", "profile": "contoso", "source": "Footer form",
        "changes": [{"purpose": "commercial", "topic": "newsletter", "channel": "email", "value": "opted_in"}]
    })).await;
    assert_eq!(
        (v["trusted"].as_bool(), v["changes"][0]["value"].as_str()),
        (Some(false), Some("pending"))
    );

    // Refusals, each with its code.
    let change = |c: Value| json!({"email": "x@example.com", "profile": "contoso", "source": "Form", "changes": [c]});
    for (body, want) in [
        (
            change(json!({"purpose": "nope", "channel": "email", "value": "opted_in"})),
            (404, "unknown_purpose"),
        ),
        (
            change(
                json!({"purpose": "commercial", "topic": "nope", "channel": "email", "value": "opted_in"}),
            ),
            (404, "unknown_topic"),
        ),
        (
            change(
                json!({"purpose": "commercial", "topic": "events", "channel": "sms", "value": "opted_in"}),
            ),
            (422, "invalid_field"),
        ),
        (
            change(
                json!({"purpose": "commercial", "topic": "events", "channel": "email", "value": "maybe"}),
            ),
            (422, "invalid_field"),
        ),
        (
            change(json!({"purpose": "transactional", "channel": "email", "value": "opted_out"})),
            (422, "mandatory"),
        ),
        (
            json!({"phone": "+14255550177", "profile": "contoso", "source": "Kiosk", "changes": [{"purpose": "commercial", "topic": "events", "channel": "sms", "value": "opted_in"}]}),
            (422, "confirmation_unavailable"),
        ),
        (
            json!({"email": "x@example.com", "profile": "contoso", "source": "Form", "changes": []}),
            (422, "invalid_field"),
        ),
        (
            json!({"email": "x@example.com", "profile": "contoso", "source": " ", "changes": [{"purpose": "commercial", "channel": "email", "value": "opted_in"}]}),
            (422, "invalid_field"),
        ),
        (
            json!({"email": "x@example.com", "profile": "contoso", "source": "F", "ip": "nope", "changes": [{"purpose": "commercial", "channel": "email", "value": "opted_in"}]}),
            (422, "invalid_field"),
        ),
        (
            json!({"email": "holly@contoso.com", "source": "F"}),
            (400, "malformed_body"),
        ),
    ] {
        let (status, v, _) = write(&app, &key, "/api/v1/consent", None, &body).await;
        assert_eq!((status, v["code"].as_str().unwrap()), want, "{body}");
    }
    app.stop().await;
}
