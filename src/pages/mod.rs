//! The contact's pages. Server-rendered, no WebAssembly needed: every action is a plain HTML
//! form that POSTs to the link's stable URL (handled in `server::contact`), so they work with
//! JavaScript disabled and stay a few kilobytes on a phone.

mod layout;
mod optin;
mod preferences;

pub use layout::{Layout, MessagePage};
pub use optin::{ConfirmPage, SignupPage};
pub use preferences::{CenterPage, DonePage, HomePage, NotFoundPage, UnsubscribePage};

use crate::views::{ChangeView, Loaded, PreferencesView};
use leptos::prelude::*;

/// Loads the unsubscribe page / subscription center for a link.
#[server(prefix = "/_page", endpoint = "preferences")]
pub async fn load_preferences(
    token: String,
    lang: Option<String>,
) -> Result<Loaded<PreferencesView>, ServerFnError> {
    use crate::services::consent::{self, ServiceError};
    let core = expect_context::<std::sync::Arc<crate::services::Core>>();
    let info = crate::server::request_info_from_context();
    match consent::preferences(&core, &token, lang.as_deref(), &info).await {
        Ok(v) => Ok(Loaded::Found(v)),
        Err(ServiceError::InvalidLink) => Ok(Loaded::InvalidLink(consent::fallback_lang(
            lang.as_deref(),
            &info,
        ))),
        Err(e) => {
            tracing::error!(error = %e, "loading preferences failed");
            Err(ServerFnError::new("internal"))
        }
    }
}

/// Loads the "what changed" page of one action.
#[server(prefix = "/_page", endpoint = "change")]
pub async fn load_change(
    token: String,
    change: String,
    lang: Option<String>,
) -> Result<Loaded<ChangeView>, ServerFnError> {
    use crate::services::consent::{self, ServiceError};
    let core = expect_context::<std::sync::Arc<crate::services::Core>>();
    let info = crate::server::request_info_from_context();
    match consent::change(&core, &token, &change, lang.as_deref(), &info).await {
        Ok(v) => Ok(Loaded::Found(v)),
        Err(ServiceError::InvalidLink) => Ok(Loaded::InvalidLink(consent::fallback_lang(
            lang.as_deref(),
            &info,
        ))),
        Err(e) => {
            tracing::error!(error = %e, "loading a change failed");
            Err(ServerFnError::new("internal"))
        }
    }
}

/// Segment `index` of the request's path (`/u/{token}` → 2), percent-decoded exactly once,
/// as axum's `Path` does for the POST to the same URL. The router's params are decoded twice
/// (`%2541` → `%41` → `A`), which would let a double-encoded token open a page its POST
/// refuses. A segment that is not UTF-8 once decoded is empty (an invalid link).
/// `None` outside a server render.
pub fn path_segment(index: usize) -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<axum::http::request::Parts>()?;
        let raw = parts.uri.path().split('/').nth(index)?;
        Some(
            percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map(|s| s.into_owned())
                .unwrap_or_default(),
        )
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = index;
        None
    }
}

/// Sets the HTTP status of the page being rendered (a no-op in the browser).
#[derive(Clone)]
pub struct Status {
    #[cfg(feature = "ssr")]
    inner: Option<leptos_axum::ResponseOptions>,
}

impl Status {
    pub fn from_context() -> Status {
        Status {
            #[cfg(feature = "ssr")]
            inner: use_context::<leptos_axum::ResponseOptions>(),
        }
    }
    pub fn set(&self, _code: u16) {
        #[cfg(feature = "ssr")]
        if let (Some(r), Ok(code)) = (&self.inner, axum::http::StatusCode::from_u16(_code)) {
            r.set_status(code);
        }
    }
}
