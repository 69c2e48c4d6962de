//! The console's routes under `/admin`: sign-in and sign-out, the console's home, and the users
//! page. Sessions are tower-sessions' (stored through the writer); every route checks the
//! session's user and the role its page needs on the server, and every POST carries the
//! session's CSRF token and, when the browser sends one, an `Origin` of this server.

use super::contact::{field, form_pairs};
use super::pages::Page;
use super::{desk, keys, request_info, setup, webhooks, AppState};
use crate::domain::auth::{Permission, SessionEnd};
use crate::pages;
use crate::services::auth::{self, SessionUser, SignInError};
use crate::store::users::User;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

/// The session's key for the signed-in user.
const USER_KEY: &str = "user";
/// The cookie of the sign-in form's CSRF token (there is no session before signing in).
const SIGNIN_CSRF: &str = "prefcenter_signin";

/// Cookie names: `__Host-` ones (which browsers accept only with Secure) when the server is
/// reached over HTTPS, plain ones on plain-HTTP development servers.
#[derive(Clone, Debug)]
pub struct Cookies {
    pub session: &'static str,
    pub device: &'static str,
    pub secure: bool,
}

impl Cookies {
    pub fn for_base_url(base_url: &str) -> Cookies {
        if base_url.starts_with("https://") {
            Cookies {
                session: "__Host-prefcenter",
                device: "__Host-prefcenter-device",
                secure: true,
            }
        } else {
            Cookies {
                session: "prefcenter_session",
                device: "prefcenter_device",
                secure: false,
            }
        }
    }

    fn attrs(&self) -> &'static str {
        if self.secure {
            "; Path=/; HttpOnly; Secure; SameSite=Lax"
        } else {
            "; Path=/; HttpOnly; SameSite=Lax"
        }
    }
}

/// Who may use a console route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (signing in, the setup step): their own checks apply.
    Public,
    /// A signed-in user whose role allows this.
    Needs(Permission),
}

/// One console route: its method, path and who may use it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

const fn route(method: &'static str, path: &'static str, access: Access) -> Route {
    Route {
        method,
        path,
        access,
    }
}

/// Every console route. The router is built from this list and nothing else, and the role
/// matrix test walks it: a route cannot be served without being here, and one whose handler
/// does not check what this says fails that test.
pub const ROUTES: &[Route] = {
    use Access::{Needs, Public};
    use Permission::*;
    &[
        route("GET", "/admin", Needs(UseConsole)),
        route("GET", "/admin/sign-in", Public),
        route("POST", "/admin/sign-in", Public),
        route("POST", "/admin/sign-out", Needs(UseConsole)),
        route("GET", "/admin/setup", Public),
        route("POST", "/admin/setup", Public),
        route("GET", "/admin/account", Needs(UseConsole)),
        route("POST", "/admin/account/password", Needs(UseConsole)),
        route("GET", "/admin/users", Needs(ManageUsers)),
        route("POST", "/admin/users/invite", Needs(ManageUsers)),
        route("POST", "/admin/users/{id}/invite", Needs(ManageUsers)),
        route("GET", "/admin/invite/{token}", Public),
        route("POST", "/admin/invite/{token}", Public),
        route("POST", "/admin/users/{id}/role", Needs(ManageUsers)),
        route("POST", "/admin/users/{id}/disable", Needs(ManageUsers)),
        route("POST", "/admin/users/{id}/enable", Needs(ManageUsers)),
        route("GET", "/admin/users/{id}/delete", Needs(ManageUsers)),
        route("POST", "/admin/users/{id}/delete", Needs(ManageUsers)),
        route("GET", "/admin/contacts", Needs(RecordConsent)),
        route("POST", "/admin/contacts/new", Needs(RecordConsent)),
        route("GET", "/admin/contacts/{id}", Needs(RecordConsent)),
        route("POST", "/admin/contacts/{id}/record", Needs(RecordConsent)),
        route("GET", "/admin/contacts/{id}/history", Needs(RecordConsent)),
        route("POST", "/admin/contacts/{id}/profile", Needs(RecordConsent)),
        route("GET", "/admin/changes.csv", Needs(RecordConsent)),
        route(
            "POST",
            "/admin/contacts/{id}/requests",
            Needs(RecordConsent),
        ),
        route("GET", "/admin/requests", Needs(RecordConsent)),
        route(
            "POST",
            "/admin/requests/{id}/approve",
            Needs(ApproveErasure),
        ),
        route("GET", "/admin/profiles", Needs(ConfigureProfiles)),
        route("GET", "/admin/profiles/new", Needs(ConfigureProfiles)),
        route("POST", "/admin/profiles/new", Needs(ConfigureProfiles)),
        route("GET", "/admin/profiles/{id}", Needs(ConfigureProfiles)),
        route("GET", "/admin/profiles/{id}/edit", Needs(ConfigureProfiles)),
        route(
            "POST",
            "/admin/profiles/{id}/edit",
            Needs(ConfigureProfiles),
        ),
        route(
            "GET",
            "/admin/profiles/{id}/purposes/new",
            Needs(ConfigureProfiles),
        ),
        route(
            "POST",
            "/admin/profiles/{id}/purposes/new",
            Needs(ConfigureProfiles),
        ),
        route("GET", "/admin/purposes/{id}/edit", Needs(ConfigureProfiles)),
        route(
            "POST",
            "/admin/purposes/{id}/edit",
            Needs(ConfigureProfiles),
        ),
        route(
            "POST",
            "/admin/purposes/{id}/move",
            Needs(ConfigureProfiles),
        ),
        route(
            "GET",
            "/admin/purposes/{id}/retire",
            Needs(ConfigureProfiles),
        ),
        route(
            "POST",
            "/admin/purposes/{id}/retire",
            Needs(ConfigureProfiles),
        ),
        route(
            "GET",
            "/admin/purposes/{id}/topics/new",
            Needs(ConfigureProfiles),
        ),
        route(
            "POST",
            "/admin/purposes/{id}/topics/new",
            Needs(ConfigureProfiles),
        ),
        route("GET", "/admin/topics/{id}/edit", Needs(ConfigureProfiles)),
        route("POST", "/admin/topics/{id}/edit", Needs(ConfigureProfiles)),
        route("POST", "/admin/topics/{id}/move", Needs(ConfigureProfiles)),
        route("GET", "/admin/topics/{id}/retire", Needs(ConfigureProfiles)),
        route(
            "POST",
            "/admin/topics/{id}/retire",
            Needs(ConfigureProfiles),
        ),
        route(
            "GET",
            "/admin/profiles/{id}/design",
            Needs(ConfigureProfiles),
        ),
        route(
            "POST",
            "/admin/profiles/{id}/design",
            Needs(ConfigureProfiles),
        ),
        route(
            "POST",
            "/admin/profiles/{id}/design/publish",
            Needs(ConfigureProfiles),
        ),
        route(
            "GET",
            "/admin/profiles/{id}/design/preview",
            Needs(ConfigureProfiles),
        ),
        route(
            "POST",
            "/admin/profiles/{id}/design/preview",
            Needs(ConfigureProfiles),
        ),
        route(
            "POST",
            "/admin/profiles/{id}/design/logo",
            Needs(ConfigureProfiles),
        ),
        route(
            "POST",
            "/admin/profiles/{id}/design/logo/remove",
            Needs(ConfigureProfiles),
        ),
        route(
            "GET",
            "/admin/profiles/{id}/versions/{version}",
            Needs(ConfigureProfiles),
        ),
        route("GET", "/admin/api-keys", Needs(ManageApiKeys)),
        route("POST", "/admin/api-keys", Needs(ManageApiKeys)),
        route("POST", "/admin/api-keys/{id}/revoke", Needs(ManageApiKeys)),
        route("GET", "/admin/webhooks", Needs(ManageWebhooks)),
        route("POST", "/admin/webhooks", Needs(ManageWebhooks)),
        route("GET", "/admin/webhooks/{id}", Needs(ManageWebhooks)),
        route(
            "POST",
            "/admin/webhooks/{id}/disable",
            Needs(ManageWebhooks),
        ),
        route("POST", "/admin/webhooks/{id}/enable", Needs(ManageWebhooks)),
        route("POST", "/admin/webhooks/{id}/rotate", Needs(ManageWebhooks)),
        route(
            "POST",
            "/admin/webhooks/deliveries/{id}/replay",
            Needs(ManageWebhooks),
        ),
        route("GET", "/admin/imports", Needs(ImportConsent)),
        route("POST", "/admin/imports", Needs(ImportConsent)),
        route("GET", "/admin/imports/{id}", Needs(ImportConsent)),
        route("POST", "/admin/imports/{id}/check", Needs(ImportConsent)),
        route("POST", "/admin/imports/{id}/start", Needs(ImportConsent)),
        route("POST", "/admin/imports/{id}/discard", Needs(ImportConsent)),
        route(
            "GET",
            "/admin/imports/{id}/errors.csv",
            Needs(ImportConsent),
        ),
        route("GET", "/admin/segments", Needs(ReadReports)),
        route("GET", "/admin/segments/new", Needs(ReadReports)),
        route("POST", "/admin/segments/new", Needs(ReadReports)),
        route("GET", "/admin/segments/{id}", Needs(ReadReports)),
        route("GET", "/admin/segments/{id}/edit", Needs(ReadReports)),
        route("POST", "/admin/segments/{id}/edit", Needs(ReadReports)),
        route("POST", "/admin/segments/{id}/delete", Needs(ReadReports)),
        route("GET", "/admin/segments/{id}/export.csv", Needs(ReadReports)),
        route("GET", "/admin/dashboard", Needs(ReadReports)),
        route("GET", "/admin/dashboard.csv", Needs(ReadReports)),
        route("GET", "/admin/audit", Needs(ReadAudit)),
        route("GET", "/admin/audit.csv", Needs(ReadAudit)),
    ]
};

