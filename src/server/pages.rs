//! `GET` of the contact's pages: parse the link at the edge, load through the service, render
//! the Leptos view into the document in one pass. GET and HEAD never change anything.

use super::headers::RequestScope;
use super::{info_from, AppState};
use crate::domain::parse::Lang;
use crate::pages;
use crate::services::consent::{self, RequestInfo, ServiceError};
use crate::services::optin;
use crate::views::PreferencesView;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::IntoView;
use std::net::SocketAddr;

/// The query's parameters; an unreadable query is an empty one (the page still renders).
struct Query(Vec<(String, String)>);

impl Query {
    fn new(raw: Option<&str>) -> Query {
        Query(
            raw.and_then(|q| serde_urlencoded::from_str(q).ok())
                .unwrap_or_default(),
        )
    }
    /// The first value of `name`.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What every page handler reads from the request's head (an extractor that never fails).
pub struct Page {
    path: String,
    nonce: Option<String>,
    pub(super) info: RequestInfo,
    query: Query,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Page, Self::Rejection> {
        let scope = parts.extensions.get::<RequestScope>();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(Page {
            path: parts.uri.path().to_owned(),
            nonce: scope.map(|s| s.nonce().to_owned()),
            info: info_from(
                &parts.headers,
                peer,
                scope.map(|s| s.request_id().to_owned()),
                state.trust_forwarded_for,
            ),
            query: Query::new(parts.uri.query()),
        })
    }
}

impl Page {
    /// Segment `index` of the path (`/u/{token}` → 2), percent-decoded exactly once, as the
    /// POST to the same URL reads it. A segment that is not UTF-8 once decoded is empty (an
    /// invalid link, not an error).
    pub(super) fn segment(&self, index: usize) -> String {
        self.path
            .split('/')
            .nth(index)
            .and_then(|raw| {
                percent_encoding::percent_decode_str(raw)
                    .decode_utf8()
                    .ok()
                    .map(|s| s.into_owned())
            })
            .unwrap_or_default()
    }

    /// A query parameter's first value.
    pub(super) fn query_value(&self, name: &str) -> Option<String> {
        self.query.get(name).map(str::to_owned)
    }

    /// Every value of a query parameter, in order.
    pub(super) fn query_values(&self, name: &str) -> Vec<String> {
        self.query
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Segment `index` of the path as a positive number (an id), if it is one.
    pub(super) fn segment_i64(&self, index: usize) -> Option<i64> {
        self.segment(index).parse().ok().filter(|n: &i64| *n > 0)
    }

    pub(super) fn lang(&self) -> Option<&str> {
        self.query.get("lang")
    }

    pub(super) async fn send<V: IntoView + 'static>(
        self,
        status: StatusCode,
        view: impl FnOnce() -> V,
    ) -> Response {
        let html = pages::render(self.nonce, view).await;
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response()
    }

    /// The page of an error: one invalid-link page for every bad link, else "try again".
    pub(super) async fn error(self, e: ServiceError, what: &'static str) -> Response {
        match e {
            ServiceError::InvalidLink => {
                let lang = consent::fallback_lang(self.lang(), &self.info);
                self.send(StatusCode::NOT_FOUND, move || {
                    pages::invalid_link_page(lang)
                })
                .await
            }
            e => {
                let status = match &e {
                    ServiceError::Store(s) if s.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                tracing::error!(error = %e, what, "loading a page failed");
                self.send(status, pages::failed_page).await
            }
        }
    }
}

/// `GET /u/{token}`: the unsubscribe page.
pub async fn unsubscribe(State(state): State<AppState>, page: Page) -> Response {
    preferences(state, page, pages::unsubscribe_page, "unsubscribe page").await
}

/// `GET /p/{token}`: the subscription center.
pub async fn center(State(state): State<AppState>, page: Page) -> Response {
    preferences(state, page, pages::center_page, "subscription center").await
}

/// A page of the link's preferences, drawn by `view`.
async fn preferences<V: IntoView + 'static>(
    state: AppState,
    page: Page,
    view: fn(&str, PreferencesView) -> V,
    what: &'static str,
) -> Response {
    let token = page.segment(2);
    match consent::preferences(&state.core, &token, page.lang(), &page.info).await {
        Ok(v) => page.send(StatusCode::OK, move || view(&token, v)).await,
        Err(e) => page.error(e, what).await,
    }
}

/// `GET /u/{token}/done/{change}`: what one action changed, with its undo.
pub async fn done(State(state): State<AppState>, page: Page) -> Response {
    let (token, change) = (page.segment(2), page.segment(4));
    match consent::change(&state.core, &token, &change, page.lang(), &page.info).await {
        Ok(v) => {
            page.send(StatusCode::OK, move || pages::done_page(&token, v))
                .await
        }
        Err(e) => page.error(e, "done page").await,
    }
}

/// `GET /u/{token}/done/{change}/receipt`: the signed receipt of that change, as a file.
pub async fn change_receipt(State(state): State<AppState>, page: Page) -> Response {
    let (token, change) = (page.segment(2), page.segment(4));
    match consent::change_receipt(&state.core, &token, &change, page.lang(), &page.info).await {
        Ok(issued) => super::receipt::download(issued),
        Err(e) => page.error(e, "receipt").await,
    }
}

/// `GET /c/{token}/receipt`: the signed receipt of what a confirmation opted in.
pub async fn confirm_receipt(State(state): State<AppState>, page: Page) -> Response {
    let Some(token) = optin::Token::parse(&page.segment(2)) else {
        return page.error(ServiceError::InvalidLink, "receipt").await;
    };
    match optin::confirm_receipt(&state.core, &token).await {
        Ok(issued) => super::receipt::download(issued),
        Err(e) => page.error(e, "receipt").await,
    }
}

/// `GET /c/{token}`: the double opt-in confirm page (opening it confirms nothing).
pub async fn confirm(State(state): State<AppState>, page: Page) -> Response {
    let raw_token = page.segment(2);
    let Some(token) = optin::Token::parse(&raw_token) else {
        return page.error(ServiceError::InvalidLink, "confirm page").await;
    };
    let lang = page.lang().and_then(Lang::parse);
    match optin::confirm_page(&state.core, &token, lang).await {
        Ok(v) => {
            let after = page.query.get("done").map(str::to_owned);
            page.send(StatusCode::OK, move || {
                pages::confirm_page(&raw_token, v, after.as_deref())
            })
            .await
        }
        Err(e) => page.error(e, "confirm page").await,
    }
}

/// `GET /s/{profile}`: a profile's public sign-up form.
pub async fn signup(State(state): State<AppState>, page: Page) -> Response {
    let profile = page.segment(2);
    let lang = consent::fallback_lang(page.lang(), &page.info);
    match optin::signup_form(&state.core, &profile, lang).await {
        Ok(v) => {
            let sent = page.query.get("sent").is_some();
            let error = page.query.get("error").map(str::to_owned);
            page.send(StatusCode::OK, move || {
                pages::signup_page(v, sent, error.as_deref())
            })
            .await
        }
        Err(e) => page.error(e, "sign-up form").await,
    }
}
