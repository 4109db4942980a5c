#!/usr/bin/env bash
# The dependency policy (README "Dependency scanning"): what we build on may not
# break deny.toml or .npm-audit-policy.json.
#
#   1. cargo deny: licences, bans, sources    always; needs only the crate registry
#   2. cargo deny: the policy's canary         a throwaway workspace that breaks each rule
#                                              (git source, banned openssl, GPL licence,
#                                              wildcard) must fail: proves the gate bites
#   3. cargo deny: advisories                  RustSec advisory database, see below
#   4. npm: lockfile policy                    exact pins; every package from the registry
#                                              with sha512 integrity (offline)
#   5. npm: policy tests                       node --test scripts/npm-policy.test.mjs (each rule
#                                              refuses what it must; the real npm audit against
#                                              a stand-in audit endpoint on loopback)
#   6. npm audit                               every package, fail at .npm-audit-policy.json's
#                                              fail_at (high), exceptions with reasons
#
# Where the advisory data comes from (3 and 6):
#   * RustSec's database is a git repository. If SC_ADVISORY_DB is set (a path or git URL
#     of a copy of it), cargo-deny fetches from that copy instead. Otherwise cargo-deny
#     fetches it itself when it can be reached; if not, a copy fetched earlier under
#     $CARGO_HOME/advisory-dbs is used as it is (cargo-deny refuses it when it was last
#     fetched more than 90 days ago). With none of these the check is NOT RUN.
#     Whatever was used, a database whose newest advisory is older than
#     SC_ADVISORY_DB_MAX_AGE_DAYS (default 90) fails: a pass on old news is no pass.
#   * npm audit asks the npm registry's audit endpoint; when it does not answer, NOT RUN.
#   NOT RUN is printed loudly and is not a failure, unless SC_REQUIRE_ADVISORIES=1.
#
# All steps run even when one fails; the exit status is non-zero if any failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Must equal deny.toml's [advisories] db-urls and db-path.
ADVISORY_DB_URL="https://github.com/rustsec/advisory-db"
ADVISORY_DB_ROOT="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
MAX_AGE_DAYS="${SC_ADVISORY_DB_MAX_AGE_DAYS:-90}"
REQUIRE_ADVISORIES=0
case "${SC_REQUIRE_ADVISORIES:-}" in 1 | true | yes) REQUIRE_ADVISORIES=1 ;; esac

SUMMARY=()
FAILED=0
record() { # name status [note]
  SUMMARY+=("$(printf '  %-36s %-8s %s' "$1" "$2" "${3:-}")")
  [[ "$2" == FAIL ]] && FAILED=1
  return 0
}
banner() { printf '\n---- deps: %s ----\n' "$*"; }
not_run() { # name why
  if [[ "$REQUIRE_ADVISORIES" == 1 ]]; then
    record "$1" FAIL "NOT RUN with SC_REQUIRE_ADVISORIES=1: $2"
  else
    record "$1" "NOT RUN" "$2"
  fi
  cat >&2 <<EOF

  ######################################################################
  ###  $1: NOT RUN
  ###  $2
  ###  (README "Dependency scanning"; SC_REQUIRE_ADVISORIES=1 makes this a failure)
  ######################################################################

EOF
}

# The pinned cargo-deny and the npm packages (quiet when both are there).
bash scripts/setup.sh cargo-deny

# --- 1. licences, bans, sources --------------------------------------------------
banner "cargo deny check licenses bans sources"
# Without the inclusion graphs (the duplicate-version warnings would print
# thousands of lines); on a failure again with them, to show where it comes from.
if cargo deny --locked check --hide-inclusion-graph licenses bans sources; then
  record "cargo deny: licences, bans, sources" PASS
else
  echo "deps: again, with the inclusion graphs:" >&2
  cargo deny --locked check licenses bans sources || true
  record "cargo deny: licences, bans, sources" FAIL
fi

# --- 2. the canary: a workspace that breaks every rule must fail -----------------
canary() {
  local dir
  dir="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$dir'" RETURN
  mkdir -p "$dir"/{gitdep,openssl,gpl,canary}/src
  touch "$dir"/{gitdep,openssl,gpl,canary}/src/lib.rs
  printf '[package]\nname = "gitdep"\nversion = "0.1.0"\nedition = "2021"\nlicense = "MIT"\n' \
    >"$dir/gitdep/Cargo.toml"
  git -C "$dir/gitdep" init -q
  git -C "$dir/gitdep" add -A
  git -C "$dir/gitdep" -c user.name=canary -c user.email=canary@localhost commit -qm canary
  # A crate that only pretends to be openssl: bans go by name.
  printf '[package]\nname = "openssl"\nversion = "0.10.0"\nedition = "2021"\nlicense = "MIT"\npublish = false\n' \
    >"$dir/openssl/Cargo.toml"
  printf '[package]\nname = "gpl"\nversion = "0.1.0"\nedition = "2021"\nlicense = "GPL-3.0-only"\npublish = false\n' \
    >"$dir/gpl/Cargo.toml"
  cat >"$dir/canary/Cargo.toml" <<EOF
[package]
name = "canary"
version = "0.1.0"
edition = "2021"
license = "MIT"

[dependencies]
openssl = { path = "../openssl" }
gpl = { path = "../gpl" }
gitdep = { git = "file://$dir/gitdep" }
EOF
  # Its own CARGO_HOME: the local git dependency is not cached with the real ones.
  local out
  export CARGO_HOME="$dir/cargo-home"
  if ! (cd "$dir/canary" && cargo generate-lockfile -q); then
    echo "canary: could not lock the canary workspace" >&2
    return 1
  fi
  if out="$(cargo deny --manifest-path "$dir/canary/Cargo.toml" --config "$ROOT/deny.toml" \
    check licenses bans sources 2>&1)"; then
    echo "canary: cargo deny PASSED a workspace that breaks the policy" >&2
    return 1
  fi
  local missing=0 code
  for code in 'source-not-allowed' 'banned' 'rejected' 'wildcard'; do
    if grep -q "^error\[$code\]" <<<"$out"; then
      echo "canary: refused as it must: error[$code]"
    else
      echo "canary: cargo deny did not report error[$code]" >&2
      missing=1
    fi
  done
  [[ "$missing" == 0 ]] || printf '%s\n' "$out" >&2
  return "$missing"
}
banner "cargo deny canary (git source, banned crate, GPL, wildcard must be refused)"
if (canary); then
  record "cargo deny: canary" PASS "each rule refuses what it must"
