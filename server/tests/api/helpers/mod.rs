//! Test harness, by concern. Everything Atlassian's side plays comes from
//! the shared test kit (`testkit`: fake Confluence, key server, token
//! builders); this module adds what is about *our* app:
//!
//! - [`test_app`]: the real app on port 0 with its own database and a clock the
//!   test moves ([`TestApp`], [`spawn_app`]);
//! - [`sites`]: tenants installed through the real signed `/installed`, and
//!   the tokens of this test app's audience;
//! - [`calls`]: typed calls of every server function, returning the app's
//!   own DTOs (raw JSON only where a test looks for leaks);
//! - [`forge`]: Forge Remote (FITs, the loopback JWKS, Forge tokens);
//! - [`db`]: straight to the test's database, to prove what was (not) written;
//! - [`courses`]: course fixtures.

pub(crate) mod calls;
pub(crate) mod courses;
pub(crate) mod db;
pub(crate) mod forge;
pub(crate) mod sites;
pub(crate) mod test_app;

pub(crate) use courses::*;
pub(crate) use db::*;
pub(crate) use forge::*;
pub(crate) use sites::*;
pub(crate) use test_app::*;
pub(crate) use testkit::{
    tokens::{
        context_claims, context_claims_on, context_token, hs_token, now, page_claims, tampered,
        unsigned_token,
    },
    FakeConfluence,
};
