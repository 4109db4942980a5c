//! Rebuilds the store when a migration is added or changed: `sqlx::migrate!`
//! embeds the migration folders at compile time, and without this hint cargo
//! keeps a build made before a new migration file existed (sqlx's own advice,
//! `sqlx::migrate!` docs).
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