/// Every console server function (`crate::admin`) and what its body's gate asks for. The role
/// matrix test calls each as every role, and fails when a registered function is missing here
/// (so one cannot be added without saying who may call it) or lets in a role this denies.
pub const SERVER_FNS: &[(&str, Permission)] = &[(
    <crate::admin::designer::CheckDesign as leptos::server_fn::ServerFn>::PATH,
    Permission::ConfigureProfiles,
)];

/// The largest body a server function reads (the designer's whole form fits many times).
const FN_BODY_LIMIT: usize = 256 * 1024;

/// `POST /admin/fn/{name}`: the console's server functions, inside the console's session layer.
async fn server_fn(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, FN_BODY_LIMIT).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"code":"too_large","message":"This request is too large."}"#,
        )
            .into_response();
    };
    let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(body));
    leptos_axum::handle_server_fns_with_context(
        move || leptos::prelude::provide_context(state.clone()),
        req,
    )
    .await
    .into_response()
}

/// The gate of every server function ([`crate::admin::allowed`]): a request from a page of this
/// server (a browser's `fetch` always sends `Origin` with a POST; one without is refused), a
/// console session that is still good, and a role that allows `what`.
pub async fn fn_user(what: Permission) -> Result<(AppState, Console), crate::admin::FnError> {
    use crate::admin::FnError;
    let state = leptos::prelude::use_context::<AppState>().ok_or(FnError::Unavailable)?;
    let mut parts = leptos::prelude::use_context::<Parts>().ok_or(FnError::Unavailable)?;
    if parts.headers.get(header::ORIGIN).is_none() || !same_origin(&state, &parts.headers) {
        return Err(FnError::CrossSite);
    }
    let console = match Console::from_request_parts(&mut parts, &state).await {
        Ok(c) => c,
        Err(Refused::SignIn(_)) => return Err(FnError::SignIn),
        Err(Refused::Unavailable) => return Err(FnError::Unavailable),
    };
    if !console.user.role.may(what) {
        return Err(FnError::Forbidden);
    }
    Ok((state, console))
}

