#!/usr/bin/env bash
# Installs what the build and the tests need, and only what is missing.
# Idempotent and quiet when there is nothing to do; prints what it installs.
# Expects a Debian 12 machine with rustup, node/npm and apt (root, or sudo).
#
#   * rustup: wasm32-unknown-unknown target, rustfmt and clippy components
#   * apt: chromium (only when /usr/bin/chromium is missing; never Debian's binaryen)
#   * cargo install wasm-bindgen-cli, exactly the wasm-bindgen version in Cargo.lock
#   * cargo install wasm_split_cli_support (the `wasm-split-cli` binary), pinned below
#   * with the argument `cargo-deny` only (scripts/deps.sh passes it): cargo install
#     cargo-deny, the version pinned below; the app and the tests do not need it
#   * npm ci at the repo root (Playwright, binaryen's wasm-opt, @atlaskit/tokens, ...)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

WANT_DENY=0
for arg in "$@"; do
  case "$arg" in
    cargo-deny) WANT_DENY=1 ;;
    *) die "unknown argument '$arg' (known: cargo-deny)" ;;
  esac
done

for tool in rustup cargo node npm; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not on PATH (install rustup and node/npm first)"
done

# --- Rust target and components -------------------------------------------------
if ! rustup target list --installed | grep -qx 'wasm32-unknown-unknown'; then
  say "installing Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
installed_components="$(rustup component list --installed)"
for comp in rustfmt clippy; do
  if ! grep -q "^${comp}" <<<"$installed_components"; then
    say "installing Rust component $comp"
    rustup component add "$comp"
  fi
done

# --- Chromium for Playwright (Debian's package; Playwright downloads nothing) ----
if [[ ! -x /usr/bin/chromium ]]; then
  command -v apt-get >/dev/null 2>&1 || die "/usr/bin/chromium is missing and apt-get is not available"
  SUDO=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "installing chromium needs root (or sudo)"
    SUDO=(sudo)
  fi
  say "installing chromium (apt-get)"
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

# --- wasm-bindgen CLI: must equal the wasm-bindgen crate version in Cargo.lock ----
WB_VERSION="$(awk '
  $0 == "name = \"wasm-bindgen\"" { found = 1; next }
  found && /^version = / { gsub(/"/, "", $3); print $3; exit }
' Cargo.lock)"
[[ -n "$WB_VERSION" ]] || die "could not read the wasm-bindgen version from Cargo.lock"
have_wb=""
if command -v wasm-bindgen >/dev/null 2>&1; then
  have_wb="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')"
fi
if [[ "$have_wb" != "$WB_VERSION" ]]; then
  say "installing wasm-bindgen-cli $WB_VERSION (found: ${have_wb:-none}); takes a few minutes"
  # No --locked: the CLI's own lockfile references a crate version the index lacks.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --force
  hash -r
  got="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true
  [[ "$got" == "$WB_VERSION" ]] || die "wasm-bindgen on PATH is '${got:-missing}', expected $WB_VERSION (is ~/.cargo/bin on PATH?)"
fi

# --- wasm-split-cli: splits Leptos's #[lazy] functions into chunks (scripts/build-site.sh) --
# Pinned: its output layout (loader script, chunk names) is what the build expects.
# --locked: its own lockfile, so the tool builds the same everywhere.
SPLIT_VERSION="0.2.4"
if ! cargo install --list | grep -qx "wasm_split_cli_support v${SPLIT_VERSION}:"; then
  say "installing wasm-split-cli (wasm_split_cli_support $SPLIT_VERSION); takes a few minutes"
  cargo install wasm_split_cli_support --locked --version "$SPLIT_VERSION" --features build-binary --force
  hash -r
  command -v wasm-split-cli >/dev/null 2>&1 || die "wasm-split-cli is not on PATH after installing (is ~/.cargo/bin on PATH?)"
fi

# --- cargo-deny: the dependency policy (deny.toml, scripts/deps.sh) -----------------
# Pinned: a new cargo-deny may read deny.toml differently. --locked: its own
# lockfile, so the tool builds the same everywhere.
DENY_VERSION="0.20.2"
have_deny=""
if [[ "$WANT_DENY" == 1 ]] && command -v cargo-deny >/dev/null 2>&1; then
  have_deny="$(cargo-deny --version 2>/dev/null | awk '{print $2}')"
fi
if [[ "$WANT_DENY" == 1 && "$have_deny" != "$DENY_VERSION" ]]; then
  say "installing cargo-deny $DENY_VERSION (found: ${have_deny:-none}); takes a few minutes"
  cargo install cargo-deny --locked --version "$DENY_VERSION" --force
  hash -r
  got="$(cargo-deny --version 2>/dev/null | awk '{print $2}')" || true
  [[ "$got" == "$DENY_VERSION" ]] || die "cargo-deny on PATH is '${got:-missing}', expected $DENY_VERSION (is ~/.cargo/bin on PATH?)"
fi

# --- npm packages ----------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install; it is our stamp.
stamp="node_modules/.package-lock.json"
if [[ ! -d node_modules || ! -f "$stamp" || package-lock.json -nt "$stamp" || package.json -nt "$stamp" ]]; then
  say "running npm ci"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
[[ -x node_modules/.bin/wasm-opt ]] || die "node_modules/.bin/wasm-opt missing after npm ci"
