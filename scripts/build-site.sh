#!/usr/bin/env bash
# Builds the browser side into target/site/ (no cargo-leptos):
#
#   target/site/pkg/<module>-<hash>/<module>.js       wasm-bindgen glue (--target web)
#   target/site/pkg/<module>-<hash>/<module>_bg.wasm  hydrate bundle (main module), wasm-opt
#   target/site/pkg/<module>-<hash>/*.wasm, __wasm_split.js   lazy chunks and their loader
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
command -v wasm-split-cli >/dev/null 2>&1 || die "wasm-split-cli not found; run scripts/setup.sh"
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
# `app` (leptos, serde, ...) has the same features in the three builds and is
# compiled once; `app` is compiled per bundle (its `#[lazy]` split points are the
# features split-learner/split-admin), then the frontend crate and the LTO link.
#
# Then wasm-split (Leptos's `#[lazy]` functions): the link keeps its relocations
# (`--emit-relocs`, on the final link only) so `wasm-split-cli` can move each lazy
# function, and what only it uses, into a chunk of its own that the main module
# fetches on first call. Each bundle goes into its own content-hashed directory:
#   pkg/<module>-<hash>/<module>.js, <module>_bg.wasm    the main module (wasm-bindgen)
#   pkg/<module>-<hash>/__wasm_split.js, *.wasm          the loader and the lazy chunks
# Only the modules in LAZY_MODULES (those with `#[lazy]` functions, app features
# split-learner/split-admin) go through --emit-relocs and wasm-split.
MODULES=(learner editor admin)
LAZY_MODULES=" learner admin "
declare -A OUT_NAMES=()
mkdir -p "$PKG"
# Bundles of older layouts (one bundle for all; per module without directories).
rm -f "$PKG"/frontend-*.js "$PKG"/frontend-*.wasm "$PKG"/frontend-*.br "$PKG"/frontend-*.gz target/.site-wasm-stamp
for module in "${MODULES[@]}"; do
  rm -f "$PKG/$module"-*.js "$PKG/$module"-*.wasm "$PKG/$module"-*.br "$PKG/$module"-*.gz
done

for module in "${MODULES[@]}"; do
  lazy=0
  [[ "$LAZY_MODULES" == *" $module "* ]] && lazy=1
  if [[ "$lazy" == 1 ]]; then
    cargo rustc -p frontend --lib --crate-type cdylib --target wasm32-unknown-unknown --profile wasm-release \
      --features "$module" -- -C link-arg=--emit-relocs
  else
    cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release --features "$module"
  fi
  [[ -f "$WASM_IN" ]] || die "$WASM_IN was not produced"

  if [[ "$NO_OPT" == 1 ]]; then
    # Different bytes under the same name would defeat caching: give unoptimised builds their own hash.
    HASH="$( { cat "$WASM_IN"; printf '\nno-wasm-opt'; } | sha10)"
  else
    HASH="$(sha10 <"$WASM_IN")"
  fi
  DIR="$PKG/$module-$HASH"
  OUT_NAME="$module-$HASH/$module" # what the page links: /pkg/<OUT_NAME>.js, <OUT_NAME>_bg.wasm
  OUT_NAMES[$module]="$OUT_NAME"
  STAMP="target/.site-wasm-stamp-$module" # outside the served site root

  if [[ -f "$DIR/$module.js" && -f "$DIR/${module}_bg.wasm" && -f "$STAMP" && "$(cat "$STAMP")" == "$OUT_NAME" ]]; then
    say "$OUT_NAME is up to date (skipping wasm-split/wasm-bindgen/wasm-opt)"
  else
    rm -rf "$STAMP" "$PKG/$module"-*/
    mkdir -p "$DIR"
    if [[ "$lazy" == 1 ]]; then
      wasm-split-cli "$WASM_IN" "$DIR" --out-name "$module" --target web
      # --keep-lld-exports: the chunks import the main module's function table.
      wasm-bindgen --target web --no-typescript --keep-lld-exports --out-name "$module" --out-dir "$DIR" "$DIR/$module.wasm"
      rm -f "$DIR/$module.wasm"
    else
      wasm-bindgen --target web --no-typescript --out-name "$module" --out-dir "$DIR" "$WASM_IN"
    fi
    if [[ "$NO_OPT" == 1 ]]; then
      say "SC_NO_WASM_OPT=1: skipping wasm-opt (bigger bundle, development only)"
    else
      # --flatten --rereloop before two -Oz rounds: 1.4% smaller (brotli) than a
      # single -Oz on these bundles, for ~30 s more per bundle (README "Measured").
      for wasm in "$DIR"/*.wasm; do
        "$WASM_OPT" --flatten --rereloop -Oz -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$wasm" -o "$wasm.opt"
        mv -f "$wasm.opt" "$wasm"
      done
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
node scripts/precompress.mjs "$PKG" "$PKG"/*/ >/dev/null

# --- summary ------------------------------------------------------------------------------------
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
for module in "${MODULES[@]}"; do
  name="${OUT_NAMES[$module]}"
  chunks=""
  for c in "$PKG/$(dirname "$name")"/*.wasm; do
    [[ "$c" == "$PKG/${name}_bg.wasm" ]] && continue
    chunks+=" + lazy $(basename "$c" .wasm | cut -c1-24) br $(kb "$(size "$c.br")")"
  done
  say "$name: wasm $(kb "$(size "$PKG/${name}_bg.wasm")") (br $(kb "$(size "$PKG/${name}_bg.wasm.br")"))$chunks, js $(kb "$(size "$PKG/$name.js")") (br $(kb "$(size "$PKG/$name.js.br")"))$([[ "$NO_OPT" == 1 ]] && echo ', NO wasm-opt')"
done
say "css $CSS_NAME $(kb "$(size "$CSS")") (br $(kb "$(size "$CSS.br")")) -> $SITE/"
