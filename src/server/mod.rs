//! axum: state, router, headers, the contact's POSTs, health. The only layer that knows HTTP.

pub mod api;
pub mod cli;
pub mod config;
pub mod console;
pub mod contact;
pub mod desk;
pub mod headers;
pub mod imports;
pub mod keys;
pub mod optin;
pub mod pages;
pub mod receipt;
pub mod rights;
pub mod segments;
pub mod setup;
pub mod webhooks;

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
use headers::RequestScope;
use leptos::prelude::*;
use leptos_axum::{generate_route_list_with_exclusions, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;

/// The router's state.
#[derive(Clone)]
pub struct AppState {
    /// Shared: the state is cloned for every request, the options hold a dozen strings.
    pub leptos: Arc<LeptosOptions>,
    pub core: Arc<Core>,
    pub trust_forwarded_for: bool,
    pub signup_limiter: Arc<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// The API's per-key rate limiters and "last used" bookkeeping.
    pub api: Arc<api::ApiState>,
    pub bench_endpoints: bool,
    /// Webhook endpoints may be on private networks (a setting).
    pub webhooks_allow_private: bool,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> LeptosOptions {
        (*s.leptos).clone()
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
            request_id: parts
                .extensions
                .get::<RequestScope>()
                .map(|r| r.request_id().to_owned()),
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
    info_from(
        &p.headers,
        p.peer,
        p.request_id.clone(),
        trust_forwarded_for,
    )
}

/// The same, from the parts of a request's head.
fn info_from(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    request_id: Option<String>,
    trust_forwarded_for: bool,
) -> RequestInfo {
    let forwarded = trust_forwarded_for
        .then(|| header_str(headers, header::HeaderName::from_static("x-forwarded-for")))
        .flatten()
        // The proxy appends the address it saw: the rightmost entry is the one we trust. Every
        // entry to its left came from the client and could say anything.
        .and_then(|v| v.rsplit(',').next().and_then(|ip| ip.trim().parse().ok()));
    RequestInfo {
        ip: forwarded.or(peer.map(|a| a.ip())),
        user_agent: header_str(headers, header::USER_AGENT),
        request_id,
        accept_language: header_str(headers, header::ACCEPT_LANGUAGE),
    }
}

/// Hands this response's CSP nonce to Leptos, which puts it on the elements it renders.
pub fn provide_request_nonce() {
    if let Some(n) =
        use_context::<Parts>().and_then(|p| p.extensions.get::<RequestScope>().cloned())
    {
        provide_context(leptos::nonce::Nonce::from_value(n.nonce()));
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

/// The browser bundle's WebAssembly under the name the island loader asks for. The loader's
/// name depends on how the server was compiled (`prefcenter.wasm` under cargo-leptos, which
/// also names the file so; `prefcenter_bg.wasm` under a plain `cargo build`), so both names
/// serve whichever file cargo-leptos wrote.
async fn bundle_wasm(State(state): State<AppState>) -> Response {
    let dir = std::path::Path::new(state.leptos.site_root.as_ref())
        .join(state.leptos.site_pkg_dir.as_ref());
    for name in ["prefcenter.wasm", "prefcenter_bg.wasm"] {
        if let Ok(bytes) = tokio::fs::read(dir.join(name)).await {
            return (
                [
                    (header::CONTENT_TYPE, "application/wasm"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                bytes,
            )
                .into_response();
        }
    }
    StatusCode::NOT_FOUND.into_response()
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

/// `/healthz`: liveness only. The process answers; no database query, so a load balancer's
/// frequent probes cost nothing.
async fn healthz() -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

/// `/readyz`: 200 while the database can be read and a write transaction can be begun and
/// committed; 503 (with what failed) otherwise.
async fn readyz(State(state): State<AppState>) -> Response {
    let core = &state.core;
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(2), store::ping(&core.read)).await;
    let read_ok = matches!(read, Ok(Ok(())));
    let write_ok = core.writer.ping(std::time::Duration::from_secs(2)).await;
    let body = serde_json::json!({
        "status": if read_ok && write_ok { "ready" } else { "unavailable" },
        "read": read_ok,
        "write": write_ok,
        "writer_restarts": core.writer.status().restarts(),
    });
    let code = if read_ok && write_ok {
        StatusCode::OK
    } else {
        tracing::warn!(read_ok, write_ok, "not ready");
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}

/// Where the public keys are published: every key that signed a checkpoint or a receipt (a
/// JWK Set, each key also with its own fields).
pub const KEYS_PATH: &str = "/.well-known/prefcenter/keys";

/// `GET /.well-known/prefcenter/keys`: the deployment's public signing keys, as JSON.
async fn public_keys(State(state): State<AppState>) -> Response {
    match crate::services::proof::public_keys(&state.core).await {
        Ok(keys) => (
            [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
            axum::Json(crate::domain::receipt::key_set(&keys)),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading the public keys failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "error": { "code": "unavailable", "message": "the keys cannot be read right now; try again" } })),
            )
                .into_response()
        }
    }
}

/// `POST /_bench/bulk?n=N` (only with --bench-endpoints): writes one bulk unit of N state
/// changes (an opt-out of every topic of the first N contact points on email) through the
/// writer at bulk priority, as an import will; answers when it is committed.
async fn bench_bulk(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    if !state.bench_endpoints {
        return StatusCode::NOT_FOUND.into_response();
    }
    let n: usize = q.get("n").and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let started = std::time::Instant::now();
    match crate::services::demo::bench_bulk(&state.core, n).await {
        Ok(records) => axum::Json(serde_json::json!({
            "state_changes": n,
            "records": records,
            "millis": started.elapsed().as_millis() as u64,
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "bench bulk failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `POST /_bench/import?file=PATH&profile=KEY&confirmed=1` (only with --bench-endpoints):
/// imports a CSV file the server can read, through the same plan and bulk-priority batches as
/// the console's import, and answers when it is done, with its counts and how long it took.
async fn bench_import(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    use crate::services::import as imp;
    if !state.bench_endpoints {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(path) = q.get("file") else {
        return (StatusCode::BAD_REQUEST, "file= is needed").into_response();
    };
    let started = std::time::Instant::now();
    let bytes = match tokio::fs::read(path).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let file = imp::SourceFile {
        name: path.rsplit('/').next().unwrap_or(path).to_owned(),
        bytes,
    };
    let options = imp::Options {
        profile: q
            .get("profile")
            .cloned()
            .unwrap_or_else(|| "contoso".into()),
        source_confirmed: q.get("confirmed").is_some_and(|v| v == "1"),
        ..imp::Options::default()
    };
    let plan = match imp::prepare(&state.core, std::slice::from_ref(&file), &options).await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "bench import failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    drop(file);
    let planned = started.elapsed().as_millis() as u64;
    match imp::run(&state.core, &plan, "bench", |_, _| {}).await {
        Ok((i, errors)) => axum::Json(serde_json::json!({
            "rows": i.rows_done,
            "contacts_created": i.counts.contacts_created,
            "records_written": i.counts.records_written,
            "rows_refused": errors.len(),
            "plan_millis": planned,
            "millis": started.elapsed().as_millis() as u64,
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "bench import failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The largest request body accepted (the contact's forms are a few hundred bytes).
pub const BODY_LIMIT: usize = 64 * 1024;

/// `GET /logo/{sha256}`: a brand logo, as stored (checked by its bytes at upload). Its name is
/// its content's hash, so it is cached for good.
async fn logo(
    State(state): State<AppState>,
    axum::extract::Path(sha): axum::extract::Path<String>,
) -> Response {
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match crate::store::design::logo(&state.core.read, &sha.to_ascii_lowercase()).await {
        Ok(Some((mime, bytes))) => (
            [
                (header::CONTENT_TYPE, mime),
                (
                    header::CACHE_CONTROL,
                    "public, max-age=31536000, immutable".to_owned(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "reading a logo failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Builds the router over a ready core.
pub fn router(state: AppState) -> Router {
    // Server functions are served by the console's router alone (inside its session layer,
    // `console::server_fn`), never by the one Leptos would add for them.
    let server_fns = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    let routes = generate_route_list_with_exclusions(App, Some(server_fns));
    let opts = (*state.leptos).clone();
    Router::new()
        .route("/readyz", get(readyz))
        .route(KEYS_PATH, get(public_keys))
        .route("/_bench/bulk", post(bench_bulk))
        .route("/_bench/import", post(bench_import))
        .route("/c/{token}", get(pages::confirm).post(optin::post_confirm))
        .route("/s/{profile}", get(pages::signup).post(optin::post_signup))
        .route(crate::STYLESHEET_PATH, get(stylesheet))
        .route(crate::FAVICON_PATH, get(favicon))
        .route("/pkg/prefcenter.wasm", get(bundle_wasm))
        .route("/pkg/prefcenter_bg.wasm", get(bundle_wasm))
        .route(
            "/u/{token}",
            get(pages::unsubscribe).post(contact::post_link),
        )
        .route("/p/{token}", get(pages::center))
        .route("/logo/{sha256}", get(logo))
        .route("/u/{token}/done/{change}", get(pages::done))
        .route("/u/{token}/undo", post(contact::post_undo))
        .route(
            "/u/{token}/done/{change}/receipt",
            get(pages::change_receipt),
        )
        .route("/c/{token}/receipt", get(pages::confirm_receipt))
        .route("/u/{token}/request", post(rights::post_request))
        .route("/u/{token}/sent", get(rights::sent))
        .route("/d/{token}", get(rights::download_page))
        .route("/d/{token}/{file}", get(rights::download))
        .route(
            "/f/{token}",
            get(rights::forget_page).post(rights::post_forget),
        )
        .route(
            crate::pages::CHECK_PATH,
            get(receipt::check_form).post(receipt::check),
        )
        .merge(console::routes(&state))
        .merge(api::doc_routes())
        .leptos_routes(&state, routes, move || shell(opts.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(headers::security))
        // Added after the layers, so outside them: a load balancer's liveness probe gets its
        // two headers from the handler, and the JSON API its own (`api::routes`), without the
        // page security middleware's work.
        .route("/healthz", get(healthz))
        .merge(api::routes())
        .with_state(state)
}

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    #[error("secret: {0}")]
    Secret(std::io::Error),
    #[error("mail: {0}")]
    Mail(String),
    #[error(
        "secret: this instance's secret (fingerprint {ours}) is not the one this database was \
         written with (fingerprint {recorded}). Every instance on one database needs the same \
         secret: set PREFCENTER_SECRET, or copy <data-dir>/secret from the first instance"
    )]
    KeyMismatch { ours: String, recorded: String },
    #[error(
        "signing key: the database names signing key {0}, whose recorded public key is not the \
         one this secret derives for it (the signing_keys table was changed, or the database \
         belongs to another deployment)"
    )]
    SigningKeyMismatch(crate::domain::proof::KeyId),
    #[error("translations: {0}")]
    Translations(#[from] crate::i18n::LoadError),
    #[error("webhooks: {0}")]
    Webhooks(String),
}

/// Refuses a secret the database was not written with, and makes sure a signing key is
/// recorded (the first start records one) that this secret derives.
pub async fn check_keys(db: &mut store::Db, secret: &Arc<[u8]>) -> Result<(), StartError> {
    let ours = crate::domain::ledger::key_fingerprint(secret);
    let recorded = store::keys::recorded_fingerprint(&mut db.write, "evidence", &ours).await?;
    if recorded != ours {
        return Err(StartError::KeyMismatch { ours, recorded });
    }
    match store::proof::ensure_signing_key(&mut db.write, secret, rand::random()).await? {
        store::proof::KeyCheck::Ready(_) => Ok(()),
        store::proof::KeyCheck::Mismatch(id) => Err(StartError::SigningKeyMismatch(id)),
    }
}

/// A server ready to serve: its router, the demo links it printed (if any), and the background
/// workers (mail, double opt-in schedule) to stop at shutdown.
pub struct Prepared {
    pub router: Router,
    pub core: Arc<Core>,
    pub demo_links: Vec<(String, String)>,
    /// While no console user exists: the one-time code that unlocks `/admin/setup`.
    pub setup_code: Option<String>,
    writer_task: tokio::task::JoinHandle<()>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    stop: tokio::sync::watch::Sender<bool>,
    write_options: store::WriteOptions,
}

/// Opens the database, creates the demo when asked, starts the writer and the workers.
pub async fn prepare(settings: &Settings, base_url: &str) -> Result<Prepared, StartError> {
    prepare_with_clock(settings, base_url, store::Clock::system()).await
}

/// The same, on a given clock (tests move it forward instead of sleeping).
pub async fn prepare_with_clock(
    settings: &Settings,
    base_url: &str,
    clock: store::Clock,
) -> Result<Prepared, StartError> {
    let secret: Arc<[u8]> = settings.load_secret().map_err(StartError::Secret)?.into();
    for file in crate::i18n::load(settings.translations_dir.as_deref())? {
        tracing::info!(file, "translations read");
    }
    let mut db = store::open(&settings.database_url, settings.read_connections).await?;
    if let Err(e) = check_keys(&mut db, &secret).await {
        db.read.close().await;
        let _ = db.write.close().await;
        return Err(e);
    }
    let mut initial = Vec::new();
    if settings.demo {
        if let Some(seeded) = crate::services::demo::seed(&mut db.write).await? {
            initial = seeded.initial;
        }
    }
    let write_options = db.write_options.clone();
    let (writer, writer_task) =
        store::writer::Writer::spawn(db.write, db.write_options, secret.clone(), clock);
    for set in initial {
        writer.apply(set).await?;
    }
    let moved = crate::services::desk::move_kept_profile_changes(&writer).await?;
    if moved > 0 {
        tracing::info!(moved, "profile changes moved into the ledger");
    }
    let ms = std::time::Duration::from_millis;
    let hours = |h: u64| std::time::Duration::from_secs(h * 3600);
    let mut policy = Policy::new(base_url);
    policy.ip_evidence = settings.ip_evidence;
    policy.keep_user_agent = settings.keep_user_agent;
    policy.link_ttl_days = settings.link_ttl_days;
    policy.confirm_ttl = hours(settings.confirm_ttl_hours.max(1));
    policy.signup_cooldown = std::time::Duration::from_secs(settings.signup_cooldown_secs);
    policy.reminder_after =
        (settings.reminder_after_hours > 0).then(|| hours(settings.reminder_after_hours));
    policy.undo_window = hours(settings.undo_window_hours);
    policy.signup_rate_per_minute = settings.signup_rate_per_minute;
    policy.data_request_days = settings.data_request_days.max(1);
    policy.kept_mail_dir = Some(settings.kept_mail_dir());
    let core = Arc::new(Core::new(db.read, writer, policy, secret));
    // The console's imports a stop interrupted go on from their last committed batch.
    match crate::services::import::resume_all(&core).await {
        Ok(0) => {}
        Ok(resumed) => tracing::info!(resumed, "imports resumed"),
        Err(e) => tracing::error!(error = %e, "the stopped imports could not resume"),
    }
    let demo_links = if settings.demo {
        crate::services::demo::demo_links(&core).await?
    } else {
        Vec::new()
    };
    let setup_code = match crate::services::auth::setup_code(&core).await {
        Ok(code) => code,
        Err(e) => {
            tracing::warn!(error = %e, "could not make the console's setup code");
            None
        }
    };

    let transport = match settings.smtp() {
        Some(smtp) => crate::mail::Transport::smtp(&smtp).map_err(StartError::Mail)?,
        None => {
            let dir = settings.kept_mail_dir();
            tracing::info!(dir = %dir.display(), "no SMTP server configured: emails are kept as .eml files");
            crate::mail::Transport::files(dir)
        }
    };
    let echo_links = settings.demo && settings.smtp().is_none();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let worker = crate::services::delivery::Worker::new(
        core.clone(),
        Arc::new(transport),
        crate::services::delivery::DeliverySettings {
            lease: ms(settings.mail_lease_ms.max(100)),
            retry_base: ms(settings.mail_retry_base_ms.max(10)),
            retry_max: std::time::Duration::from_secs(3600),
            max_attempts: settings.mail_max_attempts.max(1),
            poll: ms(settings.poll_ms.max(10)),
            default_from: settings.mail_from.clone(),
            echo_links,
        },
    );
    let webhooks = crate::services::webhooks::WebhookWorker::new(
        core.clone(),
        crate::services::webhooks::WebhookSettings {
            allow_private: settings.webhooks_allow_private,
            retry_base: ms(settings.webhook_retry_base_ms.max(10)),
            retry_max: std::time::Duration::from_secs(3600),
            max_attempts: settings.webhook_max_attempts.max(1),
            lease: std::time::Duration::from_secs(60),
            poll: ms(settings.poll_ms.max(10)),
            timeout: std::time::Duration::from_secs(10),
        },
    )
    .map_err(StartError::Webhooks)?;
    let workers = vec![
        tokio::spawn(worker.run(stop_rx.clone())),
        tokio::spawn(webhooks.run(stop_rx.clone())),
        tokio::spawn(crate::services::optin::run_schedule(
            core.clone(),
            ms(settings.poll_ms.max(10)),
            stop_rx.clone(),
        )),
        tokio::spawn(crate::services::proof::run_checkpoints(
            core.clone(),
            std::time::Duration::from_secs(settings.checkpoint_secs.max(1)),
            settings.checkpoint_file.clone(),
            stop_rx,
        )),
    ];

    let leptos = LeptosOptions::builder()
        .output_name("prefcenter")
        .site_root(settings.site_root.clone())
        .site_pkg_dir("pkg")
        .build();
    let router = router(AppState {
        leptos: Arc::new(leptos),
        core: core.clone(),
        trust_forwarded_for: settings.trust_forwarded_for,
        signup_limiter: Arc::new(optin::signup_limiter(settings.signup_rate_per_minute)),
        api: Arc::new(api::ApiState::new(settings.api_rate_per_second)),
        bench_endpoints: settings.bench_endpoints,
        webhooks_allow_private: settings.webhooks_allow_private,
    });
    Ok(Prepared {
        router,
        core,
        demo_links,
        setup_code,
        writer_task,
        workers,
        stop,
        write_options,
    })
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish, stops the workers,
/// lets the writer commit what is queued, and closes every database connection.
pub async fn serve(
    prepared: Prepared,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Prepared {
        router,
        core,
        writer_task,
        workers,
        stop,
        write_options,
        ..
    } = prepared;
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    let _ = stop.send(true);
    for w in workers {
        if tokio::time::timeout(std::time::Duration::from_secs(30), w)
            .await
            .is_err()
        {
            tracing::warn!("a background worker did not stop within 30 s");
        }
    }
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
    // The reader hands its idle connections to their threads to close; the last connection
    // to close checkpoints the WAL into the database and removes it. Close one more writable
    // connection after them, so that last one is never a read-only one.
    match write_options.connect().await {
        Ok(c) => {
            if let Err(e) = c.close().await {
                tracing::warn!(error = %e, "closing the database at shutdown");
            }
        }
        Err(e) => tracing::warn!(error = %e, "opening the database to close it at shutdown"),
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
