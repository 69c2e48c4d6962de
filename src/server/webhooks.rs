//! The console's webhooks routes (admins: `Permission::ManageWebhooks`): endpoints registered
//! (the secret shown once, on the answer to the POST), each endpoint's deliveries, replaying
//! one, disabling and enabling an endpoint.

use super::console::Console;
use super::contact::field;
use super::pages::Page;
use super::AppState;
use crate::domain::auth::Permission;
use crate::domain::webhook::EventType;
use crate::pages;
use crate::services::webhooks::{self, EndpointRefused};
use crate::store::webhooks as db;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "There is no such webhook endpoint.").into_response()
}

async fn list(
    state: &AppState,
    console: &Console,
    page: Page,
    status: StatusCode,
    made: Option<(String, String)>,
    error: Option<(&'static str, String)>,
    typed: (String, String),
) -> Response {
    let (endpoints, profiles) = match (
        db::endpoints(&state.core.read).await,
        crate::services::setup::profiles(&state.core).await,
    ) {
        (Ok(e), Ok(p)) => (e, p),
        (Err(e), _) => return page.error(e.into(), "webhooks").await,
        (_, Err(e)) => return page.error(e, "webhooks").await,
    };
    let name_of = |id: i64| profiles.iter().find(|p| p.id == id).map(|p| p.name.clone());
    let view = pages::WebhooksView {
        email: console.user.email.clone(),
        csrf: console.su.csrf.clone(),
        endpoints: endpoints.into_iter().map(|e| row(e, &name_of)).collect(),
        profiles: profiles.iter().map(|p| (p.id, p.name.clone())).collect(),
        made,
        error,
        typed,
        allow_private: state.webhooks_allow_private,
    };
    page.send(status, move || pages::webhooks_page(view)).await
}

fn row(e: db::Endpoint, name_of: &impl Fn(i64) -> Option<String>) -> pages::EndpointRow {
    pages::EndpointRow {
        id: e.id,
        url: e.url,
        description: e.description,
        events: e.events,
        profile: e.profile_id.and_then(name_of),
        created: e.created_at,
        created_by: e.created_by,
        disabled: e.disabled_at,
        previous_until: e.previous_until,
    }
}

/// `GET /admin/webhooks`.
pub async fn page(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ManageWebhooks, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    list(
        &state,
        &console,
        page,
        StatusCode::OK,
        None,
        None,
        Default::default(),
    )
    .await
}

/// `POST /admin/webhooks`: registers an endpoint and shows its secret this once.
pub async fn create(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, pairs) = match console
        .posted(Permission::ManageWebhooks, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let url = field(&pairs, "url").unwrap_or("").trim().to_owned();
    let description = field(&pairs, "description").unwrap_or("").to_owned();
    let events: Vec<EventType> = pairs
        .iter()
        .filter(|(k, _)| k == "event")
        .filter_map(|(_, v)| EventType::parse(v))
        .collect();
    let (page, profile) = match super::console::chosen_profile(&state, page, &pairs).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let made = webhooks::create_endpoint(
        &state.core,
        state.webhooks_allow_private,
        &url,
        &description,
        events,
        profile,
        console.actor(),
    )
    .await;
    let error = match made {
        Ok(Ok((_, secret))) => {
            return list(
                &state,
                &console,
                page,
                StatusCode::OK,
                Some((url, secret)),
                None,
                Default::default(),
            )
            .await
        }
        Ok(Err(EndpointRefused::Url(e))) => ("url", format!("The address is refused: {e}.")),
        Ok(Err(EndpointRefused::Resolves(why))) => {
            ("url", format!("The address is refused: {why}."))
        }
        Ok(Err(EndpointRefused::NoEvents)) => ("events", "Choose at least one event.".to_owned()),
        Ok(Err(EndpointRefused::Description)) => (
            "description",
            "A description has at most 200 characters.".to_owned(),
        ),
        Err(e) => return page.error(e, "register webhook").await,
    };
    list(
        &state,
        &console,
        page,
        StatusCode::BAD_REQUEST,
        None,
        Some(error),
        (url, description),
    )
    .await
}

/// `GET /admin/webhooks/{id}`: the endpoint and its latest deliveries.
pub async fn endpoint(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ManageWebhooks, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found();
    };
    endpoint_with(&state, &console, page, id, None).await
}