/// The handler of a route of [`ROUTES`].
fn handler(r: &Route) -> axum::routing::MethodRouter<AppState> {
    match (r.method, r.path) {
        ("GET", "/admin") => get(home),
        ("GET", "/admin/sign-in") => get(sign_in_form),
        ("POST", "/admin/sign-in") => post(sign_in),
        ("POST", "/admin/sign-out") => post(sign_out),
        ("GET", "/admin/setup") => get(setup_form),
        ("POST", "/admin/setup") => post(setup),
        ("GET", "/admin/account") => get(account),
        ("POST", "/admin/account/password") => post(change_password),
        ("GET", "/admin/users") => get(users_page),
        ("POST", "/admin/users/invite") => post(invite_user),
        ("POST", "/admin/users/{id}/invite") => post(invite_again),
        ("GET", "/admin/invite/{token}") => get(accept_invite_form),
        ("POST", "/admin/invite/{token}") => post(accept_invite),
        ("POST", "/admin/users/{id}/role") => post(change_role),
        ("POST", "/admin/users/{id}/disable") => post(disable_user),
        ("POST", "/admin/users/{id}/enable") => post(enable_user),
        ("GET", "/admin/users/{id}/delete") => get(delete_user_form),
        ("POST", "/admin/users/{id}/delete") => post(delete_user),
        ("GET", "/admin/contacts") => get(desk::contacts),
        ("POST", "/admin/contacts/new") => post(desk::add_contact),
        ("GET", "/admin/contacts/{id}") => get(desk::contact),
        ("POST", "/admin/contacts/{id}/record") => post(desk::record),
        ("GET", "/admin/contacts/{id}/history") => get(desk::history),
        ("GET", "/admin/changes.csv") => get(desk::changes_csv),
        ("POST", "/admin/contacts/{id}/requests") => post(desk::start_request),
        ("POST", "/admin/contacts/{id}/profile") => post(desk::profile),
        ("GET", "/admin/requests") => get(desk::requests),
        ("POST", "/admin/requests/{id}/approve") => post(desk::approve),
        ("GET", "/admin/profiles") => get(setup::profiles),
        ("GET", "/admin/profiles/new") => get(setup::profile_new),
        ("POST", "/admin/profiles/new" | "/admin/profiles/{id}/edit") => post(setup::profile_save),
        ("GET", "/admin/profiles/{id}") => get(setup::profile_show),
        ("GET", "/admin/profiles/{id}/edit") => get(setup::profile_edit),
        ("GET", "/admin/profiles/{id}/purposes/new") => get(setup::purpose_new),
        ("POST", "/admin/profiles/{id}/purposes/new" | "/admin/purposes/{id}/edit") => {
            post(setup::purpose_save)
        }
        ("GET", "/admin/purposes/{id}/edit") => get(setup::purpose_edit),
        ("POST", "/admin/purposes/{id}/move" | "/admin/topics/{id}/move") => post(setup::move_item),
        ("GET", "/admin/purposes/{id}/retire" | "/admin/topics/{id}/retire") => {
            get(setup::retire_form)
        }
        ("POST", "/admin/purposes/{id}/retire" | "/admin/topics/{id}/retire") => {
            post(setup::retire)
        }
        ("GET", "/admin/purposes/{id}/topics/new" | "/admin/topics/{id}/edit") => {
            get(setup::topic_form_get)
        }
        ("POST", "/admin/purposes/{id}/topics/new" | "/admin/topics/{id}/edit") => {
            post(setup::topic_save)
        }
        ("GET", "/admin/profiles/{id}/design") => get(setup::design_page),
        ("POST", "/admin/profiles/{id}/design") => post(setup::design_save),
        ("POST", "/admin/profiles/{id}/design/publish") => post(setup::design_publish),
        ("GET", "/admin/profiles/{id}/design/preview") => get(setup::design_preview),
        ("POST", "/admin/profiles/{id}/design/preview") => post(setup::design_preview_posted),
        ("POST", "/admin/profiles/{id}/design/logo") => post(setup::design_logo)
            .layer(axum::extract::DefaultBodyLimit::max(setup::LOGO_BODY_LIMIT)),
        ("POST", "/admin/profiles/{id}/design/logo/remove") => post(setup::design_logo),
        ("GET", "/admin/profiles/{id}/versions/{version}") => get(setup::version_page),
        ("GET", "/admin/api-keys") => get(keys::page),
        ("POST", "/admin/api-keys") => post(keys::create),
        ("POST", "/admin/api-keys/{id}/revoke") => post(keys::revoke),
        ("GET", "/admin/webhooks") => get(webhooks::page),
        ("POST", "/admin/webhooks") => post(webhooks::create),
        ("GET", "/admin/webhooks/{id}") => get(webhooks::endpoint),
        ("POST", "/admin/webhooks/{id}/disable" | "/admin/webhooks/{id}/enable") => {
            post(webhooks::toggle)
        }
        ("POST", "/admin/webhooks/{id}/rotate") => post(webhooks::rotate),
        ("POST", "/admin/webhooks/deliveries/{id}/replay") => post(webhooks::replay),
        ("GET", "/admin/audit") => get(audit_page),
        ("GET", "/admin/audit.csv") => get(audit_csv),
        ("GET", "/admin/imports") => get(super::imports::list),
        ("POST", "/admin/imports") => post(super::imports::upload).layer(
            axum::extract::DefaultBodyLimit::max(super::imports::UPLOAD_LIMIT),
        ),
        ("GET", "/admin/imports/{id}") => get(super::imports::show),
        ("POST", "/admin/imports/{id}/check") => post(super::imports::check),
        ("POST", "/admin/imports/{id}/start") => post(super::imports::start),
        ("POST", "/admin/imports/{id}/discard") => post(super::imports::discard),
        ("GET", "/admin/imports/{id}/errors.csv") => get(super::imports::errors_csv),
        ("GET", "/admin/segments") => get(super::segments::list),
        ("GET", "/admin/segments/new") => get(super::segments::new_form),
        ("POST", "/admin/segments/new" | "/admin/segments/{id}/edit") => {
            post(super::segments::save)
        }
        ("GET", "/admin/segments/{id}") => get(super::segments::show),
        ("GET", "/admin/segments/{id}/edit") => get(super::segments::edit_form),
        ("POST", "/admin/segments/{id}/delete") => post(super::segments::delete),
        ("GET", "/admin/segments/{id}/export.csv") => get(super::segments::export),
        ("GET", "/admin/dashboard") => get(super::segments::dashboard),
        ("GET", "/admin/dashboard.csv") => get(super::segments::dashboard_csv),
        (m, p) => panic!("console route {m} {p} has no handler"),
    }
}

