//! `/api/v1` from outside: keys made and revoked in the console, scopes, the rate limit, every
//! error code of the decision, and decisions as of past moments matching the ledger (before and
//! after an unsubscribe, before and after a purpose became restrictive).

use crate::console::{create_user, urlencode, Browser, GOOD};
use crate::helpers::{spawn_app, spawn_app_on, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

/// Makes a key in the console as an admin; the whole key, read off the page that made it.
pub(crate) async fn make_key(
    b: &mut Browser<'_>,
    base: &str,
    scopes: &[&str],
    profile: Option<i64>,
) -> String {
    let csrf = b.console_token().await;
    let mut form = format!("csrf={csrf}&name={}", urlencode("Newsletter ESP"));
    for s in scopes {
        form.push_str(&format!("&scope={s}"));
    }
    form.push_str(&format!(
        "&profile={}",
        profile.map(|p| p.to_string()).unwrap_or_default()
    ));
    let made = b.post("/admin/api-keys", &form, Some(base)).await;
    assert_eq!(made.status, 200, "{}", made.body);
    let start = made.body.find("value=\"pck_").expect("the key is shown") + 7;
    let key: String = made.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert_eq!(key.len(), 4 + 8 + 1 + 43, "{key}");
    key
}

pub(crate) async fn admin(app: &TestApp) -> Browser<'_> {
    assert!(create_user(app, "admin@contoso.com", "admin", GOOD).0);
    let mut b = Browser::new(app);
    assert_eq!(b.sign_in("admin@contoso.com", GOOD).await.status, 303);
    b
}

/// A call of `POST /api/v1/decide`: (status, body, headers).
pub(crate) async fn decide(
    app: &TestApp,
    key: Option<&str>,
    body: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = app
        .client
        .post(format!("{}/api/v1/decide", app.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, v, headers)
}

#[tokio::test]
async fn a_decision_says_why_and_names_its_ledger_record() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let keys = b.get("/admin/api-keys").await;
    assert_eq!(keys.status, 200);
    assert!(keys.body.contains("No API key yet"));
    let key = make_key(&mut b, &base, &["decide"], None).await;
    // Only its hash is kept.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT key_hash FROM api_keys")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(stored, prefcenter::domain::apikey::hash(&key).to_vec());
    let listed = b.get("/admin/api-keys").await;
    assert!(!listed.body.contains(&key), "shown once");
    assert!(listed.body.contains(&key[..12]), "its visible id is listed");

    // Holly opted in to product updates by email: allowed, because of that record.
    let q = json!({"email": "holly@CONTOSO.com", "purpose": "commercial", "topic": "product-updates", "channel": "email"});
    let (status, v, _) = decide(&app, Some(&key), &q.to_string()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["allowed"], true);
    assert_eq!(v["reason"]["code"], "opted_in");
    assert!(v["reason"]["message"]
        .as_str()
        .unwrap()
        .contains("opted in"));
    let record = v["reason"]["record"].as_i64().unwrap();
    assert_eq!(v["record"]["seq"], record);
    assert_eq!(v["record"]["value"], "opted_in");
    assert_eq!(v["profile"], "contoso");
    assert_eq!(v["contact_known"], true);
    // She opted out of the newsletter; texts need an opt-in; service messages always go.
    for (topic, channel, allowed, code) in [
        (Some("newsletter"), "email", false, "opted_out"),
        (Some("events"), "email", true, "not_opted_out"),
        (Some("events"), "sms", false, "no_opt_in"),
        (Some("events"), "phone", false, "channel_not_covered"),
    ] {
        let q = json!({"email": "holly@contoso.com", "purpose": "commercial", "topic": topic, "channel": channel});
        let (status, v, _) = decide(&app, Some(&key), &q.to_string()).await;
        assert_eq!(status, 200);
        assert_eq!(
            (
                v["allowed"].as_bool().unwrap(),
                v["reason"]["code"].as_str().unwrap()
            ),
            (allowed, code),
            "{topic:?} {channel}"
        );
    }
    let q = json!({"email": "holly@contoso.com", "purpose": "transactional", "channel": "email"});
    assert_eq!(
        decide(&app, Some(&key), &q.to_string()).await.1["reason"]["code"],
        "mandatory"
    );
    // By phone number too.
    let q = json!({"phone": "+1 (425) 555-0101", "purpose": "commercial", "topic": "product-updates", "channel": "sms"});
    let (status, v, _) = decide(&app, Some(&key), &q.to_string()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["contact_known"], true);
    // An address nobody gave: the profile must be named; then the purpose's own rule.
    let q = json!({"email": "new@example.com", "purpose": "commercial", "channel": "email"});
    let (status, v, _) = decide(&app, Some(&key), &q.to_string()).await;
    assert_eq!(
        (
            status,
            v["code"].as_str().unwrap(),
            v["field"].as_str().unwrap()
        ),
        (422, "profile_required", "profile")
    );
    let q = json!({"email": "new@example.com", "profile": "contoso", "purpose": "commercial", "channel": "email"});
    let (_, v, _) = decide(&app, Some(&key), &q.to_string()).await;
    assert_eq!(
        (
            v["allowed"].as_bool().unwrap(),
            v["contact_known"].as_bool().unwrap()
        ),
        (true, false)
    );
    app.stop().await;
}

