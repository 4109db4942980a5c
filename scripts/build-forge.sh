#!/usr/bin/env bash
# Builds the Forge Custom UI resources (issue #15 item 3) from the same Leptos
# components as the Connect pages, client-side rendered (Forge hosts static
# files: no SSR, no hydration):
#
#   forge/static/<module>/index.html        loads the four files below; no inline script
#                                           (Forge's Custom UI CSP forbids it)
#   forge/static/<module>/forge-bridge.js   frontend/js/forge-bridge.mjs + npm @forge/bridge,
#                                           bundled by npm esbuild (pinned in package.json)
#   forge/static/<module>/main.js           loads the WASM and calls its start()
#   forge/static/<module>/app.js, app_bg.wasm   wasm-bindgen output (--target web), wasm-opt
#   forge/static/<module>/style.css         ADS tokens + style/main.css (as build-site.sh)
#                                           (<module>: learner, editor, admin; manifest.yml
#                                           resources `learner`, `editor`, `admin`)
#
# Usage: scripts/build-forge.sh [module...]   (default: all three)
# Env: SC_NO_WASM_OPT=1 skips wasm-opt (fast local iteration only).
# Tools: the same pinned ones as scripts/build-site.sh (wasm-bindgen CLI equal to
# Cargo.lock's crate, npm binaryen's wasm-opt, never Debian's) plus npm esbuild.
# index.html is kept in git (the manifest validator checks it exists; this script writes the
# same bytes); the other files are build output that git ignores: build before `forge deploy`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf 'build-forge: %s\n' "$*"; }
die() { printf 'build-forge: ERROR: %s\n' "$*" >&2; exit 1; }

CARGO_TARGET="${CARGO_TARGET_DIR:-target}"
WASM_IN="$CARGO_TARGET/wasm32-unknown-unknown/wasm-release/frontend.wasm"
WASM_OPT="node_modules/.bin/wasm-opt"
ESBUILD="node_modules/.bin/esbuild"
NO_OPT="${SC_NO_WASM_OPT:-0}"
OUT_ROOT="forge/static"

MODULES=("$@")
[[ ${#MODULES[@]} -gt 0 ]] || MODULES=(learner editor admin)
for module in "${MODULES[@]}"; do
  case "$module" in learner | editor | admin) ;; *) die "unknown module '$module' (learner, editor, admin)" ;; esac
done

# --- tool checks (scripts/setup.sh installs these) ------------------------------------
command -v wasm-bindgen >/dev/null 2>&1 || die "wasm-bindgen not found; run scripts/setup.sh"
want_wb="$(awk '
  $0 == "name = \"wasm-bindgen\"" { found = 1; next }
  found && /^version = / { gsub(/"/, "", $3); print $3; exit }
' Cargo.lock)"
have_wb="$(wasm-bindgen --version | awk '{print $2}')"
[[ "$have_wb" == "$want_wb" ]] || die "wasm-bindgen CLI is $have_wb but Cargo.lock has $want_wb; run scripts/setup.sh"
[[ -x "$ESBUILD" ]] || die "$ESBUILD not found; run scripts/setup.sh (npm ci)"
[[ -f node_modules/@forge/bridge/package.json ]] || die "node_modules/@forge/bridge missing; run scripts/setup.sh (npm ci)"
[[ -f node_modules/@atlaskit/tokens/package.json ]] || die "node_modules missing; run scripts/setup.sh"
if [[ "$NO_OPT" != 1 ]]; then
  [[ -x "$WASM_OPT" ]] || die "$WASM_OPT not found; run scripts/setup.sh (never use Debian's binaryen)"
fi

size() { stat -c %s "$1"; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
br_size() { node -e 'const z=require("node:zlib");process.stdout.write(String(z.brotliCompressSync(require("node:fs").readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length))' "$1"; }

# --- shared parts, built once -------------------------------------------------------------
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The page side of the bridge: an IIFE that sets `globalThis.scForge`.
"$ESBUILD" frontend/js/forge-bridge.mjs --bundle --minify --format=iife --target=es2020 \
  --legal-comments=none --log-level=warning --outfile="$tmp/forge-bridge.js"
{
  node scripts/ads-tokens.mjs
  printf '\n/* ---- style/main.css ---- */\n'
  cat style/main.css
} >"$tmp/style.css"
# Forge forbids inline scripts, so the start-up is a file of its own.
cat >"$tmp/main.js" <<'JS'
// Loads this module's WASM (wasm-bindgen, --target web) and renders it.
import init, { start } from "./app.js";
await init({ module_or_path: new URL("./app_bg.wasm", import.meta.url) });
start();
JS

for module in "${MODULES[@]}"; do
  # Same profile and dependency features as the Connect bundles, so cargo
  # reuses their compiled dependencies; only `app` (feature `forge`) and the
  # frontend crate are built per bundle.
  cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release --features "forge-$module"
  [[ -f "$WASM_IN" ]] || die "$WASM_IN was not produced"
  OUT="$OUT_ROOT/$module"
  stage="$tmp/$module"
  mkdir -p "$stage"
  wasm-bindgen --target web --no-typescript --out-name app --out-dir "$stage" "$WASM_IN"
  if [[ "$NO_OPT" == 1 ]]; then
    say "SC_NO_WASM_OPT=1: skipping wasm-opt (bigger bundle, development only)"
  else
    "$WASM_OPT" --flatten --rereloop -Oz -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      "$stage/app_bg.wasm" -o "$stage/app_bg.wasm.opt"
    mv -f "$stage/app_bg.wasm.opt" "$stage/app_bg.wasm"
  fi
  cp "$tmp/forge-bridge.js" "$tmp/style.css" "$tmp/main.js" "$stage/"
  cat >"$stage/index.html" <<HTML
<!doctype html>
<!-- Written by scripts/build-forge.sh (the Smart Courses $module view as Forge Custom UI); kept
     in git so the manifest validator finds the resource; the files it loads are build output. -->
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>Smart Courses</title>
    <link rel="stylesheet" href="./style.css" />
    <script src="./forge-bridge.js"></script>
    <script type="module" src="./main.js"></script>
  </head>
  <body></body>
</html>
HTML
  # Replace the module's directory in one step (no half-written resource).
  rm -rf "$OUT.old"
  [[ -d "$OUT" ]] && mv "$OUT" "$OUT.old"
  mkdir -p "$OUT_ROOT"
  mv "$stage" "$OUT"
  rm -rf "$OUT.old"
  say "$OUT: wasm $(kb "$(size "$OUT/app_bg.wasm")") (br $(kb "$(br_size "$OUT/app_bg.wasm")")), js $(kb "$(size "$OUT/app.js")"), forge-bridge.js $(kb "$(size "$OUT/forge-bridge.js")") (br $(kb "$(br_size "$OUT/forge-bridge.js")"))$([[ "$NO_OPT" == 1 ]] && echo ', NO wasm-opt')"
done