/// The console's router, with its session layer.
pub fn routes(state: &AppState) -> Router<AppState> {
    let cookies = Cookies::for_base_url(&state.core.policy.base_url);
    let layer =
        SessionManagerLayer::new(crate::services::auth::SessionStore::new(state.core.clone()))
            .with_name(cookies.session)
            .with_secure(cookies.secure)
            .with_http_only(true)
            .with_same_site(tower_sessions::cookie::SameSite::Lax)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
                crate::domain::auth::IDLE_SECS,
            )));
    ROUTES
        .iter()
        .fold(Router::new(), |r, route| {
            r.route(route.path, handler(route))
        })
        .route(
            &format!("{}/{{*name}}", crate::admin::FN_PREFIX),
            post(server_fn),
        )
        .layer(layer)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether the request's `Origin` (if the browser sent one) is this server's.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let base = state.core.policy.base_url.trim_end_matches('/');
            // The base URL's scheme://host[:port], without a path.
            let ours = base
                .find("://")
                .and_then(|i| base[i + 3..].find('/').map(|j| &base[..i + 3 + j]))
                .unwrap_or(base);
            origin == ours
        }
    }
}

fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A signed-in user on a console route, the session still good (else the route answers with a
/// redirect to the sign-in page, or 403 for a role that may not use it).
pub struct Console {
    pub user: User,
    pub session: Session,
    pub su: SessionUser,
}

/// Why a console route does not run.
pub enum Refused {
    SignIn(Option<SessionEnd>),
    Unavailable,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::SignIn(end) => {
                let why = match end {
                    Some(SessionEnd::Idle) => "?ended=idle",
                    Some(SessionEnd::Absolute) => "?ended=expired",
                    Some(SessionEnd::Revoked) => "?ended=revoked",
                    None => "",
                };
                Redirect::to(&format!("/admin/sign-in{why}")).into_response()
            }
            Refused::Unavailable => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Refused;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| Refused::Unavailable)?;
        let Some(mut su) = session
            .get::<SessionUser>(USER_KEY)
            .await
            .map_err(|_| Refused::Unavailable)?
        else {
            return Err(Refused::SignIn(None));
        };
        let user = match auth::session_user(&state.core, &su).await {
            Ok(Ok(u)) => u,
            Ok(Err(end)) => {
                let _ = session.flush().await;
                return Err(Refused::SignIn(Some(end)));
            }
            Err(e) => {
                tracing::error!(error = %e, "reading a console session's user failed");
                return Err(Refused::Unavailable);
            }
        };
        // Seen now (written at most once a minute, so a busy page costs no write per request).
        let now = crate::domain::auth::micros(state.core.clock.now());
        if now - su.seen_at >= 60_000_000 {
            su.seen_at = now;
            session
                .insert(USER_KEY, &su)
                .await
                .map_err(|_| Refused::Unavailable)?;
        }
        Ok(Console { user, session, su })
    }
}

/// The profile a console form's `profile` choice names (empty: every profile), with the page
/// back; one that does not exist is a 400, a failed read the error page.
pub(super) async fn chosen_profile(
    state: &AppState,
    page: Page,
    pairs: &[(String, String)],
) -> Result<(Page, Option<i64>), Response> {
    let chosen = super::contact::field(pairs, "profile").unwrap_or("");
    if chosen.is_empty() {
        return Ok((page, None));
    }
    let no_such = || (StatusCode::BAD_REQUEST, "There is no such profile.").into_response();
    let Ok(id) = chosen.parse::<i64>() else {
        return Err(no_such());
    };
    match crate::services::setup::profiles(&state.core).await {
        Ok(list) if list.iter().any(|p| p.id == id) => Ok((page, Some(id))),
        Ok(_) => Err(no_such()),
        Err(e) => Err(page.error(e, "profile choice").await),
    }
}

impl Console {
    /// This user as the audit log names them.
    pub(super) fn actor(&self) -> auth::Actor {
        auth::Actor {
            user_id: Some(self.user.id),
            name: self.user.email.clone(),
        }
    }

    /// The 403 page when the user's role does not allow `what`.
    pub(super) async fn require(&self, what: Permission, page: Page) -> Result<Page, Response> {
        if self.user.role.may(what) {
            Ok(page)
        } else {
            Err(page
                .send(StatusCode::FORBIDDEN, pages::console_forbidden_page)
                .await)
        }
    }

    /// A console POST's checks in order: the role (403 page), then the form's token and origin
    /// (403); the form's fields.
    pub(super) async fn posted(
        &self,
        what: Permission,
        state: &AppState,
        page: Page,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<(Page, Vec<(String, String)>), Response> {
        let page = self.require(what, page).await?;
        let pairs = form_pairs(headers, body).await.unwrap_or_default();
        if !self.csrf_ok(state, headers, &pairs) {
            return Err(forbidden_post());
        }
        Ok((page, pairs))
    }

    /// The checks of a console POST: an `Origin` of this server when there is one, and the
    /// session's CSRF token in the form.
    pub(super) fn csrf_ok(
        &self,
        state: &AppState,
        headers: &HeaderMap,
        pairs: &[(String, String)],
    ) -> bool {
        same_origin(state, headers) && field(pairs, "csrf").is_some_and(|t| ct_eq(t, &self.su.csrf))
    }
}

pub(super) fn forbidden_post() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "This form is out of date or came from another site. Go back, reload the page and try again.",
    )
        .into_response()
}

