//! The POSTs of the contact's link: RFC 8058 one-click from mail clients, and the page forms.
//! Plain axum routes, because their URL must stay the link's URL. No cookie, session or CSRF
//! token is needed: the unguessable token in the URL is the capability, and one-click must
//! work without any of them.

use super::{render_message, request_info, AppState};
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
pub(super) fn form_pairs(headers: &HeaderMap, body: &[u8]) -> Option<Vec<(String, String)>> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "multipart/form-data" {
        let boundary = ct
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("boundary="))
            .next()?
            .trim_matches('"');
        multipart_pairs(body, boundary)
    } else {
        // RFC 8058 senders use application/x-www-form-urlencoded; be lenient on a missing type.
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).ok()
    }
}

/// A small multipart/form-data reader for text fields (all the one-click POST and our forms
/// send). Files are not accepted here.
pub fn multipart_pairs(body: &[u8], boundary: &str) -> Option<Vec<(String, String)>> {
    if boundary.is_empty() || boundary.len() > 200 {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let delim = format!("--{boundary}");
    let mut out = Vec::new();
    for part in text.split(delim.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part
            .strip_prefix("\r\n")
            .or_else(|| part.strip_prefix('\n'))?;
        let (head, value) = part
            .split_once("\r\n\r\n")
            .or_else(|| part.split_once("\n\n"))?;
        let name = head.lines().find_map(|l| {
            let l = l.trim();
            if !l.to_ascii_lowercase().starts_with("content-disposition:") {
                return None;
            }
            l.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix("name=")
                    .map(|n| n.trim_matches('"').to_owned())
            })
        })?;
        let value = value
            .strip_suffix("\r\n")
            .or_else(|| value.strip_suffix('\n'))
            .unwrap_or(value);
        out.push((name, value.to_owned()));
    }
    Some(out)
}

fn is_one_click(pairs: &[(String, String)]) -> bool {
    pairs
        .iter()
        .any(|(k, v)| k == "List-Unsubscribe" && v == "One-Click")
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
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
    let Some(pairs) = form_pairs(headers, &body) else {
        return error_response(ServiceError::BadInput("unreadable_form"), headers);
    };
    let core = &state.core;

    if is_one_click(&pairs) {
        // RFC 8058: unsubscribe at once, answer without redirect; a repeat changes nothing.
        return match consent::unsubscribe_all(
            core,
            &token,
            Scope::Email,
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
    let Some(pairs) = form_pairs(headers, &body) else {
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

    #[test]
    fn reads_multipart_one_click() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
        let pairs = multipart_pairs(body.as_bytes(), "XyZ").unwrap();
        assert_eq!(
            pairs,
            vec![("List-Unsubscribe".to_owned(), "One-Click".to_owned())]
        );
        assert!(is_one_click(&pairs));
    }

    #[test]
    fn junk_multipart_is_refused_not_a_panic() {
        assert!(multipart_pairs(b"\xff\xfe", "a").is_none());
        assert!(multipart_pairs(b"--a\r\nno blank line", "a").is_none());
        assert_eq!(multipart_pairs(b"nothing here", "a"), Some(vec![]));
        assert!(multipart_pairs(b"x", "").is_none());
    }

    #[test]
    fn url_encoded_one_click() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        assert!(is_one_click(
            &form_pairs(&h, b"List-Unsubscribe=One-Click").unwrap()
        ));
        assert!(!is_one_click(
            &form_pairs(&h, b"List-Unsubscribe=Other").unwrap()
        ));
    }
}
