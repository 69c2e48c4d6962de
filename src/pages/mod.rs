//! The contact's pages. Server-rendered, no WebAssembly needed: every action is a plain HTML
//! form that POSTs to the link's stable URL (handled in `server::contact`), so they work with
//! JavaScript disabled and stay a few kilobytes on a phone.
//!
//! The page functions here take what the service loaded and return the view; `server::pages`
//! calls the service, then `render` turns the view into the whole document in one synchronous
//! pass (no router, no suspense, no streaming: the data is already there).

mod api_docs;
mod api_keys;
mod console;
// The desk's pages show what `services::desk` loads (the server's build only).
#[cfg(feature = "ssr")]
mod desk;
// The import pages show what `services::import` loads (the server's build only).
#[cfg(feature = "ssr")]
pub mod imports;
mod layout;
mod optin;
mod preferences;
mod receipt;
mod rights;
// The analyst's pages show what `services::segment` loads (the server's build only).
#[cfg(feature = "ssr")]
pub mod segments;
pub mod setup;
mod webhooks;

pub use api_docs::{api_docs_page, ApiDocsView, DocOperation, DocSchema};
pub use api_keys::{api_keys_page, ApiKeysView, KeyRow};
pub use console::{
    accept_invite_page, account_page, audit_page, console_forbidden_page, console_home_page,
    delete_user_page, invite_gone_page, setup_page, sign_in_page, users_page, AcceptInviteView,
    AccountView, AuditRow, AuditView, ConsoleHome, SetupView, SignInNotice, SignInView, UserRow,
    UsersView,
};
#[cfg(feature = "ssr")]
pub use desk::{
    contact_page, contacts_page, history_page, item_value, requests_page, ContactView,
    ContactsView, HistoryView, NewTyped, RequestsView, Typed,
};
pub use layout::{Layout, MessagePage};
pub use optin::{confirm_page, signup_page};
pub use preferences::{
    center_page, done_page, failed_page, invalid_link_page, unsubscribe_page, HomePage,
    NotFoundPage,
};
pub use receipt::{receipt_check_page, ReceiptOffer, CHECK_PATH};
pub use rights::{download_page, forget_page, forgotten_page, sent_page, Sent};
pub use webhooks::{
    endpoint_page, webhooks_page, DeliveryRow, EndpointRow, EndpointView, WebhooksView,
};

#[cfg(feature = "ssr")]
use leptos::prelude::*;

/// Renders a page into the complete HTML document (the same shell as the router's pages),
/// with this response's CSP nonce on its style element.
#[cfg(feature = "ssr")]
pub async fn render<V: IntoView + 'static>(
    nonce: Option<String>,
    page: impl FnOnce() -> V,
) -> String {
    use futures_util::StreamExt as _;
    let owner = Owner::new();
    let (meta, output) = leptos_meta::ServerMetaContext::new();
    let html = owner.with(|| {
        provide_context(meta);
        leptos_meta::provide_meta_context();
        if let Some(n) = nonce {
            provide_context(leptos::nonce::Nonce::from_value(n));
        }
        crate::app::document(page()).to_html()
    });
    // `Layout` registered the title, the brand's style and `<html lang>`; they go into the head.
    let stream = output
        .inject_meta_context(futures_util::stream::once(async move { html }).boxed())
        .await;
    let parts: Vec<String> = stream.collect().await;
    drop(owner);
    parts.concat()
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