#[tokio::test]
async fn every_refusal_has_its_status_and_stable_code() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["decide"], None).await;
    let links_only = make_key(&mut b, &base, &["links"], None).await;
    let ok = json!({"email": "holly@contoso.com", "purpose": "commercial", "channel": "email"})
        .to_string();

    let (status, v, headers) = decide(&app, None, &ok).await;
    assert_eq!((status, v["code"].as_str().unwrap()), (401, "missing_key"));
    assert_eq!(headers["www-authenticate"], "Bearer");
    let forged = format!(
        "{}{}",
        &key[..key.len() - 1],
        if key.ends_with('A') { 'B' } else { 'A' }
    );
    for (k, code) in [
        ("pck_nothing", "missing_key"),
        (forged.as_str(), "invalid_key"),
    ] {
        let (status, v, _) = decide(&app, Some(k), &ok).await;
        assert_eq!((status, v["code"].as_str().unwrap()), (401, code), "{k}");
    }
    let (status, v, _) = decide(&app, Some(&links_only), &ok).await;
    assert_eq!(
        (status, v["code"].as_str().unwrap()),
        (403, "missing_scope")
    );

    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        ("{".into(), 400, "malformed_body", None),
        ("[]".into(), 400, "malformed_body", None),
        (json!({"email": "holly@contoso.com", "purpose": "commercial", "channel": "email", "extra": 1}).to_string(), 400, "malformed_body", None),
        (json!({"email": "holly@contoso.com", "channel": "email"}).to_string(), 400, "malformed_body", None),
        (json!({"email": "not an address", "purpose": "commercial", "channel": "email"}).to_string(), 422, "invalid_field", Some("email")),
        (json!({"phone": "12", "purpose": "commercial", "channel": "sms"}).to_string(), 422, "invalid_field", Some("phone")),
        (json!({"email": "holly@contoso.com", "phone": "+14255550101", "purpose": "commercial", "channel": "email"}).to_string(), 422, "invalid_field", Some("email")),
        (json!({"purpose": "commercial", "channel": "email"}).to_string(), 422, "invalid_field", Some("email")),
        (json!({"email": "holly@contoso.com", "purpose": "commercial", "channel": "fax"}).to_string(), 422, "invalid_field", Some("channel")),
        (json!({"email": "holly@contoso.com", "purpose": "commercial", "channel": "email", "as_of": "last week"}).to_string(), 422, "invalid_field", Some("as_of")),
        (json!({"email": "holly@contoso.com", "purpose": "nope", "channel": "email"}).to_string(), 404, "unknown_purpose", Some("purpose")),
        (json!({"email": "holly@contoso.com", "purpose": "commercial", "topic": "nope", "channel": "email"}).to_string(), 404, "unknown_topic", Some("topic")),
        (json!({"email": "holly@contoso.com", "profile": "nope", "purpose": "commercial", "channel": "email"}).to_string(), 404, "unknown_profile", None),
        (format!("{{\"email\": \"{}\", \"purpose\": \"commercial\", \"channel\": \"email\"}}", "a".repeat(20_000)), 413, "body_too_large", None),
    ];
    for (body, status, code, field) in cases {
        let (s, v, _) = decide(&app, Some(&key), &body).await;
        assert_eq!(
            (s, v["code"].as_str().unwrap()),
            (status, code),
            "{}: {v}",
            &body[..body.len().min(80)]
        );
        assert_eq!(v["field"].as_str(), field, "{v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A refused address is said in words, not by a code.
    let q = json!({"email": "not an address", "purpose": "commercial", "channel": "email"});
    let (_, v, _) = decide(&app, Some(&key), &q.to_string()).await;
    assert!(v["message"].as_str().unwrap().contains("@"), "{v}");
    // Not JSON at all.
    let res = app
        .client
        .post(format!("{}/api/v1/decide", app.base))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "text/plain")
        .body(ok.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "unsupported_media_type"
    );
    // A route that does not exist answers in JSON too.
    let res = app
        .client
        .get(format!("{}/api/v1/nothing", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "not_found");

    // A key restricted to a profile cannot ask about another.
    let profile: i64 =
        sqlx::query_scalar("SELECT id FROM compliance_profiles WHERE key = 'contoso'")
            .fetch_one(&mut app.db().await)
            .await
            .unwrap();
    let csrf = b.console_token().await;
    let made = b
        .post(
            "/admin/profiles/new",
            &format!(
                "csrf={csrf}&key=other&name=Other&sender_address=news%40other.example&footer_address=Somewhere&default_locale=en"
            ),
            Some(&base),
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let restricted = make_key(&mut b, &base, &["decide"], Some(profile)).await;
    let q = json!({"email": "holly@contoso.com", "profile": "other", "purpose": "commercial", "channel": "email"});
    let (status, v, _) = decide(&app, Some(&restricted), &q.to_string()).await;
    assert_eq!(
        (status, v["code"].as_str().unwrap()),
        (403, "profile_not_allowed")
    );

    // Revoked: refused at once, and the page says so.
    let id: i64 = sqlx::query_scalar("SELECT id FROM api_keys WHERE prefix = $1")
        .bind(&key[4..12])
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    let csrf = b.console_token().await;
    let revoked = b
        .post(
            &format!("/admin/api-keys/{id}/revoke"),
            &format!("csrf={csrf}"),
            Some(&base),
        )
        .await;
    assert_eq!(revoked.status, 303);
    let (status, v, _) = decide(&app, Some(&key), &ok).await;
    assert_eq!((status, v["code"].as_str().unwrap()), (401, "revoked_key"));
    assert!(b.get("/admin/api-keys").await.body.contains("Revoked"));
    // Both are in the audit log.
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM console_audit WHERE kind IN ('api_key.create', 'api_key.revoke')",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!(audited, 4);
    app.stop().await;
}

#[tokio::test]
async fn a_key_over_its_rate_is_told_when_to_come_back() {
    let (app, _) = spawn_app_on(0, &["--api-rate-per-second", "3"]).await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["decide"], None).await;
    let ok = json!({"email": "holly@contoso.com", "purpose": "commercial", "channel": "email"})
        .to_string();
    // The key was used: the console says when (written by a low-priority unit after the
    // answer, so looked for until it is there).
    let last_used = || async {
        let v: Option<String> =
            sqlx::query_scalar("SELECT CAST(last_used_at AS TEXT) FROM api_keys")
                .fetch_one(&mut app.db().await)
                .await
                .unwrap();
        v
    };
    let changed_from = |before: Option<String>| {
        let last_used = &last_used;
        async move {
            for _ in 0..100 {
                let now = last_used().await;
                if now.is_some() && now != before {
                    return now;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("last_used_at still {before:?}");
        }
    };
    assert_eq!(decide(&app, Some(&key), &ok).await.0, 200);
    let used = changed_from(None).await;
    // Written again only when the key is read afresh (a second on) and that time is a minute
    // old: two seconds later it stays, a minute later it moves.
    app.clock.advance(Duration::from_secs(2));
    assert_eq!(decide(&app, Some(&key), &ok).await.0, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(last_used().await, used);
    app.clock.advance(Duration::from_secs(61));
    assert_eq!(decide(&app, Some(&key), &ok).await.0, 200);
    changed_from(used).await;
    // Over the rate (three a second, and three calls just made): told when to come back.
    let mut limited = None;
    for _ in 0..10 {
        let (status, v, headers) = decide(&app, Some(&key), &ok).await;
        if status == 429 {
            limited = Some((v, headers));
            break;
        }
        assert_eq!(status, 200);
    }
    let (v, headers) = limited.expect("the tenth call within a second is over the rate");
    assert_eq!(v["code"], "rate_limited");
    assert!(
        headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    app.stop().await;
}

#[tokio::test]
async fn as_of_answers_match_the_ledger_and_the_definitions_of_that_moment() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["decide"], None).await;
    let ask = |email: &str, topic: &str, as_of: Option<String>| {
        let mut q = json!({"email": email, "profile": "contoso", "purpose": "commercial", "topic": topic, "channel": "email"});
        if let Some(t) = as_of {
            q["as_of"] = Value::from(t);
        }
        q.to_string()
    };
    // Moment 1: Holly receives product updates; a stranger would get events (opt-out model).
    app.clock.advance(Duration::from_secs(60));
    let t1 = app.clock.now_str();
    app.clock.advance(Duration::from_secs(60));
    // Moment 2: Holly unsubscribes from everything by one-click.
    let res = app
        .post_form(
            &format!("/u/{}", app.token("holly")),
            "List-Unsubscribe=One-Click",
        )
        .await;
    assert_eq!(res.status(), 200);
    app.clock.advance(Duration::from_secs(60));
    let t2 = app.clock.now_str();
    app.clock.advance(Duration::from_secs(60));
    // Moment 3: the purpose becomes restrictive (opt-in only).
    let purpose: i64 = sqlx::query_scalar("SELECT id FROM purposes WHERE key = 'commercial'")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    let csrf = b.console_token().await;
    let edited = b
        .post(
            &format!("/admin/purposes/{purpose}/edit"),
            &format!("csrf={csrf}&name=Commercial&enforcement=restrictive&channels=email&channels=sms&min_level=0"),
            Some(&base),
        )
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    app.clock.advance(Duration::from_secs(60));
    let t3 = app.clock.now_str();

    let answer = |v: &Value| {
        (
            v["allowed"].as_bool().unwrap(),
            v["reason"]["code"].as_str().unwrap().to_owned(),
        )
    };
    let at = |t: &str| Some(t.to_owned());
    let cases = [
        (
            "holly@contoso.com",
            "product-updates",
            at(&t1),
            (true, "opted_in"),
        ),
        (
            "holly@contoso.com",
            "product-updates",
            at(&t2),
            (false, "opted_out"),
        ),
        (
            "holly@contoso.com",
            "product-updates",
            None,
            (false, "opted_out"),
        ),
        (
            "someone@example.com",
            "events",
            at(&t1),
            (true, "not_opted_out"),
        ),
        (
            "someone@example.com",
            "events",
            at(&t2),
            (true, "not_opted_out"),
        ),
        (
            "someone@example.com",
            "events",
            at(&t3),
            (false, "no_opt_in"),
        ),
        ("someone@example.com", "events", None, (false, "no_opt_in")),
        // Before anything existed: nothing was defined yet.
        (
            "someone@example.com",
            "events",
            at("2001-01-01T00:00:00Z"),
            (false, "purpose_disabled"),
        ),
    ];
    for (email, topic, as_of, want) in cases {
        let (status, v, _) = decide(&app, Some(&key), &ask(email, topic, as_of.clone())).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            answer(&v),
            (want.0, want.1.to_owned()),
            "{email} {topic} as of {as_of:?}"
        );
        if want.1 == "opted_in" || want.1 == "opted_out" {
            // The record named is the ledger's last one for it at that moment.
            let seq = v["record"]["seq"].as_i64().unwrap();
            let occurred = v["record"]["occurred_at"].as_str().unwrap().to_owned();
            if let Some(t) = &as_of {
                assert!(occurred <= *t, "{occurred} after {t}");
            }
            assert_eq!(v["record"]["value"], want.1, "{seq}");
        }
    }
    app.stop().await;
}

/// A bulk call: (status, content type, body).
async fn bulk(
    app: &TestApp,
    key: &str,
    query: &str,
    media: &str,
    body: String,
) -> (u16, String, String) {
    let res = app
        .client
        .post(format!("{}/api/v1/decide/bulk?{query}", app.base))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", media)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let media = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, media, res.text().await.unwrap())
}

/// A send list's answer `row` says what the single decision `one` says: allowed, the reason's
/// code and the record it rests on.
fn same_answer(row: &Value, one: &Value, what: &str) {
    assert_eq!(
        (
            &row["allowed"],
            &row["reason"]["code"],
            &row["reason"]["record"]
        ),
        (
            &one["allowed"],
            &one["reason"]["code"],
            &one["reason"]["record"]
        ),
        "{what}: {row} against {one}"
    );
}

/// A send list's answers are each address's own decision: the batch's one lookup (on SQLite a
/// statement of its own, read row by row) gives what `POST /api/v1/decide` gives one by one,
/// reason and record included, for every demo contact, a stranger, with and without a topic, on
/// channels with and without states.
#[tokio::test]
async fn a_send_list_is_decided_as_each_address_alone() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["decide"], None).await;
    let mut addresses: Vec<String> = app.links.iter().map(|(a, _)| a.clone()).collect();
    addresses.push("stranger@example.com".into());
    assert!(addresses.len() >= 4, "{addresses:?}");
    let list: Value = addresses.iter().map(|a| json!({ "email": a })).collect();
    let mut compared = 0;
    for topic in [
        None,
        Some("newsletter"),
        Some("product-updates"),
        Some("events"),
    ] {
        for channel in ["email", "sms"] {
            let mut q = format!("profile=contoso&purpose=commercial&channel={channel}");
            if let Some(t) = topic {
                q.push_str(&format!("&topic={t}"));
            }
            let (status, _, body) =
                bulk(&app, &key, &q, "application/json", list.to_string()).await;
            assert_eq!(status, 200, "{body}");
            let rows: Value = serde_json::from_str(&body).unwrap();
            let rows = rows.as_array().unwrap();
            assert_eq!(rows.len(), addresses.len());
            for (row, address) in rows.iter().zip(&addresses) {
                let one = json!({"email": address, "purpose": "commercial", "topic": topic, "channel": channel, "profile": "contoso"});
                let (s, v, _) = decide(&app, Some(&key), &one.to_string()).await;
                assert_eq!(s, 200, "{v}");
                same_answer(row, &v, &format!("{address} {topic:?} {channel}"));
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 8 * addresses.len());
    // As of a moment (the batch's other statements): the moment of Holly's product-updates record.
    let one = json!({"email": "holly@contoso.com", "purpose": "commercial", "topic": "product-updates", "channel": "email"});
    let (_, v, _) = decide(&app, Some(&key), &one.to_string()).await;
    let moment = v["record"]["occurred_at"].as_str().unwrap().to_owned();
    let q = format!(
        "profile=contoso&purpose=commercial&topic=product-updates&channel=email&as_of={}",
        moment.replace('+', "%2B")
    );
    let (status, _, body) = bulk(&app, &key, &q, "application/json", list.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let rows: Value = serde_json::from_str(&body).unwrap();
    for (row, address) in rows.as_array().unwrap().iter().zip(&addresses) {
        let one = json!({"email": address, "purpose": "commercial", "topic": "product-updates", "channel": "email", "profile": "contoso", "as_of": moment});
        let (s, v, _) = decide(&app, Some(&key), &one.to_string()).await;
        assert_eq!(s, 200, "{v}");
        same_answer(row, &v, &format!("{address} as of {moment}"));
    }
    app.stop().await;
}

#[tokio::test]
async fn a_send_list_is_decided_whole_as_json_or_line_by_line() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["decide"], None).await;
    let q = "profile=contoso&purpose=commercial&topic=product-updates&channel=email";
    let list = json!([
        {"email": "holly@contoso.com", "ref": "crm-1"},
        {"email": "frank@contoso.com"},
        {"email": "stranger@example.com"},
        {"email": "not an address", "ref": "crm-4"},
        {"email": "lena@contoso.com"},
    ]);
    let (status, media, body) = bulk(&app, &key, q, "application/json", list.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(media, "application/json");
    let v: Value = serde_json::from_str(&body).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let summary: Vec<(u64, Option<bool>, Option<&str>)> = rows
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().unwrap(),
                r["allowed"].as_bool(),
                r["reason"]["code"].as_str().or(r["error"]["code"].as_str()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, Some(true), Some("opted_in")),
            (1, Some(false), Some("opted_out")),
            (2, Some(true), Some("not_opted_out")),
            (3, None, Some("invalid_field")),
            (4, Some(true), Some("opted_in")),
        ]
    );
    assert_eq!(rows[0]["ref"], "crm-1");
    assert_eq!(rows[0]["email"], "holly@contoso.com");
    assert!(rows[0]["reason"]["record"].as_i64().is_some());
    assert_eq!(rows[3]["ref"], "crm-4");
    assert_eq!(rows[3]["error"]["field"], "email");
    // The same one per line, only the allowed ones back.
    let lines: String = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{r}\n"))
        .collect();
    let (status, media, body) = bulk(
        &app,
        &key,
        &format!("{q}&only=allowed"),
        "application/x-ndjson",
        lines,
    )
    .await;
    assert_eq!((status, media.as_str()), (200, "application/x-ndjson"));
    let indexes: Vec<u64> = body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["index"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(indexes, [0, 2, 4]);
    // An empty list, and a list that breaks off: what came before is answered, then why.
    let (_, _, body) = bulk(&app, &key, q, "application/json", "[]".into()).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!([]));
    let (_, _, body) = bulk(
        &app,
        &key,
        q,
        "application/x-ndjson",
        "{\"email\":\"holly@contoso.com\"}\n{\"email\": oops}\n{\"email\":\"frank@contoso.com\"}\n"
            .into(),
    )
    .await;
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert_eq!(lines[0]["allowed"], true);
    assert_eq!(lines[1]["error"]["code"], "malformed_body");
    let (_, _, body) = bulk(
        &app,
        &key,
        q,
        "application/json",
        "[{\"email\":\"a@b.example\",\"x\":1}]".into(),
    )
    .await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["error"]["code"], "malformed_body", "{v}");
    // Refusals before any recipient is read are plain errors.
    for (query, media, status, code) in [
        (
            "purpose=commercial&channel=email",
            "application/json",
            422,
            "profile_required",
        ),
        (
            "profile=contoso&purpose=nope&channel=email",
            "application/json",
            404,
            "unknown_purpose",
        ),
        (
            "profile=contoso&purpose=commercial&channel=fax",
            "application/json",
            422,
            "invalid_field",
        ),
        (
            "profile=contoso&purpose=commercial&channel=email&colour=red",
            "application/json",
            400,
            "malformed_query",
        ),
        (q, "text/csv", 415, "unsupported_media_type"),
    ] {
        let (s, _, body) = bulk(&app, &key, query, media, "[]".into()).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!((s, v["code"].as_str().unwrap()), (status, code), "{query}");
    }
    app.stop().await;
}

