#!/usr/bin/env bash
# Quiz-submit load benchmark (issue "Learners inline"): 64 concurrent
# learners submitting graded attempts, on SQLite and then PostgreSQL
# (BENCH_PG_URL, default the local `test` database), release build, loopback.
# Env: BENCH_LEARNERS_PER_CLIENT (default 250, i.e. 16 000 submits per run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release -p server --features dev-host --example bench_submit
for db in sqlite postgres; do
  BENCH_DB=$db cargo run --release -q -p server --features dev-host --example bench_submit
  echo
done
