//! The POSTs of the contact's link: RFC 8058 one-click from mail clients, and the page forms.
//! Plain axum routes, because their URL must stay the link's URL. No cookie, session or CSRF
//! token is needed: the unguessable token in the URL is the capability, and one-click must
//! work without any of them.

use super::{render_message, request_info, AppState, BODY_LIMIT};
use crate::domain::parse::Lang;
use crate::domain::{ActorKind, Source};
use crate::i18n::texts;
use crate::services::consent::{self, RequestInfo, Scope, ServiceError, Shown};
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashSet;

/// The form body, as name/value pairs (url-encoded or multipart/form-data).
pub(super) async fn form_pairs(headers: &HeaderMap, body: Bytes) -> Option<Vec<(String, String)>> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Media type and parameter names are case-insensitive (RFC 9110 §8.3.1); multer reads
    // them with the `mime` crate.
    match multer::parse_boundary(ct) {
        Ok(boundary) => multipart_pairs(body, boundary).await,
        // multipart/form-data without a usable boundary cannot be read.
        Err(multer::Error::NoBoundary) => None,
        // RFC 8058 senders use application/x-www-form-urlencoded; be lenient on a missing type.
        Err(_) => serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body).ok(),
    }
}

/// The text fields of a multipart/form-data body (all the one-click POST and our forms send).
/// A file part, a field that is not UTF-8, or a malformed body is refused.
pub async fn multipart_pairs(body: Bytes, boundary: String) -> Option<Vec<(String, String)>> {
    multipart_fields(body, boundary, false).await
}

/// The same, with file parts read as text fields when `files` (the receipt check's upload).
pub async fn multipart_fields(
    body: Bytes,
    boundary: String,
    files: bool,
) -> Option<Vec<(String, String)>> {
    const MAX_FIELDS: usize = 200;
    let limit = multer::SizeLimit::new()
        .whole_stream(BODY_LIMIT as u64)
        .per_field(BODY_LIMIT as u64);
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut parts = multer::Multipart::with_constraints(
        stream,
        boundary,
        multer::Constraints::new().size_limit(limit),
    );
    let mut out = Vec::new();
    while let Some(field) = parts.next_field().await.ok()? {
        if (field.file_name().is_some() && !files) || out.len() >= MAX_FIELDS {
            return None;
        }
        let name = field.name()?.to_owned();
        let value = field.bytes().await.ok()?;
        out.push((name, String::from_utf8(value.to_vec()).ok()?));
    }
    Some(out)
}

fn is_one_click(pairs: &[(String, String)]) -> bool {
    pairs
        .iter()
        .any(|(k, v)| k == "List-Unsubscribe" && v == "One-Click")
}

pub(super) fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// What the page showed, as far as the server's stamp proves it (never the form's word).
fn shown(state: &AppState, token: &str, pairs: &[(String, String)]) -> Shown {
    consent::verify_shown(&state.core, token, field(pairs, "stamp"))
}

pub(super) fn error_response(e: ServiceError, headers: &HeaderMap) -> Response {
    let lang = consent::fallback_lang(
        None,
        &RequestInfo {
            accept_language: headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            ..Default::default()
        },
    );
    let t = texts(lang);
    match e {
        ServiceError::InvalidLink => render_message(
            StatusCode::NOT_FOUND,
            lang,
            t.invalid_title,
            t.invalid_body,
            Some(t.invalid_hint),
        ),
        ServiceError::BadInput(code) => {
            tracing::info!(code, "rejected a contact form");
            render_message(
                StatusCode::BAD_REQUEST,
                lang,
                t.bad_request_title,
                t.bad_request_body,
                None,
            )
        }
        ServiceError::Store(e) => {
            tracing::error!(error = %e, transient = e.is_transient(), "a contact change failed");
            render_message(
                if e.is_transient() {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                },
                lang,
                t.error_title,
                t.error_body,
                None,
            )
        }
    }
}

/// See-other to the page that says what changed (or that nothing needed to).
fn done(token: &str, applied: &crate::store::writer::Applied, lang: Option<Lang>) -> Response {
    let change_id = if applied.records.is_empty() {
        consent::NO_CHANGE
    } else {
        applied.change_id.as_str()
    };
    let mut to = format!("/u/{token}/done/{change_id}");
    if let Some(l) = lang {
        to.push_str("?lang=");
        to.push_str(l.code());
    }
    Redirect::to(&to).into_response()
}

