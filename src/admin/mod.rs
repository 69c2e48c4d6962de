//! The console's server functions and islands: the hydrated part of the app.
//!
//! Everything else in the console is server-rendered HTML with forms that work with JavaScript
//! off. Where a page is better live (the form designer's preview, which follows every keystroke),
//! an `#[island]` hydrates just that part, and calls a `#[server]` function.
//!
//! A server function is compiled twice: in the browser build it is a `fetch` of its URL, on the
//! server its body. Every body starts with [`allowed`], the server layer's gate (the session's
//! user, a request from this origin, the role the function needs): the role matrix test calls
//! every registered function as every role, and a function missing from
//! `server::console::SERVER_FNS` fails it too.

pub mod designer;

use serde::{Deserialize, Serialize};

/// Where the console's server functions are served (inside `/admin`, so the console's session
/// and headers apply to them).
pub const FN_PREFIX: &str = "/admin/fn";

/// Why a console server function did not answer, with the HTTP status the server sends it with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "message", rename_all = "snake_case")]
pub enum FnError {
    /// No session, or it ended (401).
    #[error("Your session has ended. Sign in again.")]
    SignIn,
    /// The user's role does not allow this (403).
    #[error("Your role does not allow this.")]
    Forbidden,
    /// Not sent by a page of this server (403).
    #[error("This request did not come from this console.")]
    CrossSite,
    /// What it names does not exist (404).
    #[error("This no longer exists.")]
    NotFound,
    /// The server could not answer now (503).
    #[error("The server could not do this now. Try again.")]
    Unavailable,
    /// The call itself failed: the network, or an answer that could not be read.
    #[error("{0}")]
    Call(String),
}

impl FnError {
    /// The HTTP status the server answers this error with.
    pub fn status(&self) -> u16 {
        match self {
            FnError::SignIn => 401,
            FnError::Forbidden | FnError::CrossSite => 403,
            FnError::NotFound => 404,
            FnError::Unavailable => 503,
            FnError::Call(_) => 400,
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for FnError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        FnError::Call(value.to_string())
    }
}

/// The gate every server function's body passes first: the request came from a page of this
/// server, a console user is signed in, and their role allows `what`. Sets the response's
/// status when it refuses.
#[cfg(feature = "ssr")]
pub async fn allowed(
    what: crate::domain::auth::Permission,
) -> Result<(crate::server::AppState, crate::server::console::Console), FnError> {
    answer(crate::server::console::fn_user(what).await)
}

/// A server function's result, its error's HTTP status set on the response.
#[cfg(feature = "ssr")]
pub fn answer<T>(result: Result<T, FnError>) -> Result<T, FnError> {
    if let Err(e) = &result {
        if let (Some(opts), Ok(code)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            axum::http::StatusCode::from_u16(e.status()),
        ) {
            opts.set_status(code);
        }
    }
    result
}
