//! The staff desk from outside: a contact found by the start of a name, an address or a
//! number (case and accents aside), the contact's page with every consent, its decision and
//! reason and its last change; the roles; and an erased contact's name and search terms gone.

use crate::console::{create_user, Browser, GOOD};
use crate::helpers::{beside, spawn_app};
use crate::proof::stdout;

/// The contact pages a search lists (their `/admin/contacts/{id}` links).
fn listed(body: &str) -> Vec<String> {
    body.match_indices("href=\"/admin/contacts/")
        .map(|(i, _)| {
            let rest = &body[i + "href=\"/admin/contacts/".len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn staff_find_a_contact_by_name_address_or_number_and_see_every_consent_with_its_reason() {
    let app = spawn_app().await;
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);
    assert!(create_user(&app, "analyst@contoso.com", "analyst", GOOD).0);
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("staff@contoso.com", GOOD).await.status, 303);

    let home = b.get("/admin").await;
    assert!(
        home.body.contains("href=\"/admin/contacts\""),
        "in the menu"
    );
    let empty = b.get("/admin/contacts").await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("Find a contact"));

    // By the start of her email address, whatever its case; by her name's words; by the
    // digits of her number as a caller says them.
    let mut holly = None;
    for q in [
        "holly%40CONTOSO",
        "HOLLY",
        "dick",
        "Holly+Dickson",
        "425+555",
        "%2B1+(425)+555-01",
    ] {
        let page = b.get(&format!("/admin/contacts?q={q}")).await;
        assert_eq!(page.status, 200);
        let found = listed(&page.body);
        assert_eq!(found.len(), 1, "{q}: {found:?}");
        assert!(page.body.contains("Holly Dickson"), "{q}");
        holly = Some(found[0].clone());
    }
    let holly = holly.unwrap();
    // Accents fold both ways: Lena Müller is found as muller and as MÜL.
    for q in ["muller", "M%C3%9CL", "lena"] {
        let page = b.get(&format!("/admin/contacts?q={q}")).await;
        assert!(page.body.contains("Lena Müller"), "{q}");
        assert_eq!(listed(&page.body).len(), 1, "{q}");
    }
    // Every word must match; a word nobody has finds nobody; nothing to search says so.
    let page = b.get("/admin/contacts?q=holly+lee").await;
    assert!(listed(&page.body).is_empty());
    assert!(page.body.contains("No contact matches"));
    let page = b.get("/admin/contacts?q=%2D%2D%2D").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Type letters or digits"));
    let page = b.get("/admin/contacts?q=%00holly").await;
    assert_eq!(listed(&page.body).len(), 1, "a NUL is dropped");
    let long = "x".repeat(5000);
    assert_eq!(
        b.get(&format!("/admin/contacts?q={long}")).await.status,
        200
    );

    // Her page: her addresses, and each consent with its decision, reason and last change.
    let page = b.get(&format!("/admin/contacts/{holly}")).await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(body.contains("Holly Dickson"));
    assert!(body.contains("Email: holly@contoso.com"));
    assert!(body.contains("Phone: +14255550101"));
    let row = |what: &str| {
        let at = body
            .find(&format!(">{what}<"))
            .unwrap_or_else(|| panic!("{what} listed: {body}"));
        let end = body[at..].find("</tr>").unwrap() + at;
        body[at..end].to_owned()
    };
    let updates = row("Commercial › Product updates");
    assert!(updates.contains("Opted in"), "{updates}");
    assert!(updates.contains("<strong>Yes</strong>"), "{updates}");
    let newsletter = row("Commercial › Newsletter");
    assert!(newsletter.contains("Opted out"), "{newsletter}");
    assert!(newsletter.contains("<strong>No</strong>"), "{newsletter}");
    assert!(
        !newsletter.contains("Never"),
        "when it changed: {newsletter}"
    );
    // No such contact, or not a number: a page that says so.
    for path in [
        "/admin/contacts/999999",
        "/admin/contacts/abc",
        "/admin/contacts/-1",
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.body.contains("No such contact"), "{path}");
    }

    // Analysts do not use the desk.
    let mut a = Browser::new(&app);
    assert_eq!(a.sign_in("analyst@contoso.com", GOOD).await.status, 303);
    assert_eq!(a.get("/admin/contacts?q=holly").await.status, 403);
    assert_eq!(a.get(&format!("/admin/contacts/{holly}")).await.status, 403);
    assert!(!a
        .get("/admin")
        .await
        .body
        .contains("href=\"/admin/contacts\""));

    // Erased: her name and every search term go with her addresses.
    let out = beside(
        &[
            "contact",
            "erase",
            "holly@contoso.com",
            "--reason",
            "Asked by phone",
        ],
        &app,
    )
    .await;
    assert!(out.status.success(), "{}", stdout(&out));
    for q in ["holly", "dickson", "425555"] {
        let page = b.get(&format!("/admin/contacts?q={q}")).await;
        assert!(listed(&page.body).is_empty(), "{q} after erasure");
    }
    let mut db = app.db().await;
    let terms: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM contact_terms WHERE contact_id = {holly}"
    ))
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(terms, 0);
    let named: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contacts WHERE name LIKE '%Holly%'")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(named, 0);
    let page = b.get(&format!("/admin/contacts/{holly}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("was erased on"));
    assert!(!page.body.contains("Holly"));
    app.stop().await;
}

/// The form value of a row of a point's change form (`t2:email`), by its label.
fn item_of(body: &str, label: &str) -> String {
    let at = body
        .find(&format!(">{label}</option>"))
        .unwrap_or_else(|| panic!("{label} offered"));
    let start = body[..at].rfind("value=\"").unwrap() + 7;
    body[start..start + body[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn a_phone_opt_out_is_recorded_with_its_justification_told_to_the_contact_who_corrects_it() {
    use crate::console::{csrf_of, urlencode};
    let smtp = crate::smtp::Smtp::start();
    let app = crate::double_opt_in::app_with_smtp(smtp.port).await;
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("staff@contoso.com", GOOD).await.status, 303);
    let found = b.get("/admin/contacts?q=holly%40contoso.com").await;
    let holly = listed(&found.body).remove(0);
    let path = format!("/admin/contacts/{holly}");
    let page = b.get(&path).await;
    let csrf = csrf_of(&page.body);
    let updates = item_of(&page.body, "Commercial › Product updates (email)");
    let point = {
        let at = page.body.find("name=\"point\" value=\"").unwrap() + 20;
        page.body[at..at + page.body[at..].find('"').unwrap()].to_owned()
    };
    let origin = app.base.clone();
    let records = app.ledger_count().await;

    // No justification: refused beside the field, what was typed kept, nothing written.
    let form = |justification: &str| {
        format!(
            "csrf={csrf}&point={point}&item={}&value=opt_out&told=phone&reference=CALL-4411&justification={}",
            urlencode(&updates),
            urlencode(justification)
        )
    };
    let refused = b
        .post(&format!("{path}/record"), &form("   "), Some(&origin))
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Say why this change is recorded"));
    assert!(
        refused.body.contains("value=\"CALL-4411\""),
        "the reference is kept"
    );
    assert_eq!(app.ledger_count().await, records);
    // A made-up item, or another contact's point: refused too.
    let bad = form("x").replace(&urlencode(&updates), "t999%3Aemail");
    assert_eq!(
        b.post(&format!("{path}/record"), &bad, Some(&origin))
            .await
            .status,
        422
    );
    let elsewhere = form("x").replace(&format!("point={point}"), "point=999999");
    assert_eq!(
        b.post(&format!("{path}/record"), &elsewhere, Some(&origin))
            .await
            .status,
        404
    );
    // Without the form's token: refused.
    let forged = form("x").replace(&csrf, "forged");
    assert_eq!(
        b.post(&format!("{path}/record"), &forged, Some(&origin))
            .await
            .status,
        403
    );
    assert_eq!(app.ledger_count().await, records);

    // Recorded a minute after the demo's records: the page says by phone, by whom; the ledger
    // names the staff user.
    app.clock.advance(std::time::Duration::from_secs(60));
    let done = b
        .post(
            &format!("{path}/record"),
            &form("Called at 10:05, asked to stop product update emails"),
            Some(&origin),
        )
        .await;
    let t1 = app.clock.now();
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        done.location.ends_with("?done=recorded"),
        "{}",
        done.location
    );
    assert_eq!(
        app.state_of("holly@contoso.com", "Product updates", "email")
            .await
            .as_deref(),
        Some("opted_out")
    );
    let page = b.get(&done.location.replace(&app.base, "")).await;
    assert!(page
        .body
        .contains("the contact is emailed what was recorded"));
    let at = page.body.find(">Commercial › Product updates<").unwrap();
    let row = &page.body[at..at + page.body[at..].find("</tr>").unwrap()];
    assert!(row.contains("Opted out"), "{row}");
    assert!(
        row.contains("by phone, recorded by staff (staff@contoso.com)"),
        "{row}"
    );
    let (actor_kind, actor_id, source): (String, String, String) = sqlx::query_as(
        "SELECT actor_kind, actor_id, source FROM consent_ledger ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!((actor_kind.as_str(), source.as_str()), ("staff", "phone"));
    assert!(actor_id.starts_with("user:"), "{actor_id}");
    let evidence: String = sqlx::query_scalar(
        "SELECT justification FROM ledger_evidence WHERE change_id =
             (SELECT change_id FROM consent_ledger ORDER BY seq DESC LIMIT 1)",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap_or_default();
    assert!(
        evidence.contains("CALL-4411") && evidence.contains("asked to stop"),
        "{evidence}"
    );

    // Holly is told, from Contoso, with a link to her preferences.
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.to, vec!["holly@contoso.com".to_owned()]);
    assert!(mail.header("From").unwrap().contains("news@contoso.com"));
    assert!(mail.header("Subject").unwrap().contains("What we recorded"));
    let text = mail.raw.replace("=\r\n", "");
    assert!(text.contains("by phone"), "{text}");
    assert!(
        text.contains("Product updates (email): unsubscribed"),
        "{text}"
    );
    let i = text.find("/p/").expect("a link to her preferences");
    let token: String = text[i + 3..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    // She corrects it from the link: Product updates ticked again (confirmed by email first).
    app.clock.advance(std::time::Duration::from_secs(60));
    let center = app
        .client
        .get(format!("{}/p/{token}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(center.status(), 200);
    let res = app
        .post_form(&format!("/u/{token}"), "action=save&t2.email=on&t2.sms=on")
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    assert_eq!(
        app.state_of("holly@contoso.com", "Product updates", "email")
            .await
            .as_deref(),
        Some("pending")
    );
    let confirm = smtp.wait_for(2).await.remove(1);
    let res = app
        .post_form(&confirm.confirm_path(), "action=confirm&t2.email=on")
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.state_of("holly@contoso.com", "Product updates", "email")
            .await
            .as_deref(),
        Some("opted_in")
    );

    // The history: newest first, the confirmation, her correction, the staff's change with
    // its evidence; narrowed by how and by topic; a day after today finds nothing.
    let history = b.get(&format!("{path}/history")).await;
    assert_eq!(history.status, 200);
    let h = &history.body;
    let (confirmed, phone) = (
        h.find("confirmed by email").unwrap(),
        h.find("by phone, recorded by staff").unwrap(),
    );
    assert!(confirmed < phone, "newest first");
    assert!(h.contains("by staff@contoso.com"));
    assert!(h.contains("Called at 10:05, asked to stop product update emails"));
    assert!(h.contains("CALL-4411"));
    let only_phone = b.get(&format!("{path}/history?source=phone")).await;
    assert_eq!(
        only_phone.body.matches("<tr>").count(),
        2,
        "one record and the header"
    );
    let topic = updates.split(':').next().unwrap();
    let of_topic = b.get(&format!("{path}/history?subject={topic}")).await;
    assert!(!of_topic.body.contains("Commercial › Newsletter<br"));
    assert!(of_topic.body.contains("Commercial › Product updates<br"));
    let later = b.get(&format!("{path}/history?from=2999-01-01")).await;
    assert!(later.body.contains("No change matches"));
    let bad = b.get(&format!("{path}/history?from=yesterday")).await;
    assert_eq!(bad.status, 422);

    // As of three moments, the page matches the ledger: opted in before the call, opted out
    // after it, opted in again once she confirmed.
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    for (at, want) in [
        (t1 - time::Duration::seconds(30), (true, false)),
        (t1 + time::Duration::seconds(30), (false, true)),
        (t1 + time::Duration::seconds(150), (true, false)),
    ] {
        let url = format!("{path}?at={}", urlencode(&at.format(&fmt).unwrap()));
        let page = b.get(&url).await;
        assert_eq!(page.status, 200, "{url}");
        assert!(page.body.contains("As things stood on"));
        assert!(
            !page.body.contains("Record the change"),
            "no changes to the past"
        );
        let i = page.body.find(">Commercial › Product updates<").unwrap();
        let row = &page.body[i..i + page.body[i..].find("</tr>").unwrap()];
        assert_eq!(
            (row.contains("Opted in"), row.contains("Opted out")),
            want,
            "{url}: {row}"
        );
    }
    let wrong = b.get(&format!("{path}?at=last+week")).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("Enter a moment"));
    app.stop().await;
}

#[tokio::test]
async fn a_staff_opt_in_waits_for_the_contact_s_confirmation_unless_the_profile_trusts_staff() {
    use crate::console::{csrf_of, urlencode};
    let smtp = crate::smtp::Smtp::start();
    let app = crate::double_opt_in::app_with_smtp(smtp.port).await;
    let mut b = crate::api::admin(&app).await;
    let origin = app.base.clone();
    let found = b.get("/admin/contacts?q=frank").await;
    let frank = listed(&found.body).remove(0);
    let path = format!("/admin/contacts/{frank}");
    let rec = format!("{path}/record");
    let page = b.get(&path).await;
    let (csrf, events) = (
        csrf_of(&page.body),
        item_of(&page.body, "Commercial › Events (email)"),
    );
    let point = {
        let at = page.body.find("name=\"point\" value=\"").unwrap() + 20;
        page.body[at..at + page.body[at..].find('"').unwrap()].to_owned()
    };
    let form = |item: &str, told: &str| {
        format!(
            "csrf={csrf}&point={point}&item={}&value=opt_in&told={told}&reference=&justification={}",
            urlencode(item),
            urlencode("Signed our paper form at the fair")
        )
    };
    // The profile does not trust staff opt-ins: Frank is asked to confirm by email.
    let done = b.post(&rec, &form(&events, "paper"), Some(&origin)).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.location.ends_with("?done=asked"), "{}", done.location);
    assert_eq!(
        app.state_of("frank@contoso.com", "Events", "email")
            .await
            .as_deref(),
        Some("pending")
    );
    let mail = smtp.wait_for(1).await.remove(0);
    assert!(mail.raw.contains("/c/"), "the confirmation email");

    // The admin ticks "Trust opt-ins staff record": recorded at once, and Frank is told.
    let profile: (
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
    ) = sqlx::query_as(
        "SELECT id, key, name, sender_name, sender_address, footer_address, default_locale
             FROM compliance_profiles WHERE key = 'contoso'",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    let token = b.console_token().await;
    let saved = b
        .post(
            &format!("/admin/profiles/{}/edit", profile.0),
            &crate::setup::form(&[
                ("csrf", &token),
                ("key", &profile.1),
                ("name", &profile.2),
                ("sender_name", profile.3.as_deref().unwrap_or("")),
                ("sender_address", profile.4.as_deref().unwrap_or("")),
                ("footer_address", &profile.5),
                ("default_locale", &profile.6),
                ("trust_staff_opt_ins", "on"),
            ]),
            Some(&origin),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let updates = item_of(&page.body, "Commercial › Product updates (email)");
    // Frank had left product updates; in person he asks for them again.
    let done = b
        .post(&rec, &form(&updates, "in_person"), Some(&origin))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        done.location.ends_with("?done=recorded"),
        "{}",
        done.location
    );
    let state = app
        .state_of("frank@contoso.com", "Newsletter", "email")
        .await;
    assert_eq!(state.as_deref(), Some("opted_in"));
    let notice = smtp.wait_for(2).await.remove(1);
    let text = notice.raw.replace("=\r\n", "");
    assert!(text.contains("in person"), "{text}");
    assert!(
        text.contains("Product updates (email): subscribed"),
        "{text}"
    );
    // The same again changes nothing and tells nobody.
    let done = b
        .post(&rec, &form(&updates, "in_person"), Some(&origin))
        .await;
    assert!(
        done.location.ends_with("?done=unchanged"),
        "{}",
        done.location
    );
    app.stop().await;
}

#[tokio::test]
async fn the_change_records_export_is_csv_formula_safe_and_narrowed_as_asked() {
    let app = spawn_app().await;
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("staff@contoso.com", GOOD).await.status, 303);
    // A contact whose name a spreadsheet would run.
    sqlx::query(
        "UPDATE contacts SET name = '=HYPERLINK(\"x\")'
         WHERE id = (SELECT contact_id FROM contact_points WHERE address = 'holly@contoso.com')",
    )
    .execute(&mut app.db().await)
    .await
    .unwrap();
    let page = b.get("/admin/contacts").await;
    assert!(page.body.contains("Export change records"));
    let all = b.get("/admin/changes.csv").await;
    assert_eq!(all.status, 200);
    assert!(all.headers["content-type"].starts_with("text/csv"));
    assert!(all.headers["content-disposition"].contains("prefcenter-changes.csv"));
    let mut r = csv::Reader::from_reader(all.body.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header[..5],
        ["seq", "occurred_at", "contact_id", "name", "address"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as i64, app.ledger_count().await, "every record");
    let holly: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[4] == "holly@contoso.com")
        .collect();
    assert!(!holly.is_empty());
    for r in &holly {
        assert_eq!(&r[3], "'=HYPERLINK(\"x\")", "written as text");
    }
    assert!(!all.body.contains("\n=HYPERLINK") && !all.body.contains(",=HYPERLINK"));
    // Narrowed: by how, by a topic, by days; nothing after today.
    let imported = b.get("/admin/changes.csv?source=import").await;
    assert_eq!(
        imported.body.lines().count() - 1,
        rows.len(),
        "the demo's records are an import's"
    );
    let staff = b.get("/admin/changes.csv?actor=staff").await;
    assert_eq!(staff.body.lines().count(), 1, "the header alone");
    let updates: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM consent_ledger l JOIN topics t ON l.subject_kind = 'topic' AND t.id = l.subject_id
         WHERE t.key = 'product-updates'",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    let topic_id: i64 = sqlx::query_scalar("SELECT id FROM topics WHERE key = 'product-updates'")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    let of_topic = b
        .get(&format!("/admin/changes.csv?subject=t{topic_id}"))
        .await;
    assert_eq!(of_topic.body.lines().count() as i64 - 1, updates);
    let later = b.get("/admin/changes.csv?from=2999-01-01").await;
    assert_eq!(later.body.lines().count(), 1);
    let bad = b.get("/admin/changes.csv?to=soon").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Enter days as 2026-11-20"));
    // Analysts do not export personal data.
    assert!(create_user(&app, "analyst@contoso.com", "analyst", GOOD).0);
    let mut a = Browser::new(&app);
    assert_eq!(a.sign_in("analyst@contoso.com", GOOD).await.status, 303);
    assert_eq!(a.get("/admin/changes.csv").await.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn a_child_s_opt_ins_are_denied_until_the_custodian_confirms_them() {
    use crate::console::{csrf_of, urlencode};
    use serde_json::json;
    let smtp = crate::smtp::Smtp::start();
    let app = crate::double_opt_in::app_with_smtp(smtp.port).await;
    let base = app.base.clone();
    let mut b = crate::api::admin(&app).await;
    let key = crate::api::make_key(&mut b, &base, &["decide"], None).await;
    let decide = |topic: &'static str| {
        let q = json!({"email": "frank@contoso.com", "purpose": "commercial", "topic": topic, "channel": "email"});
        let (app, key) = (&app, key.clone());
        async move {
            let (status, v, _) = crate::api::decide(app, Some(&key), &q.to_string()).await;
            assert_eq!(status, 200, "{v}");
            (
                v["allowed"].as_bool().unwrap(),
                v["reason"]["code"].as_str().unwrap().to_owned(),
            )
        }
    };
    assert_eq!(decide("newsletter").await, (true, "opted_in".to_owned()));

    let found = b.get("/admin/contacts?q=frank").await;
    let frank = listed(&found.body).remove(0);
    let path = format!("/admin/contacts/{frank}");
    let page = b.get(&path).await;
    assert!(page
        .body
        .contains("Change the consent level, child and custodian, or tracking"));
    let csrf = csrf_of(&page.body);
    let form = |custodian: &str, justification: &str| {
        format!(
            "csrf={csrf}&level=4&child=on&custodian={}&told=phone&reference=&justification={}",
            urlencode(custodian),
            urlencode(justification)
        )
    };
    let records = app.ledger_count().await;
    // Refused: no justification, a malformed address, the child's own address.
    for (custodian, why, says) in [
        ("parent@example.com", " ", "Say why this change is recorded"),
        (
            "not an address",
            "His mother called",
            "Enter the custodian’s email address",
        ),
        (
            "frank@contoso.com",
            "His mother called",
            "the child’s own address",
        ),
    ] {
        let refused = b
            .post(
                &format!("{path}/profile"),
                &form(custodian, why),
                Some(&base),
            )
            .await;
        assert_eq!(refused.status, 422, "{custodian}");
        assert!(refused.body.contains(says), "{custodian}: {says}");
    }
    assert_eq!(app.ledger_count().await, records);

    // Recorded as a child, with his mother as custodian: his opt-in now waits for her.
    let saved = b
        .post(
            &format!("{path}/profile"),
            &form("parent@Example.COM", "His mother called: Frank is 12"),
            Some(&base),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(
        saved.location.ends_with("?done=profile_asked"),
        "{}",
        saved.location
    );
    let page = b.get(&saved.location.replace(&base, "")).await;
    assert!(page.body.contains("Yes; custodian:"));
    assert!(page.body.contains("value=\"parent@example.com\""));
    assert_eq!(
        decide("newsletter").await,
        (false, "pending_confirmation".to_owned())
    );
    assert_eq!(
        decide("events").await,
        (false, "child_without_custodian_consent".to_owned())
    );
    // The change is a ledger record of its own, with the staff user as actor.
    type Row = (
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let (actor, old_value, old, new, why): Row = sqlx::query_as(
        "SELECT l.actor_id, l.old_value, l.fact_old, l.fact_new, e.justification
         FROM consent_ledger l LEFT JOIN ledger_evidence e ON e.change_id = l.change_id
         WHERE l.subject_kind = 'profile' AND l.subject_id = 2",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert!(actor.is_some_and(|a| a.starts_with("user:")));
    assert_eq!(
        (old_value.as_str(), old.as_deref(), new.as_deref()),
        ("not_set", Some("no"), Some("yes"))
    );
    assert!(why.is_some_and(|w| w.contains("His mother called")));
    let history = b.get(&format!("{path}/history")).await;
    assert!(history.body.contains("Child"), "{}", history.body);
    assert!(history.body.contains("no → yes"), "{}", history.body);
    assert!(
        history.body.contains("parent@example.com"),
        "{}",
        history.body
    );

    // Frank is told what was recorded; the custodian is asked, at her address, naming the
    // child by his masked address.
    let mails = smtp.wait_for(2).await;
    let to = |who: &str| {
        mails
            .iter()
            .find(|m| m.to == vec![who.to_owned()])
            .unwrap_or_else(|| panic!("a message to {who}"))
            .clone()
    };
    let notice = to("frank@contoso.com").raw.replace("=\r\n", "");
    assert!(notice.contains("Recorded as a child"), "{notice}");
    assert!(
        notice.contains("Parent or guardian who confirms your choices: p***t@example.com"),
        "{notice}"
    );
    assert!(
        !notice.contains("Consent level"),
        "the level did not change"
    );
    let mail = to("parent@example.com");
    let text = mail.raw.replace("=\r\n", "");
    assert!(
        text.contains("parent or guardian of f***k@contoso.com"),
        "{text}"
    );
    assert!(text.contains("Newsletter (email)"), "{text}");
    // The staff's own opt-in for the child is not trusted either, even where the profile
    // trusts staff: it joins the custodian's request.
    sqlx::query("UPDATE compliance_profiles SET trust_staff_opt_ins = $1")
        .bind(true)
        .execute(&mut app.db().await)
        .await
        .unwrap();
    let page = b.get(&path).await;
    let events = item_of(&page.body, "Commercial › Events (email)");
    let point = {
        let at = page.body.find("name=\"point\" value=\"").unwrap() + 20;
        page.body[at..at + page.body[at..].find('"').unwrap()].to_owned()
    };
    let done = b
        .post(
            &format!("{path}/record"),
            &format!(
                "csrf={csrf}&point={point}&item={}&value=opt_in&told=phone&reference=&justification={}",
                urlencode(&events),
                urlencode("His mother asked for event invitations too")
            ),
            Some(&base),
        )
        .await;
    assert!(done.location.ends_with("?done=asked"), "{}", done.location);
    assert_eq!(
        decide("events").await,
        (false, "pending_confirmation".to_owned())
    );

    // She confirms: both are allowed now, as the custodian's consent.
    let newsletter: i64 = sqlx::query_scalar("SELECT id FROM topics WHERE key = 'newsletter'")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    let events_id = events.split(':').next().unwrap().trim_start_matches('t');
    let res = app
        .post_form(
            &mail.confirm_path(),
            &format!("action=confirm&t{newsletter}.email=on&t{events_id}.email=on"),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(decide("newsletter").await, (true, "opted_in".to_owned()));
    assert_eq!(decide("events").await, (true, "opted_in".to_owned()));
    let (actor, custodian): (String, i64) = sqlx::query_as(
        "SELECT actor_kind, CASE WHEN custodian_confirmed THEN 1 ELSE 0 END
         FROM consent_ledger ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!((actor.as_str(), custodian), ("custodian", 1));
    let out = beside(&["ledger", "verify"], &app).await;
    assert!(out.status.success(), "{}", stdout(&out));
    // Erased, Frank's profile records keep what changed, not why, and the chain still verifies.
    let out = beside(
        &["contact", "erase", "frank@contoso.com", "--reason", "Asked"],
        &app,
    )
    .await;
    assert!(out.status.success(), "{}", stdout(&out));
    let (records, kept): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(e.change_id)
         FROM consent_ledger l LEFT JOIN ledger_evidence e ON e.change_id = l.change_id
         WHERE l.subject_kind = 'profile'",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert!(records >= 2, "{records}");
    assert_eq!(kept, 0);
    let out = beside(&["ledger", "verify"], &app).await;
    assert!(out.status.success(), "{}", stdout(&out));
    app.stop().await;
}

#[tokio::test]
async fn profile_changes_kept_beside_the_ledger_move_into_it_at_start() {
    // A database of schema 24 kept staff's profile changes in `contact_changes`: the next
    // start makes each a ledger record with its own time, actor and justification.
    let app = spawn_app().await;
    let contact: i64 = sqlx::query_scalar(
        "SELECT contact_id FROM contact_points WHERE address = 'holly@contoso.com'",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    sqlx::query(&format!(
        "INSERT INTO contact_changes (contact_id, at, field, old_value, new_value, actor_id,
             source, justification, change_id)
         VALUES ({contact}, '2026-11-24T09:30:00.000000Z', 'consent_level', '1', '4', 'user:7',
                 'phone', 'Holly called to say yes to profiling', 'chg-kept')"
    ))
    .execute(&mut app.db().await)
    .await
    .unwrap();
    let before = app.ledger_count().await;
    let db_url = app.db_url.clone();
    let dir = app.stop().await;
    let app = crate::helpers::spawn_app_at(dir, db_url).await;
    assert_eq!(app.ledger_count().await, before + 1);
    let (at, fact, old, new, actor, why): (
        String,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT CAST(l.occurred_at AS TEXT), l.subject_id, l.fact_old, l.fact_new,
                    l.actor_id, e.justification
             FROM consent_ledger l LEFT JOIN ledger_evidence e ON e.change_id = l.change_id
             WHERE l.change_id = 'chg-kept'",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert!(at.starts_with("2026-11-24"), "{at}");
    assert_eq!(
        (fact, old.as_deref(), new.as_deref(), actor.as_deref()),
        (1, Some("1"), Some("4"), Some("user:7"))
    );
    assert_eq!(why.as_deref(), Some("Holly called to say yes to profiling"));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contact_changes")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(left, 0);
    app.assert_ledger_sound().await;
    app.stop().await;
}

#[tokio::test]
async fn staff_add_a_contact_by_hand_normalised_and_never_an_erased_or_known_address() {
    use crate::console::{csrf_of, urlencode};
    let app = spawn_app().await;
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("staff@contoso.com", GOOD).await.status, 303);
    let page = b.get("/admin/contacts").await;
    assert!(page.body.contains("Add a contact"));
    let csrf = csrf_of(&page.body);
    let base = app.base.clone();
    let add = |name: &str, email: &str, phone: &str| {
        format!(
            "csrf={csrf}&name={}&email={}&phone={}&lang=de&profile=1",
            urlencode(name),
            urlencode(email),
            urlencode(phone)
        )
    };
    let erased = beside(
        &[
            "contact",
            "erase",
            "lena@contoso.com",
            "--reason",
            "Asked by letter",
        ],
        &app,
    )
    .await;
    assert!(erased.status.success(), "{}", stdout(&erased));
    for (form, says) in [
        (
            add("Nobody", "", ""),
            "Enter an email address, a phone number, or both",
        ),
        (
            add("X", "not-an-address", ""),
            "Enter an email address in the form",
        ),
        (add("X", "", "12"), "Enter the number with its country code"),
        (
            add("Holly again", "holly@CONTOSO.com", ""),
            "This address is already contact",
        ),
        (
            add("Lena", "lena@contoso.com", ""),
            "was erased at its owner’s request",
        ),
        (
            add("Bell", "", "+1 (425) 555-0101"),
            "This address is already contact",
        ),
    ] {
        let refused = b.post("/admin/contacts/new", &form, Some(&base)).await;
        assert_eq!(refused.status, 422, "{says}");
        assert!(refused.body.contains(says), "{says}: {}", refused.body);
        assert!(
            refused.body.contains("<details open"),
            "the form stays open"
        );
    }
    // Added: the name kept as typed (spaces tidied), the address normalised (the domain in
    // lower case, IDNA-checked), the number in E.164; found by the start of a word.
    let done = b
        .post(
            "/admin/contacts/new",
            &add(
                "  Jürgen   Groß ",
                "jurgen@BÜCHER.example",
                "+49 30 1234 5678",
            ),
            Some(&base),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.location.contains("?done=created"), "{}", done.location);
    let page = b.get(&done.location.replace(&base, "")).await;
    assert!(page.body.contains("Jürgen Groß"));
    assert!(
        page.body.contains("Email: jurgen@bücher.example"),
        "{}",
        page.body
    );
    assert!(page.body.contains("+493012345678"));
    for q in ["jurgen", "GROSS", "jurgen%40B%C3%9C", "3012345"] {
        let found = b.get(&format!("/admin/contacts?q={q}")).await;
        assert_eq!(listed(&found.body).len(), 1, "{q}");
    }
    let (level, locale): (i64, Option<String>) =
        sqlx::query_as("SELECT consent_level, locale FROM contacts WHERE name = 'Jürgen Groß'")
            .fetch_one(&mut app.db().await)
            .await
            .unwrap();
    assert_eq!((level, locale.as_deref()), (1, Some("de")));
    app.stop().await;
}
