#!/usr/bin/env bash
# Space-admin report benchmark (issue #11): 10 000 enrolled learners and
# 50 000 quiz attempts in one course; the overview, the report's first page,
# filtered pages and the per-question analytics measured over loopback HTTP
# with a space admin's context JWT, on SQLite and then PostgreSQL (a database
# of its own on the server at BENCH_PG_URL, default the local `postgres`
# database; dropped afterwards), release build.
# Env: BENCH_CLIENTS (default 8), BENCH_REQUESTS_PER_CLIENT (default 100).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release -p server --features dev-host --example bench_report
for db in sqlite postgres; do
  BENCH_DB=$db cargo run --release -q -p server --features dev-host --example bench_report
  echo
done
