//! Consent receipts from outside: downloaded from the "what changed" page, checked on the
//! public page (a pasted text, an uploaded file, JSON for scripts) and by `prefcenter receipt
//! verify` with the database or with only the published keys; current until the contact
//! changes her mind; forgeries refused by both; valid across a key rotation.

use crate::helpers::{beside, spawn_app, TestApp};
use crate::proof::{drop_ledger_triggers, stdout};
use prefcenter::domain::proof::{signing_key, KeyId};
use prefcenter::domain::receipt::{self, Receipt};

/// Holly stops Product updates by email on her unsubscribe page; the "what changed" page's
/// path.
async fn unsubscribe_from_product_updates(app: &TestApp) -> String {
    let t = app.token("holly");
    let res = app
        .post_form(&format!("/u/{t}"), "action=unsubscribe&topic=t2.email")
        .await;
    assert_eq!(res.status(), 303);
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// The receipt the "what changed" page offers, as downloaded.
async fn download_from(app: &TestApp, done: &str) -> String {
    let html = app.get(done).await.text().await.unwrap();
    let start = html.find("href=\"/u/").expect("the page offers a receipt");
    let href: String = html[start + 6..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(href.contains("/receipt"), "{href}");
    let res = app.get(&href).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/jose");
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"consent-receipt-"),
        "{disposition}"
    );
    res.text().await.unwrap()
}

/// The key set the server publishes, saved in `dir` as an operator would.
async fn save_keys(app: &TestApp, dir: &std::path::Path) -> std::path::PathBuf {
    let keys = app
        .get("/.well-known/prefcenter/keys")
        .await
        .text()
        .await
        .unwrap();
    let file = dir.join("keys.json");
    std::fs::write(&file, keys).unwrap();
    file
}

/// What the page shows for a receipt uploaded as a file, as a browser sends it (its
/// multipart boundary has capitals, and the empty text field comes along).
async fn check_page_upload(app: &TestApp, jws: &str) -> String {
    let boundary = "----WebKitFormBoundaryQx7Tz2LpK9";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"receipt\"\r\n\r\n\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.jws\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{jws}\n\r\n--{boundary}--\r\n"
    );
    let res = app
        .client
        .post(format!("{}/receipt?lang=en", app.base))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

