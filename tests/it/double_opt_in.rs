//! Double opt-in end to end with a real SMTP server: the request, the email, the confirm page
//! that a GET never confirms, the button that does, and the evidence in the ledger; sign-up,
//! reminders, expiry, mail faults, and a server killed mid-send.

use crate::helpers::*;
use crate::smtp::{free_port, Reply, Smtp};
use std::time::Duration;

pub async fn app_with_smtp(port: u16) -> TestApp {
    let port = port.to_string();
    spawn_app_on(
        0,
        &[
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &port,
            "--smtp-security",
            "none",
            "--smtp-timeout-secs",
            "5",
            "--mail-retry-base-ms",
            "50",
            "--mail-max-attempts",
            "4",
        ],
    )
    .await
    .0
}

/// Holly ticks the Newsletter on her subscription center (she receives Product updates and
/// Events by email, and Product updates by text message already).
async fn ask_for_newsletter(app: &TestApp) -> reqwest::Response {
    let t = app.token("holly");
    app.post_form(
        &format!("/u/{t}"),
        "action=save&t1.email=on&t2.email=on&t3.email=on&t2.sms=on",
    )
    .await
}

async fn outbox(app: &TestApp) -> Vec<(String, i64, Option<String>)> {
    sqlx::query_as("SELECT status, attempts, last_error FROM outbox ORDER BY id")
        .fetch_all(&mut app.db().await)
        .await
        .unwrap()
}

