//! The server functions the pages load through (`/_page/...`) are public endpoints too.
//! Leptos answers 500 to any body it cannot read (empty, not UTF-8, a repeated field, JSON,
//! CBOR …). This layer reads the body first, as the url-encoded form those functions take
//! with exactly their fields, and answers bad input with a 4xx and a clear message; Leptos
//! only ever sees a clean form.

use super::BODY_LIMIT;
use crate::pages::{LoadChange, LoadPreferences};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::server_fn::ServerFn;

/// The prefix of the page loaders' URLs (`#[server(prefix = ...)]` in `pages/`).
const PREFIX: &str = "/_page/";

/// The longest value a loader field can have (a token is 32 characters, a change id 16).
const MAX_VALUE: usize = 256;

/// A loader's fields: which must be there, which may.
struct Fields {
    path: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
}

const LOADERS: [Fields; 2] = [
    Fields {
        path: LoadPreferences::PATH,
        required: &["token"],
        optional: &["lang"],
    },
    Fields {
        path: LoadChange::PATH,
        required: &["token", "change"],
        optional: &["lang"],
    },
];

/// Why a body was refused: a stable code and a sentence for whoever sent it.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({ "code": self.code, "message": self.message })),
        )
            .into_response()
    }
}

fn bad(code: &'static str, message: String) -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        code,
        message,
    }
}

/// Strict `application/x-www-form-urlencoded`: every name and value decodes to UTF-8, every
/// name is one of the loader's, none repeats, every required one is there.
fn read_form(body: &[u8], fields: &Fields) -> Result<Vec<(String, String)>, Refusal> {
    let expected = || {
        let mut s = fields.required.join(", ");
        if !fields.optional.is_empty() {
            s.push_str(" and optionally ");
            s.push_str(&fields.optional.join(", "));
        }
        s
    };
    let text = std::str::from_utf8(body)
        .map_err(|_| bad("not_utf8", "the body is not UTF-8 text".to_owned()))?;
    let decode = |s: &str| {
        let plus = s.replace('+', " ");
        percent_encoding::percent_decode_str(&plus)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| {
                bad(
                    "not_utf8",
                    "a field does not decode to UTF-8 text".to_owned(),
                )
            })
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let (name, value) = (decode(name)?, decode(value)?);
        if !fields.required.contains(&name.as_str()) && !fields.optional.contains(&name.as_str()) {
            return Err(bad(
                "unknown_field",
                format!(
                    "the body must be a url-encoded form with the fields {}; it has another",
                    expected()
                ),
            ));
        }
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(bad(
                "repeated_field",
                format!("the field {name} appears more than once"),
            ));
        }
        if value.len() > MAX_VALUE {
            return Err(bad(
                "field_too_long",
                format!("the field {name} is longer than {MAX_VALUE} bytes"),
            ));
        }
        pairs.push((name, value));
    }
    if let Some(missing) = fields
        .required
        .iter()
        .find(|r| !pairs.iter().any(|(n, _)| n == *r))
    {
        return Err(bad(
            "missing_field",
            format!(
                "the field {missing} is missing; the body must be a url-encoded form with the fields {}",
                expected()
            ),
        ));
    }
    Ok(pairs)
}

/// The middleware: anything but a POST to a known loader with a readable form is refused
/// here; the rest goes on with the body re-encoded from what was read.
pub async fn guard(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !path.starts_with(PREFIX) {
        return next.run(req).await;
    }
    let Some(fields) = LOADERS.iter().find(|f| f.path == path) else {
        return Refusal {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: "there is nothing at this address".to_owned(),
        }
        .into_response();
    };
    if req.method() != Method::POST {
        return Refusal {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            message: "use POST".to_owned(),
        }
        .into_response();
    }
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Refusal {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: "the body must be application/x-www-form-urlencoded".to_owned(),
        }
        .into_response();
    }
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return Refusal {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "body_too_large",
            message: format!("the body is larger than {BODY_LIMIT} bytes"),
        }
        .into_response();
    };
    let pairs = match read_form(&bytes, fields) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let clean = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(clean.len()));
    next.run(Request::from_parts(parts, Body::from(clean)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exactly_the_loader_fields() {
        let f = &LOADERS[1];
        assert_eq!(
            read_form(b"token=abc&change=x%2By&lang=fr", f).unwrap(),
            vec![
                ("token".to_owned(), "abc".to_owned()),
                ("change".to_owned(), "x+y".to_owned()),
                ("lang".to_owned(), "fr".to_owned()),
            ]
        );
        let code = |b: &[u8]| read_form(b, f).unwrap_err().code;
        assert_eq!(code(b""), "missing_field");
        assert_eq!(code(b"token=a"), "missing_field");
        assert_eq!(code(b"token=a&token=b&change=c"), "repeated_field");
        assert_eq!(code(b"token=a&change=c&x=1"), "unknown_field");
        assert_eq!(code(b"token[0]=a&change=c"), "unknown_field");
        assert_eq!(code(b"token=\xff&change=c"), "not_utf8");
        assert_eq!(code(b"token=%ff&change=c"), "not_utf8");
        assert_eq!(code(b"{\"token\":\"a\",\"change\":\"c\"}"), "unknown_field");
        let long = format!("token={}&change=c", "a".repeat(MAX_VALUE + 1));
        assert_eq!(code(long.as_bytes()), "field_too_long");
    }
}
