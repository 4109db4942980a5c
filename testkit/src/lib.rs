//! The Smart Courses test kit: everything that plays Atlassian's part, in
//! one place, for the host simulator (`server --features dev-host`), the
//! integration tests and the benchmarks.
//!
//! - [`keys`]: install-signing key pairs (fixtures, and the simulator's own
//!   development key) and a [`keys::KeyServer`] that hands out their public
//!   halves by `kid`, like Atlassian's install-key CDN.
//! - [`tokens`]: claims and signers for every token kind the app meets
//!   (signed install, page JWT, context JWT) and the broken variants tests
//!   need (wrong algorithm, unsigned, tampered).
//! - [`confluence`]: [`confluence::FakeConfluence`], a table-driven fake of
//!   the Confluence REST endpoints the app calls back (permission checks,
//!   spaces and permitted operations, users, user search and e-mail
//!   addresses, groups and their members, content) and of the
//!   OAuth 2.0 JWT-bearer token endpoint (ACT_AS_USER), with an outage
//!   switch and a request log.
//! - [`tenants`]: an in-memory tenant store and a `connect::ConnectState`
//!   with one site installed at a fake Confluence, for tests of the code
//!   that calls Confluence back, without a database.
//! - [`smtp`]: [`smtp::SmtpSink`], a real SMTP server on a free loopback
//!   port that keeps every mail it accepts (envelope and message), with a
//!   failure switch, for tests of outgoing mail.
//!
//! Nothing here is compiled into a release build: the server depends on
//! this crate only under its `dev-host` feature (the simulator) and as a
//! dev-dependency. The app verifies everything this kit signs exactly as it
//! verifies Atlassian's tokens — there is no bypass.

pub mod confluence;
pub mod keys;
pub mod smtp;
pub mod tenants;
pub mod tokens;

pub use confluence::{FakeConfluence, SeenCheck, SeenRequest, Stub, User};
pub use keys::{InstallKey, KeyServer};
pub use smtp::{ReceivedMail, SmtpSink};
