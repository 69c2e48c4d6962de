//! Per-request nonce and id, security headers, and a request log that never shows a token.

use axum::extract::{MatchedPath, Request};
use axum::http::header::{self, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::time::Instant;

/// The CSP nonce of this response.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// A short id tying a log line to the ledger records of the same request.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The path with link tokens replaced, for logs.
pub fn redact(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut prev = "";
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if matches!(prev, "u" | "p" | "c") && !seg.is_empty() {
            out.push_str(":token");
        } else {
            out.push_str(seg);
        }
        prev = seg;
    }
    out
}

pub async fn security(mut req: Request, next: Next) -> Response {
    let nonce = URL_SAFE_NO_PAD.encode(crate::services::random_bytes::<16>());
    let rid: String = crate::services::random_bytes::<8>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    req.extensions_mut().insert(RequestId(rid.clone()));
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| redact(req.uri().path()));
    let started = Instant::now();

    let mut res = next.run(req).await;

    let h = res.headers_mut();
    let csp = format!(
        "default-src 'none'; style-src 'self' 'nonce-{nonce}'; script-src 'nonce-{nonce}'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("interest-cohort=(), browsing-topics=()"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    tracing::debug!(
        request_id = %rid,
        %method,
        route = %route,
        status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    res
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn tokens_never_reach_the_log() {
        assert_eq!(redact("/u/AbCdEfGhIjKlMnOpQrStUvWxYz012345"), "/u/:token");
        assert_eq!(redact("/u/AbC/done/xyz"), "/u/:token/done/xyz");
        assert_eq!(redact("/p/secret-token"), "/p/:token");
        assert_eq!(redact("/c/confirm-token"), "/c/:token");
        assert_eq!(redact("/healthz"), "/healthz");
    }
}
