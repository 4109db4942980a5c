//! Integration tests: the real server on a real socket, its own database per
//! test (SQLite by default, PostgreSQL with `SC_TEST_DB=postgres`).

mod helpers;

mod all_server_fns;
mod authoring;
mod backup;
mod forge;
mod hardening;
mod http_surface;
mod install;
mod learning;
mod page_and_context_auth;
mod privacy;
mod reminders;
mod secrets_at_rest;
mod space_admin;
mod store;
mod support;
mod tls;
mod two_instances;