/// `POST /u/{token}`: one-click (mail client) or a page form.
pub async fn post_link(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    req_parts: super::RequestParts,
    body: Bytes,
) -> Response {
    let headers = &req_parts.headers;
    // A path that does not even decode is just another invalid link.
    let Ok(Path(token)) = token else {
        return error_response(ServiceError::InvalidLink, headers);
    };
    let info = request_info(&req_parts, state.trust_forwarded_for);
    let Some(pairs) = form_pairs(headers, body).await else {
        return error_response(ServiceError::BadInput("unreadable_form"), headers);
    };
    let core = &state.core;

    if is_one_click(&pairs) {
        // RFC 8058: unsubscribe at once, answer without redirect; a repeat changes nothing.
        return match consent::unsubscribe_all(
            core,
            &token,
            Scope::LinkPoint,
            ActorKind::OneClick,
            Source::OneClick,
            &info,
            Shown::default(),
        )
        .await
        {
            Ok(_) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                texts(Lang::En).one_click_done,
            )
                .into_response(),
            Err(e) => error_response(e, headers),
        };
    }

    let shown = shown(&state, &token, &pairs);
    let result = match field(&pairs, "action") {
        Some("unsubscribe_all") => {
            consent::unsubscribe_all(
                core,
                &token,
                Scope::AllChannels,
                ActorKind::Contact,
                Source::Page,
                &info,
                shown,
            )
            .await
        }
        Some("unsubscribe") => match field(&pairs, "topic") {
            Some(topic) => consent::unsubscribe_one(core, &token, topic, &info, shown).await,
            None => Err(ServiceError::BadInput("missing_topic")),
        },
        Some("save") => {
            // Every other field must be one of the page's boxes; the service checks which.
            let ticked: HashSet<String> = pairs
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "action" | "stamp" | "lang"))
                .map(|(k, _)| k.clone())
                .collect();
            consent::save(core, &token, &ticked, &info, shown).await
        }
        _ => Err(ServiceError::BadInput("unknown_action")),
    };
    match result {
        Ok(applied) => done(&token, &applied, shown.lang),
        Err(e) => error_response(e, headers),
    }
}

/// `POST /u/{token}/undo`: puts back what one change did.
pub async fn post_undo(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    req_parts: super::RequestParts,
    body: Bytes,
) -> Response {
    let headers = &req_parts.headers;
    // A path that does not even decode is just another invalid link.
    let Ok(Path(token)) = token else {
        return error_response(ServiceError::InvalidLink, headers);
    };
    let info = request_info(&req_parts, state.trust_forwarded_for);
    let Some(pairs) = form_pairs(headers, body).await else {
        return error_response(ServiceError::BadInput("unreadable_form"), headers);
    };
    let Some(change) = field(&pairs, "change") else {
        return error_response(ServiceError::BadInput("missing_change"), headers);
    };
    let shown = shown(&state, &token, &pairs);
    match consent::undo(&state.core, &token, change, &info, shown).await {
        Ok(applied) => done(&token, &applied, shown.lang),
        Err(e) => error_response(e, headers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        h
    }

    const ONE_CLICK: &str = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";

    #[tokio::test]
    async fn reads_multipart_one_click() {
        let pairs = form_pairs(
            &headers("multipart/form-data; boundary=XyZ"),
            Bytes::from(ONE_CLICK),
        )
        .await
        .unwrap();
        assert_eq!(
            pairs,
            vec![("List-Unsubscribe".to_owned(), "One-Click".to_owned())]
        );
        assert!(is_one_click(&pairs));
    }

    #[tokio::test]
    async fn multipart_type_and_boundary_parameter_are_case_insensitive() {
        for ct in [
            "multipart/form-data; BOUNDARY=XyZ",
            "Multipart/Form-Data; Boundary=\"XyZ\"",
            "multipart/form-data;charset=utf-8;boundary=XyZ",
        ] {
            let pairs = form_pairs(&headers(ct), Bytes::from(ONE_CLICK)).await;
            assert!(pairs.as_deref().is_some_and(is_one_click), "{ct}");
        }
    }

    #[tokio::test]
    async fn junk_multipart_is_refused_not_a_panic() {
        let mp = headers("multipart/form-data; boundary=a");
        for body in [
            &b"\xff\xfe"[..],
            b"--a\r\nno blank line",
            b"nothing here",
            b"--a\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\xff\r\n--a--\r\n",
            b"--a\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\r\nhi\r\n--a--\r\n",
        ] {
            assert!(form_pairs(&mp, Bytes::from_static(body)).await.is_none(), "{body:?}");
        }
        let no_boundary = headers("multipart/form-data");
        assert!(form_pairs(&no_boundary, Bytes::from(ONE_CLICK))
            .await
            .is_none());
    }

    #[tokio::test]
    async fn url_encoded_one_click() {
        let h = headers("application/x-www-form-urlencoded");
        let read = |b: &'static str| form_pairs(&h, Bytes::from_static(b.as_bytes()));
        assert!(is_one_click(
            &read("List-Unsubscribe=One-Click").await.unwrap()
        ));
        assert!(!is_one_click(
            &read("List-Unsubscribe=Other").await.unwrap()
        ));
    }
}
