#!/usr/bin/env bash
# Builds the browser side into target/site/ (no cargo-leptos):
#
#   target/site/pkg/<module>-<hash>.js        wasm-bindgen glue (--target web), per module
#   target/site/pkg/<module>-<hash>_bg.wasm   hydrate bundle, wasm-opt (-Oz), per module
#                                             (<module>: learner, editor, admin)
#   target/site/pkg/style-<hash>.css          ADS tokens + style/main.css
#   target/site/pkg/*.br, *.gz                precompressed copies
#   target/site/manifest.json                 {"bundles": {"learner": ..., "editor": ...,
#                                             "admin": ...}, "stylesheet": ...}
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

# --- 1. the hydrate bundles, one per Connect module --------------------------------------
# The `frontend` crate built once per feature: its `hydrate()` mounts only that
# module's root, so each bundle links only that module's code. Everything below
# `frontend` (app, leptos, ...) has the same features in the three builds and
# is compiled once; only the frontend crate and the (LTO) link run three times.
MODULES=(learner editor admin)
declare -A OUT_NAMES=()
mkdir -p "$PKG"
# Bundles of the single-bundle layout (before the per-module split).
rm -f "$PKG"/frontend-*.js "$PKG"/frontend-*.wasm "$PKG"/frontend-*.br "$PKG"/frontend-*.gz target/.site-wasm-stamp

for module in "${MODULES[@]}"; do
  cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release --features "$module"
  [[ -f "$WASM_IN" ]] || die "$WASM_IN was not produced"

  if [[ "$NO_OPT" == 1 ]]; then
    # Different bytes under the same name would defeat caching: give unoptimised builds their own hash.
    HASH="$( { cat "$WASM_IN"; printf '\nno-wasm-opt'; } | sha10)"
  else
    HASH="$(sha10 <"$WASM_IN")"
  fi
  OUT_NAME="$module-$HASH"
  OUT_NAMES[$module]="$OUT_NAME"
  JS="$PKG/$OUT_NAME.js"
  WASM="$PKG/${OUT_NAME}_bg.wasm"
  STAMP="target/.site-wasm-stamp-$module" # outside the served site root

  if [[ -f "$JS" && -f "$WASM" && -f "$STAMP" && "$(cat "$STAMP")" == "$OUT_NAME" ]]; then
    say "$OUT_NAME is up to date (skipping wasm-bindgen/wasm-opt)"
  else
    rm -f "$STAMP" "$PKG/$module"-*.js "$PKG/$module"-*.wasm "$PKG/$module"-*.br "$PKG/$module"-*.gz
    wasm-bindgen --target web --no-typescript --out-name "$OUT_NAME" --out-dir "$PKG" "$WASM_IN"
    if [[ "$NO_OPT" == 1 ]]; then
      say "SC_NO_WASM_OPT=1: skipping wasm-opt (bigger bundle, development only)"
    else
      # --flatten --rereloop before two -Oz rounds: 1.4% smaller (brotli) than a
      # single -Oz on these bundles, for ~30 s more per bundle (README "Measured").
      "$WASM_OPT" --flatten --rereloop -Oz -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$WASM" -o "$WASM.opt"
      mv -f "$WASM.opt" "$WASM"
    fi
    printf '%s\n' "$OUT_NAME" >"$STAMP"
  fi
done

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
printf '{"bundles":{"learner":"%s","editor":"%s","admin":"%s"},"stylesheet":"/pkg/%s"}\n' \
  "${OUT_NAMES[learner]}" "${OUT_NAMES[editor]}" "${OUT_NAMES[admin]}" "$CSS_NAME" >"$SITE/manifest.json.tmp"
mv -f "$SITE/manifest.json.tmp" "$SITE/manifest.json"

# --- 5. precompressed copies -----------------------------------------------------------------
node scripts/precompress.mjs "$PKG" >/dev/null

# --- summary ------------------------------------------------------------------------------------
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
for module in "${MODULES[@]}"; do
  name="${OUT_NAMES[$module]}"
  say "$name: wasm $(kb "$(size "$PKG/${name}_bg.wasm")") (br $(kb "$(size "$PKG/${name}_bg.wasm.br")")), js $(kb "$(size "$PKG/$name.js")") (br $(kb "$(size "$PKG/$name.js.br")"))$([[ "$NO_OPT" == 1 ]] && echo ', NO wasm-opt')"
done
say "css $CSS_NAME $(kb "$(size "$CSS")") (br $(kb "$(size "$CSS.br")")) -> $SITE/"
