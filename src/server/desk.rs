//! The console's staff desk (staff and admins: `Permission::RecordConsent`): find a contact,
//! see one whole.

use super::console::Console;
use super::pages::Page;
use super::AppState;
use crate::domain::auth::Permission;
use crate::domain::search::Query;
use crate::pages;
use crate::services::desk;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

/// `GET /admin/contacts` (`?q=`): the search form, and what the query finds.
pub async fn contacts(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::RecordConsent, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    // A NUL can match nothing stored, and PostgreSQL refuses it in text: it goes.
    let typed: String = page
        .query_value("q")
        .unwrap_or_default()
        .replace('\0', "")
        .chars()
        .take(200)
        .collect();
    let (found, error) = if typed.trim().is_empty() {
        (None, None)
    } else {
        match Query::parse(&typed) {
            None => (
                None,
                Some("Type letters or digits of a name, an address or a number.".to_owned()),
            ),
            Some(q) => match desk::search(&state.core, &q).await {
                Ok(f) => (Some(f), None),
                Err(e) => return page.error(e, "contact search").await,
            },
        }
    };
    let view = pages::ContactsView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        query: typed,
        found,
        error,
        limit: desk::MAX_FOUND,
    };
    page.send(StatusCode::OK, move || pages::contacts_page(view))
        .await
}

/// `GET /admin/contacts/{id}`: one contact whole.
pub async fn contact(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::RecordConsent, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let found = match page.segment_i64(3) {
        Some(id) => desk::contact(&state.core, id).await,
        None => Ok(None),
    };
    let contact = match found {
        Ok(Some(c)) => c,
        Ok(None) => {
            return page
                .send(StatusCode::NOT_FOUND, || {
                    leptos::view! {
                        <pages::MessagePage brand=None lang=crate::domain::parse::Lang::En
                            title="No such contact"
                            body="There is no contact with this number."
                            hint="Find the contact from the Contacts page of the console."/>
                    }
                })
                .await
        }
        Err(e) => return page.error(e, "contact").await,
    };
    let view = pages::ContactView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        contact,
    };
    page.send(StatusCode::OK, move || pages::contact_page(view))
        .await
}