else
  record "cargo deny: canary" FAIL
fi

# --- 3. advisories ---------------------------------------------------------------
# The newest database directory cargo-deny keeps under ADVISORY_DB_ROOT.
advisory_db_dir() {
  local d newest=""
  for d in "$ADVISORY_DB_ROOT"/advisory-db-*/; do
    [[ -d "$d/.git" ]] || continue
    if [[ -z "$newest" || "$d" -nt "$newest" ]]; then newest="$d"; fi
  done
  [[ -n "$newest" ]] && printf '%s\n' "${newest%/}"
}

# Fails when the database's newest commit is older than MAX_AGE_DAYS.
advisory_db_fresh() {
  local dir="$1" when age
  when="$(git -C "$dir" log -1 --format=%ct 2>/dev/null)" || {
    echo "advisories: cannot read the database's date in $dir" >&2
    return 1
  }
  age=$((($(date +%s) - when) / 86400))
  ADVISORY_DB_DATE="$(date -u -d "@$when" +%F)"
  echo "advisories: database as of $ADVISORY_DB_DATE ($age days old; limit $MAX_AGE_DAYS)"
  if ((age > MAX_AGE_DAYS)); then
    echo "advisories: the database is older than $MAX_AGE_DAYS days: fetch a newer one" \
      "(or raise SC_ADVISORY_DB_MAX_AGE_DAYS knowingly)" >&2
    return 1
  fi
}

run_advisories() { # global cargo-deny flags...
  local dir
  if cargo deny --locked "$@" check advisories; then
    dir="$(advisory_db_dir)" || true
    if [[ -n "$dir" ]] && advisory_db_fresh "$dir"; then
      record "cargo deny: advisories" PASS "RustSec database as of $ADVISORY_DB_DATE ($ADVISORY_SOURCE)"
    else
      record "cargo deny: advisories" FAIL "database too old or unreadable ($ADVISORY_SOURCE)"
    fi
  else
    record "cargo deny: advisories" FAIL "($ADVISORY_SOURCE)"
  fi
}

banner "cargo deny check advisories"
if [[ -n "${SC_ADVISORY_DB:-}" ]]; then
  src="$SC_ADVISORY_DB"
  if [[ -d "$src" ]]; then src="file://$(cd "$src" && pwd)"; fi
  ADVISORY_SOURCE="fetched from SC_ADVISORY_DB=$SC_ADVISORY_DB"
  echo "advisories: fetching the RustSec database from $src"
  # cargo-deny fetches with the git CLI: point the database URL at the copy.
  GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.$src.insteadOf" GIT_CONFIG_VALUE_0="$ADVISORY_DB_URL" \
    run_advisories
elif GIT_TERMINAL_PROMPT=0 timeout 30 git ls-remote --exit-code "$ADVISORY_DB_URL" HEAD >/dev/null 2>&1; then
  ADVISORY_SOURCE="fetched from RustSec"
  run_advisories
elif dir="$(advisory_db_dir)"; then
  ADVISORY_SOURCE="RustSec unreachable; the copy in $dir, not updated"
  echo "advisories: RustSec's repository cannot be reached; using the copy in $dir as it is"
  run_advisories --offline
else
  not_run "cargo deny: advisories" \
    "RustSec's advisory database (a git repository) cannot be fetched from here, and there is no copy in $ADVISORY_DB_ROOT (set SC_ADVISORY_DB to one)"
fi

# --- 4.-6. npm ---------------------------------------------------------------------
banner "npm lockfile policy"
if node scripts/npm-policy.mjs lock; then
  record "npm: lockfile policy" PASS
else
  record "npm: lockfile policy" FAIL
fi

banner "npm policy tests"
if node --test scripts/npm-policy.test.mjs; then
  record "npm: policy tests" PASS
else
  record "npm: policy tests" FAIL
fi

banner "npm audit (every package; fail at the policy's fail_at)"
set +e
node scripts/npm-policy.mjs audit
rc=$?
set -e
case "$rc" in
  0) record "npm audit" PASS "fail at $(node -p 'require("./.npm-audit-policy.json").fail_at')" ;;
  3) not_run "npm audit" "the npm registry's audit endpoint does not answer here (npm audit needs it)" ;;
  *) record "npm audit" FAIL ;;
esac

banner "summary"
printf '%s\n' "${SUMMARY[@]}"
if [[ "$FAILED" == 1 ]]; then
  echo "deps: FAILED"
  exit 1
fi
echo "deps: dependency policy holds (for the checks that ran)"