async fn wait_outbox(app: &TestApp, what: impl Fn(&[(String, i64, Option<String>)]) -> bool) {
    for _ in 0..200 {
        if what(&outbox(app).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "outbox never reached the expected state: {:?}",
        outbox(app).await
    );
}

#[tokio::test]
async fn opting_in_is_confirmed_by_the_email_link_and_its_button_only() {
    let smtp = Smtp::start();
    let app = app_with_smtp(smtp.port).await;
    let res = ask_for_newsletter(&app).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.state_of("holly@contoso.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("pending")
    );

    // The email: to Holly, from the profile's sender, both parts, no List-Unsubscribe.
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.to, vec!["holly@contoso.com".to_owned()]);
    assert!(
        mail.header("From").unwrap().contains("news@contoso.com"),
        "{}",
        mail.raw
    );
    assert_eq!(
        mail.header("Reply-To").as_deref(),
        Some("privacy@contoso.com")
    );
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert!(mail.header("Date").is_some());
    let message_id = mail.header("Message-ID").unwrap();
    assert!(mail.header("List-Unsubscribe").is_none());
    assert!(mail.raw.contains("text/plain") && mail.raw.contains("text/html"));
    assert!(mail.raw.contains("Newsletter (email)"));

    // A scanner's GET and HEAD of the link confirm nothing.
    let link = mail.confirm_path();
    let page = app.get(&link).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Confirm your subscription"), "{html}");
    assert!(html.contains("name=\"t1.email\""));
    let head = app
        .client
        .head(format!("{}{link}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        app.state_of("holly@contoso.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("pending"),
        "loading the page changed nothing"
    );

    // Pressing Confirm does.
    let confirmed = app
        .client
        .post(format!("{}{link}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("user-agent", "Confirming Browser/1.0")
        .body("action=confirm&t1.email=on")
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 303);
    let to = confirmed.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, format!("{link}?done=confirmed"));
    let done = app.get(&to).await.text().await.unwrap();
    assert!(done.contains("your subscription is confirmed"), "{done}");
    // The confirmation's receipt: what she confirmed, collected by double opt-in, genuine.
    assert!(done.contains(&format!("href=\"{link}/receipt\"")), "{done}");
    let receipt = app.get(&format!("{link}/receipt")).await;
    assert_eq!(receipt.status(), 200);
    let jws = receipt.text().await.unwrap();
    let checked = app.check_receipt(&jws).await;
    assert_eq!(checked["standing"], "current", "{checked}");
    let doc = &checked["receipt"];
    assert!(doc["collectionMethod"]
        .as_str()
        .unwrap()
        .contains("Double opt-in"));
    assert_eq!(doc["prefcenter"]["changes"][0]["event"], "given");
    assert_eq!(doc["prefcenter"]["changes"][0]["topic"], "newsletter");
    assert_eq!(
        app.state_of("holly@contoso.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("opted_in")
    );

    // Both records carry the evidence the server vouches for.
    #[allow(clippy::type_complexity)]
    let records: Vec<(String, String, String, Option<i64>, Option<String>, Option<String>, Option<String>, Option<String>)> =
        sqlx::query_as(
            "SELECT l.new_value, l.source, l.actor_kind, l.form_version, l.language, l.confirmation, e.ip, e.user_agent
             FROM consent_ledger l LEFT JOIN ledger_evidence e ON e.change_id = l.change_id
             JOIN contact_points cp ON cp.id = l.contact_point_id
             WHERE cp.address = 'holly@contoso.com' AND l.subject_kind = 'topic' AND l.subject_id = 1
               AND l.channel = 'email' ORDER BY l.seq",
        )
        .fetch_all(&mut app.db().await)
        .await
        .unwrap();
    let n = records.len();
    let (pending, confirm) = (&records[n - 2], &records[n - 1]);
    assert_eq!(pending.0, "pending");
    assert_eq!(
        (pending.1.as_str(), pending.2.as_str()),
        ("page", "contact")
    );
    assert_eq!((pending.3, pending.4.as_deref()), (Some(1), Some("en")));
    assert_eq!(pending.6.as_deref(), Some("127.0.0.1"));
    assert_eq!(confirm.0, "opted_in");
    assert_eq!(confirm.1, "double_opt_in");
    assert_eq!(
        confirm.5.as_deref(),
        Some(message_id.as_str()),
        "the email it confirms"
    );
    assert_eq!(confirm.6.as_deref(), Some("127.0.0.1"));
    assert_eq!(confirm.7.as_deref(), Some("Confirming Browser/1.0"));

    // A second use says "already confirmed", with 200, and changes nothing.
    let count = app.ledger_count().await;
    let again = app.post_form(&link, "action=confirm&t1.email=on").await;
    assert_eq!(again.status(), 303);
    let page = app.get(&link).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("already confirmed"));
    assert_eq!(app.ledger_count().await, count);

    // A confirm link is no unsubscribe link, and an unsubscribe link confirms nothing.
    let token = link.trim_start_matches("/c/");
    assert_eq!(app.get(&format!("/u/{token}")).await.status(), 404);
    assert_eq!(
        app.get(&format!("/c/{}", app.token("frank")))
            .await
            .status(),
        404
    );
    app.assert_ledger_sound().await;
    app.stop().await;
}

#[tokio::test]
async fn a_second_request_within_the_cooldown_gets_its_email_once_the_cooldown_has_passed() {
    let smtp = Smtp::start();
    let app = app_with_smtp(smtp.port).await;
    ask_for_newsletter(&app).await;
    let first = smtp.wait_for(1).await.remove(0);
    let res = app
        .post_form(&first.confirm_path(), "action=confirm&t1.email=on")
        .await;
    assert_eq!(res.status(), 303);
    // Right after confirming, Holly asks for Events too (she had opted out of it).
    let t = app.token("holly");
    app.post_form(&format!("/u/{t}"), "action=unsubscribe&topic=t3.email")
        .await;
    let res = app
        .post_form(
            &format!("/u/{t}"),
            "action=save&t1.email=on&t2.email=on&t3.email=on&t2.sms=on",
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.state_of("holly@contoso.com", "Events", "email")
            .await
            .as_deref(),
        Some("pending")
    );
    // No second email within the cooldown: it is held, not dropped.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 1);
    app.clock.advance(Duration::from_secs(181));
    let second = smtp.wait_for(2).await.remove(1);
    assert!(second.raw.contains("Events (email)"), "{}", second.raw);
    app.stop().await;
}

#[tokio::test]
async fn unticking_everything_before_confirm_opts_in_to_nothing() {
    let smtp = Smtp::start();
    let app = app_with_smtp(smtp.port).await;
    ask_for_newsletter(&app).await;
    let link = smtp.wait_for(1).await.remove(0).confirm_path();
    let res = app.post_form(&link, "action=confirm").await;
    assert_eq!(res.status(), 303);
    let page = app
        .get(res.headers()["location"].to_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Nothing was confirmed"), "{page}");
    assert!(!page.contains("Thank you"));
    assert_eq!(
        app.state_of("holly@contoso.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("opted_out"),
        "back to what it was before the request"
    );
    // An item the request did not ask for is refused.
    let other = app.post_form(&link, "action=confirm&t3.email=on").await;
    assert_eq!(other.status(), 400);
    app.assert_ledger_sound().await;
    app.stop().await;
}

#[tokio::test]
async fn a_forged_stamp_or_hidden_field_does_not_change_what_the_ledger_says() {
    let app = spawn_app().await;
    let t = app.token("holly");
    let res = app
        .post_form(
            &format!("/u/{t}"),
            "action=unsubscribe&topic=t2.email&stamp=9.en.00112233445566778899aabbccddeeff",
        )
        .await;
    assert_eq!(res.status(), 303);
    let (fv, lang): (Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT form_version, language FROM consent_ledger ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!((fv, lang.as_deref()), (Some(1), Some("en")));
    // A field the page never renders is refused, not recorded.
    let forged = app
        .post_form(
            &format!("/u/{t}"),
            "action=save&form_version=99&t1.email=on",
        )
        .await;
    assert_eq!(forged.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn smtp_down_at_first_and_up_later_delivers_once() {
    let port = free_port();
    let app = app_with_smtp(port).await;
    ask_for_newsletter(&app).await;
    // Nothing listens: the first attempt fails and is scheduled again.
    wait_outbox(&app, |o| o[0].1 >= 1 && o[0].2.is_some()).await;
    let smtp = Smtp::start_on(port, &[]);
    smtp.wait_for(1).await;
    wait_outbox(&app, |o| o[0].0 == "sent").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 1, "delivered exactly once");
    app.stop().await;
}

#[tokio::test]
async fn two_temporary_failures_then_success_delivers_on_the_third_attempt() {
    let port = free_port();
    let smtp = Smtp::start_on(port, &[Reply::Temporary, Reply::Temporary]);
    let app = app_with_smtp(port).await;
    ask_for_newsletter(&app).await;
    smtp.wait_for(1).await;
    wait_outbox(&app, |o| o[0].0 == "sent").await;
    assert_eq!(smtp.attempts(), 3);
    assert_eq!(outbox(&app).await[0].1, 3);
    app.stop().await;
}

#[tokio::test]
async fn a_permanent_refusal_is_dead_visible_and_the_consent_stays_pending() {
    let port = free_port();
    let _smtp = Smtp::start_on(port, &[Reply::Permanent]);
    let app = app_with_smtp(port).await;
    ask_for_newsletter(&app).await;
    wait_outbox(&app, |o| o[0].0 == "dead").await;
    let o = outbox(&app).await;
    assert_eq!(o[0].1, 1, "no retry after a 550");
    assert!(o[0].2.as_deref().unwrap_or("").contains("550"), "{o:?}");
    assert_eq!(
        app.state_of("holly@contoso.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("pending")
    );
    // Visible to the operator.
    let dir = app.dir.path().to_owned();
    let db_url = app.db_url.clone();
    let _kept = app.stop().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_prefcenter"))
        .args(["mail", "status", "--database-url", &db_url, "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("dead") && text.contains("550"), "{text}");
}

#[tokio::test]
async fn reminder_after_two_days_then_expiry_puts_the_old_value_back() {
    let smtp = Smtp::start();
    let app = app_with_smtp(smtp.port).await;
    ask_for_newsletter(&app).await;
    let first = smtp.wait_for(1).await.remove(0);
    app.clock.advance(Duration::from_secs(49 * 3600));
    let reminder = smtp.wait_for(2).await.remove(1);
    assert!(reminder.header("Subject").unwrap().starts_with("Reminder"));
    assert_ne!(reminder.header("Message-ID"), first.header("Message-ID"));
    // Only one reminder.
    app.clock.advance(Duration::from_secs(24 * 3600));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(smtp.received().len(), 2);

    // Seven days after the request the link expires, recorded by the system actor.
    app.clock.advance(Duration::from_secs(5 * 86_400));
    for _ in 0..100 {
        if app
            .state_of("holly@contoso.com", "Newsletter", "email")
            .await
            .as_deref()
            == Some("opted_out")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.state_of("holly@contoso.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("opted_out")
    );
    let actor: String =
        sqlx::query_scalar("SELECT actor_kind FROM consent_ledger ORDER BY seq DESC LIMIT 1")
            .fetch_one(&mut app.db().await)
            .await
            .unwrap();
    assert_eq!(actor, "system");

    // The expired link offers a new one, and confirms nothing.
    let link = first.confirm_path();
    let page = app.get(&link).await.text().await.unwrap();
    assert!(
        page.contains("expired") && page.contains("Send me a new link"),
        "{page}"
    );
    let post = app.post_form(&link, "action=confirm&t1.email=on").await;
    assert_eq!(post.status(), 303);
    assert_eq!(
        app.state_of("holly@contoso.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("opted_out")
    );
    let resend = app.post_form(&link, "action=resend").await;
    assert_eq!(resend.status(), 303);
    let fresh = smtp.wait_for(3).await.remove(2);
    assert_ne!(fresh.confirm_path(), link);
    assert_eq!(
        app.state_of("holly@contoso.com", "Newsletter", "email")
            .await
            .as_deref(),
        Some("pending")
    );
    app.assert_ledger_sound().await;
    app.stop().await;
}

#[tokio::test]
async fn sign_up_answers_alike_for_every_address_and_sends_at_most_one_email_per_cooldown() {
    let smtp = Smtp::start();
    let app = app_with_smtp(smtp.port).await;
    let form = app.get("/s/contoso").await;
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert!(
        html.contains("name=\"email\"") && html.contains("Newsletter"),
        "{html}"
    );
    let stamp = html
        .split("name=\"stamp\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let body = |email: &str| format!("email={email}&t1.email=on&lang=en&stamp={stamp}");
    // A new address, a pending one, a confirmed one: the same answer.
    let new = app
        .post_form("/s/contoso", &body("new.person%40example.com"))
        .await;
    let again = app
        .post_form("/s/contoso", &body("new.person%40example.com"))
        .await;
    let holly = app
        .post_form("/s/contoso", &body("holly%40contoso.com"))
        .await;
    for r in [&new, &again, &holly] {
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/s/contoso?lang=en&sent=1");
    }
    let mails = smtp.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let to_new = smtp
        .received()
        .iter()
        .filter(|m| m.to == vec!["new.person@example.com".to_owned()])
        .count();
    assert_eq!(
        to_new, 1,
        "one email per address within the cooldown: {mails:?}"
    );
    let sent = app
        .get("/s/contoso?lang=en&sent=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(sent.contains("Check your inbox"));

    // Bad input gets the form back with a message, and nothing is written.
    let before = app.ledger_count().await;
    let bad = app
        .post_form("/s/contoso", "email=not-an-address&t1.email=on")
        .await;
    assert_eq!(bad.status(), 303);
    assert_eq!(bad.headers()["location"], "/s/contoso?lang=en&error=email");
    let page = app
        .get("/s/contoso?lang=en&error=email")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("role=\"alert\""));
    let none = app.post_form("/s/contoso", "email=a%40example.com").await;
    assert_eq!(none.headers()["location"], "/s/contoso?lang=en&error=topic");
    assert_eq!(app.ledger_count().await, before);
    assert_eq!(app.get("/s/nobody").await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn the_sign_up_form_is_rate_limited_per_client_address() {
    let app = spawn_app().await;
    let mut last = 0;
    for i in 0..12 {
        last = app
            .post_form(
                "/s/contoso",
                &format!("email=p{i}%40example.com&t1.email=on"),
            )
            .await
            .status()
            .as_u16();
    }
    assert_eq!(last, 429);
    app.stop().await;
}

#[tokio::test]
async fn a_writer_beside_the_server_cannot_fork_the_chain() {
    let app = spawn_app().await;
    // A second writer on the same file (as a command-line tool would be) appends a record.
    let db = prefcenter::store::open(&app.db_url, 1).await.unwrap();
    let key: std::sync::Arc<[u8]> = std::fs::read_to_string(app.dir.path().join("secret"))
        .unwrap()
        .trim()
        .as_bytes()
        .into();
    let (other, task) = prefcenter::store::writer::Writer::spawn(
        db.write,
        db.write_options,
        key,
        prefcenter::store::Clock::system(),
    );
    let cp: i64 =
        sqlx::query_scalar("SELECT id FROM contact_points WHERE address = 'frank@contoso.com'")
            .fetch_one(&mut app.db().await)
            .await
            .unwrap();
    let applied = other
        .apply(prefcenter::store::writer::ChangeSet {
            items: vec![(
                cp,
                prefcenter::domain::ledger::Desired {
                    subject: prefcenter::domain::Subject::Topic(3),
                    channel: prefcenter::domain::Channel::Email,
                    value: prefcenter::domain::ConsentValue::OptedOut,
                    custodian_confirmed: false,
                    only_if_current: None,
                },
            )],
            meta: prefcenter::store::writer::ChangeMeta {
                actor_kind: prefcenter::domain::ActorKind::System,
                actor_id: None,
                source: prefcenter::domain::Source::System,
                change_id: "beside-the-server".into(),
                form_version: None,
                language: None,
                request_id: None,
                confirmation: None,
                evidence: Default::default(),
            },
        })
        .await
        .unwrap();
    assert_eq!(applied.records.len(), 1);
    drop(other);
    task.await.unwrap();
    // The server's next write chains onto that record, not onto what it remembered.
    let t = app.token("holly");
    let r = app
        .post_form(&format!("/u/{t}"), "List-Unsubscribe=One-Click")
        .await;
    assert_eq!(r.status(), 200);
    app.assert_ledger_sound().await;
    // Liveness costs no query; readiness checks a read and a write.
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert!(ready.text().await.unwrap().contains("\"write\":true"));
    app.stop().await;
}
