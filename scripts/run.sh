#!/usr/bin/env bash
# README command 1: install what is missing, build the browser side, and run the app
# together with the offline Confluence host simulator (feature `dev-host`).
#
# Every setting can be overridden from the environment:
#   APP_BASE_URL      public base URL of the app            (default http://127.0.0.1:3000)
#   LEPTOS_SITE_ADDR  address the app listens on            (default 127.0.0.1:3000)
#   DEV_HOST_ADDR     the simulator, a separate origin      (default 127.0.0.1:3001)
#   DATABASE_URL      SQLite or PostgreSQL URL              (default sqlite://data/smart-courses.db)
#   SC_NO_WASM_OPT=1  skip wasm-opt for a faster, bigger build
# Extra arguments are passed to `smart-courses serve`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export APP_BASE_URL="${APP_BASE_URL:-http://127.0.0.1:3000}"
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
export DEV_HOST_ADDR="${DEV_HOST_ADDR:-127.0.0.1:3001}"
export DATABASE_URL="${DATABASE_URL:-sqlite://data/smart-courses.db}"

bash scripts/setup.sh
bash scripts/build-site.sh
cargo build -p server --features dev-host

DB_SHOWN="$(sed -E 's#^([a-z]+://[^:/@]*):[^@/]*@#\1:***@#' <<<"$DATABASE_URL")"
cat <<EOF

==========================================================================
  Open http://${DEV_HOST_ADDR}/ (simulated Confluence page)

  app:      ${APP_BASE_URL}  (listening on ${LEPTOS_SITE_ADDR})
  database: ${DB_SHOWN}
  Stop with Ctrl-C.
==========================================================================

EOF

exec cargo run -p server --features dev-host -- serve "$@"
