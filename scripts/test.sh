#!/usr/bin/env bash
# README command 2: every test suite.
#
#   1. Rust, SQLite            cargo test --workspace --exclude frontend
#                              every crate's unit and property tests, and the server's
#                              integration tests, all built as released (no simulator);
#                              their logs go to target/test-logs/ and scripts/scan-logs.sh
#                              checks no line holds a token, secret or e-mail address
#   2. Rust, PostgreSQL        the integration tests again with SC_TEST_DB=postgres (needs a
#                              server on 127.0.0.1:5432; with CI=true a missing server is a
#                              failure, locally only a warning)
#   3. simulator               cargo test -p server --features dev-host --lib (the host
#                              simulator's own tests; the feature only adds the simulator)
#   4. browser (Playwright)    build-site.sh + build-forge.sh (the Forge Custom UI, for
#                              forge.spec.ts) + server build + end2end/ against Debian's chromium
#   5. Forge manifest          scripts/validate-forge-manifest.mjs --self-test: forge/manifest.yml
#                              through Atlassian's @forge/manifest validator (offline), and
#                              broken copies of it must be refused
#
# Env: SC_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); each Rust test
# creates its own database/schema there. CI=true makes the PostgreSQL suite mandatory.
# All suites run even when one fails; the exit status is non-zero if any failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PATH="$ROOT/node_modules/.bin:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
PG_URL="${SC_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# For messages: never print a password from the URL.
PG_SHOWN="$(sed -E 's#^([a-z]+://[^:/@]*):[^@/]*@#\1:***@#' <<<"$PG_URL")"
IS_CI=0
case "${CI:-}" in true | 1 | yes) IS_CI=1 ;; esac

SUMMARY=()
FAILED=0
NOT_RUN=0
record() { # name status seconds [note]
  SUMMARY+=("$(printf '  %-22s %-8s %5ss  %s' "$1" "$2" "$3" "${4:-}")")
  [[ "$2" == FAIL ]] && FAILED=1
  [[ "$2" == "NOT RUN" ]] && NOT_RUN=1
  return 0
}
banner() { printf '\n==== %s ====\n' "$*"; }

# Runs "$@" as suite $1 and records PASS/FAIL with its duration.
suite() {
  local name="$1"
  shift
  banner "$name: $*"
  local start=$SECONDS
  if "$@"; then
    record "$name" PASS $((SECONDS - start))
  else
    record "$name" FAIL $((SECONDS - start))
  fi
}

pg_reachable() {
  local host=127.0.0.1 port=5432
  # postgres://user[:pass]@host[:port]/db
  if [[ "$PG_URL" =~ ^postgres(ql)?://([^@/]*@)?([^:/?]+)(:([0-9]+))? ]]; then
    host="${BASH_REMATCH[3]}"
    port="${BASH_REMATCH[5]:-5432}"
  fi
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$host" -p "$port" -t 3
  else
    timeout 3 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
  fi
}

# The same package set as the SQLite run (so the same features, nothing is
# rebuilt), only the integration tests.
PG_TESTS=(cargo test --workspace --exclude frontend --test api --test host_client)
postgres_suite() { # a function, so the banner does not print the URL (it may hold a password)
  echo "SC_TEST_DB=postgres SC_TEST_PG_URL=$PG_SHOWN ${PG_TESTS[*]}"
  SC_TEST_DB=postgres SC_TEST_PG_URL="$PG_URL" "${PG_TESTS[@]}"
}

browser_suite() {
  bash scripts/build-site.sh &&
    bash scripts/build-forge.sh &&
    cargo build -p server --features dev-host &&
    npx playwright test -c end2end/playwright.config.ts
}

bash scripts/setup.sh

# The integration tests also write their logs (JSON, debug level) here;
# the "log scan" suite then checks that no secret, token or e-mail
# address reached any line.
TEST_LOG="$ROOT/target/test-logs/api-sqlite.jsonl"
mkdir -p "$(dirname "$TEST_LOG")"
rm -f "$TEST_LOG"
suite "Rust (SQLite)" env SC_TEST_LOG="$TEST_LOG" cargo test --workspace --exclude frontend
suite "log scan" bash scripts/scan-logs.sh "$TEST_LOG"

if pg_reachable; then
  suite "server (PostgreSQL)" postgres_suite
elif [[ "$IS_CI" == 1 ]]; then
  printf '\nERROR: CI=true but PostgreSQL is not reachable at %s.\n' "$PG_SHOWN" >&2
  printf 'Start one (e.g. the postgres service of the CI job) or set SC_TEST_PG_URL.\n' >&2
  record "server (PostgreSQL)" FAIL 0 "PostgreSQL not reachable ($PG_SHOWN)"
else
  cat >&2 <<EOF

###########################################################################
###                                                                     ###
###            PostgreSQL suite NOT RUN                                 ###
###                                                                     ###
###  Nothing answers at ${PG_SHOWN}
###  Only the SQLite suite ran. To run the PostgreSQL suite, start a    ###
###  server there (or set SC_TEST_PG_URL) and rerun scripts/test.sh.    ###
###  With CI=true this is an error.                                     ###
###                                                                     ###
###########################################################################

EOF
  record "server (PostgreSQL)" "NOT RUN" 0 "no server at $PG_SHOWN"
fi

suite "simulator" cargo test -p server --features dev-host --lib
suite "browser (Playwright)" browser_suite
suite "Forge manifest" node scripts/validate-forge-manifest.mjs --self-test

banner "summary"
printf '%s\n' "${SUMMARY[@]}"
if [[ "$FAILED" == 1 ]]; then
  echo "test.sh: FAILED"
  exit 1
fi
if [[ "$NOT_RUN" == 1 ]]; then
  echo "test.sh: all suites that ran passed (PostgreSQL suite NOT RUN)"
else
  echo "test.sh: all suites passed"
fi
