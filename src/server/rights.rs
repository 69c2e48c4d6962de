//! The contact's data requests on the public pages: asking from the preference page
//! (`POST /u/{token}/request`, then `GET /u/{token}/sent`), the emailed download link
//! (`GET /d/{token}`, its `data.json` and `history.csv`) and the emailed erasure link
//! (`GET /f/{token}` shows what it does; its button, `POST /f/{token}`, does it). Links are
//! parsed at the edge; every bad one gets the one invalid-link page.

use super::contact::{error_response, field, form_pairs};
use super::pages::Page;
use super::{request_info, AppState};
use crate::domain::parse::Lang;
use crate::domain::rights::RequestKind;
use crate::domain::token::RequestToken;
use crate::pages::{self, Sent};
use crate::services::consent::{self, ServiceError};
use crate::services::rights::{self, Asked, Forgotten};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// `POST /u/{token}/request`: a copy of the contact's data, or erasure (`kind`).
pub async fn post_request(
    State(state): State<AppState>,
    token: Result<Path<String>, axum::extract::rejection::PathRejection>,
    req_parts: super::RequestParts,
    body: Bytes,
) -> Response {
    let headers = &req_parts.headers;
    let Ok(Path(token)) = token else {
        return error_response(ServiceError::InvalidLink, headers);
    };
    let info = request_info(&req_parts, state.trust_forwarded_for);
    let Some(pairs) = form_pairs(headers, body).await else {
        return error_response(ServiceError::BadInput("unreadable_form"), headers);
    };
    let Some(kind) = field(&pairs, "kind").and_then(RequestKind::parse) else {
        return error_response(ServiceError::BadInput("unknown_request"), headers);
    };
    let lang = field(&pairs, "lang").and_then(Lang::parse);
    match rights::ask_from_link(&state.core, &token, kind, lang.map(Lang::code), &info).await {
        Ok(done) => {
            let sent = match (done.asked, kind) {
                (Asked::Same(_), _) => "same",
                (_, RequestKind::Access) => "copy",
                (_, RequestKind::Erasure) => "erasure",
            };
            let token = utf8_percent(&token);
            Redirect::to(&format!(
                "/u/{token}/sent?what={sent}&lang={}",
                done.lang.code()
            ))
            .into_response()
        }
        Err(ServiceError::BadInput("no_email_address")) => {
            let lang = lang.unwrap_or_else(|| consent::fallback_lang(None, &info));
            let t = crate::i18n::texts(lang);
            super::render_message(
                StatusCode::UNPROCESSABLE_ENTITY,
                lang,
                t.bad_request_title,
                crate::i18n::rights_texts(lang).rights_no_email,
                None,
            )
        }
        Err(e) => error_response(e, headers),
    }
}

/// A path segment written back into a URL.
fn utf8_percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `GET /u/{token}/sent`: the request's email is on its way (or was, moments ago).
pub async fn sent(State(state): State<AppState>, page: Page) -> Response {
    let token = page.segment(2);
    let sent = match page.query_value("what").as_deref() {
        Some("copy") => Sent::Copy,
        Some("erasure") => Sent::Erasure,
        _ => Sent::Same,
    };
    match consent::link_owner(&state.core, &token, page.lang(), &page.info).await {
        Ok(o) => {
            page.send(StatusCode::OK, move || {
                pages::sent_page(o.brand, o.lang, o.address, sent, &token)
            })
            .await
        }
        Err(e) => page.error(e, "data request sent page").await,
    }
}

/// `GET /d/{token}`: the downloads of the contact's data package.
pub async fn download_page(State(state): State<AppState>, page: Page) -> Response {
    let raw = page.segment(2);
    let Some(token) = RequestToken::parse(&raw) else {
        return page.error(ServiceError::InvalidLink, "download page").await;
    };
    match rights::link_page(&state.core, &token, RequestKind::Access, page.lang()).await {
        Ok(p) => {
            let until = crate::i18n::date(p.lang, p.expires_at);
            page.send(StatusCode::OK, move || {
                pages::download_page(p.brand, p.lang, p.address, &raw, until)
            })
            .await
        }
        Err(e) => page.error(e, "download page").await,
    }
}

/// `GET /d/{token}/data.json` and `/d/{token}/history.csv`: the package itself.
pub async fn download(State(state): State<AppState>, page: Page) -> Response {
    let Some(token) = RequestToken::parse(&page.segment(2)) else {
        return page.error(ServiceError::InvalidLink, "data package").await;
    };
    let csv = match page.segment(3).as_str() {
        "history.csv" => true,
        "data.json" => false,
        _ => return page.error(ServiceError::InvalidLink, "data package").await,
    };
    match rights::download(&state.core, &token, csv, &page.info).await {
        Ok((bytes, name)) => (
            [
                (
                    header::CONTENT_TYPE,
                    if csv {
                        "text/csv; charset=utf-8"
                    } else {
                        "application/json"
                    },
                ),
                (
                    header::CONTENT_DISPOSITION,
                    &format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => page.error(e, "data package").await,
    }
}

/// `GET /f/{token}`: what an erasure does, and its button (opening the link erases nothing).
pub async fn forget_page(State(state): State<AppState>, page: Page) -> Response {
    let raw = page.segment(2);
    let Some(token) = RequestToken::parse(&raw) else {
        return page.error(ServiceError::InvalidLink, "erasure page").await;
    };
    match rights::link_page(&state.core, &token, RequestKind::Erasure, page.lang()).await {
        Ok(p) if !p.request.status.is_closed() => {
            page.send(StatusCode::OK, move || {
                pages::forget_page(p.brand, p.lang, p.address, &raw)
            })
            .await
        }
        Ok(_) => page.error(ServiceError::InvalidLink, "erasure page").await,
        Err(e) => page.error(e, "erasure page").await,
    }
}

/// `POST /f/{token}`: the contact confirms the erasure; it is carried out at once.
pub async fn post_forget(State(state): State<AppState>, page: Page, body: Bytes) -> Response {
    let Some(token) = RequestToken::parse(&page.segment(2)) else {
        return page.error(ServiceError::InvalidLink, "erasure").await;
    };
    let lang = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .ok()
        .and_then(|p| {
            p.into_iter()
                .find(|(k, _)| k == "lang")
                .and_then(|(_, v)| Lang::parse(&v))
        });
    // The page's brand and language, read before the erasure takes the link away.
    let shown = match rights::link_page(
        &state.core,
        &token,
        RequestKind::Erasure,
        lang.map(Lang::code),
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return page.error(e, "erasure").await,
    };
    match rights::forget(&state.core, &token, &page.info).await {
        Ok(Forgotten::Erased(_)) => {
            page.send(StatusCode::OK, move || {
                pages::forgotten_page(shown.brand, shown.lang)
            })
            .await
        }
        Ok(Forgotten::NotOpen) => page.error(ServiceError::InvalidLink, "erasure").await,
        Err(e) => page.error(e, "erasure").await,
    }
}
