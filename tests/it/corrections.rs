//! Corrections to what landed: each test here failed before its fix.

use crate::helpers::*;
use prefcenter::domain::{
    decide, Channel, ConsentLevel, ContactFacts, Reason, StateEntry, Subject,
};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The real binary, started as an operator would, its output captured line by line.
struct RealServer {
    child: Child,
    base: String,
    /// (address, link) of the demo contacts, as printed.
    links: Vec<(String, String)>,
    output: Arc<Mutex<Vec<String>>>,
}

/// A server a failed test left running is killed when its `RealServer` goes away.
impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RealServer {
    fn start(dir: &std::path::Path, log: Option<&str>) -> RealServer {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_prefcenter"));
        cmd.args(["--demo", "--listen", "127.0.0.1:0", "--database-url"])
            .arg(format!("sqlite://{}/test.db", dir.display()))
            .arg("--data-dir")
            .arg(dir)
            .env_remove("PREFCENTER_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(filter) = log {
            cmd.env("PREFCENTER_LOG", filter);
        }
        let mut child = cmd.spawn().unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        for reader in [
            Box::new(out) as Box<dyn std::io::Read + Send>,
            Box::new(err) as Box<dyn std::io::Read + Send>,
        ] {
            let (output, tx) = (output.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines().map_while(Result::ok) {
                    output.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut links = Vec::new();
        let base = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no start: {:?}", output.lock().unwrap()));
            if let Some(base) = line.strip_prefix("prefcenter listening on ") {
                break base.trim().to_owned();
            }
            let mut words = line.split_whitespace();
            if let (Some(who), Some(link)) = (words.next(), words.next()) {
                if who.contains('@') && link.contains("/u/") {
                    links.push((who.to_owned(), link.to_owned()));
                }
            }
        };
        RealServer {
            child,
            base,
            links,
            output,
        }
    }

    fn token(&self, who: &str) -> String {
        let link = &self
            .links
            .iter()
            .find(|(a, _)| a.starts_with(who))
            .unwrap()
            .1;
        link.rsplit('/').next().unwrap().to_owned()
    }

    /// SIGTERM, as a service manager stops it; returns the exit status.
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // Let the reader threads drain what is left.
        std::thread::sleep(Duration::from_millis(200));
        let output = self.output.lock().unwrap().clone();
        (status, output)
    }
}

async fn page(app: &TestApp, path: &str, accept_language: Option<&str>) -> String {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(al) = accept_language {
        req = req.header("accept-language", al);
    }
    req.send().await.unwrap().text().await.unwrap()
}

async fn set_locale(app: &TestApp, address: &str, locale: Option<&str>) {
    sqlx::query(
        "UPDATE contacts SET locale = $1
         WHERE id = (SELECT contact_id FROM contact_points WHERE address = $2)",
    )
    .bind(locale)
    .bind(address)
    .execute(&mut app.db().await)
    .await
    .unwrap();
}

#[tokio::test]
async fn language_is_the_links_then_the_contacts_then_the_browsers_then_the_profiles() {
    let app = spawn_app().await;
    // Before any page loads the (cached) catalog: the profile's default is French.
    sqlx::query("UPDATE compliance_profiles SET default_locale = 'fr'")
        .execute(&mut app.db().await)
        .await
        .unwrap();
    let holly = "holly@contoso.com";
    let u = format!("/u/{}", app.token("holly"));
    let is_fr = |html: &str| {
        html.contains("<html lang=\"fr\"")
            && html.contains("Se désinscrire de tout")
            && !html.contains("Unsubscribe from everything")
    };
    let is_en = |html: &str| {
        html.contains("<html lang=\"en\"")
            && html.contains("Unsubscribe from everything")
            && !html.contains("Se désinscrire")
    };

    // Nothing else known: the profile's default.
    set_locale(&app, holly, None).await;
    let html = page(&app, &u, None).await;
    assert!(is_fr(&html), "profile default: {html}");
    // The browser's language comes before the profile's default.
    let html = page(&app, &u, Some("en-GB,en;q=0.9")).await;
    assert!(is_en(&html), "Accept-Language before the profile: {html}");
    // A browser language we have no texts for does not count.
    assert!(is_fr(&page(&app, &u, Some("it-CH")).await));
    // The contact's stored locale comes before the browser's.
    set_locale(&app, holly, Some("en")).await;
    assert!(
        is_en(&page(&app, &u, Some("fr")).await),
        "stored before browser"
    );
    set_locale(&app, holly, Some("fr")).await;
    assert!(
        is_fr(&page(&app, &u, Some("en")).await),
        "stored before browser"
    );
    // The link's own `lang` comes first.
    assert!(is_en(
        &page(&app, &format!("{u}?lang=en"), Some("fr")).await
    ));
    set_locale(&app, holly, Some("en")).await;
    let center = page(
        &app,
        &format!("/p/{}?lang=fr", app.token("holly")),
        Some("en"),
    )
    .await;
    assert!(
        center.contains("<html lang=\"fr\"") && center.contains("Enregistrer mes préférences"),
        "{center}"
    );
    // An invalid link knows no contact: the link's lang, then the browser's.
    let invalid = page(&app, "/u/nope", Some("fr-FR")).await;
    assert!(
        invalid.contains("<html lang=\"fr\"") && invalid.contains("Ce lien n’est pas valide"),
        "{invalid}"
    );
    let invalid = page(&app, "/u/nope", None).await;
    assert!(invalid.contains("<html lang=\"en\"") && invalid.contains("This link is not valid"));
    // The shell never says a language of its own beside the page's.
    assert_eq!(invalid.matches("lang=").count(), 1, "{invalid}");
    app.stop().await;
}

#[tokio::test]
async fn one_click_on_a_phone_link_unsubscribes_what_the_phone_receives() {
    let app = spawn_app().await;
    let phone = "+14255550101";
    let token = prefcenter::services::new_token();
    {
        let mut db = app.db().await;
        let point: i64 = sqlx::query_scalar("SELECT id FROM contact_points WHERE address = $1")
            .bind(phone)
            .fetch_one(&mut db)
            .await
            .unwrap();
        let mut conn = app.store_conn().await;
        prefcenter::store::contacts::insert_token(conn.as_mut(), point, &token.hash(), 30)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    assert_eq!(
        app.state_of(phone, "Product updates", "sms")
            .await
            .as_deref(),
        Some("opted_in")
    );
    let before = app.ledger_count().await;
    let res = app
        .post_form(
            &format!("/u/{}", token.as_str()),
            "List-Unsubscribe=One-Click",
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(app.ledger_count().await > before, "something was recorded");
    for what in ["Product updates", "commercial"] {
        assert_eq!(
            app.state_of(phone, what, "sms").await.as_deref(),
            Some("opted_out"),
            "{what}"
        );
    }
    // The contact's email address is another point: untouched.
    assert_eq!(
        app.state_of("holly@contoso.com", "Product updates", "email")
            .await
            .as_deref(),
        Some("opted_in")
    );
    app.assert_ledger_sound().await;
    app.stop().await;
}

#[tokio::test]
async fn a_global_opt_out_keeps_service_messages_and_an_erasure_stops_them() {
    let app = spawn_app().await;
    let t = app.token("holly");
    let res = app
        .post_form(
            &format!("/u/{t}"),
            "action=unsubscribe_all&form_version=1&lang=en",
        )
        .await;
    assert_eq!(res.status(), 303);

    let mut pool = app.db().await;
    let (point, profile, suppressed): (i64, i64, i64) = sqlx::query_as(
        "SELECT cp.id, c.profile_id, CASE WHEN c.suppressed_at IS NULL THEN 0 ELSE 1 END
         FROM contacts c
         JOIN contact_points cp ON cp.contact_id = c.id WHERE cp.address = 'holly@contoso.com'",
    )
    .fetch_one(&mut pool)
    .await
    .unwrap();
    assert_eq!(suppressed, 0, "a global opt-out is records, not a flag");
    let catalog = prefcenter::store::catalog::load(&app.reader().await, profile)
        .await
        .unwrap()
        .unwrap();
    let states: Vec<(String, i64, String, String, i64)> = sqlx::query_as(
        "SELECT subject_kind, subject_id, channel, value, ledger_seq FROM consent_states
         WHERE contact_point_id = $1",
    )
    .bind(point)
    .fetch_all(&mut pool)
    .await
    .unwrap();
    let state = |subject: Subject, channel: Channel| {
        states
            .iter()
            .find(|s| s.0 == subject.kind_str() && s.1 == subject.id() && s.2 == channel.as_str())
            .map(|s| StateEntry {
                value: prefcenter::domain::ConsentValue::parse(&s.3).unwrap(),
                custodian_confirmed: false,
                record: s.4,
            })
    };
    let facts = ContactFacts {
        level: ConsentLevel::MARKETING,
        is_child: false,
        erased: false,
    };
    let transactional = catalog.purposes.iter().find(|p| p.mandatory).unwrap();
    let commercial = catalog.purposes.iter().find(|p| !p.mandatory).unwrap();
    let ask = |facts: ContactFacts, p: &prefcenter::domain::Purpose| {
        decide(
            facts,
            p,
            None,
            Channel::Email,
            state(Subject::Purpose(p.id), Channel::Email),
            None,
        )
    };
    let service = ask(facts, transactional);
    assert!(service.allowed, "{service:?}");
    assert_eq!(service.reason, Reason::Mandatory);
    let marketing = ask(facts, commercial);
    assert!(!marketing.allowed);
    assert_eq!(marketing.reason.code(), "opted_out");
    for topic in catalog.topics_of(commercial.id) {
        let d = decide(
            facts,
            commercial,
            Some(topic),
            Channel::Email,
            state(Subject::Purpose(commercial.id), Channel::Email),
            state(Subject::Topic(topic.id), Channel::Email),
        );
        assert!(!d.allowed, "{}", topic.name);
    }
    // Erasure is another fact: nothing at all, service messages included.
    let erased = ContactFacts {
        erased: true,
        ..facts
    };
    let service = ask(erased, transactional);
    assert!(!service.allowed);
    assert_eq!(service.reason, Reason::Erased);
    assert_eq!(service.reason.code(), "erased");
    sqlx::Connection::close(pool).await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn one_click_multipart_reads_the_boundary_parameter_case_insensitively() {
    let app = spawn_app().await;
    let t = app.token("holly");
    let body = "--b0undary\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b0undary--\r\n";
    for ct in [
        "Multipart/Form-Data; BOUNDARY=b0undary",
        "multipart/form-data; Boundary=\"b0undary\"",
    ] {
        let res = app
            .client
            .post(format!("{}/u/{t}", app.base))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{ct}");
    }
    assert_eq!(
        app.state_of("holly@contoso.com", "Product updates", "email")
            .await
            .as_deref(),
        Some("opted_out")
    );
    // A multipart body that is not one: a clear 400, not a 500.
    let res = app
        .client
        .post(format!("{}/u/{t}", app.base))
        .header("content-type", "multipart/form-data; boundary=zz")
        .body("--zz\r\nbroken")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn page_gets_read_malformed_queries_and_paths_without_failing() {
    let app = spawn_app().await;
    let t = app.token("holly");
    let before = app.ledger_count().await;
    let long = "a".repeat(10_000);
    // A query that cannot be read is no query: the page renders in the contact's language.
    for query in [
        "lang=%ff",
        "lang=de&lang=fr",
        "lang[x]=1",
        "%%%%",
        "lang=",
        "lang=xx-not-a-language",
        &format!("lang={long}"),
        "done=%00",
    ] {
        for page in ["u", "p"] {
            let res = app.get(&format!("/{page}/{t}?{query}")).await;
            assert_eq!(res.status(), 200, "/{page}?{query}");
            let html = res.text().await.unwrap();
            assert!(html.contains("h***y@contoso.com"), "/{page}?{query}");
        }
    }
    // A path that is no link: the invalid-link page, never a server error.
    for path in [
        "/u/%ff%fe".to_owned(),
        format!("/u/{long}"),
        "/u/%00".to_owned(),
        format!("/u/{t}/done/%ff"),
        format!("/u/{t}/done/{long}"),
        "/c/%ff".to_owned(),
        "/c/not-a-token".to_owned(),
        "/s/%ff".to_owned(),
        "/s/no-such-profile?lang=%ff".to_owned(),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 404, "{path}");
        let html = res.text().await.unwrap();
        assert!(html.contains("<html lang="), "{path}: {html}");
    }
    // GET and HEAD change nothing, whatever they carry.
    for page in ["u", "p"] {
        let res = app
            .client
            .head(format!("{}/{page}/{t}?action=unsubscribe", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_eq!(app.ledger_count().await, before);
    app.stop().await;
}

#[tokio::test]
async fn a_token_is_percent_decoded_exactly_once() {
    let app = spawn_app().await;
    let t = app.token("frank");
    let (first, rest) = (t.as_bytes()[0], &t[1..]);
    let once = format!("%{first:02X}{rest}");
    let twice = format!("%25{first:02X}{rest}");
    for path in [
        format!("/u/{twice}"),
        format!("/p/{twice}"),
        format!("/u/{twice}/done/unchanged"),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 404, "GET {path}");
    }
    let post = app
        .post_form(&format!("/u/{twice}"), "List-Unsubscribe=One-Click")
        .await;
    assert_eq!(post.status(), 404, "POST of a double-encoded token");
    // Encoded once, it is the token itself, on GET and POST alike.
    assert_eq!(app.get(&format!("/u/{once}")).await.status(), 200);
    assert_eq!(app.get(&format!("/p/{once}")).await.status(), 200);
    let post = app
        .post_form(&format!("/u/{once}"), "List-Unsubscribe=One-Click")
        .await;
    assert_eq!(post.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn a_database_the_server_cannot_use_is_refused_with_a_clear_message() {
    // A scheme it does not serve; a PostgreSQL server that is not there.
    for (url, says) in [
        (
            "mysql://prefs:hunter2secret@db.internal/prefs",
            &["mysql", "sqlite://", "postgres://"][..],
        ),
        (
            "postgres://prefs:hunter2secret@127.0.0.1:1/prefs",
            &["database unavailable"][..],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Command::new(env!("CARGO_BIN_EXE_prefcenter"))
            .current_dir(dir.path())
            .args([
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                url,
                "--data-dir",
            ])
            .arg(dir.path().join("data"))
            .env_remove("PREFCENTER_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // It must stop at once; a server that started serving anyway is killed and fails here.
        let deadline = Instant::now() + Duration::from_secs(30);
        while out.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = out.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = out.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url}: {stderr}");
        for s in says {
            assert!(stderr.contains(s), "{url}: says {s:?}: {stderr}");
        }
        assert!(!stderr.contains("hunter2secret"), "no password: {stderr}");
        let entries: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            entries.iter().all(|n| n == "data"),
            "nothing created but the data folder: {entries:?}"
        );
    }
}

#[tokio::test]
async fn sigterm_closes_every_connection_and_leaves_no_wal() {
    let dir = tempfile::tempdir().unwrap();
    let server = RealServer::start(dir.path(), None);
    let res = client()
        .post(format!("{}/u/{}", server.base, server.token("holly")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = client()
        .get(format!("{}/u/{}", server.base, server.token("frank")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let (status, output) = server.terminate();
    assert!(status.success(), "{status:?}: {output:#?}");
    let wal = dir.path().join("test.db-wal");
    assert!(
        !wal.exists(),
        "a WAL file was left behind: a connection was not closed"
    );
}

#[tokio::test]
async fn tokens_never_reach_the_real_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = RealServer::start(dir.path(), Some("trace"));
    let c = client();
    let t = server.token("holly");
    let base = &server.base;
    let form = "application/x-www-form-urlencoded";
    for path in [
        format!("/u/{t}"),
        format!("/p/{t}"),
        format!("/u/{t}/done/unchanged"),
        format!("/u/{t}x"),
        format!("/p/{t}?lang=fr"),
    ] {
        c.get(format!("{base}{path}")).send().await.unwrap();
    }
    let res = c
        .post(format!("{base}/u/{t}"))
        .header("content-type", form)
        .body("action=unsubscribe&topic=t2.email&form_version=1&lang=en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let done = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        c.get(format!("{base}{done}"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let change = done.rsplit('/').next().unwrap().split('?').next().unwrap();
    c.post(format!("{base}/u/{t}/undo"))
        .header("content-type", form)
        .body(format!("change={change}"))
        .send()
        .await
        .unwrap();
    c.get(format!("{base}/p/{t}?lang=%ff"))
        .send()
        .await
        .unwrap();
    c.post(format!("{base}/u/{t}"))
        .header("content-type", form)
        .body("action=explode")
        .send()
        .await
        .unwrap();
    let res = c
        .post(format!("{base}/u/{t}"))
        .header("content-type", form)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, output) = server.terminate();
    assert!(status.success());
    // The demo links printed at start are the operator's, on purpose; every other line is log.
    let log: Vec<&String> = output
        .iter()
        .filter(|l| {
            let demo_link = l.starts_with("  ") && l.contains('@') && l.contains("/u/");
            let banner = l.starts_with("prefcenter listening on");
            !demo_link && !banner
        })
        .collect();
    assert!(
        log.iter().filter(|l| l.contains("request")).count() >= 10,
        "the requests were logged: {log:#?}"
    );
    for line in &log {
        assert!(!line.contains(&t), "a token reached the log: {line}");
        assert!(
            !line.contains("holly@contoso.com"),
            "an address reached the log: {line}"
        );
    }
}

#[tokio::test]
async fn the_favicon_is_served_from_the_binary_and_linked() {
    let app = spawn_app().await;
    let icon = app.get("/favicon.svg").await;
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.headers().contains_key("content-security-policy"));
    let svg = icon.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("</svg>"));
    assert!(!svg.contains("<script"));
    let page = app
        .get(&format!("/u/{}", app.token("holly")))
        .await
        .text()
        .await
        .unwrap();
    // The handler-rendered message page (a POST with a bad token) links it too.
    let message = app
        .post_form("/u/nope", "List-Unsubscribe=One-Click")
        .await
        .text()
        .await
        .unwrap();
    for html in [&page, &message] {
        assert!(html.contains("href=\"/favicon.svg\""), "{html}");
        assert!(!html.contains("data:,"), "{html}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_done_page_says_what_the_contact_will_no_longer_receive() {
    let app = spawn_app().await;
    let t = app.token("holly");
    let res = app
        .post_form(
            &format!("/u/{t}"),
            "action=unsubscribe_all&form_version=1&lang=en",
        )
        .await;
    assert_eq!(res.status(), 303);
    let done = app
        .get(res.headers()["location"].to_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(done.contains("You will no longer receive:"), "{done}");
    // Once per topic, with its channels; what was never on is left out.
    assert!(
        done.contains("<li>Product updates by email and text message</li>"),
        "{done}"
    );
    assert!(done.contains("<li>Events by email</li>"), "{done}");
    assert!(!done.contains("Newsletter"), "was never on: {done}");
    for ledger_words in ["→", "(all topics)", "Commercial", "not subscribed"] {
        assert!(!done.contains(ledger_words), "{ledger_words}: {done}");
    }
    assert!(done.contains("Undo this change"));

    // Asking for a topic again: waiting for the confirmation, not "receiving".
    let res = app
        .post_form(&format!("/u/{t}"), "action=save&lang=en&t1.email=on")
        .await;
    assert_eq!(res.status(), 303);
    let done = app
        .get(res.headers()["location"].to_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(done.contains("Waiting for your confirmation:"), "{done}");
    assert!(done.contains("<li>Newsletter by email</li>"), "{done}");
    assert!(!done.contains("You will now receive"), "{done}");
    app.stop().await;
}
