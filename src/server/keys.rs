//! The console's API keys routes (admins: `Permission::ManageApiKeys`): the list, making a key
//! (shown once, on the answer to the POST that made it, never in a URL), revoking one.

use super::console::Console;
use super::contact::field;
use super::pages::Page;
use super::AppState;
use crate::domain::apikey::{Scope, Scopes};
use crate::domain::auth::Permission;
use crate::pages;
use crate::services::api;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// The page, with what the last action left to say.
async fn respond(
    state: &AppState,
    console: &Console,
    page: Page,
    status: StatusCode,
    made: Option<(String, String)>,
    error: Option<(&'static str, String)>,
    name: String,
) -> Response {
    let (keys, profiles) = match (
        api::keys(&state.core).await,
        crate::services::setup::profiles(&state.core).await,
    ) {
        (Ok(k), Ok(p)) => (k, p),
        (Err(e), _) | (_, Err(e)) => return page.error(e, "api keys").await,
    };
    let name_of = |id: i64| profiles.iter().find(|p| p.id == id).map(|p| p.name.clone());
    let rows = keys
        .into_iter()
        .map(|k| pages::KeyRow {
            id: k.id,
            prefix: k.prefix,
            name: k.name,
            scopes: k.scopes.iter().collect(),
            profile: k.profile_id.and_then(name_of),
            created: k.created_at,
            created_by: k.created_by,
            last_used: k.last_used_at,
            revoked: k.revoked_at,
        })
        .collect();
    let done = match page.query_value("done").as_deref() {
        Some("revoked") => Some("The key is revoked: its next call is refused."),
        _ => None,
    };
    let view = pages::ApiKeysView {
        email: console.user.email.clone(),
        csrf: console.su.csrf.clone(),
        keys: rows,
        profiles: profiles.iter().map(|p| (p.id, p.name.clone())).collect(),
        made,
        done,
        error,
        name,
    };
    page.send(status, move || pages::api_keys_page(view)).await
}

/// `GET /admin/api-keys`.
pub async fn page(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ManageApiKeys, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    respond(
        &state,
        &console,
        page,
        StatusCode::OK,
        None,
        None,
        String::new(),
    )
    .await
}

/// `POST /admin/api-keys`: makes a key and shows it this once.
pub async fn create(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, pairs) = match console
        .posted(Permission::ManageApiKeys, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name: String = field(&pairs, "name")
        .unwrap_or("")
        .replace(['\0', '\r', '\n'], " ")
        .trim()
        .to_owned();
    let scopes = Scopes::new(
        pairs
            .iter()
            .filter(|(k, _)| k == "scope")
            .filter_map(|(_, v)| Scope::parse(v))
            .collect(),
    );
    let error = if name.is_empty() || name.chars().count() > 100 {
        Some((
            "name",
            "Give the key a name of up to 100 characters.".to_owned(),
        ))
    } else if scopes.is_empty() {
        Some((
            "scopes",
            "Choose at least one thing the key may do.".to_owned(),
        ))
    } else {
        None
    };
    let (page, profile) = match super::console::chosen_profile(&state, page, &pairs).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some(error) = error {
        return respond(
            &state,
            &console,
            page,
            StatusCode::BAD_REQUEST,
            None,
            Some(error),
            name,
        )
        .await;
    }
    match api::create_key(&state.core, name.clone(), scopes, profile, console.actor()).await {
        Ok((_, whole)) => {
            respond(
                &state,
                &console,
                page,
                StatusCode::OK,
                Some((name, whole)),
                None,
                String::new(),
            )
            .await
        }
        Err(e) => page.error(e, "make api key").await,
    }
}

/// `POST /admin/api-keys/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, _) = match console
        .posted(Permission::ManageApiKeys, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match api::revoke_key(&state.core, id, console.actor()).await {
        Ok(true) => Redirect::to("/admin/api-keys?done=revoked").into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => page.error(e, "revoke api key").await,
    }
}