/// `GET /admin`: the console's home.
async fn home(console: Console, page: Page) -> Response {
    let view = pages::ConsoleHome {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
    };
    page.send(StatusCode::OK, move || pages::console_home_page(view))
        .await
}

/// `GET /admin/sign-in`: the form (or the console, for a user signed in already).
async fn sign_in_form(State(state): State<AppState>, session: Session, page: Page) -> Response {
    if let Ok(Some(su)) = session.get::<SessionUser>(USER_KEY).await {
        // Signed in already, unless that session has ended meanwhile (then it goes).
        match auth::session_user(&state.core, &su).await {
            Ok(Ok(_)) => return Redirect::to("/admin").into_response(),
            _ => {
                let _ = session.flush().await;
            }
        }
    }
    let ended = page.query_value("ended");
    let notice = match ended.as_deref() {
        Some("idle") => Some(pages::SignInNotice::Idle),
        Some("expired") => Some(pages::SignInNotice::Expired),
        Some("revoked") => Some(pages::SignInNotice::Revoked),
        _ if page.query_value("created").is_some() => Some(pages::SignInNotice::Created),
        _ => page
            .query_value("signed_out")
            .map(|_| pages::SignInNotice::SignedOut),
    };
    sign_in_response(&state, page, StatusCode::OK, notice, None, String::new()).await
}

/// The sign-in page with a fresh CSRF token in its cookie and its form.
async fn sign_in_response(
    state: &AppState,
    page: Page,
    status: StatusCode,
    notice: Option<pages::SignInNotice>,
    error: Option<String>,
    email: String,
) -> Response {
    with_form_token(state, page, status, move |csrf| {
        pages::sign_in_page(pages::SignInView {
            csrf,
            notice,
            error,
            email,
        })
    })
    .await
}

