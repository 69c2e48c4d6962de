//! A contact's data rights from outside: a copy of her data asked from her preference page,
//! mailed as a link whose package holds her whole history and which expires; "forget me"
//! asked from the page, confirmed by the button of the emailed link, ending in an erasure that
//! leaves no trace and a ledger that verifies; an erasure staff start waits for an admin's
//! approval; a request past its deadline is flagged on the desk.

use crate::console::{create_user, csrf_of, Browser, GOOD};
use crate::erasure::files_containing;
use crate::helpers::*;
use crate::proof::{stdout, verify};
use std::path::Path;
use std::time::Duration;

/// The token of the first link under `prefix` (`/d/`, `/f/`) in an email's text.
fn link_token(raw: &str, prefix: &str) -> String {
    let text = raw.replace("=\r\n", "");
    let i = text
        .find(prefix)
        .unwrap_or_else(|| panic!("a {prefix} link in {text}"));
    text[i + prefix.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Waits (real time, up to 10 s) until a request's log has `event` (the mail worker logs the
/// email's outcome once the mail server took it).
async fn until_logged(app: &TestApp, event: &str) {
    for _ in 0..400 {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM data_request_events WHERE event = $1")
                .bind(event)
                .fetch_one(&mut app.db().await)
                .await
                .unwrap();
        if n > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never logged: {event}");
}

/// Holly's ledger records (every point of her contact), oldest first.
async fn holly_seqs(app: &TestApp) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT l.seq FROM consent_ledger l JOIN contact_points cp ON cp.id = l.contact_point_id
         WHERE cp.contact_id = (SELECT contact_id FROM contact_points WHERE address = 'holly@contoso.com')
         ORDER BY l.seq",
    )
    .fetch_all(&mut app.db().await)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_data_request_mails_a_link_whose_package_holds_the_full_history_and_expires() {
    let smtp = crate::smtp::Smtp::start();
    let app = crate::double_opt_in::app_with_smtp(smtp.port).await;
    let t = app.token("holly");
    // A change of her own first, so the history has the pages' record too.
    let saved = app
        .post_form(&format!("/u/{t}"), "action=save&t1.email=on&t2.email=on")
        .await;
    assert_eq!(saved.status(), 303);

    let center = app.get(&format!("/p/{t}")).await.text().await.unwrap();
    assert!(center.contains("Email me a copy of my data"));
    assert!(center.contains("Ask to be forgotten"));
    let asked = app
        .post_form(&format!("/u/{t}/request"), "kind=access&lang=en")
        .await;
    assert_eq!(asked.status(), 303);
    let sent = asked.headers()["location"].to_str().unwrap().to_owned();
    assert!(sent.contains("/sent?what=copy"), "{sent}");
    let page = app.get(&sent).await.text().await.unwrap();
    assert!(page.contains("download a copy of your data"), "{page}");
    // Asked again at once: the same request, no second email.
    let again = app
        .post_form(&format!("/u/{t}/request"), "kind=access&lang=en")
        .await;
    assert!(again.headers()["location"]
        .to_str()
        .unwrap()
        .contains("what=same"));
    // Nonsense: a clear refusal, nothing asked.
    let bad = app
        .post_form(&format!("/u/{t}/request"), "kind=everything")
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        app.post_form("/u/not-a-token/request", "kind=access")
            .await
            .status(),
        404
    );

    // (Her save asked her to confirm the Newsletter too: that email is the other one.)
    let mail = smtp
        .wait_for(2)
        .await
        .into_iter()
        .find(|m| m.raw.contains("/d/"))
        .expect("the download link's email");
    assert_eq!(mail.to, vec!["holly@contoso.com".to_owned()]);
    assert!(mail
        .header("Subject")
        .unwrap()
        .contains("A copy of your data"));
    let token = link_token(&mail.raw, "/d/");
    until_logged(&app, "download link mailed").await;
    let download = app.get(&format!("/d/{token}")).await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["cache-control"], "no-store");
    assert!(download
        .text()
        .await
        .unwrap()
        .contains("Download everything (JSON)"));

    // The package: her addresses, every consent with its decision, her whole history with
    // its evidence, a receipt per change, and the request's own log.
    let json = app.get(&format!("/d/{token}/data.json")).await;
    assert_eq!(json.status(), 200);
    assert!(json.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("my-data-"));
    let p: serde_json::Value = json.json().await.unwrap();
    assert_eq!(p["format"], "prefcenter-data-package/1");
    assert_eq!(p["contact"]["name"], "Holly Dickson");
    let addresses: Vec<&str> = p["contact_points"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["address"].as_str())
        .collect();
    assert!(addresses.contains(&"holly@contoso.com"), "{addresses:?}");
    let seqs: Vec<i64> = p["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, holly_seqs(&app).await, "every record, oldest first");
    assert!(
        p["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["source"] == "page" && r["ip"].is_string()),
        "with its evidence"
    );
    let consent = p["consent"].as_array().unwrap();
    assert!(consent
        .iter()
        .any(|c| c["topic"] == "Product updates" && c["may_contact"] == true));
    assert!(consent.iter().any(|c| c["topic"] == "Newsletter"
        && c["state"] == "pending"
        && c["reason"].as_str().unwrap().contains("not confirmed")));
    let receipts = p["receipts"].as_array().unwrap();
    assert!(!receipts.is_empty());
    for r in receipts {
        let checked = app.check_receipt(r["jws"].as_str().unwrap()).await;
        assert_eq!(checked["valid"], true, "{checked}");
    }
    let log: Vec<&str> = p["requests"][0]["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(log.contains(&"download link mailed"), "{log:?}");
    // The history as CSV: the same records.
    let csv = app.get(&format!("/d/{token}/history.csv")).await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<i64> = r
        .records()
        .map(|x| x.unwrap()[0].parse().unwrap())
        .collect();
    assert_eq!(rows, holly_seqs(&app).await);
    assert_eq!(
        app.get(&format!("/d/{token}/other.txt")).await.status(),
        404
    );
    assert_eq!(
        app.get(&format!("/f/{token}")).await.status(),
        404,
        "not an erasure link"
    );

    // The desk shows the request and its log: asked, mailed, downloaded.
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("staff@contoso.com", GOOD).await.status, 303);
    let holly = {
        let found = b.get("/admin/contacts?q=holly%40contoso.com").await.body;
        let i = found.find("href=\"/admin/contacts/").unwrap() + 22;
        found[i..i + found[i..].find('"').unwrap()].to_owned()
    };
    let desk = b.get(&format!("/admin/contacts/{holly}")).await.body;
    for words in [
        "Copy of their data",
        "Link mailed",
        "asked from the preference page",
        "downloaded (JSON)",
        "downloaded (CSV)",
    ] {
        assert!(desk.contains(words), "{words}");
    }

    // A week later the link no longer works.
    app.clock.advance(Duration::from_secs(8 * 86_400));
    assert_eq!(app.get(&format!("/d/{token}")).await.status(), 404);
    assert_eq!(
        app.get(&format!("/d/{token}/data.json")).await.status(),
        404
    );
    assert_eq!(app.get("/d/garbage").await.status(), 404);
    app.stop().await;
}

fn kept_mail_with(dir: &Path, needle: &str) -> Option<String> {
    let entries = std::fs::read_dir(dir.join("mail")).ok()?;
    for e in entries {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "eml") {
            let raw = std::fs::read_to_string(&p).unwrap_or_default();
            if raw.replace("=\r\n", "").contains(needle) {
                return Some(raw);
            }
        }
    }
    None
}

#[tokio::test]
async fn a_forget_me_request_from_the_public_page_ends_in_erasure_with_verify_passing() {
    // No SMTP server: the emails are kept as files, which the erasure removes too.
    let (app, _) = spawn_app_on(0, &["--trust-forwarded-for"]).await;
    let t = app.token("holly");
    let asked = app
        .client
        .post(format!("{}/u/{t}/request", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "198.51.100.77")
        .header("user-agent", "HollysForgetfulBrowser/2.0")
        .body("kind=erasure&lang=en")
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 303);
    let mut raw = None;
    for _ in 0..200 {
        raw = kept_mail_with(app.dir.path(), "/f/");
        if raw.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let raw = raw.expect("the erasure's confirmation email");
    assert!(raw.contains("Please confirm: erase your data"), "{raw}");
    let token = link_token(&raw, "/f/");
    until_logged(&app, "confirmation link mailed").await;

    // Opening the link erases nothing; it says what the button does.
    let page = app.get(&format!("/f/{token}")).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("This cannot be undone"));
    assert_eq!(app.get(&format!("/p/{t}")).await.status(), 200);

    let done = app
        .client
        .post(format!("{}/f/{token}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "198.51.100.77")
        .body("action=forget&lang=en")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Your data is erased"));
    // Her links, and the erasure's own, no longer work.
    assert_eq!(app.get(&format!("/p/{t}")).await.status(), 404);
    assert_eq!(app.get(&format!("/f/{token}")).await.status(), 404);
    let again = app.post_form(&format!("/f/{token}"), "action=forget").await;
    assert_eq!(again.status(), 404);

    // The request is logged as asked, mailed, confirmed and done, naming nobody and nowhere.
    let mut db = app.db().await;
    let (status, closed): (String, Option<String>) = sqlx::query_as(
        "SELECT status, CAST(closed_at AS TEXT) FROM data_requests WHERE kind = 'erasure'",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(status, "fulfilled");
    assert!(closed.is_some());
    let events: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT event, ip, user_agent FROM data_request_events ORDER BY id")
            .fetch_all(&mut db)
            .await
            .unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "asked from the preference page",
            "confirmation link mailed",
            "confirmed by the contact from the emailed link",
            "erased"
        ]
    );
    assert!(events.iter().all(|e| e.1.is_none() && e.2.is_none()));
    let erasures: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM consent_ledger WHERE subject_kind = 'erasure' AND actor_kind = 'contact'",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert!(
        erasures >= 1,
        "the erasure record names the contact as who asked"
    );
    drop(db);

    let db_url = app.db_url.clone();
    let dir = app.stop().await;
    if postgres().is_none() {
        crate::erasure::checkpoint(&db_url).await;
        for needle in [
            "holly@contoso.com",
            "198.51.100.77",
            "HollysForgetfulBrowser",
        ] {
            let found = files_containing(dir.path(), needle);
            assert!(found.is_empty(), "{needle} is still in {found:?}");
        }
    }
    let (ok, report) = verify(&db_url, dir.path(), None);
    assert!(ok, "{report}");
}

#[tokio::test]
async fn an_erasure_staff_start_waits_for_an_admin_and_an_old_request_is_flagged() {
    let smtp = crate::smtp::Smtp::start();
    let app = crate::double_opt_in::app_with_smtp(smtp.port).await;
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);
    assert!(create_user(&app, "analyst@contoso.com", "analyst", GOOD).0);
    let mut staff = Browser::new(&app);
    assert_eq!(staff.sign_in("staff@contoso.com", GOOD).await.status, 303);
    let found = staff.get("/admin/contacts?q=frank").await.body;
    let i = found.find("href=\"/admin/contacts/").unwrap() + 22;
    let frank = found[i..i + found[i..].find('"').unwrap()].to_owned();
    let page = staff.get(&format!("/admin/contacts/{frank}")).await;
    let csrf = csrf_of(&page.body);
    let origin = app.base.clone();
    let started = staff
        .post(
            &format!("/admin/contacts/{frank}/requests"),
            &format!("csrf={csrf}&kind=erasure"),
            Some(&origin),
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    assert!(started.location.contains("done=erasure"));
    // Frank is asked to confirm by email; staff cannot approve it themselves.
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.to, vec!["frank@contoso.com".to_owned()]);
    let request: i64 = sqlx::query_scalar("SELECT id FROM data_requests")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    let list = staff.get("/admin/requests").await;
    assert_eq!(list.status, 200);
    assert!(list
        .body
        .contains("Waiting for an admin’s approval or the contact’s confirmation"));
    assert!(!list.body.contains("Approve the erasure"));
    let refused = staff
        .post(
            &format!("/admin/requests/{request}/approve"),
            &format!("csrf={csrf}"),
            Some(&origin),
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(
        app.state_of("frank@contoso.com", "Newsletter", "email")
            .await
            .is_some(),
        "nothing erased"
    );
    // Analysts do not see requests.
    let mut analyst = Browser::new(&app);
    assert_eq!(
        analyst.sign_in("analyst@contoso.com", GOOD).await.status,
        303
    );
    assert_eq!(analyst.get("/admin/requests").await.status, 403);

    // Past the deadline (30 days by default) it is flagged.
    app.clock.advance(Duration::from_secs(31 * 86_400));
    let mut staff = Browser::new(&app);
    assert_eq!(staff.sign_in("staff@contoso.com", GOOD).await.status, 303);
    let list = staff.get("/admin/requests").await;
    assert!(list.body.contains("Overdue"), "{}", list.body);
    assert!(list.body.contains("1 listed here are overdue"));

    // An admin approves it: Frank is erased, the request is done, the ledger verifies.
    let mut admin = crate::api::admin(&app).await;
    let list = admin.get("/admin/requests").await;
    assert!(list.body.contains("Approve the erasure"));
    let token = csrf_of(&list.body);
    let approved = admin
        .post(
            &format!("/admin/requests/{request}/approve"),
            &format!("csrf={token}"),
            Some(&origin),
        )
        .await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    assert!(approved.location.contains("done=erased"));
    let points: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM contact_points WHERE address = 'frank@contoso.com'",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!(points, 0);
    let all = admin.get("/admin/requests?all=1").await;
    assert!(all.body.contains("approved by an admin"));
    assert!(!all.body.contains("Overdue"), "done is never overdue");
    // Approving twice does nothing more.
    let twice = admin
        .post(
            &format!("/admin/requests/{request}/approve"),
            &format!("csrf={token}"),
            Some(&origin),
        )
        .await;
    assert!(twice.location.contains("done=not_open"));
    let out = beside(&["ledger", "verify"], &app).await;
    assert!(out.status.success(), "{}", stdout(&out));
    app.stop().await;
}

#[tokio::test]
async fn a_copy_whose_email_is_refused_for_good_stays_open_and_says_so() {
    use crate::smtp::{free_port, Reply, Smtp};
    let port = free_port();
    let _smtp = Smtp::start_on(port, &[Reply::Permanent]);
    let app = crate::double_opt_in::app_with_smtp(port).await;
    let t = app.token("holly");
    let asked = app
        .post_form(&format!("/u/{t}/request"), "kind=access&lang=en")
        .await;
    assert_eq!(asked.status(), 303);
    until_logged(&app, "the email could not be delivered").await;
    let status: String = sqlx::query_scalar("SELECT status FROM data_requests")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(status, "open", "not fulfilled: the link never reached her");
    app.stop().await;
}

#[tokio::test]
async fn a_request_s_email_and_pages_speak_the_language_of_the_page_it_came_from() {
    let smtp = crate::smtp::Smtp::start();
    let app = crate::double_opt_in::app_with_smtp(smtp.port).await;
    let t = app.token("lena");
    let asked = app
        .post_form(&format!("/u/{t}/request"), "kind=access&lang=de")
        .await;
    assert!(asked.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("lang=de"));
    let mail = smtp.wait_for(1).await.remove(0);
    assert!(
        mail.raw.contains("Meine Daten herunterladen"),
        "the German email: {}",
        mail.raw
    );
    let token = link_token(&mail.raw, "/d/");
    until_logged(&app, "download link mailed").await;
    let page = app.get(&format!("/d/{token}")).await.text().await.unwrap();
    assert!(page.contains("Eine Kopie Ihrer Daten"), "{page}");
    assert!(page.contains("lang=\"de\""));
    app.stop().await;
}
