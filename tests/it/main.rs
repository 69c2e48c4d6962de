//! The one integration-test binary: the real server on port 0, its own SQLite file, a real
//! HTTP client (and, for mail, a real SMTP server).
#![cfg(feature = "ssr")]

mod contact_pages;
mod corrections;
mod crash;
mod double_opt_in;
mod helpers;
mod smtp;
mod writer;
