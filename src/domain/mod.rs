//! The pure core: the consent model, the decision with its reason, ledger records and their
//! hash chain, link tokens, and parsing at the edge. No web, database or runtime types live
//! here; this module compiles for the browser too and is unit-tested on its own.

pub mod apikey;
pub mod auth;
pub mod decision;
pub mod design;
pub mod export;
/// Imports read files on the server only (the CSV reader is a server dependency).
#[cfg(feature = "ssr")]
pub mod import;
pub mod ledger;
pub mod link;
/// Logos are checked on the server only (the size reader is a server dependency).
#[cfg(feature = "ssr")]
pub mod logo;
pub mod model;
pub mod optin;
pub mod parse;
pub mod proof;
/// Receipts are made and checked on the server only (the JWS crate is a server dependency).
#[cfg(feature = "ssr")]
pub mod receipt;
pub mod report;
/// Data requests count days and expire links (the time crate is a server dependency).
#[cfg(feature = "ssr")]
pub mod rights;
pub mod search;
pub mod segment;
pub mod setup;
pub mod staff;
pub mod token;
pub mod webhook;

pub use decision::{decide, Decision, Reason};
pub use model::*;
