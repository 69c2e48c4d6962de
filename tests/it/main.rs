//! The one integration-test binary: the real server on port 0, its own database (an SQLite
//! file, or a PostgreSQL database when `PREFCENTER_TEST_POSTGRES` is set), a real HTTP client
//! (and, for mail, a real SMTP server).
#![cfg(feature = "ssr")]

mod api;
mod console;
mod contact_pages;
mod corrections;
mod crash;
mod desk;
mod double_opt_in;
mod erasure;
mod helpers;
mod import;
mod instances;
mod links;
mod proof;
mod receipts;
mod rights;
mod segments;
mod setup;
mod smtp;
mod webhooks;
mod writer;
mod writes;
