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