/// A page whose form is posted before any session exists (sign-in, setup): a fresh token in
/// the form and in a cookie of its own, which the POST must both carry back.
async fn with_form_token<V: leptos::prelude::IntoView + 'static>(
    state: &AppState,
    page: Page,
    status: StatusCode,
    view: impl FnOnce(String) -> V,
) -> Response {
    let cookies = Cookies::for_base_url(&state.core.policy.base_url);
    let token = crate::services::random_text::<24>();
    let form_token = token.clone();
    let mut res = page.send(status, move || view(form_token)).await;
    if let Ok(v) = format!("{SIGNIN_CSRF}={token}{}", cookies.attrs()).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The fields of a form posted before any session (sign-in, setup), if it came from this
/// server: an `Origin` of ours when the browser sends one, and the token of the form's cookie.
async fn pre_session_form(
    state: &AppState,
    headers: &HeaderMap,
    body: Bytes,
) -> Option<Vec<(String, String)>> {
    let pairs = form_pairs(headers, body).await.unwrap_or_default();
    let sent = field(&pairs, "csrf").unwrap_or("");
    let kept = cookie(headers, SIGNIN_CSRF).unwrap_or_default();
    (same_origin(state, headers) && !kept.is_empty() && ct_eq(sent, &kept)).then_some(pairs)
}

/// A password rule's words as a sentence beside its field ("Use at least 12 characters.").
fn sentence(e: crate::domain::auth::PasswordError) -> String {
    let mut m = e.to_string();
    if let Some(first) = m.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    format!("{m}.")
}

/// `POST /admin/sign-in`.
async fn sign_in(
    State(state): State<AppState>,
    session: Session,
    page: Page,
    req_parts: super::RequestParts,
    body: Bytes,
) -> Response {
    let headers = &req_parts.headers;
    let Some(pairs) = pre_session_form(&state, headers, body).await else {
        return forbidden_post();
    };
    let email = field(&pairs, "email").unwrap_or("").trim().to_owned();
    let password = field(&pairs, "password").unwrap_or("");
    let info = request_info(&req_parts, state.trust_forwarded_for);
    let cookies = Cookies::for_base_url(&state.core.policy.base_url);
    let device = cookie(headers, cookies.device);
    match auth::sign_in(&state.core, &email, password, info.ip, device.as_deref()).await {
        Ok((user, su)) => {
            // A new session id at sign-in: a fixated or stolen anonymous id is worth nothing.
            if session.cycle_id().await.is_err() || session.insert(USER_KEY, &su).await.is_err() {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            let mut res = Redirect::to("/admin").into_response();
            let tag = crate::domain::auth::device_tag(state.core.secret(), &user.email);
            let attrs = if cookies.secure {
                "; Path=/admin; HttpOnly; Secure; SameSite=Strict; Max-Age=31536000"
            } else {
                "; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=31536000"
            };
            if let Ok(v) = format!("{}={tag}{attrs}", cookies.device).parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            tracing::info!(user = user.id, role = user.role.as_str(), "console sign-in");
            res
        }
        Err(SignInError::Invalid) => {
            sign_in_response(
                &state,
                page,
                StatusCode::UNAUTHORIZED,
                None,
                Some("Invalid email or password.".to_owned()),
                email,
            )
            .await
        }
        Err(SignInError::Throttled { retry_after }) => {
            let mut res = sign_in_response(
                &state,
                page,
                StatusCode::TOO_MANY_REQUESTS,
                None,
                Some(format!(
                    "Too many failed sign-ins. Try again in {} minutes, or from a browser that has signed in to this account before.",
                    (retry_after + 59) / 60
                )),
                email,
            )
            .await;
            if let Ok(v) = retry_after.to_string().parse() {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Err(SignInError::Service(e)) => page.error(e, "sign-in").await,
    }
}

/// `POST /admin/sign-out`.
async fn sign_out(
    State(state): State<AppState>,
    console: Result<Console, Refused>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(console) = console else {
        // Signed out already: nothing to end.
        return Redirect::to("/admin/sign-in?signed_out=1").into_response();
    };
    let pairs = form_pairs(&headers, body).await.unwrap_or_default();
    if !console.csrf_ok(&state, &headers, &pairs) {
        return forbidden_post();
    }
    let _ = console.session.flush().await;
    Redirect::to("/admin/sign-in?signed_out=1").into_response()
}

/// The users page, with the invitation form as posted and why it was refused, if it was.
async fn users_response(
    state: &AppState,
    console: &Console,
    page: Page,
    status: StatusCode,
    invite: (
        String,
        crate::domain::auth::Role,
        Option<(&'static str, String)>,
    ),
) -> Response {
    match crate::store::users::all(&state.core.read).await {
        Ok(list) => {
            let notice = match page.query_value("refused").as_deref() {
                Some("last_admin") => Some(
                    "That would leave no active administrator: make someone else an admin first."
                        .to_owned(),
                ),
                _ => None,
            };
            let done = page
                .query_value("invited")
                .and_then(|id| id.parse::<i64>().ok())
                .and_then(|id| list.iter().find(|u| u.id == id))
                .map(|u| format!("Invitation sent to {}.", u.email));
            let (invite_email, invite_role, invite_error) = invite;
            let view = pages::UsersView {
                notice,
                done,
                me: console.user.id,
                csrf: console.su.csrf.clone(),
                invite_email,
                invite_role,
                invite_error,
                users: list
                    .into_iter()
                    .map(|u| pages::UserRow {
                        invited_by: u
                            .invited()
                            .then(|| u.invited_by.clone().unwrap_or_default()),
                        id: u.id,
                        email: u.email,
                        role: u.role,
                        disabled: u.disabled,
                    })
                    .collect(),
            };
            page.send(status, move || pages::users_page(view)).await
        }
        Err(e) => page.error(e.into(), "users page").await,
    }
}

/// `GET /admin/users`: every user, with their role and state (admins only).
async fn users_page(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ManageUsers, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let blank = (String::new(), crate::domain::auth::Role::Staff, None);
    users_response(&state, &console, page, StatusCode::OK, blank).await
}

/// `POST /admin/users/invite`: creates the user without a password and queues the email.
async fn invite_user(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::services::auth::CreateError;
    let page = match console.require(Permission::ManageUsers, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let pairs = form_pairs(&headers, body).await.unwrap_or_default();
    if !console.csrf_ok(&state, &headers, &pairs) {
        return forbidden_post();
    }
    let email = field(&pairs, "email")
        .unwrap_or("")
        .trim()
        .replace('\0', "");
    let role = field(&pairs, "role").and_then(crate::domain::auth::Role::parse);
    let refused = match role {
        None => ("role", "Choose admin, staff or analyst.".to_owned()),
        Some(role) => match auth::invite(&state.core, &email, role, console.actor()).await {
            Ok(id) => return Redirect::to(&format!("/admin/users?invited={id}")).into_response(),
            Err(CreateError::Service(e)) => return page.error(e, "invite").await,
            Err(CreateError::Exists) => {
                ("email", "This address has an account already.".to_owned())
            }
            Err(_) => ("email", "Enter an email address.".to_owned()),
        },
    };
    let role = role.unwrap_or(crate::domain::auth::Role::Staff);
    let invite = (email, role, Some(refused));
    users_response(&state, &console, page, StatusCode::BAD_REQUEST, invite).await
}

/// `POST /admin/users/{id}/invite`: sends the invitation again, with a fresh link.
async fn invite_again(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, _, id) = match admin_post(&state, &console, page, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match auth::invite_again(&state.core, id, console.actor()).await {
        Ok(true) => Redirect::to(&format!("/admin/users?invited={id}")).into_response(),
        Ok(false) => (
            StatusCode::CONFLICT,
            "This user has accepted their invitation, is disabled or was deleted.",
        )
            .into_response(),
        Err(e) => page.error(e, "invite again").await,
    }
}

/// The invitation token of the path, if it is one.
fn invite_token(page: &Page) -> Option<crate::domain::token::InviteToken> {
    crate::domain::token::InviteToken::parse(&page.segment(3))
}

/// `GET /admin/invite/{token}`: the invited user's password form.
async fn accept_invite_form(State(state): State<AppState>, page: Page) -> Response {
    let Some(token) = invite_token(&page) else {
        return page
            .send(StatusCode::NOT_FOUND, pages::invite_gone_page)
            .await;
    };
    match auth::invitee(&state.core, &token).await {
        Ok(Some(user)) => accept_response(&state, page, StatusCode::OK, &token, user, None).await,
        Ok(None) => page.send(StatusCode::GONE, pages::invite_gone_page).await,
        Err(e) => page.error(e, "invitation").await,
    }
}

async fn accept_response(
    state: &AppState,
    page: Page,
    status: StatusCode,
    token: &crate::domain::token::InviteToken,
    user: User,
    error: Option<(&'static str, String)>,
) -> Response {
    let token = token.as_str().to_owned();
    with_form_token(state, page, status, move |csrf| {
        pages::accept_invite_page(pages::AcceptInviteView {
            csrf,
            token,
            email: user.email,
            role: user.role,
            error,
        })
    })
    .await
}

/// `POST /admin/invite/{token}`: the first password; the user is signed in.
async fn accept_invite(
    State(state): State<AppState>,
    session: Session,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::services::auth::AcceptError;
    let Some(pairs) = pre_session_form(&state, &headers, body).await else {
        return forbidden_post();
    };
    let Some(token) = invite_token(&page) else {
        return page
            .send(StatusCode::NOT_FOUND, pages::invite_gone_page)
            .await;
    };
    let password = field(&pairs, "password").unwrap_or("");
    let refused = if field(&pairs, "confirm").unwrap_or("") != password {
        ("confirm", "The two passwords differ.".to_owned())
    } else {
        match auth::accept_invite(&state.core, &token, password).await {
            Ok((user, su)) => {
                if session.cycle_id().await.is_err() || session.insert(USER_KEY, &su).await.is_err()
                {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                tracing::info!(user = user.id, "a console invitation was accepted");
                return Redirect::to("/admin").into_response();
            }
            Err(AcceptError::Gone) => {
                return page.send(StatusCode::GONE, pages::invite_gone_page).await
            }
            Err(AcceptError::Password(e)) => ("password", sentence(e)),
            Err(AcceptError::Service(e)) => return page.error(e, "invitation").await,
        }
    };
    match auth::invitee(&state.core, &token).await {
        Ok(Some(user)) => {
            accept_response(
                &state,
                page,
                StatusCode::BAD_REQUEST,
                &token,
                user,
                Some(refused),
            )
            .await
        }
        Ok(None) => page.send(StatusCode::GONE, pages::invite_gone_page).await,
        Err(e) => page.error(e, "invitation").await,
    }
}

async fn set_disabled(
    state: AppState,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
    disabled: bool,
) -> Response {
    let page = match console.require(Permission::ManageUsers, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let pairs = form_pairs(&headers, body).await.unwrap_or_default();
    if !console.csrf_ok(&state, &headers, &pairs) {
        return forbidden_post();
    }
    let Some(id) = page.segment_i64(3) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if id == console.user.id {
        // Locking oneself out is never what an admin means.
        return (StatusCode::CONFLICT, "You cannot disable your own account.").into_response();
    }
    match auth::set_disabled(&state.core, id, disabled, console.actor()).await {
        Ok(true) => Redirect::to("/admin/users").into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => page.error(e, "disable user").await,
    }
}

/// `POST /admin/users/{id}/disable`: ends every session of theirs at once.
async fn disable_user(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    set_disabled(state, console, page, headers, body, true).await
}

/// `POST /admin/users/{id}/enable`.
async fn enable_user(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    set_disabled(state, console, page, headers, body, false).await
}

/// A console POST's common checks: the role, then the form's token and origin.
async fn admin_post(
    state: &AppState,
    console: &Console,
    page: Page,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Page, Vec<(String, String)>, i64), Response> {
    let (page, pairs) = console
        .posted(Permission::ManageUsers, state, page, headers, body)
        .await?;
    let Some(id) = page.segment_i64(3) else {
        return Err(StatusCode::NOT_FOUND.into_response());
    };
    Ok((page, pairs, id))
}

fn after_change(change: crate::store::users::UserChange) -> Response {
    use crate::store::users::UserChange;
    match change {
        UserChange::Done => Redirect::to("/admin/users").into_response(),
        UserChange::NotFound => StatusCode::NOT_FOUND.into_response(),
        UserChange::LastAdmin => Redirect::to("/admin/users?refused=last_admin").into_response(),
    }
}

/// `POST /admin/users/{id}/role`.
async fn change_role(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, pairs, id) = match admin_post(&state, &console, page, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(role) = field(&pairs, "role").and_then(crate::domain::auth::Role::parse) else {
        return (StatusCode::BAD_REQUEST, "Choose admin, staff or analyst.").into_response();
    };
    match auth::set_role(&state.core, id, role, console.actor()).await {
        Ok(change) => after_change(change),
        Err(e) => page.error(e, "change role").await,
    }
}

/// `GET /admin/users/{id}/delete`: the question before deleting.
async fn delete_user_form(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ManageUsers, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(id) = page.segment_i64(3) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match crate::store::users::by_id(&state.core.read, id).await {
        Ok(Some(u)) if u.id != console.user.id => {
            let (me, csrf) = (console.user.email.clone(), console.su.csrf.clone());
            page.send(StatusCode::OK, move || {
                pages::delete_user_page(me, csrf, id, u.email)
            })
            .await
        }
        Ok(Some(_)) => {
            (StatusCode::CONFLICT, "You cannot delete your own account.").into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => page.error(e.into(), "delete user").await,
    }
}

/// `POST /admin/users/{id}/delete`.
async fn delete_user(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (page, _, id) = match admin_post(&state, &console, page, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if id == console.user.id {
        return (StatusCode::CONFLICT, "You cannot delete your own account.").into_response();
    }
    match auth::delete_user(&state.core, id, console.actor()).await {
        Ok(change) => after_change(change),
        Err(e) => page.error(e, "delete user").await,
    }
}

/// `GET /admin/setup`: the first admin's form, while no user exists.
async fn setup_form(State(state): State<AppState>, page: Page) -> Response {
    match auth::setup_open(&state.core).await {
        Ok(true) => setup_response(&state, page, StatusCode::OK, None, String::new()).await,
        Ok(false) => Redirect::to("/admin/sign-in").into_response(),
        Err(e) => page.error(e, "setup").await,
    }
}

async fn setup_response(
    state: &AppState,
    page: Page,
    status: StatusCode,
    error: Option<(&'static str, String)>,
    email: String,
) -> Response {
    with_form_token(state, page, status, move |csrf| {
        pages::setup_page(pages::SetupView { csrf, error, email })
    })
    .await
}

/// `POST /admin/setup`.
async fn setup(
    State(state): State<AppState>,
    page: Page,
    req_parts: super::RequestParts,
    body: Bytes,
) -> Response {
    use crate::services::auth::{CreateError, SetupError};
    let headers = &req_parts.headers;
    let Some(pairs) = pre_session_form(&state, headers, body).await else {
        return forbidden_post();
    };
    let email = field(&pairs, "email").unwrap_or("").trim().to_owned();
    let password = field(&pairs, "password").unwrap_or("");
    if field(&pairs, "confirm").unwrap_or("") != password {
        let error = Some(("confirm", "The two passwords differ.".to_owned()));
        return setup_response(&state, page, StatusCode::BAD_REQUEST, error, email).await;
    }
    let code = field(&pairs, "code").unwrap_or("");
    let info = request_info(&req_parts, state.trust_forwarded_for);
    match auth::first_admin(&state.core, code, &email, password, info.ip).await {
        Ok(id) => {
            tracing::info!(
                user = id,
                "the first console admin was created on the setup page"
            );
            Redirect::to("/admin/sign-in?created=1").into_response()
        }
        Err(SetupError::Closed) => Redirect::to("/admin/sign-in").into_response(),
        Err(SetupError::Create(CreateError::Service(e))) => page.error(e, "setup").await,
        Err(e) => {
            let (status, field_name) = match &e {
                SetupError::WrongCode => (StatusCode::BAD_REQUEST, "code"),
                SetupError::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "form"),
                SetupError::Create(CreateError::BadEmail) => (StatusCode::BAD_REQUEST, "email"),
                SetupError::Create(CreateError::Exists) => (StatusCode::BAD_REQUEST, "email"),
                _ => (StatusCode::BAD_REQUEST, "password"),
            };
            let message = match &e {
                SetupError::Create(CreateError::BadEmail) => "Enter an email address.".to_owned(),
                SetupError::Create(CreateError::Password(p)) => sentence(*p),
                other => other.to_string(),
            };
            setup_response(&state, page, status, Some((field_name, message)), email).await
        }
    }
}

/// The audit filter a query gives, the query again (for the CSV and paging links), and
/// whether a day was ignored.
fn audit_filter(page: &Page) -> (crate::store::audit::Filter, [String; 4], bool) {
    use crate::services::audit::day_start;
    // A NUL can match nothing stored, and PostgreSQL refuses it in text: it goes.
    let get = |k: &str| page.query_value(k).unwrap_or_default().replace('\0', "");
    let (actor, kind, from, to) = (get("actor"), get("kind"), get("from"), get("to"));
    let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let from_ts = nonempty(&from).and_then(|d| day_start(&d, 0));
    let to_ts = nonempty(&to).and_then(|d| day_start(&d, 1));
    let bad_day = (nonempty(&from).is_some() && from_ts.is_none())
        || (nonempty(&to).is_some() && to_ts.is_none());
    let filter = crate::store::audit::Filter {
        actor: nonempty(&actor),
        kind: nonempty(&kind),
        from: from_ts,
        to: to_ts,
        before_id: page.query_value("before").and_then(|b| b.parse().ok()),
    };
    (filter, [actor, kind, from, to], bad_day)
}

fn audit_query(given: &[String; 4], before: Option<i64>) -> String {
    let mut pairs: Vec<(&str, String)> = ["actor", "kind", "from", "to"]
        .into_iter()
        .zip(given.iter().cloned())
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if let Some(b) = before {
        pairs.push(("before", b.to_string()));
    }
    if pairs.is_empty() {
        return String::new();
    }
    format!(
        "?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

/// `GET /admin/audit`.
async fn audit_page(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ReadAudit, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (filter, given, bad_day) = audit_filter(&page);
    let loaded = async {
        let lines = crate::services::audit::page(&state.core, &filter).await?;
        let choices = crate::services::audit::choices(&state.core).await?;
        Ok::<_, crate::services::consent::ServiceError>((lines, choices))
    }
    .await;
    let (lines, (actors, kinds)) = match loaded {
        Ok(x) => x,
        Err(e) => return page.error(e, "audit log").await,
    };
    let older_query = (lines.len() as i64 == crate::services::audit::PAGE)
        .then(|| audit_query(&given, lines.last().map(|l| l.id)));
    let rows = lines
        .into_iter()
        .map(|l| pages::AuditRow {
            at: l.at.get(..19).unwrap_or(&l.at).replace('T', " "),
            actor: l.actor,
            kind: l.kind,
            subject: l.subject,
            before: l.before.unwrap_or_default(),
            after: l.after.unwrap_or_default(),
        })
        .collect();
    let [actor, kind, from, to] = given.clone();
    let view = pages::AuditView {
        me: console.user.email.clone(),
        csrf: console.su.csrf.clone(),
        rows,
        actors,
        kinds,
        actor,
        kind,
        from,
        to,
        bad_day,
        csv_query: audit_query(&given, None),
        older_query,
    };
    page.send(StatusCode::OK, move || pages::audit_page(view))
        .await
}

/// `GET /admin/audit.csv`: the filtered log as CSV, streamed.
async fn audit_csv(State(state): State<AppState>, console: Console, page: Page) -> Response {
    let page = match console.require(Permission::ReadAudit, page).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (mut filter, _, _) = audit_filter(&page);
    filter.before_id = None;
    let stream = crate::services::audit::csv_stream(state.core.clone(), filter);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"prefcenter-audit.csv\"",
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

fn account_view(
    console: &Console,
    error: Option<(&'static str, String)>,
    changed: bool,
) -> pages::AccountView {
    pages::AccountView {
        email: console.user.email.clone(),
        role: console.user.role,
        csrf: console.su.csrf.clone(),
        error,
        changed,
    }
}

/// `GET /admin/account`.
async fn account(console: Console, page: Page) -> Response {
    let changed = page.query_value("changed").is_some();
    let view = account_view(&console, None, changed);
    page.send(StatusCode::OK, move || pages::account_page(view))
        .await
}

/// `POST /admin/account/password`: the current password, then the new one twice.
async fn change_password(
    State(state): State<AppState>,
    console: Console,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::services::auth::PasswordChangeError;
    let pairs = form_pairs(&headers, body).await.unwrap_or_default();
    if !console.csrf_ok(&state, &headers, &pairs) {
        return forbidden_post();
    }
    let current = field(&pairs, "current").unwrap_or("");
    let new = field(&pairs, "password").unwrap_or("");
    let refused: (&'static str, String) = if field(&pairs, "confirm").unwrap_or("") != new {
        ("confirm", "The two new passwords differ.".into())
    } else {
        match auth::change_password(&state.core, &console.user, current, new).await {
            Ok(from) => {
                // This session goes on from now, under a new id; every other one has ended.
                let mut su = console.su.clone();
                su.signed_in_at = from;
                su.seen_at = from;
                if console.session.cycle_id().await.is_err()
                    || console.session.insert(USER_KEY, &su).await.is_err()
                {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                return Redirect::to("/admin/account?changed=1").into_response();
            }
            Err(PasswordChangeError::WrongCurrent) => {
                ("current", PasswordChangeError::WrongCurrent.to_string())
            }
            Err(PasswordChangeError::Weak(e)) => ("password", sentence(e)),
            Err(PasswordChangeError::Service(e)) => return page.error(e, "password change").await,
        }
    };
    let view = account_view(&console, Some(refused), false);
    page.send(StatusCode::BAD_REQUEST, move || pages::account_page(view))
        .await
}
