//! Per-request nonce and id, security headers, and a request log that never shows a token.

use axum::extract::{MatchedPath, Request};
use axum::http::header::{self, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// What a request draws at most once, the first time something asks: the CSP nonce of its
/// response (only a page asks: a response that renders no HTML, such as `/healthz`, a
/// redirect or JSON, pays for none and gets a policy without one) and its request id, a short
/// id tying a log line to the ledger records of the same request (16 hex digits).
#[derive(Clone, Debug, Default)]
pub struct RequestScope(Arc<Drawn>);

#[derive(Debug, Default)]
struct Drawn {
    nonce: OnceLock<String>,
    request_id: OnceLock<String>,
}

impl RequestScope {
    pub fn nonce(&self) -> &str {
        self.0
            .nonce
            .get_or_init(|| URL_SAFE_NO_PAD.encode(crate::services::random_bytes::<16>()))
    }

    fn nonce_used(&self) -> Option<&str> {
        self.0.nonce.get().map(String::as_str)
    }

    pub fn request_id(&self) -> &str {
        self.0.request_id.get_or_init(|| {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let mut id = String::with_capacity(16);
            for b in crate::services::random_bytes::<8>() {
                id.push(HEX[usize::from(b >> 4)] as char);
                id.push(HEX[usize::from(b & 15)] as char);
            }
            id
        })
    }
}

/// The part of the content security policy that is the same for every response.
macro_rules! csp_rest {
    () => {
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'"
    };
}

/// The policy of a response that used no nonce: no script and no inline style at all.
const CSP_WITHOUT_NONCE: &str = concat!(
    "default-src 'none'; style-src 'self'; script-src 'none'; ",
    csp_rest!()
);

/// Framing a response asks for (a response extension; the default is no framing at all): the
/// form designer's page embeds its previews, and the previews are embedded by it, both on
/// this origin only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// The page shows frames of this origin.
    EmbedsOwn,
    /// The page may be shown in a frame of this origin.
    EmbeddableByOwn,
}

/// A page with an island (a response extension): besides its nonce-bearing loader, the policy
/// allows this origin's scripts (the bundle the loader imports from `/pkg`) and compiling
/// WebAssembly, and nothing else: no `eval`, no inline script without the nonce, no other
/// origin. Every other page keeps a policy without them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunsIslands;

/// The path with link tokens replaced, for logs.
pub fn redact(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut prev = "";
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if i == 2 && matches!(prev, "u" | "p" | "c" | "d" | "f") && !seg.is_empty() {
            out.push_str(":token");
        } else {
            out.push_str(seg);
        }
        prev = seg;
    }
    out
}

pub async fn security(mut req: Request, next: Next) -> Response {
    let scope = RequestScope::default();
    req.extensions_mut().insert(scope.clone());
    // Console URLs carry no token; its forms need the browser to send their `Origin`, which
    // it replaces by "null" under `no-referrer`.
    let console = req.uri().path() == "/admin" || req.uri().path().starts_with("/admin/");
    // What the request log needs, only when it is on.
    let logged = tracing::enabled!(tracing::Level::DEBUG).then(|| {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_else(|| redact(req.uri().path()));
        (req.method().clone(), route, Instant::now())
    });

    let mut res = next.run(req).await;
    let framing = res.extensions().get::<Framing>().copied();
    let islands = res.extensions().get::<RunsIslands>().is_some();

    let h = res.headers_mut();
    h.reserve(8);
    let csp = match scope.nonce_used() {
        Some(nonce) => HeaderValue::from_str(&format!(
            concat!(
                "default-src 'none'; style-src 'self' 'nonce-{nonce}'; script-src 'nonce-{nonce}'{wasm}; ",
                csp_rest!()
            ),
            nonce = nonce,
            wasm = if islands {
                " 'self' 'wasm-unsafe-eval'"
            } else {
                ""
            }
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(CSP_WITHOUT_NONCE)),
        None => HeaderValue::from_static(CSP_WITHOUT_NONCE),
    };
    let csp = match framing {
        None => csp,
        Some(f) => {
            let s = csp.to_str().unwrap_or(CSP_WITHOUT_NONCE).to_owned();
            let s = match f {
                Framing::EmbedsOwn => format!("{s}; frame-src 'self'"),
                Framing::EmbeddableByOwn => {
                    s.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
                }
            };
            HeaderValue::from_str(&s).unwrap_or(csp)
        }
    };
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(if console {
            "same-origin"
        } else {
            "no-referrer"
        }),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static(if framing == Some(Framing::EmbeddableByOwn) {
            "SAMEORIGIN"
        } else {
            "DENY"
        }),
    );
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
    if let Some((method, route, started)) = logged {
        tracing::debug!(
            request_id = %scope.request_id(),
            %method,
            route = %route,
            status = res.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "request"
        );
    }
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
        assert_eq!(redact("/d/download-token/data.json"), "/d/:token/data.json");
        assert_eq!(redact("/f/erasure-token"), "/f/:token");
        assert_eq!(redact("/healthz"), "/healthz");
    }
}
