//! `/api/v1/links` from outside: signed links that unsubscribe in one click from what they were
//! minted for, keep working across key rotation until they expire, and stop when revoked or
//! when the contact is erased; a whole send list minted in one call.

use crate::api::{admin, decide, make_key};
use crate::helpers::{beside, spawn_app, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

async fn post(app: &TestApp, key: &str, path: &str, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")),
    )
}

/// The status of a page at `url` (a link's page: 200, or 404 for a link that does not work).
async fn page(app: &TestApp, url: &str) -> u16 {
    app.client.get(url).send().await.unwrap().status().as_u16()
}

/// What a decision says now for Holly on email.
async fn holly(app: &TestApp, key: &str, topic: &str) -> String {
    let q = json!({"email": "holly@contoso.com", "purpose": "commercial", "topic": topic, "channel": "email"});
    let (status, v, _) = decide(app, Some(key), &q.to_string()).await;
    assert_eq!(status, 200, "{v}");
    v["reason"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_minted_link_unsubscribes_in_one_click_survives_rotation_and_stops_when_revoked() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["links", "decide"], None).await;
    let links_count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM link_tokens")
            .fetch_one(&mut app.db().await)
            .await
            .unwrap()
    };
    let stored_before = links_count().await;

    // Links for a message about events: the headers exactly as RFC 2369 / 8058 write them.
    let (status, v) = post(
        &app,
        &key,
        "/api/v1/links",
        json!({"email": "holly@CONTOSO.com", "purpose": "commercial", "topic": "events"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["profile"].as_str(), v["mandatory"].as_bool()),
        (Some("contoso"), Some(false))
    );
    let l = &v["links"];
    let unsubscribe = l["unsubscribe_url"].as_str().unwrap().to_owned();
    let center = l["center_url"].as_str().unwrap().to_owned();
    assert!(
        unsubscribe.starts_with(&format!("{base}/u/")),
        "{unsubscribe}"
    );
    assert!(center.starts_with(&format!("{base}/p/")), "{center}");
    assert_eq!(l["list_unsubscribe"], format!("<{unsubscribe}>"));
    assert_eq!(l["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    assert!(v["expires_at"].as_str().unwrap() > "2027-12-01");
    assert_eq!(links_count().await, stored_before, "minting writes no row");

    // Both open Holly's pages; the page of a link for events lists events first (she came
    // from that email); the one-click leaves events only.
    assert_eq!(page(&app, &center).await, 200);
    let html = app
        .client
        .get(&unsubscribe)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (events, updates) = (
        html.find(">Events<").unwrap(),
        html.find(">Product updates<").unwrap(),
    );
    assert!(events < updates, "events first");
    let html = app
        .client
        .get(&center)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (events, updates) = (
        html.find(">Events<").unwrap(),
        html.find(">Product updates<").unwrap(),
    );
    assert!(updates < events, "the center's own order");
    assert_eq!(holly(&app, &key, "events").await, "not_opted_out");
    let res = app
        .client
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(holly(&app, &key, "events").await, "opted_out");
    assert_eq!(holly(&app, &key, "product-updates").await, "opted_in");

    // A link for the purpose as a whole leaves its every topic.
    let (_, v) = post(
        &app,
        &key,
        "/api/v1/links",
        json!({"email": "holly@contoso.com", "purpose": "commercial"}),
    )
    .await;
    let whole = v["links"]["unsubscribe_url"].as_str().unwrap().to_owned();
    assert_ne!(whole, unsubscribe);

    // A changed character is not a link.
    let mut forged = center.clone().into_bytes();
    let last = forged.len() - 3;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(page(&app, &String::from_utf8(forged).unwrap()).await, 404);

    // Service messages get none.
    let (status, v) = post(
        &app,
        &key,
        "/api/v1/links",
        json!({"email": "holly@contoso.com", "purpose": "transactional"}),
    )
    .await;
    assert_eq!(
        (status, v["mandatory"].as_bool(), v["links"].is_null()),
        (200, Some(true), true)
    );

    // Refusals, each with its code.
    for (body, want) in [
        (
            json!({"email": "nobody@example.com"}),
            (404, "unknown_contact"),
        ),
        (
            json!({"email": "holly@contoso.com", "topic": "events"}),
            (422, "invalid_field"),
        ),
        (
            json!({"email": "holly@contoso.com", "purpose": "commercial", "topic": "nope"}),
            (404, "unknown_topic"),
        ),
        (
            json!({"email": "holly@contoso.com", "purpose": "nope"}),
            (404, "unknown_purpose"),
        ),
        (
            json!({"email": "holly@contoso.com", "profile": "nope"}),
            (404, "unknown_profile"),
        ),
        (json!({"email": "not an address"}), (422, "invalid_field")),
        (
            json!({"email": "holly@contoso.com", "extra": 1}),
            (400, "malformed_body"),
        ),
    ] {
        let (status, v) = post(&app, &key, "/api/v1/links", body.clone()).await;
        assert_eq!((status, v["code"].as_str().unwrap()), want, "{body}");
    }
    let decide_only = make_key(&mut b, &base, &["decide"], None).await;
    let (status, v) = post(
        &app,
        &decide_only,
        "/api/v1/links",
        json!({"email": "holly@contoso.com"}),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (403, Some("missing_scope")));

    // The keys rotate: links minted before keep working, new ones name the new key.
    let out = beside(&["keys", "rotate"], &app).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.clock.advance(Duration::from_secs(61));
    let (_, v) = post(
        &app,
        &key,
        "/api/v1/links",
        json!({"email": "holly@contoso.com"}),
    )
    .await;
    let rotated = v["links"]["center_url"].as_str().unwrap().to_owned();
    assert_ne!(
        rotated[..base.len() + 12],
        center[..base.len() + 12],
        "another key's tag"
    );
    assert_eq!(page(&app, &rotated).await, 200);
    assert_eq!(
        page(&app, &center).await,
        200,
        "an earlier key's link still works"
    );

    // Revoked: every link of the address minted so far stops; one minted after works.
    let (status, v) = post(
        &app,
        &key,
        "/api/v1/links/revoke",
        json!({"email": "holly@contoso.com"}),
    )
    .await;
    assert_eq!(
        (status, v["revoked"].as_bool(), v["generation"].as_i64()),
        (200, Some(true), Some(1))
    );
    for url in [&center, &rotated, &unsubscribe, &whole] {
        assert_eq!(page(&app, url).await, 404, "{url}");
    }
    let (_, v) = post(
        &app,
        &key,
        "/api/v1/links",
        json!({"email": "holly@contoso.com"}),
    )
    .await;
    let fresh = v["links"]["center_url"].as_str().unwrap().to_owned();
    assert_eq!(page(&app, &fresh).await, 200);
    let (status, v) = post(
        &app,
        &key,
        "/api/v1/links/revoke",
        json!({"email": "nobody@example.com"}),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (404, Some("unknown_contact")));

    // They expire: 400 days on, the link is gone.
    app.clock.advance(Duration::from_secs(401 * 86_400));
    assert_eq!(page(&app, &fresh).await, 404, "expired");
    let (_, v) = post(
        &app,
        &key,
        "/api/v1/links",
        json!({"email": "holly@contoso.com"}),
    )
    .await;
    let later = v["links"]["center_url"].as_str().unwrap().to_owned();
    assert_eq!(page(&app, &later).await, 200);

    // Erased: her links stop, and none is minted again.
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
    assert_eq!(page(&app, &later).await, 404);
    let (status, v) = post(
        &app,
        &key,
        "/api/v1/links",
        json!({"email": "holly@contoso.com"}),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (410, Some("erased")));
    app.stop().await;
}

#[tokio::test]
async fn a_send_list_gets_its_links_in_one_call() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let mut b = admin(&app).await;
    let key = make_key(&mut b, &base, &["links"], None).await;
    let list = [
        json!({"email": "holly@contoso.com", "ref": "h"}),
        json!({"email": "nobody@example.com"}),
        json!({"email": "not an address"}),
        json!({"email": "holly@CONTOSO.com"}),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let send = |query: &str, media: &str, body: String| {
        app.client
            .post(format!("{}/api/v1/links/bulk?{query}", app.base))
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", media.to_owned())
            .body(body)
            .send()
    };
    let res = send(
        "profile=contoso&purpose=commercial&topic=events",
        "application/x-ndjson",
        list.clone(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    let lines: Vec<Value> = res
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(
        (lines[0]["index"].as_u64(), lines[0]["ref"].as_str()),
        (Some(0), Some("h"))
    );
    let url = lines[0]["links"]["unsubscribe_url"].as_str().unwrap();
    assert_eq!(lines[0]["links"]["list_unsubscribe"], format!("<{url}>"));
    assert_eq!(app.client.get(url).send().await.unwrap().status(), 200);
    assert_eq!(lines[1]["error"]["code"], "unknown_contact");
    assert_eq!(lines[2]["error"]["code"], "invalid_field");
    assert_eq!(lines[3]["email"], "holly@contoso.com");
    assert!(lines[3]["links"]["center_url"].is_string());

    // As a JSON array, the same answers as an array.
    let array = format!("[{}]", list.replace('\n', ","));
    let res = send("profile=contoso", "application/json", array)
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v.as_array().unwrap().len(), 4);
    // A mandatory purpose's messages carry no unsubscribe link; a profile is needed.
    let res = send(
        "profile=contoso&purpose=transactional",
        "application/json",
        "[]".into(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "mandatory_purpose"
    );
    let res = send("", "application/json", "[]".into()).await.unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "profile_required"
    );
    app.stop().await;
}
