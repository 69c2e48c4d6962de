//! axum: state, router, headers, the contact's POSTs, health. The only layer that knows HTTP.

pub mod cli;
pub mod config;
pub mod contact;
pub mod headers;
pub mod page_fns;

use crate::app::{shell, App};
use crate::domain::parse::Lang;
use crate::services::consent::RequestInfo;
use crate::services::{Core, Policy};
use crate::store;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use config::Settings;
use headers::{CspNonce, RequestId};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;

/// The router's state.
#[derive(Clone)]
pub struct AppState {
    pub leptos: LeptosOptions,
    pub core: Arc<Core>,
    pub trust_forwarded_for: bool,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> LeptosOptions {
        s.leptos.clone()
    }
}

/// What the handlers need from a request's head.
pub struct RequestParts {
    pub headers: HeaderMap,
    pub request_id: Option<String>,
    pub peer: Option<SocketAddr>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestParts {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestParts {
            headers: parts.headers.clone(),
            request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
            peer: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        })
    }
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Evidence and language hints of a request.
pub fn request_info(p: &RequestParts, trust_forwarded_for: bool) -> RequestInfo {
    let forwarded = trust_forwarded_for
        .then(|| {
            header_str(
                &p.headers,
                header::HeaderName::from_static("x-forwarded-for"),
            )
        })
        .flatten()
        // The proxy appends the address it saw: the rightmost entry is the one we trust. Every
        // entry to its left came from the client and could say anything.
        .and_then(|v| v.rsplit(',').next().and_then(|ip| ip.trim().parse().ok()));
    RequestInfo {
        ip: forwarded.or(p.peer.map(|a| a.ip())),
        user_agent: header_str(&p.headers, header::USER_AGENT),
        request_id: p.request_id.clone(),
        accept_language: header_str(&p.headers, header::ACCEPT_LANGUAGE),
    }
}

/// The same, inside a Leptos render or server function.
pub fn request_info_from_context() -> RequestInfo {
    let Some(parts) = use_context::<Parts>() else {
        return RequestInfo::default();
    };
    let trust = use_context::<TrustForwarded>().is_some_and(|t| t.0);
    let p = RequestParts {
        headers: parts.headers.clone(),
        request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
        peer: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
    };
    request_info(&p, trust)
}

#[derive(Clone, Copy)]
struct TrustForwarded(bool);

/// Hands this response's CSP nonce to Leptos, which puts it on the elements it renders.
pub fn provide_request_nonce() {
    if let Some(n) = use_context::<Parts>().and_then(|p| p.extensions.get::<CspNonce>().cloned()) {
        provide_context(leptos::nonce::Nonce::from_value(n.0));
    }
}

/// A complete small page (errors of the POST handlers), rendered outside the router.
pub fn render_message(
    status: StatusCode,
    lang: Lang,
    title: &'static str,
    body: &'static str,
    hint: Option<&'static str>,
) -> Response {
    let t = crate::i18n::texts(lang);
    let html = view! {
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="robots" content="noindex, nofollow"/>
                <link rel="icon" type="image/svg+xml" href=crate::FAVICON_PATH/>
                <link rel="stylesheet" href=crate::STYLESHEET_PATH/>
                <title>{title}</title>
            </head>
            <body>
                <a class="skip" href="#content">{t.skip_to_content}</a>
                <header class="brandbar"><div class="wrap"><span class="brandname">{t.generic_brand}</span></div></header>
                <main id="content" class="wrap" tabindex="-1">
                    <section class="card" aria-labelledby="msg-title">
                        <h1 id="msg-title">{title}</h1>
                        <p>{body}</p>
                        {hint.map(|h| view! { <p class="muted">{h}</p> })}
                    </section>
                </main>
            </body>
        </html>
    }
    .to_html();
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<!DOCTYPE html>{html}"),
    )
        .into_response()
}

/// The stylesheet, embedded so the binary needs nothing beside it.
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../style/main.css"),
    )
        .into_response()
}

/// The icon (`public/favicon.svg`), embedded like the stylesheet.
async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_bytes!("../../public/favicon.svg").as_slice(),
    )
        .into_response()
}

/// `/healthz`: 200 when the database answers.
async fn healthz(State(state): State<AppState>) -> Response {
    match sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(&state.core.read)
        .await
    {
        Ok(_) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok"})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable", "code": "database"})),
            )
                .into_response()
        }
    }
}

