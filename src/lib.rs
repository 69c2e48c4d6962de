//! prefcenter: a self-hosted email preference center.
//!
//! Layers, every import pointing down: `server` (HTTP) → `app`/`pages` (views) → `services`
//! (use cases) → `store` (SQL, the single writer) → `domain` (pure rules). See the README's
//! "Architecture" section.
#![deny(unsafe_code)]
#![recursion_limit = "256"]

pub mod admin;
pub mod app;
pub mod domain;
pub mod i18n;
pub mod pages;
pub mod views;

#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod store;

/// Where the stylesheet is served (embedded in the binary; cargo-leptos also writes it there).
pub const STYLESHEET_PATH: &str = "/pkg/prefcenter.css";

/// Where the icon is served (embedded in the binary from `public/`; cargo-leptos also copies it).
pub const FAVICON_PATH: &str = "/favicon.svg";

/// The browser entry point, loaded only by console pages with an island (`admin`): the islands
/// mode's loader calls it, then hydrates each `<leptos-island>` on the page. Contact pages load
/// no script at all.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