fn cli_check(
    app: &TestApp,
    file: &std::path::Path,
    keys: Option<&std::path::Path>,
) -> (i32, String) {
    let f = file.to_str().unwrap().to_owned();
    let mut args = vec!["receipt".to_owned(), "verify".to_owned(), f];
    if let Some(k) = keys {
        args.extend(["--keys".to_owned(), k.to_str().unwrap().to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = crate::proof::prefcenter(&args, &app.db_url, app.dir.path());
    (out.status.code().unwrap_or(-1), stdout(&out))
}

fn payload(jws: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_receipt_verifies_on_the_page_and_offline_and_stops_being_current_when_she_changes_her_mind(
) {
    let app = spawn_app().await;
    let done = unsubscribe_from_product_updates(&app).await;
    let jws = download_from(&app, &done).await;

    // What it says: Kantara's structure, the change, and the ledger record it rests on.
    let doc = payload(&jws);
    assert_eq!(doc["version"], "KI-CR-v1.1.0");
    assert_eq!(doc["piiControllers"][0]["piiController"], "Contoso");
    assert!(doc["piiControllers"][0]["address"]
        .as_str()
        .unwrap()
        .contains("Buffalo"));
    assert_eq!(doc["policyUrl"], "https://www.contoso.com/privacy");
    assert_eq!(doc["jurisdiction"], "US");
    assert_eq!(doc["language"], "en");
    assert_eq!(doc["piiPrincipalId"], "h***y@contoso.com");
    let change = &doc["prefcenter"]["changes"][0];
    assert_eq!(change["topic"], "product-updates");
    assert_eq!(
        (change["old_value"].as_str(), change["new_value"].as_str()),
        (Some("opted_in"), Some("opted_out"))
    );
    assert_eq!(change["event"], "withdrawn");
    let seq = change["seq"].as_i64().unwrap();
    let hash: Vec<u8> = sqlx::query_scalar("SELECT hash FROM consent_ledger WHERE seq = $1")
        .bind(seq)
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(change["hash"], prefcenter::domain::proof::hex(&hash));
    // Nothing of her but the masked address.
    assert!(!jws.contains("holly") && !doc.to_string().contains("holly@"));

    // The page, a script and the CLI agree: genuine and current.
    let json = app.check_receipt(&jws).await;
    assert_eq!(
        (json["valid"].as_bool(), json["standing"].as_str()),
        (Some(true), Some("current")),
        "{json}"
    );
    let html = check_page_upload(&app, &jws).await;
    assert!(html.contains("This receipt is genuine"), "{html}");
    assert!(html.contains("Still current"), "{html}");
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("receipt.jws");
    std::fs::write(&file, &jws).unwrap();
    let (code, out) = cli_check(&app, &file, None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("current: yes"), "{out}");
    // Offline, with only the key set the server publishes.
    let keys_file = save_keys(&app, outside.path()).await;
    let (code, out) = cli_check(&app, &file, Some(&keys_file));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("receipt OK") && out.contains("offline"),
        "{out}"
    );

    // She changes her mind (undo): the same receipt is genuine, no longer current.
    let change_id = done.rsplit('/').next().unwrap().split('?').next().unwrap();
    let t = app.token("holly");
    let undo = app
        .post_form(&format!("/u/{t}/undo"), &format!("change={change_id}"))
        .await;
    assert_eq!(undo.status(), 303);
    let json = app.check_receipt(&jws).await;
    assert_eq!(
        (json["valid"].as_bool(), json["current"].as_bool()),
        (Some(true), Some(false)),
        "{json}"
    );
    let html = check_page_upload(&app, &jws).await;
    assert!(
        html.contains("This receipt is genuine") && html.contains("No longer current"),
        "{html}"
    );
    let (code, out) = cli_check(&app, &file, None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("current: no"), "{out}");

    // Keys rotate: the old receipt still verifies (its key stays published), a new one
    // names the new key.
    let rotated = beside(&["keys", "rotate"], &app).await;
    assert!(rotated.status.success(), "{}", stdout(&rotated));
    let done2 = unsubscribe_from_product_updates(&app).await;
    let jws2 = download_from(&app, &done2).await;
    let json2 = app.check_receipt(&jws2).await;
    assert_eq!(json2["standing"], "current", "{json2}");
    assert_ne!(json2["key_id"], json["key_id"]);
    assert_eq!(app.check_receipt(&jws).await["valid"], true);
    let (code, out) = cli_check(&app, &file, Some(&keys_file));
    assert_eq!(
        code, 0,
        "the key set saved before the rotation still checks it: {out}"
    );

    app.assert_ledger_sound().await;
    app.stop().await;
}

#[tokio::test]
async fn forged_receipts_are_refused_by_the_page_and_the_cli() {
    let app = spawn_app().await;
    let done = unsubscribe_from_product_updates(&app).await;
    let jws = download_from(&app, &done).await;
    let outside = tempfile::tempdir().unwrap();
    let keys_file = save_keys(&app, outside.path()).await;
    let kid = payload_kid(&jws);

    // One byte changed in what it says (opted_out → opted_in is one letter away in JSON,
    // but any byte will do): the signature no longer matches.
    let parts: Vec<&str> = jws.split('.').collect();
    let mut body = parts[1].as_bytes().to_vec();
    let i = body.len() / 2;
    body[i] = if body[i] == b'A' { b'B' } else { b'A' };
    let one_byte = format!(
        "{}.{}.{}",
        parts[0],
        String::from_utf8(body).unwrap(),
        parts[2]
    );
    // The same document, signed by another deployment's key under this key's id.
    let mut doc: Receipt = serde_json::from_value(payload(&jws)).unwrap();
    doc.prefcenter.changes[0].new_value = "opted_in".into();
    let stranger = signing_key(b"another deployment's secret, long enough", &kid);
    let other_key = receipt::sign(&stranger, &kid, &doc);
    // Signed under a key id this deployment never had.
    let unknown = KeyId::parse("sig-20990101-deadbeef").unwrap();
    let unknown_key = receipt::sign(&stranger, &unknown, &doc);

    for (forged, code) in [
        (&one_byte, "bad_signature"),
        (&other_key, "bad_signature"),
        (&unknown_key, "unknown_key"),
        (&"not a receipt at all".to_owned(), "not_a_receipt"),
        (&jws[..jws.len() - 20].to_owned(), "bad_signature"),
    ] {
        let json = app.check_receipt(forged).await;
        assert_eq!(json["valid"], false, "{json}");
        assert_eq!(json["code"], code, "{json}");
        let html = check_page_upload(&app, forged).await;
        assert!(html.contains("This is not a valid receipt"), "{html}");
        assert!(!html.contains("This receipt is genuine"));
        let file = outside.path().join("forged.jws");
        std::fs::write(&file, forged).unwrap();
        for keys in [None, Some(keys_file.as_path())] {
            let (exit, out) = cli_check(&app, &file, keys);
            assert_eq!(exit, 1, "{out}");
            assert!(out.contains("receipt INVALID"), "{out}");
        }
    }

    // Nothing sent, or nothing readable: a clear answer, not a crash.
    let empty = app.post_form("/receipt", "receipt=").await;
    assert_eq!(empty.status(), 400);
    assert!(empty.text().await.unwrap().contains("Paste a receipt"));
    let junk = app
        .client
        .post(format!("{}/receipt", app.base))
        .header("content-type", "multipart/form-data; boundary=x")
        .header("accept", "application/json")
        .body("--x\r\nbroken")
        .send()
        .await
        .unwrap();
    assert_eq!(junk.status(), 400);
    let j: serde_json::Value = junk.json().await.unwrap();
    assert_eq!(j["error"]["code"], "unreadable_body");
    assert_eq!(app.get("/receipt").await.status(), 200);

    // A receipt is only for a change of the link's own contact.
    let t = app.token("holly");
    let change_id = done.rsplit('/').next().unwrap().split('?').next().unwrap();
    for path in [
        format!("/u/{t}/done/unchanged/receipt"),
        format!("/u/{t}/done/nonsense!/receipt"),
        format!("/u/{}/done/{change_id}/receipt", app.token("frank")),
        format!("/u/not-a-token/done/{change_id}/receipt"),
    ] {
        assert_eq!(app.get(&path).await.status(), 404, "{path}");
    }

    // A ledger edited after the receipt was signed: the signature holds, the records do not.
    let seq = payload(&jws)["prefcenter"]["changes"][0]["seq"]
        .as_i64()
        .unwrap();
    let mut db = app.db().await;
    drop_ledger_triggers(&mut db).await;
    sqlx::query("UPDATE consent_ledger SET new_value = 'opted_in' WHERE seq = $1")
        .bind(seq)
        .execute(&mut db)
        .await
        .unwrap();
    // (The hash is recomputed by whoever edits; a different one is all the check needs.)
    sqlx::query("UPDATE consent_ledger SET hash = prev_hash WHERE seq = $1")
        .bind(seq)
        .execute(&mut db)
        .await
        .unwrap();
    let json = app.check_receipt(&jws).await;
    assert_eq!(
        (json["valid"].as_bool(), json["standing"].as_str()),
        (Some(true), Some("not_in_ledger")),
        "{json}"
    );
    let file = outside.path().join("receipt.jws");
    std::fs::write(&file, &jws).unwrap();
    let (exit, out) = cli_check(&app, &file, None);
    assert_eq!(exit, 2, "{out}");
    app.stop().await;
}

fn payload_kid(jws: &str) -> KeyId {
    use base64::Engine as _;
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jws.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    KeyId::parse(header["kid"].as_str().unwrap()).unwrap()
}
