#!/usr/bin/env bash
# Builds the browser side into target/site/ (no cargo-leptos):
#
#   target/site/pkg/frontend-<hash>.js        wasm-bindgen glue (--target web)
#   target/site/pkg/frontend-<hash>_bg.wasm   hydrate bundle, wasm-opt -Oz
#   target/site/pkg/style-<hash>.css          ADS tokens + style/main.css
#   target/site/pkg/*.br, *.gz                precompressed copies
#   target/site/manifest.json                 {"output_name": ..., "stylesheet": ...}
#   target/site/...                           a copy of public/
#
# Env: SC_NO_WASM_OPT=1 skips wasm-opt (fast local iteration only; default: run it).
# Needs the tools from scripts/setup.sh (wasm-bindgen CLI, node_modules).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf 'build-site: %s\n' "$*"; }
die() { printf 'build-site: ERROR: %s\n' "$*" >&2; exit 1; }

SITE="target/site"
PKG="$SITE/pkg"
CARGO_TARGET="${CARGO_TARGET_DIR:-target}"
WASM_IN="$CARGO_TARGET/wasm32-unknown-unknown/wasm-release/frontend.wasm"
WASM_OPT="node_modules/.bin/wasm-opt"
NO_OPT="${SC_NO_WASM_OPT:-0}"

# --- tool checks (scripts/setup.sh installs these) ---------------------------------
command -v wasm-bindgen >/dev/null 2>&1 || die "wasm-bindgen not found; run scripts/setup.sh"
want_wb="$(awk '
  $0 == "name = \"wasm-bindgen\"" { found = 1; next }
  found && /^version = / { gsub(/"/, "", $3); print $3; exit }
' Cargo.lock)"
have_wb="$(wasm-bindgen --version | awk '{print $2}')"
[[ "$have_wb" == "$want_wb" ]] || die "wasm-bindgen CLI is $have_wb but Cargo.lock has $want_wb; run scripts/setup.sh"
[[ -f node_modules/@atlaskit/tokens/package.json ]] || die "node_modules missing; run scripts/setup.sh"
if [[ "$NO_OPT" != 1 ]]; then
  [[ -x "$WASM_OPT" ]] || die "$WASM_OPT not found; run scripts/setup.sh (never use Debian's binaryen)"
fi
[[ -f style/main.css ]] || die "style/main.css not found"

sha10() { sha256sum | cut -c1-10; }
size() { stat -c %s "$1"; }

# --- 1. the hydrate wasm --------------------------------------------------------------
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
[[ -f "$WASM_IN" ]] || die "$WASM_IN was not produced"

if [[ "$NO_OPT" == 1 ]]; then
  # Different bytes under the same name would defeat caching: give unoptimised builds their own hash.
  HASH="$( { cat "$WASM_IN"; printf '\nno-wasm-opt'; } | sha10)"
else
  HASH="$(sha10 <"$WASM_IN")"
fi
OUT_NAME="frontend-$HASH"
JS="$PKG/$OUT_NAME.js"
WASM="$PKG/${OUT_NAME}_bg.wasm"
STAMP="target/.site-wasm-stamp" # outside the served site root

mkdir -p "$PKG"
if [[ -f "$JS" && -f "$WASM" && -f "$STAMP" && "$(cat "$STAMP")" == "$OUT_NAME" ]]; then
  say "$OUT_NAME is up to date (skipping wasm-bindgen/wasm-opt)"
else
  rm -f "$STAMP" "$PKG"/frontend-*.js "$PKG"/frontend-*.wasm "$PKG"/frontend-*.br "$PKG"/frontend-*.gz
  wasm-bindgen --target web --no-typescript --out-name "$OUT_NAME" --out-dir "$PKG" "$WASM_IN"
  if [[ "$NO_OPT" == 1 ]]; then
    say "SC_NO_WASM_OPT=1: skipping wasm-opt (bigger bundle, development only)"
  else
    "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$WASM" -o "$WASM.opt"
    mv -f "$WASM.opt" "$WASM"
  fi
  printf '%s\n' "$OUT_NAME" >"$STAMP"
fi

# --- 2. the stylesheet: ADS tokens + style/main.css ------------------------------------
css_tmp="$(mktemp "$PKG/.style.XXXXXX")"
trap 'rm -f "$css_tmp"' EXIT
{
  node scripts/ads-tokens.mjs
  printf '\n/* ---- style/main.css ---- */\n'
  cat style/main.css
} >"$css_tmp"
CSS_HASH="$(sha10 <"$css_tmp")"
CSS_NAME="style-$CSS_HASH.css"
CSS="$PKG/$CSS_NAME"
if [[ -f "$CSS" ]] && cmp -s "$css_tmp" "$CSS"; then
  rm -f "$css_tmp"
else
  find "$PKG" -maxdepth 1 -name 'style-*.css*' ! -name "$CSS_NAME*" -delete
  chmod 644 "$css_tmp"
  mv -f "$css_tmp" "$CSS"
  rm -f "$CSS.br" "$CSS.gz"
fi

# --- 3. static assets ----------------------------------------------------------------------
if [[ -d public ]]; then
  cp -R public/. "$SITE/"
fi

# --- 4. manifest read by the server ---------------------------------------------------------
printf '{"output_name":"%s","stylesheet":"/pkg/%s"}\n' "$OUT_NAME" "$CSS_NAME" >"$SITE/manifest.json.tmp"
mv -f "$SITE/manifest.json.tmp" "$SITE/manifest.json"

# --- 5. precompressed copies -----------------------------------------------------------------
node scripts/precompress.mjs "$PKG" >/dev/null

# --- summary ------------------------------------------------------------------------------------
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
say "$OUT_NAME: wasm $(kb "$(size "$WASM")") (br $(kb "$(size "$WASM.br")")), js $(kb "$(size "$JS")") (br $(kb "$(size "$JS.br")")), css $CSS_NAME $(kb "$(size "$CSS")") (br $(kb "$(size "$CSS.br")"))$([[ "$NO_OPT" == 1 ]] && echo ', NO wasm-opt') -> $SITE/"
