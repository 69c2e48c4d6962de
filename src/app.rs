//! The Leptos shell and route table.

use crate::pages::{HomePage, NotFoundPage};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::StaticSegment;

/// The HTML document of the router's pages.
pub fn shell(_options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::provide_request_nonce();
    document(view! { <App/> })
}

/// The HTML document around a page. Contact pages carry no script at all (no hydration): they
/// are plain server-rendered HTML and forms, a few kilobytes, working with JavaScript off.
pub fn document(body: impl IntoView) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        // `lang` is set by the page (`Layout`), which knows the language it rendered.
        <html>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <meta name="robots" content="noindex, nofollow"/>
                <link rel="icon" type="image/svg+xml" href=crate::FAVICON_PATH/>
                <link rel="stylesheet" href=crate::STYLESHEET_PATH/>
                <MetaTags/>
            </head>
            <body>
                {body}
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            // The contact's pages (/u, /p, /c, /s) are rendered by `server::pages` directly.
            <Routes fallback=NotFoundPage>
                <Route path=StaticSegment("") view=HomePage/>
            </Routes>
        </Router>
    }
}
