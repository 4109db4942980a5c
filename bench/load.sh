#!/usr/bin/env bash
# Load benchmark: context-JWT-authenticated server-function calls vs /health,
# on loopback, release build, SQLite. Needs wrk (Debian package; installed if missing).
# Env: BENCH_SECS (per phase, default 5), BENCH_ROUNDS (interleaved rounds, default 3), BENCH_CONNECTIONS (default 32).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench/load.sh: installing wrk (apt)"
  if [[ $(id -u) == 0 ]]; then apt-get update -qq && apt-get install -y -qq wrk; else sudo apt-get install -y wrk; fi
fi
cargo run --release -p server --features dev-host --example bench_reads