/// A list of several batches (a thousand recipients each, two looked up at once) is answered
/// in its own order, each answer with its own recipient; a line that breaks the list in its
/// third batch ends the answer there.
#[tokio::test]
async fn a_long_send_list_is_answered_in_order_across_its_batches() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["decide"], None).await;
    let q = "profile=contoso&purpose=commercial&topic=product-updates&channel=email";
    let known = ["holly@contoso.com", "frank@contoso.com", "lena@contoso.com"];
    let address = |i: usize| match i % 7 {
        0 => known[(i / 7) % 3].to_owned(),
        _ => format!("r{i}@example.com"),
    };
    let list: String = (0..4_500)
        .map(|i| format!("{{\"email\":\"{}\",\"ref\":\"{i}\"}}\n", address(i)))
        .collect();
    let (status, _, body) = bulk(&app, &key, q, "application/x-ndjson", list.clone()).await;
    assert_eq!(status, 200);
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4_500);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["index"], i as u64, "{l}");
        assert_eq!(l["ref"], i.to_string(), "{l}");
        assert_eq!(l["email"], address(i), "{l}");
        // Frank opted out of product updates; the others may be contacted.
        let frank = address(i) == "frank@contoso.com";
        assert_eq!(l["allowed"], !frank, "{l}");
    }
    // Broken at recipient 2,500: 2,500 answers, then why, and nothing after.
    let mut broken: Vec<&str> = list.lines().collect();
    broken[2_500] = "{\"email\": oops}";
    let (_, _, body) = bulk(
        &app,
        &key,
        q,
        "application/x-ndjson",
        broken.iter().map(|l| format!("{l}\n")).collect(),
    )
    .await;
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2_501);
    assert_eq!(lines[2_499]["index"], 2_499);
    assert_eq!(lines[2_500]["error"]["code"], "malformed_body");
    app.stop().await;
}

