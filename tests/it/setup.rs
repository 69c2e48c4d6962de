//! The compliance setup from outside: an admin creates a profile, a purpose and a topic,
//! edits, reorders and retires them through the console's forms; bad input is said beside its
//! field; the contact's page shows each change at once (the cache is dropped); nothing is
//! deleted; every change is in the audit log; the definitions a decision rests on are kept as
//! they were at each moment.

use crate::console::{create_user, csrf_of, urlencode, Browser, GOOD};
use crate::helpers::{spawn_app, TestApp};
use prefcenter::domain::Enforcement;
use std::time::Duration;

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn admin(app: &TestApp) -> (Browser<'_>, String) {
    assert!(create_user(app, "admin@contoso.com", "admin", GOOD).0);
    let mut b = Browser::new(app);
    assert_eq!(b.sign_in("admin@contoso.com", GOOD).await.status, 303);
    let csrf = b.console_token().await;
    (b, csrf)
}

async fn contoso(app: &TestApp) -> i64 {
    let id: i64 = sqlx::query_scalar("SELECT id FROM compliance_profiles WHERE key = 'contoso'")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    id
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&mut app.db().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_creates_a_profile_and_every_refused_field_is_named() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let (mut b, csrf) = admin(&app).await;
    let list = b.get("/admin/profiles").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Contoso"), "the demo profile is listed");

    let bad = b
        .post(
            "/admin/profiles/new",
            &form(&[
                ("csrf", &csrf),
                ("key", "Bad Key"),
                ("name", ""),
                ("sender_address", "not an address"),
                ("footer_address", "1 Rue de Rivoli"),
                ("privacy_url", "javascript:alert(1)"),
                ("default_locale", "fr"),
                ("confirm_hours", "24"),
                ("reminder_hours", "30"),
            ]),
            Some(&base),
        )
        .await;
    assert_eq!(bad.status, 400);
    for id in [
        "f-key-error",
        "f-name-error",
        "f-sender_address-error",
        "f-privacy_url-error",
        "f-reminder_hours-error",
    ] {
        assert!(
            bad.body.contains(&format!("id=\"{id}\"")),
            "{id}: {}",
            bad.body
        );
    }
    assert!(bad.body.contains("5 fields need attention."));
    // What was typed comes back (as text), the address among it.
    assert!(bad.body.contains("1 Rue de Rivoli"));
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM compliance_profiles").await,
        1
    );

    let good = [
        ("csrf", csrf.as_str()),
        ("key", "contoso-eu"),
        ("name", "Contoso Europe"),
        ("sender_name", "Contoso EU"),
        ("sender_address", "news@contoso.eu"),
        (
            "footer_address",
            "Contoso SARL\n1 Rue de Rivoli\n75001 Paris",
        ),
        ("legal_footer", "RCS Paris 123 456 789"),
        ("privacy_url", "https://contoso.eu/privacy"),
        ("default_locale", "fr"),
        ("jurisdiction", "EU (GDPR)"),
        ("confirm_hours", "48"),
        ("reminder_hours", "0"),
    ];
    let made = b
        .post("/admin/profiles/new", &form(&good), Some(&base))
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    assert!(
        made.location.ends_with("?done=created"),
        "{}",
        made.location
    );
    let page = b.get(&made.location).await;
    assert!(page.body.contains("Contoso Europe"));
    assert!(page.body.contains("No purpose yet"));
    assert!(page.body.contains("Contoso EU &lt;news@contoso.eu&gt;"));
    // The same key again is refused beside the key.
    let again = b
        .post("/admin/profiles/new", &form(&good), Some(&base))
        .await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("has this key already"));

    // Editing keeps the key whatever the (read-only) field sends back.
    let id = made
        .location
        .split('/')
        .nth(3)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let mut edited = good.to_vec();
    edited[1] = ("key", "stolen");
    edited[2] = ("name", "Contoso Europe SAS");
    let saved = b
        .post(
            &format!("/admin/profiles/{id}/edit"),
            &form(&edited),
            Some(&base),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let key: String = sqlx::query_scalar("SELECT key FROM compliance_profiles WHERE id = $1")
        .bind(id.parse::<i64>().unwrap())
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(key, "contoso-eu");
    let audit = b.get("/admin/audit?kind=profile.edit").await;
    assert!(
        audit.body.contains("Contoso Europe SAS"),
        "before and after are logged"
    );
    // Another site's form, or one without the token, changes nothing.
    let forged = b
        .post(
            &format!("/admin/profiles/{id}/edit"),
            &form(&edited[1..]),
            Some(&base),
        )
        .await;
    assert_eq!(forged.status, 403);
    let elsewhere = b
        .post(
            &format!("/admin/profiles/{id}/edit"),
            &form(&edited),
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(elsewhere.status, 403);
    assert_eq!(b.get("/admin/profiles/999").await.status, 404);
    assert_eq!(b.get("/admin/profiles/nope/edit").await.status, 404);
}

#[tokio::test]
async fn purposes_and_topics_are_added_reordered_and_retired_and_contacts_see_it_at_once() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let (mut b, csrf) = admin(&app).await;
    let profile = contoso(&app).await;
    let holly = app.link("holly").replace("/u/", "/p/");
    let contact_page = || async {
        app.client
            .get(&holly)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };

    // A purpose with a refused field, then a good one.
    let bad = b
        .post(
            &format!("/admin/profiles/{profile}/purposes/new"),
            &form(&[
                ("csrf", &csrf),
                ("key", "events"),
                ("name", "Events"),
                ("enforcement", "restrictive"),
                ("min_level", "0"),
            ]),
            Some(&base),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Choose at least one channel."));
    let made = b
        .post(
            &format!("/admin/profiles/{profile}/purposes/new"),
            &form(&[
                ("csrf", &csrf),
                ("key", "events"),
                ("name", "Events <b>live</b>"),
                ("description", "Invitations to our events."),
                ("enforcement", "non_restrictive"),
                ("channels", "email"),
                ("min_level", "0"),
            ]),
            Some(&base),
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let purpose: i64 = scalar(&app, "SELECT id FROM purposes WHERE key = 'events'").await;
    let topic_made = b
        .post(
            &format!("/admin/purposes/{purpose}/topics/new"),
            &form(&[
                ("csrf", &csrf),
                ("key", "webinars"),
                ("name", "Webinars"),
                ("description", "Online sessions, twice a month."),
            ]),
            Some(&base),
        )
        .await;
    assert_eq!(topic_made.status, 303, "{}", topic_made.body);
    let topic: i64 = scalar(&app, "SELECT id FROM topics WHERE key = 'webinars'").await;

    // The contact's page shows them at once, the markup in the name as text.
    let page = contact_page().await;
    assert!(page.contains("Webinars"), "{page}");
    assert!(page.contains("Events &lt;b&gt;live&lt;/b&gt;"), "{page}");
    assert!(!page.contains("<b>live</b>"));

    // The last purpose moves up: it is now before "Transactional".
    let overview = b.get(&format!("/admin/profiles/{profile}")).await;
    let order = |body: &str| {
        (
            body.find("Transactional").unwrap(),
            body.find("Events &lt;b&gt;").unwrap(),
        )
    };
    let (t, e) = order(&overview.body);
    assert!(t < e);
    let moved = b
        .post(
            &format!("/admin/purposes/{purpose}/move"),
            &form(&[("csrf", &csrf), ("direction", "up")]),
            Some(&base),
        )
        .await;
    assert_eq!(moved.status, 303);
    let (t, e) = order(&b.get(&format!("/admin/profiles/{profile}")).await.body);
    assert!(e < t, "moved up");
    let bad_move = b
        .post(
            &format!("/admin/purposes/{purpose}/move"),
            &form(&[("csrf", &csrf), ("direction", "sideways")]),
            Some(&base),
        )
        .await;
    assert_eq!(bad_move.status, 400);

    // The enforcement model changes: a new definition version; as of before, it was opt-out.
    let before_change = prefcenter::store::format_time(app.clock.now());
    app.clock.advance(Duration::from_secs(60));
    let edited = b
        .post(
            &format!("/admin/purposes/{purpose}/edit"),
            &form(&[
                ("csrf", &csrf),
                ("key", "ignored"),
                ("name", "Live events"),
                ("enforcement", "restrictive"),
                ("channels", "email"),
                ("channels", "sms"),
                ("min_level", "3"),
            ]),
            Some(&base),
        )
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    let reader = app.reader().await;
    let now = prefcenter::store::catalog::load(&reader, profile)
        .await
        .unwrap()
        .unwrap();
    let p = now.purpose(purpose).unwrap();
    assert_eq!(
        (p.key.as_str(), p.enforcement),
        ("events", Enforcement::Restrictive)
    );
    let then = prefcenter::store::catalog::load_as_of(&reader, profile, &before_change)
        .await
        .unwrap()
        .unwrap();
    let p = then.purpose(purpose).unwrap();
    assert_eq!(p.enforcement, Enforcement::NonRestrictive);
    assert_eq!(p.channels.len(), 1);
    assert!(!then.topic(topic).unwrap().retired);
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT COUNT(*) FROM purpose_versions WHERE purpose_id = {purpose}")
        )
        .await,
        2
    );

    // Retiring asks first, then hides the topic from the contact; nothing is deleted.
    let ask = b.get(&format!("/admin/topics/{topic}/retire")).await;
    assert_eq!(ask.status, 200);
    assert!(ask.body.contains("Retire Webinars?"));
    assert!(
        contact_page().await.contains("Webinars"),
        "asking changes nothing"
    );
    let retired = b
        .post(
            &format!("/admin/topics/{topic}/retire"),
            &form(&[("csrf", &csrf)]),
            Some(&base),
        )
        .await;
    assert_eq!(retired.status, 303);
    assert!(!contact_page().await.contains("Webinars"));
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM topics WHERE key = 'webinars'").await,
        1
    );
    let moment = prefcenter::store::format_time(app.clock.now());
    let cat = prefcenter::store::catalog::load_as_of(&reader, profile, &moment)
        .await
        .unwrap()
        .unwrap();
    assert!(cat.topic(topic).unwrap().retired);
    // Before the topic existed, it counts as retired too.
    let long_ago =
        prefcenter::store::catalog::load_as_of(&reader, profile, "2000-01-01T00:00:00.000000Z")
            .await
            .unwrap()
            .unwrap();
    assert!(long_ago.topic(topic).unwrap().retired && long_ago.purpose(purpose).unwrap().retired);
    let overview = b.get(&format!("/admin/profiles/{profile}")).await;
    assert!(overview.body.contains("Retired"));
    // The purpose goes too, with everything under it.
    assert_eq!(
        b.post(
            &format!("/admin/purposes/{purpose}/retire"),
            &form(&[("csrf", &csrf)]),
            Some(&base),
        )
        .await
        .status,
        303
    );
    let page = contact_page().await;
    assert!(!page.contains("Live events") && page.contains("Product updates"));

    let audit = b.get("/admin/audit").await.body;
    for kind in [
        "purpose.create",
        "topic.create",
        "purpose.move",
        "purpose.edit",
        "topic.retire",
        "purpose.retire",
    ] {
        assert!(audit.contains(kind), "{kind} in the audit log");
    }
    // Unknown ids are a 404, never an error.
    for path in [
        "/admin/purposes/9999/edit",
        "/admin/topics/9999/retire",
        "/admin/purposes/x/topics/new",
    ] {
        assert_eq!(b.get(path).await.status, 404, "{path}");
    }
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn a_profile_s_double_opt_in_settings_override_the_server_s() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let (mut b, csrf) = admin(&app).await;
    let profile = contoso(&app).await;
    let edit = b.get(&format!("/admin/profiles/{profile}/edit")).await;
    assert_eq!(edit.status, 200);
    // The stored values fill the form; only the double opt-in fields change.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for name in [
        "name",
        "sender_name",
        "sender_address",
        "reply_to",
        "privacy_url",
        "jurisdiction",
    ] {
        let marker = format!("name=\"{name}\" value=\"");
        let v = edit
            .body
            .find(&marker)
            .map(|i| {
                let rest = &edit.body[i + marker.len()..];
                rest[..rest.find('"').unwrap()].replace("&amp;", "&")
            })
            .unwrap_or_default();
        pairs.push((name.to_owned(), v));
    }
    let mut body: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    body.extend([
        ("csrf", csrf.as_str()),
        ("key", "contoso"),
        ("footer_address", "4567 Main Street"),
        ("default_locale", "en"),
        ("confirm_hours", "24"),
        ("reminder_hours", "0"),
    ]);
    let saved = b
        .post(
            &format!("/admin/profiles/{profile}/edit"),
            &form(&body),
            Some(&base),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let signup = app
        .post_form("/s/contoso", "email=new%40example.com&t1.email=on")
        .await;
    assert!(signup.status().is_success() || signup.status().is_redirection());
    let (created, expires, remind): (String, String, Option<String>) = sqlx::query_as(
        "SELECT CAST(created_at AS TEXT), CAST(expires_at AS TEXT), CAST(remind_at AS TEXT)
         FROM opt_in_requests ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert!(remind.is_none(), "no reminder for this profile");
    let parse = |s: &str| {
        time::OffsetDateTime::parse(
            &s.replace(' ', "T").replace("+00", "Z"),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap_or_else(|_| panic!("{s}"))
    };
    let hours = (parse(&expires) - parse(&created)).whole_hours();
    assert_eq!(hours, 24);
    // The legal footer and address show under the contact's page.
    let page = app
        .client
        .get(app.link("holly"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("4567 Main Street"));
    let _ = csrf_of(&edit.body);
}

#[tokio::test]
async fn names_in_other_languages_follow_the_contact_s_language() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let (mut b, csrf) = admin(&app).await;
    let topic: i64 = scalar(&app, "SELECT id FROM topics WHERE key = 'newsletter'").await;
    let edit = b.get(&format!("/admin/topics/{topic}/edit")).await;
    assert_eq!(edit.status, 200);
    // The profile's default is English: the other three are offered, each in its direction.
    assert!(edit.body.contains("Name in Deutsch") && edit.body.contains("Name in العربية"));
    assert!(!edit.body.contains("Name in English"));
    assert!(edit.body.contains("lang=\"ar\" dir=\"rtl\""));
    let saved = b
        .post(
            &format!("/admin/topics/{topic}/edit"),
            &form(&[
                ("csrf", &csrf),
                ("name", "Newsletter"),
                ("description", "Our monthly newsletter."),
                ("name_de", "Monatlicher Rundbrief"),
                ("description_de", "Einmal im Monat das Wichtigste."),
                ("name_ar", "النشرة الشهرية"),
                ("name_en", "Ignored: English is the default"),
            ]),
            Some(&base),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    // The demo's German, French and Arabic words for it are replaced by these two.
    assert_eq!(
        scalar(&app, &format!("SELECT COUNT(*) FROM item_texts WHERE subject_kind = 'topic' AND subject_id = {topic}")).await,
        2
    );

    // Lena has no stored language: her browser's decides; a link's ?lang= wins over it.
    let lena = app.link("lena").replace("/u/", "/p/");
    let get = |url: String, accept: &'static str| {
        let client = app.client.clone();
        async move {
            client
                .get(url)
                .header("accept-language", accept)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let de = get(lena.clone(), "de-DE,de;q=0.9,en;q=0.5").await;
    assert!(
        de.contains("<html lang=\"de\" dir=\"ltr\""),
        "{}",
        &de[..200]
    );
    assert!(de.contains("Monatlicher Rundbrief"));
    assert!(de.contains("Einmal im Monat das Wichtigste."));
    let ar = get(format!("{lena}?lang=ar"), "de").await;
    assert!(ar.contains("<html lang=\"ar\" dir=\"rtl\""));
    assert!(ar.contains("النشرة الشهرية"));
    // No Arabic description: the default one shows.
    assert!(ar.contains("Our monthly newsletter."));
    let en = get(lena.clone(), "it").await;
    assert!(en.contains("<html lang=\"en\"") && en.contains(">Newsletter<"));
    // Holly's stored language (English) wins over her browser's.
    let holly = get(app.link("holly").replace("/u/", "/p/"), "de").await;
    assert!(holly.contains("<html lang=\"en\""));
    // The audit log keeps the words in every language, before and after.
    let audit = b.get("/admin/audit?kind=topic.edit").await.body;
    assert!(audit.contains("Monatlicher Rundbrief"));
}

#[tokio::test]
async fn a_draft_design_changes_nothing_until_published_and_every_version_stays_as_it_was() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let (mut b, csrf) = admin(&app).await;
    let profile = contoso(&app).await;
    let designer = b.get(&format!("/admin/profiles/{profile}/design")).await;
    assert_eq!(designer.status, 200, "{}", designer.body);
    assert!(designer.headers["content-security-policy"].contains("frame-src 'self'"));
    assert_eq!(designer.headers["x-frame-options"], "DENY");
    // The demo's items, all shown.
    assert!(designer.body.contains("value=\"commercial/events\""));

    let bad = b
        .post(
            &format!("/admin/profiles/{profile}/design"),
            &form(&[
                ("csrf", &csrf),
                ("primary", "red; background: url(x)"),
                ("font", "system"),
            ]),
            Some(&base),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("id=\"f-primary-error\""));

    let draft = form(&[
        ("csrf", &csrf),
        ("primary", "#7a1f5c"),
        ("font", "serif"),
        ("header_de", "Ihre Wahl, jederzeit"),
        ("text_de_center_title", "Was möchten Sie von uns hören?"),
        ("show", "commercial"),
        ("show", "commercial/newsletter"),
        ("show", "commercial/product-updates"),
        ("show", "transactional"),
    ]);
    let saved = b
        .post(
            &format!("/admin/profiles/{profile}/design"),
            &draft,
            Some(&base),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = |url: String, accept: &'static str| {
        let client = app.client.clone();
        async move {
            client
                .get(url)
                .header("accept-language", accept)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let holly = app.link("holly").replace("/u/", "/p/");
    let lena = app.link("lena").replace("/u/", "/p/");
    // The draft is not what contacts see.
    let before = page(holly.clone(), "en").await;
    assert!(before.contains("--brand:#0f5fa8") && before.contains(">Events<"));
    // The preview is, framable by the console only, the hidden topic gone.
    let preview = b
        .get(&format!(
            "/admin/profiles/{profile}/design/preview?lang=de&page=center"
        ))
        .await;
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("--brand:#7a1f5c"));
    assert!(preview.body.contains("Was möchten Sie von uns hören?"));
    assert!(preview.body.contains("Ihre Wahl, jederzeit"));
    assert!(!preview.body.contains("Veranstaltungen"), "hidden");
    assert_eq!(preview.headers["x-frame-options"], "SAMEORIGIN");
    assert!(preview.headers["content-security-policy"].contains("frame-ancestors 'self'"));
    // A staff user may not see it.
    assert!(create_user(&app, "staff@contoso.com", "staff", GOOD).0);
    let mut staff = Browser::new(&app);
    assert_eq!(staff.sign_in("staff@contoso.com", GOOD).await.status, 303);
    assert_eq!(
        staff
            .get(&format!("/admin/profiles/{profile}/design/preview"))
            .await
            .status,
        403
    );

    let published = b
        .post(
            &format!("/admin/profiles/{profile}/design/publish"),
            &form(&[("csrf", &csrf)]),
            Some(&base),
        )
        .await;
    assert_eq!(published.status, 303);
    assert!(published.location.ends_with("done=published"));
    let after = page(holly.clone(), "en").await;
    assert!(after.contains("--brand:#7a1f5c"), "published at once");
    assert!(!after.contains(">Events<"));
    assert!(after.contains("font-family:Charter"));
    let german = page(lena.clone(), "de").await;
    assert!(
        german.contains("Was möchten Sie von uns hören?")
            && german.contains("Ihre Wahl, jederzeit")
    );
    // No "unsubscribe from everything" (the box was not ticked).
    let unsubscribe = page(app.link("holly"), "en").await;
    assert!(!unsubscribe.contains("unsubscribe_all"));

    // A change made now names version 2, in the language shown.
    let token = app.token("lena");
    let res = app
        .client
        .get(format!("{}/u/{token}", app.base))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stamp = res
        .split("name=\"stamp\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let newsletter: i64 = scalar(&app, "SELECT id FROM topics WHERE key = 'newsletter'").await;
    let done = app
        .post_form(
            &format!("/u/{token}"),
            &format!("stamp={stamp}&action=unsubscribe&topic=t{newsletter}.email"),
        )
        .await;
    assert!(done.status().is_redirection(), "{}", done.status());
    let (version, language): (i64, String) = sqlx::query_as(
        "SELECT form_version, language FROM consent_ledger ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&mut app.db().await)
    .await
    .unwrap();
    assert_eq!((version, language.as_str()), (2, "de"));

    // Version 1 opens as it was (the old colour, Events shown); version 2 as published.
    let v1 = b
        .get(&format!("/admin/profiles/{profile}/versions/1"))
        .await;
    assert_eq!(v1.status, 200);
    assert!(v1.body.contains("--brand:#0f5fa8") && v1.body.contains(">Events<"));
    let v2 = b
        .get(&format!("/admin/profiles/{profile}/versions/2?lang=de"))
        .await;
    assert!(
        v2.body.contains("--brand:#7a1f5c") && v2.body.contains("Was möchten Sie von uns hören?")
    );
    assert_eq!(
        b.get(&format!("/admin/profiles/{profile}/versions/9"))
            .await
            .status,
        404
    );
    // Versions never change, even from the database's own prompt.
    let mut db = app.db().await;
    assert!(sqlx::query("UPDATE form_versions SET design = '{}'")
        .execute(&mut db)
        .await
        .is_err());
    assert!(sqlx::query("DELETE FROM form_versions")
        .execute(&mut db)
        .await
        .is_err());
    let audit = b.get("/admin/audit").await.body;
    assert!(audit.contains("form.draft") && audit.contains("form.publish"));
    app.assert_ledger_sound().await;
}

/// A multipart upload of the designer's logo form.
async fn upload_logo(
    b: &mut Browser<'_>,
    profile: i64,
    csrf: &str,
    name: &str,
    bytes: &[u8],
) -> crate::console::Answer {
    let boundary = "----prefcenterLogo7Qx";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = b
        .app
        .client
        .post(format!(
            "{}/admin/profiles/{profile}/design/logo",
            b.app.base
        ))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("origin", b.app.base.clone())
        .body(body);
    b.send(req).await
}

#[tokio::test]
async fn a_logo_is_checked_by_its_bytes_and_served_by_its_hash() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let (mut b, csrf) = admin(&app).await;
    let profile = contoso(&app).await;
    // An SVG (with a script), or HTML called .png, is refused with its reason; nothing stored.
    let svg = upload_logo(
        &mut b,
        profile,
        &csrf,
        "logo.png",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
    )
    .await;
    assert_eq!(svg.status, 303);
    let page = b.get(&svg.location).await;
    assert!(
        page.body.contains("SVG files are not accepted"),
        "{}",
        page.body
    );
    let html = upload_logo(
        &mut b,
        profile,
        &csrf,
        "logo.png",
        b"<html><script>alert(1)</script></html>",
    )
    .await;
    assert!(b
        .get(&html.location)
        .await
        .body
        .contains("This is not a PNG, JPEG or WebP image."));
    // A form without a file says so.
    let empty = b
        .post(
            &format!("/admin/profiles/{profile}/design/logo"),
            &form(&[("csrf", &csrf)]),
            Some(&base),
        )
        .await;
    assert_eq!(empty.status, 303);
    assert!(b
        .get(&empty.location)
        .await
        .body
        .contains("Choose a file first."));
    // A query cannot put words on the page.
    let forged = b
        .get(&format!(
            "/admin/profiles/{profile}/design?logo_error=Call%20us%20now"
        ))
        .await;
    assert!(!forged.body.contains("Call us now"));
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM form_logos").await, 0);
    // Without the form's token, nothing.
    let no_token = upload_logo(
        &mut b,
        profile,
        "wrong",
        "logo.png",
        include_bytes!("fixtures/logo.png"),
    )
    .await;
    assert_eq!(no_token.status, 403);

    let ok = upload_logo(
        &mut b,
        profile,
        &csrf,
        "logo.png",
        include_bytes!("fixtures/logo.png"),
    )
    .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(ok.location.ends_with("done=saved"));
    let sha: String = sqlx::query_scalar("SELECT sha256 FROM form_logos")
        .fetch_one(&mut app.db().await)
        .await
        .unwrap();
    let served = app
        .client
        .get(format!("{base}/logo/{sha}"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert!(served.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        &served.bytes().await.unwrap()[..],
        include_bytes!("fixtures/logo.png")
    );
    assert_eq!(app.get("/logo/../../etc/passwd").await.status(), 404);
    assert_eq!(
        app.get(&format!("/logo/{}", "0".repeat(64))).await.status(),
        404
    );

    // In the draft and its preview; contacts see it once published; saving the rest of the
    // draft keeps it.
    let preview = b
        .get(&format!("/admin/profiles/{profile}/design/preview"))
        .await;
    assert!(preview.body.contains(&format!("src=\"/logo/{sha}\"")));
    assert!(preview.body.contains("alt=\"Contoso\""));
    let holly = app.link("holly");
    let page = || async {
        app.client
            .get(&holly)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(!page().await.contains("/logo/"));
    let saved = b
        .post(
            &format!("/admin/profiles/{profile}/design"),
            &form(&[
                ("csrf", &csrf),
                ("primary", "#0f5fa8"),
                ("font", "system"),
                ("show", "commercial"),
            ]),
            Some(&base),
        )
        .await;
    assert_eq!(saved.status, 303);
    let published = b
        .post(
            &format!("/admin/profiles/{profile}/design/publish"),
            &form(&[("csrf", &csrf)]),
            Some(&base),
        )
        .await;
    assert_eq!(published.status, 303);
    assert!(page().await.contains(&format!("src=\"/logo/{sha}\"")));
    // Removed from the draft, it stays in the published version until the next publish.
    let removed = b
        .post(
            &format!("/admin/profiles/{profile}/design/logo/remove"),
            &form(&[("csrf", &csrf)]),
            Some(&base),
        )
        .await;
    assert_eq!(removed.status, 303);
    assert!(page().await.contains("/logo/"));
    let audit = b.get("/admin/audit?kind=form.logo").await.body;
    assert!(audit.contains(&sha[..16]));
}

#[tokio::test]
async fn the_confirm_page_and_email_use_the_published_design_s_words() {
    let smtp = crate::smtp::Smtp::start();
    let app = crate::double_opt_in::app_with_smtp(smtp.port).await;
    let base = app.base.clone();
    let (mut b, csrf) = admin(&app).await;
    let profile = contoso(&app).await;
    let draft = form(&[
        ("csrf", &csrf),
        ("primary", "#0f5fa8"),
        ("font", "system"),
        ("show", "commercial"),
        ("show", "commercial/newsletter"),
        (
            "text_de_mail_subject",
            "Willkommen bei Contoso: einmal bestaetigen\r\nBcc: x@example.com",
        ),
        ("text_de_mail_button", "Ja, ich moechte das"),
        ("text_de_confirm_title", "Fast geschafft"),
    ]);
    assert_eq!(
        b.post(
            &format!("/admin/profiles/{profile}/design"),
            &draft,
            Some(&base)
        )
        .await
        .status,
        303
    );
    assert_eq!(
        b.post(
            &format!("/admin/profiles/{profile}/design/publish"),
            &form(&[("csrf", &csrf)]),
            Some(&base)
        )
        .await
        .status,
        303
    );
    let newsletter: i64 = scalar(&app, "SELECT id FROM topics WHERE key = 'newsletter'").await;
    let res = app
        .post_form(
            "/s/contoso",
            &format!("email=neu%40example.com&t{newsletter}.email=on&lang=de"),
        )
        .await;
    assert!(res.status().is_redirection() || res.status().is_success());
    let mail = smtp.wait_for(1).await.remove(0);
    // One line: the line break became a space, no header of its own.
    let subject = mail.header("Subject").unwrap();
    assert!(
        subject.contains("Willkommen bei Contoso: einmal bestaetigen Bcc: x@example.com"),
        "{subject}"
    );
    assert!(mail.header("Bcc").is_none());
    assert!(mail.raw.contains("Ja, ich moechte das"));
    let confirm = app.get(&mail.confirm_path()).await.text().await.unwrap();
    assert!(confirm.contains("Fast geschafft"), "{confirm}");
}

#[tokio::test]
async fn the_designer_s_live_preview_shows_unsaved_changes_and_saves_nothing() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let (mut b, csrf) = admin(&app).await;
    let profile = contoso(&app).await;
    let designer = b.get(&format!("/admin/profiles/{profile}/design")).await;
    assert_eq!(designer.status, 200);
    // The one console page with an island: its loader carries the nonce, the policy lets it
    // import this origin's bundle and compile WebAssembly, nothing more.
    assert!(
        designer.body.contains("<leptos-island"),
        "{}",
        designer.body
    );
    assert!(designer.body.contains("/pkg/prefcenter.js"));
    let csp = &designer.headers["content-security-policy"];
    assert!(
        csp.contains("script-src 'nonce-") && csp.contains("'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    // Other console pages and the contact's pages load no script at all.
    let home = b.get("/admin").await;
    assert!(!home.headers["content-security-policy"].contains("wasm"));
    assert!(!home.body.contains("<script"));
    let contact = app
        .client
        .get(app.link("holly").replace("/u/", "/p/"))
        .send()
        .await
        .unwrap();
    let contact_csp = contact.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let script_src = contact_csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap()
        .to_owned();
    assert!(
        !script_src.contains("wasm") && !script_src.contains("'self'"),
        "{contact_csp}"
    );
    assert!(!contact.text().await.unwrap().contains("<script"));

    // The form as it stands, posted into a frame: the unsaved header shows, the draft is
    // untouched.
    let drafts = scalar(&app, "SELECT COUNT(*) FROM form_drafts").await;
    let unsaved = form(&[
        ("csrf", &csrf),
        ("primary", "#7a1f5c"),
        ("font", "serif"),
        ("header_en", "Tuned as you type"),
        ("show", "commercial"),
    ]);
    let shown = b
        .post(
            &format!("/admin/profiles/{profile}/design/preview?page=center&lang=en"),
            &unsaved,
            Some(&base),
        )
        .await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("Tuned as you type"));
    assert!(shown.body.contains("--brand:#7a1f5c"));
    assert_eq!(shown.headers["x-frame-options"], "SAMEORIGIN");
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM form_drafts").await,
        drafts
    );
    let again = b.get(&format!("/admin/profiles/{profile}/design")).await;
    assert!(!again.body.contains("Tuned as you type"), "nothing saved");
    // Buttons and hints are the design's words too.
    let worded = form(&[
        ("csrf", &csrf),
        ("primary", "#7a1f5c"),
        ("font", "serif"),
        ("unsubscribe_all", "on"),
        ("text_en_save", "Keep these choices"),
        ("text_en_unsubscribe_all", "Stop every email"),
        (
            "text_en_unsubscribe_all_hint",
            "Nothing optional arrives after this.",
        ),
    ]);
    for (page, words) in [
        ("center", &["Keep these choices"][..]),
        (
            "unsubscribe",
            &["Stop every email", "Nothing optional arrives after this."][..],
        ),
    ] {
        let shown = b
            .post(
                &format!("/admin/profiles/{profile}/design/preview?page={page}&lang=en"),
                &worded,
                Some(&base),
            )
            .await;
        for w in words {
            assert!(shown.body.contains(w), "{page}: {w}");
        }
    }
    // A colour the designer would refuse: the frame says why.
    let refused = b
        .post(
            &format!("/admin/profiles/{profile}/design/preview?page=center&lang=en"),
            &form(&[
                ("csrf", &csrf),
                ("primary", "url(javascript:x)"),
                ("font", "serif"),
            ]),
            Some(&base),
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("six hexadecimal digits"));
    // Without the form's token, or from another site: refused.
    for (body, origin) in [
        (
            form(&[("primary", "#7a1f5c"), ("font", "serif")]),
            base.as_str(),
        ),
        (unsaved.clone(), "https://evil.example"),
    ] {
        let r = b
            .post(
                &format!("/admin/profiles/{profile}/design/preview"),
                &body,
                Some(origin),
            )
            .await;
        assert_eq!(r.status, 403);
    }

    // The island's server function: the same rules, nothing saved.
    let check = |body: &str| {
        let req = app
            .client
            .post(format!("{base}/admin/fn/check_design"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", &base)
            .body(format!("profile={profile}&form={}", urlencode(body)));
        req
    };
    let pale = b.send(check("primary=%23ffd966&font=system")).await;
    assert_eq!(pale.status, 200, "{}", pale.body);
    let v: serde_json::Value = serde_json::from_str(&pale.body).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 0);
    assert!(v["warnings"][0].as_str().unwrap().contains("4.5:1"), "{v}");
    let bad = b.send(check("primary=ffd966&font=system")).await;
    let v: serde_json::Value = serde_json::from_str(&bad.body).unwrap();
    assert_eq!(v["errors"][0][0], "primary", "{v}");
    let nowhere = b
        .send(
            app.client
                .post(format!("{base}/admin/fn/check_design"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", &base)
                .body("profile=999999&form="),
        )
        .await;
    assert_eq!(nowhere.status, 404, "{}", nowhere.body);
    let v: serde_json::Value = serde_json::from_str(&nowhere.body).unwrap();
    assert_eq!(v["code"], "not_found");
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM form_drafts").await,
        drafts
    );
    app.stop().await;
}

#[tokio::test]
async fn a_past_version_opens_with_the_legal_words_its_contacts_saw() {
    let app = spawn_app().await;
    let base = app.base.clone();
    let (mut b, csrf) = admin(&app).await;
    let profile = contoso(&app).await;
    let design = form(&[("csrf", &csrf), ("primary", "#0f5fa8"), ("font", "system")]);
    let d = format!("/admin/profiles/{profile}/design");
    assert_eq!(b.post(&d, &design, Some(&base)).await.status, 303);
    assert_eq!(
        b.post(
            &format!("{d}/publish"),
            &form(&[("csrf", &csrf)]),
            Some(&base)
        )
        .await
        .status,
        303
    );
    let version: i64 = scalar(
        &app,
        "SELECT MAX(version) FROM form_versions WHERE profile_id = (SELECT id FROM compliance_profiles WHERE key = 'contoso')",
    )
    .await;
    let before = b
        .get(&format!("/admin/profiles/{profile}/versions/{version}"))
        .await;
    assert_eq!(before.status, 200);
    assert!(!before.body.contains("Registered in Ruritania"));
    let shown_at = app.clock.now_str();

    // Later the profile's legal words change (the demo's profile: its first words are kept).
    app.clock.advance(Duration::from_secs(600));
    let edit = form(&[
        ("csrf", &csrf),
        ("name", "Contoso Group"),
        ("sender_address", "news@contoso.com"),
        ("footer_address", "Contoso Group, 9 New Street, Springfield"),
        ("legal_footer", "Registered in Ruritania, no. 42"),
        ("default_locale", "en"),
    ]);
    let saved = b
        .post(
            &format!("/admin/profiles/{profile}/edit"),
            &edit,
            Some(&base),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(!saved.location.contains("sign-in"), "{}", saved.location);
    // Contacts see the new words at once.
    let contact = app
        .client
        .get(app.link("holly").replace("/u/", "/p/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(contact.contains("Registered in Ruritania"));
    // The version opens with the words of its publication, or of any moment asked for.
    let old = b
        .get(&format!("/admin/profiles/{profile}/versions/{version}"))
        .await;
    assert!(
        !old.body.contains("Registered in Ruritania"),
        "as published"
    );
    assert!(!old.body.contains("Contoso Group"));
    assert_eq!(
        old.body,
        before
            .body
            .replace(&nonce_of(&before.body), &nonce_of(&old.body))
    );
    let at = |t: &str| {
        format!(
            "/admin/profiles/{profile}/versions/{version}?at={}",
            urlencode(t)
        )
    };
    let then = b.get(&at(&shown_at)).await;
    assert!(!then.body.contains("Registered in Ruritania"));
    let now = b.get(&at(&app.clock.now_str())).await;
    assert!(now.body.contains("Registered in Ruritania"));
    assert!(now.body.contains("Contoso Group, 9 New Street"));
    // A moment that is not one: as published.
    let junk = b.get(&at("yesterday")).await;
    assert_eq!(junk.status, 200);
    assert!(!junk.body.contains("Registered in Ruritania"));
    app.stop().await;
}

fn nonce_of(html: &str) -> String {
    html.split("nonce=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("")
        .to_owned()
}
