//! The Leptos shell and route table.

use crate::pages::{
    CenterPage, ConfirmPage, DonePage, HomePage, NotFoundPage, SignupPage, UnsubscribePage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

/// The HTML document. Contact pages carry no script at all (no hydration): they are plain
/// server-rendered HTML and forms, a few kilobytes, working with JavaScript off.
pub fn shell(_options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::provide_request_nonce();
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
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=StaticSegment("") view=HomePage/>
                <Route path=(StaticSegment("u"), ParamSegment("token")) view=UnsubscribePage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("p"), ParamSegment("token")) view=CenterPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("c"), ParamSegment("token")) view=ConfirmPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("s"), ParamSegment("profile")) view=SignupPage ssr=SsrMode::Async/>
                <Route
                    path=(StaticSegment("u"), ParamSegment("token"), StaticSegment("done"), ParamSegment("change"))
                    view=DonePage
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
    }
}