pub(crate) async fn get_json(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .header("authorization", format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn history_is_paged_newest_first_and_the_changes_feed_catches_up_after_an_outage() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let reader = make_key(&mut b, &base, &["read"], None).await;
    let decider = make_key(&mut b, &base, &["decide"], None).await;
    assert_eq!(
        get_json(&app, &decider, "/api/v1/changes").await.1["code"],
        "missing_scope"
    );

    // The whole feed, two records a page, following `next`.
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let (status, v) = get_json(
            &app,
            &reader,
            &format!("/api/v1/changes?after={cursor}&limit=2"),
        )
        .await;
        assert_eq!(status, 200, "{v}");
        let records = v["records"].as_array().unwrap();
        assert!(records.len() <= 2);
        seen.extend(records.iter().map(|r| r["seq"].as_i64().unwrap()));
        match v["next"].as_i64() {
            Some(n) => cursor = n,
            None => break,
        }
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consent_ledger")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(seen.len() as i64, total);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order: {seen:?}");

    // While the system was away, Holly unsubscribed: the feed from its last cursor has exactly
    // those records, named by purpose and topic key.
    let last = *seen.last().unwrap();
    let res = app
        .post_form(
            &format!("/u/{}", app.token("holly")),
            "List-Unsubscribe=One-Click",
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, v) = get_json(&app, &reader, &format!("/api/v1/changes?after={last}")).await;
    let new = v["records"].as_array().unwrap();
    assert!(!new.is_empty());
    assert!(new
        .iter()
        .all(|r| r["address"] == "holly@contoso.com" && r["new_value"] == "opted_out"));
    assert!(new
        .iter()
        .any(|r| r["topic"] == "product-updates" && r["purpose"] == "commercial"));
    assert!(new
        .iter()
        .all(|r| r["source"] == "one_click" && r["profile"] == "contoso"));
    assert_eq!(v["next"], Value::Null);

    // Holly's history: newest first, paged by `before`.
    let (status, v) = get_json(
        &app,
        &reader,
        "/api/v1/contacts/history?email=holly%40contoso.com&limit=3",
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let page1: Vec<i64> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(page1.len(), 3);
    assert!(page1.windows(2).all(|w| w[0] > w[1]));
    let next = v["next"].as_i64().unwrap();
    let (_, v) = get_json(
        &app,
        &reader,
        &format!("/api/v1/contacts/history?email=holly%40contoso.com&before={next}&limit=3"),
    )
    .await;
    assert!(v["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["seq"].as_i64().unwrap() < next));
    for (path, status, code) in [
        (
            "/api/v1/contacts/history?email=nobody%40example.com",
            404,
            "unknown_contact",
        ),
        ("/api/v1/contacts/history", 422, "invalid_field"),
        (
            "/api/v1/contacts/history?email=holly%40contoso.com&limit=0",
            422,
            "invalid_field",
        ),
        ("/api/v1/changes?after=x", 400, "malformed_query"),
        ("/api/v1/changes?since=1", 400, "malformed_query"),
    ] {
        let (s, v) = get_json(&app, &reader, path).await;
        assert_eq!((s, v["code"].as_str().unwrap()), (status, code), "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_names_every_api_route_and_the_docs_page_reads_it() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // Generated from the handlers: the routes the server has (but the document and this page).
    let mut paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/api/v1/changes",
            "/api/v1/consent",
            "/api/v1/contacts",
            "/api/v1/contacts/history",
            "/api/v1/decide",
            "/api/v1/decide/bulk",
            "/api/v1/links",
            "/api/v1/links/bulk",
            "/api/v1/links/revoke"
        ]
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert_eq!(op["security"][0]["bearer"], json!([]), "{method} {path}");
            let codes: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
            for code in ["200", "401", "403", "429"] {
                assert!(
                    codes.iter().any(|c| *c == code),
                    "{method} {path} lacks {code}"
                );
            }
            // A route the document names answers (here: without a key, 401 as documented).
            let url = format!("{}{path}", app.base);
            let res = match method.as_str() {
                "get" => app.client.get(url),
                _ => app
                    .client
                    .post(url)
                    .header("content-type", "application/json")
                    .body("{}"),
            }
            .send()
            .await
            .unwrap();
            assert_eq!(res.status(), 401, "{method} {path}");
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let decide_body = &doc["components"]["schemas"]["DecideBody"];
    assert_eq!(decide_body["required"], json!(["purpose", "channel"]));
    let docs = app
        .client
        .get(format!("{}/api/v1/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    for path in paths {
        assert!(html.contains(&path), "{path}");
    }
    assert!(html.contains("id=\"schema-DecideBody\""));
    assert!(!html.contains("<script"));
    app.stop().await;
}

#[tokio::test]
async fn a_contact_is_read_with_every_purpose_s_consent_and_an_erased_one_is_gone() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let reader = make_key(&mut b, &base, &["read"], None).await;
    let (status, v) = get_json(&app, &reader, "/api/v1/contacts?email=holly%40CONTOSO.com").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["profile"].as_str(), v["address"].as_str()),
        (Some("contoso"), Some("holly@contoso.com"))
    );
    let cell = |topic: &str, channel: &str| {
        v["consent"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["topic"] == topic && c["channel"] == channel)
            .cloned()
            .unwrap_or_else(|| panic!("{topic} {channel}: {v}"))
    };
    let updates = cell("product-updates", "email");
    assert_eq!(
        (
            updates["value"].as_str(),
            updates["allowed"].as_bool(),
            updates["reason"].as_str()
        ),
        (Some("opted_in"), Some(true), Some("opted_in"))
    );
    assert!(updates["record"].as_i64().is_some());
    let news = cell("newsletter", "email");
    assert_eq!(
        (news["value"].as_str(), news["allowed"].as_bool()),
        (Some("opted_out"), Some(false))
    );
    let events_sms = cell("events", "sms");
    assert_eq!(
        (events_sms["value"].as_str(), events_sms["reason"].as_str()),
        (Some("not_set"), Some("no_opt_in"))
    );
    // The service messages are there too, and allowed.
    assert!(v["consent"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["purpose"] == "transactional" && c["allowed"] == true));

    let (status, v) = get_json(&app, &reader, "/api/v1/contacts?email=nobody%40example.com").await;
    assert_eq!((status, v["code"].as_str()), (404, Some("unknown_contact")));
    let (status, v) = get_json(
        &app,
        &reader,
        "/api/v1/contacts?email=holly%40contoso.com&phone=1",
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (422, Some("invalid_field")));
    // Erased: gone, with its own code, and nothing of her in the answer.
    let out = crate::helpers::beside(
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
    let res = app
        .client
        .get(format!(
            "{}/api/v1/contacts?email=holly%40contoso.com",
            app.base
        ))
        .header("authorization", format!("Bearer {reader}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 410);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("\"code\":\"erased\"") && !body.contains("holly"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_send_list_sent_with_expect_100_continue_is_asked_for_at_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["decide"], None).await;
    let body = "{\"email\":\"holly@contoso.com\"}\n";
    // What curl does for a list over a megabyte: the head alone, then the body once the
    // server says go on (or after curl's one-second timeout).
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!(
            "POST /api/v1/decide/bulk?profile=contoso&purpose=commercial&topic=events&channel=email HTTP/1.1\r\n\
             Host: {addr}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/x-ndjson\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut first = [0u8; 25];
    tokio::time::timeout(Duration::from_millis(900), s.read_exact(&mut first))
        .await
        .expect("told to go on before a client's timeout")
        .unwrap();
    assert_eq!(&first, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(body.as_bytes()).await.unwrap();
    let mut rest = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&rest).contains("not_opted_out") {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&rest));
        rest.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 200 OK"));
    app.stop().await;
}

#[tokio::test]
async fn a_decision_sees_a_commit_of_this_server_at_once_and_of_another_process_soon() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["decide", "write"], None).await;
    let code = |topic: &'static str| {
        let (app, key) = (&app, &key);
        async move {
            let q = json!({"email": "holly@contoso.com", "purpose": "commercial", "topic": topic, "channel": "email"});
            let (status, v, _) = decide(app, Some(key), &q.to_string()).await;
            assert_eq!(status, 200, "{v}");
            v["reason"]["code"].as_str().unwrap().to_owned()
        }
    };
    // A decision right after a write of this server's (here the API's own opt-out) never
    // answers from before it, though decisions keep their snapshot of the file between
    // writes.
    assert_eq!(code("events").await, "not_opted_out");
    let form = json!({
        "email": "holly@contoso.com", "source": "Call centre",
        "changes": [{"purpose": "commercial", "topic": "events", "channel": "email", "value": "opted_out"}]
    });
    let res = app
        .client
        .post(format!("{base}/api/v1/consent"))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(form.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(code("events").await, "opted_out");
    // Another process writes the file (this test's own connection): seen within moments.
    assert_eq!(code("product-updates").await, "opted_in");
    sqlx::query(
        "UPDATE contacts SET suppressed_at = '2026-01-01T00:00:00.000000Z'
         WHERE id = (SELECT contact_id FROM contact_points WHERE address = 'holly@contoso.com')",
    )
    .execute(&mut app.db().await)
    .await
    .unwrap();
    let mut seen = false;
    for _ in 0..100 {
        if code("product-updates").await != "opted_in" {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(seen, "another process's write is read within a second");
    app.stop().await;
}
