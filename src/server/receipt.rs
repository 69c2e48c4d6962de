//! Consent receipts over HTTP: the download (a file), and the public check (`/receipt`): a
//! page with a form for people, JSON for machines that ask for it (`Accept:
//! application/json`), and the receipt itself as the body (`Content-Type: application/jose`)
//! for a script.

use super::contact::multipart_fields;
use super::pages::Page;
use super::AppState;
use crate::domain::parse::Lang;
use crate::domain::ConsentValue;
use crate::pages;
use crate::services::consent;
use crate::services::receipt::{self, Checked, Issued};
use crate::views::{ReceiptCheckView, ReceiptLine, ReceiptOutcome, ReceiptSummary};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// A receipt as a file to keep.
pub fn download(issued: Issued) -> Response {
    (
        StatusCode::OK,
        [
            // RFC 7515 §9.2.1: the media type of a JWS in compact serialization.
            (header::CONTENT_TYPE, "application/jose".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", issued.file_name),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        issued.jws,
    )
        .into_response()
}

fn page_lang(page: &Page) -> Lang {
    consent::fallback_lang(page.lang(), &page.info)
}

/// `GET /receipt`: the form.
pub async fn check_form(page: Page) -> Response {
    let lang = page_lang(&page);
    page.send(StatusCode::OK, move || {
        pages::receipt_check_page(ReceiptCheckView {
            lang,
            outcome: None,
        })
    })
    .await
}

/// The receipt a request carries: the pasted text, else the uploaded file; `None` when the
/// body cannot be read at all.
async fn receipt_text(headers: &HeaderMap, body: Bytes) -> Option<String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // The media type is case-insensitive; the multipart boundary is not.
    let media = ct.to_ascii_lowercase();
    if media.starts_with("application/jose") || media.starts_with("text/plain") {
        return String::from_utf8(body.to_vec()).ok();
    }
    let pairs = match multer::parse_boundary(ct) {
        Ok(boundary) => multipart_fields(body, boundary, true).await?,
        Err(multer::Error::NoBoundary) => return None,
        Err(_) => serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body).ok()?,
    };
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.clone())
    };
    Some(
        field("receipt")
            .or_else(|| field("file"))
            .unwrap_or_default(),
    )
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// When a change was recorded, as the page writes it ("24 November 2026, 10:00 UTC").
fn when(lang: Lang, rfc3339: &str, unix: i64) -> String {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .or_else(|_| time::OffsetDateTime::from_unix_timestamp(unix));
    match t {
        Ok(t) => format!(
            "{}, {:02}:{:02} UTC",
            crate::i18n::date(lang, t),
            t.hour(),
            t.minute()
        ),
        Err(_) => rfc3339.to_owned(),
    }
}

fn summary(lang: Lang, opened: &crate::domain::receipt::Opened, currency: &str) -> ReceiptSummary {
    let r = &opened.receipt;
    ReceiptSummary {
        key_id: opened.key_id.to_string(),
        controller: r
            .pii_controllers
            .first()
            .map(|c| c.pii_controller.clone())
            .unwrap_or_default(),
        principal: r.pii_principal_id.clone(),
        receipt_id: r.consent_receipt_id.clone(),
        recorded_at: when(lang, &r.prefcenter.recorded_at, r.consent_timestamp),
        lines: r
            .prefcenter
            .changes
            .iter()
            .filter_map(|c| {
                Some(ReceiptLine {
                    what: match &c.topic_name {
                        Some(t) => format!("{}: {t}", c.purpose_name),
                        None => c.purpose_name.clone(),
                    },
                    channel: crate::domain::Channel::parse(&c.channel)?,
                    old: ConsentValue::parse(&c.old_value)?,
                    new: ConsentValue::parse(&c.new_value)?,
                })
            })
            .collect(),
        currency: currency.to_owned(),
    }
}

/// `POST /receipt`: checks the receipt sent, and shows (or answers) the outcome.
pub async fn check(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
    body: Bytes,
) -> Response {
    let lang = page_lang(&page);
    let json = wants_json(&headers);
    let text = receipt_text(&headers, body).await;
    let checked = match &text {
        Some(t) if !t.trim().is_empty() => Some(receipt::check(&state.core, t).await),
        _ => None,
    };
    let checked = match checked.transpose() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "checking a receipt failed");
            if json {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::Json(serde_json::json!({"error": {"code": "unavailable", "message": "the receipt cannot be checked right now; try again"}})),
                )
                    .into_response();
            }
            return page.error(e, "receipt check").await;
        }
    };
    if json {
        return match checked {
            None => (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({"error": {"code": if text.is_none() { "unreadable_body" } else { "empty" }, "message": "send the receipt (its JWS text) as the body, or as the form field `receipt` or `file`"}})),
            )
                .into_response(),
            Some(Checked::Refused(e)) => axum::Json(serde_json::json!({
                "valid": false,
                "code": e.code(),
                "message": e.to_string(),
            }))
            .into_response(),
            Some(Checked::Valid { opened, currency }) => axum::Json(serde_json::json!({
                "valid": true,
                "key_id": opened.key_id,
                "current": currency == receipt::Currency::Current,
                "standing": currency.code(),
                "receipt": opened.receipt,
            }))
            .into_response(),
        };
    }
    let (status, outcome) = match checked {
        None => (StatusCode::BAD_REQUEST, ReceiptOutcome::Empty),
        Some(Checked::Refused(e)) => (StatusCode::OK, ReceiptOutcome::Invalid(e.code().into())),
        Some(Checked::Valid { opened, currency }) => (
            StatusCode::OK,
            ReceiptOutcome::Valid(summary(lang, &opened, currency.code())),
        ),
    };
    page.send(status, move || {
        pages::receipt_check_page(ReceiptCheckView {
            lang,
            outcome: Some(outcome),
        })
    })
    .await
}