/// `POST /admin/webhooks/{id}/rotate`: a new signing secret, shown this once; the previous
/// one signs too for a day.
pub async fn rotate(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, _) = match console
        .posted(Permission::ManageWebhooks, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return not_found();
    };
    match webhooks::rotate_secret(&state.core, id, console.actor()).await {
        Ok(Some(secret)) => endpoint_with(&state, &console, page, id, Some(secret)).await,
        Ok(None) => not_found(),
        Err(e) => page.error(e, "webhook endpoint").await,
    }
}

/// The endpoint's page; `new_secret`: a secret just made, shown this once.
async fn endpoint_with(
    state: &AppState,
    console: &Console,
    page: Page,
    id: i64,
    new_secret: Option<String>,
) -> Response {
    let found = match db::endpoint_by_id(&state.core.read, id).await {
        Ok(Some(e)) => e,
        Ok(None) => return not_found(),
        Err(e) => return page.error(e.into(), "webhook endpoint").await,
    };
    let (deliveries, profiles) = match (
        db::deliveries(&state.core.read, id, 200).await,
        crate::services::setup::profiles(&state.core).await,
    ) {
        (Ok(d), Ok(p)) => (d, p),
        (Err(e), _) => return page.error(e.into(), "webhook endpoint").await,
        (_, Err(e)) => return page.error(e, "webhook endpoint").await,
    };
    let name_of = |id: i64| profiles.iter().find(|p| p.id == id).map(|p| p.name.clone());
    let done = match page.query_value("done").as_deref() {
        Some("replayed") => Some("The message is queued to be sent again."),
        Some("disabled") => Some("The endpoint is disabled: nothing is sent to it."),
        Some("enabled") => Some("The endpoint is enabled: what waited is being sent."),
        _ => None,
    };
    let view = pages::EndpointView {
        email: console.user.email.clone(),
        csrf: console.su.csrf.clone(),
        endpoint: {
            // The previous secret is named only while it still signs.
            let now = crate::store::format_time(state.core.clock.now());
            let mut r = row(found, &name_of);
            r.previous_until = r.previous_until.filter(|u| *u > now);
            r
        },
        deliveries: deliveries
            .into_iter()
            .map(|d| pages::DeliveryRow {
                id: d.id,
                message_id: d.message_id,
                event_type: d.event_type,
                status: d.status,
                attempts: d.attempts,
                next_attempt_at: d.next_attempt_at,
                last_error: d.last_error,
                last_status: d.last_status,
                created: d.created_at,
                finished: d.finished_at,
                replayable: d.replayable,
            })
            .collect(),
        done,
        new_secret,
    };
    page.send(StatusCode::OK, move || pages::endpoint_page(view))
        .await
}

/// `POST /admin/webhooks/{id}/disable` and `/enable`.
pub async fn toggle(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, _) = match console
        .posted(Permission::ManageWebhooks, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let enable = page.segment(4) == "enable";
    match webhooks::set_enabled(&state.core, id, enable, console.actor()).await {
        Ok(_) => Redirect::to(&format!(
            "/admin/webhooks/{id}?done={}",
            if enable { "enabled" } else { "disabled" }
        ))
        .into_response(),
        Err(e) => page.error(e, "webhook endpoint").await,
    }
}

/// `POST /admin/webhooks/deliveries/{id}/replay`.
pub async fn replay(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, _) = match console
        .posted(Permission::ManageWebhooks, &state, page, &headers, body)
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(4) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let endpoint = match db::endpoint_of_delivery(&state.core.read, id).await {
        Ok(Some(e)) => e,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return page.error(e.into(), "webhook replay").await,
    };
    match webhooks::replay(&state.core, id, console.actor()).await {
        Ok(true) => {
            Redirect::to(&format!("/admin/webhooks/{endpoint}?done=replayed")).into_response()
        }
        Ok(false) => (
            StatusCode::CONFLICT,
            "This message cannot be sent again: it is still queued, or its payload was erased.",
        )
            .into_response(),
        Err(e) => page.error(e, "webhook replay").await,
    }
}