/// The largest request body accepted (the contact's forms are a few hundred bytes).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Builds the router over a ready core.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let core = state.core.clone();
    let trust = TrustForwarded(state.trust_forwarded_for);
    let context = move || {
        provide_context(core.clone());
        provide_context(trust);
    };
    let opts = state.leptos.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route(crate::STYLESHEET_PATH, get(stylesheet))
        .route(crate::FAVICON_PATH, get(favicon))
        .route("/u/{token}", post(contact::post_link))
        .route("/u/{token}/undo", post(contact::post_undo))
        .leptos_routes_with_context(&state, routes, context.clone(), move || shell(opts.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(page_fns::guard))
        .layer(axum::middleware::from_fn(headers::security))
        .with_state(state)
}

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    #[error("secret: {0}")]
    Secret(std::io::Error),
}

/// A server ready to serve: its router, and the demo links it printed (if any).
pub struct Prepared {
    pub router: Router,
    pub core: Arc<Core>,
    pub demo_links: Vec<(String, String)>,
    writer_task: tokio::task::JoinHandle<()>,
}

/// Opens the database, creates the demo when asked, starts the writer.
pub async fn prepare(settings: &Settings, base_url: &str) -> Result<Prepared, StartError> {
    let secret: Arc<[u8]> = settings.load_secret().map_err(StartError::Secret)?.into();
    let mut db = store::open(&settings.database_url, settings.read_connections).await?;
    let mut demo_links = Vec::new();
    let mut initial = Vec::new();
    if settings.demo {
        if let Some(seeded) = crate::services::demo::seed(&mut db.write).await? {
            initial = seeded.initial;
        }
        demo_links =
            crate::services::demo::demo_links(&mut db.write, base_url, settings.link_ttl_days)
                .await?;
    }
    let (writer, writer_task) = store::writer::Writer::spawn(db.write, secret);
    for set in initial {
        writer.apply(set).await?;
    }
    let core = Arc::new(Core::new(
        db.read,
        writer,
        Policy {
            ip_evidence: settings.ip_evidence,
            keep_user_agent: settings.keep_user_agent,
        },
    ));
    let leptos = LeptosOptions::builder()
        .output_name("prefcenter")
        .site_root(settings.site_root.clone())
        .site_pkg_dir("pkg")
        .build();
    let router = router(AppState {
        leptos,
        core: core.clone(),
        trust_forwarded_for: settings.trust_forwarded_for,
    });
    Ok(Prepared {
        router,
        core,
        demo_links,
        writer_task,
    })
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish and the writer
/// commit what is queued.
pub async fn serve(
    prepared: Prepared,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Prepared {
        router,
        core,
        writer_task,
        ..
    } = prepared;
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    // No request is left to read. The read-only connections close first: the last connection
    // to close checkpoints the WAL and removes it, and only the writer's can.
    let read = core.read.clone();
    drop(core);
    read.close().await;
    // The writer stops once the last handle is gone, after committing what is queued; it
    // closes its connection as it ends.
    if tokio::time::timeout(std::time::Duration::from_secs(30), writer_task)
        .await
        .is_err()
    {
        tracing::warn!("the writer did not stop within 30 s");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(xff: &str) -> RequestParts {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", xff.parse().unwrap());
        RequestParts {
            headers,
            request_id: None,
            peer: Some("10.0.0.2:40000".parse().unwrap()),
        }
    }

    #[test]
    fn forwarded_for_is_read_from_the_right() {
        // The client wrote "6.6.6.6"; the proxy appended the address it really saw.
        let info = request_info(&parts("6.6.6.6, 203.0.113.9"), true);
        assert_eq!(info.ip, Some("203.0.113.9".parse().unwrap()));
        let info = request_info(&parts("203.0.113.9"), true);
        assert_eq!(info.ip, Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn forwarded_for_is_ignored_unless_trusted_or_readable() {
        let info = request_info(&parts("6.6.6.6, 203.0.113.9"), false);
        assert_eq!(info.ip, Some("10.0.0.2".parse().unwrap()));
        // A junk rightmost entry does not fall back to a client-written one.
        let info = request_info(&parts("6.6.6.6, junk"), true);
        assert_eq!(info.ip, Some("10.0.0.2".parse().unwrap()));
    }
}
