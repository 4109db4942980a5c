#!/usr/bin/env bash
# Size of what the browser downloads: builds the release site (wasm-opt on) and prints
# raw / gzip -9 / brotli q11 sizes of each Connect module's hydrate bundle (.wasm and
# JS glue), its lazy chunks if any, and the CSS.
# Budgets, per module's wasm as the page loads it (the main module; lazy chunks come
# on first use and are listed apart), brotli-compressed (1 KB = 1024 B):
#   learner (course macro) 150 KB, editor (macro editor) 250 KB, admin (space tab) 200 KB.
# Prints OK/OVER per module; exits non-zero on OVER only when SC_ENFORCE_BUDGET=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MODULES=(learner editor admin)
declare -A BUDGET_KB=([learner]=150 [editor]=250 [admin]=200)

# The budget is about the shipped bundles, so wasm-opt is never skipped here.
SC_NO_WASM_OPT=0 bash scripts/build-site.sh

SITE=target/site
manifest() { node -p "require('./$SITE/manifest.json')$1"; }
css_url="$(manifest .stylesheet)"
CSS="$SITE${css_url}"

# Sizes are measured here (not read from the .br/.gz files) so the table does not
# depend on precompress.mjs; gzip -9 / brotli q11 are what a CDN would serve.
sizes() { # file -> "raw gz br"
  node -e '
    const fs = require("fs"), z = require("zlib");
    const b = fs.readFileSync(process.argv[1]);
    const br = z.brotliCompressSync(b, { params: { [z.constants.BROTLI_PARAM_QUALITY]: 11, [z.constants.BROTLI_PARAM_SIZE_HINT]: b.length } });
    console.log(b.length, z.gzipSync(b, { level: 9 }).length, br.length);
  ' "$1"
}

row() { printf '%-8s %-32s %12s %12s %12s\n' "$@"; }
n() { printf "%'d" "$1"; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }

read -r c_raw c_gz c_br < <(sizes "$CSS")

echo
row "module" "file" "raw B" "gzip -9 B" "brotli q11 B"
row "------" "----" "-----" "---------" "------------"
declare -A WASM_BR=()
for module in "${MODULES[@]}"; do
  name="$(manifest ".bundles.$module")"
  WASM="$SITE/pkg/${name}_bg.wasm"
  JS="$SITE/pkg/${name}.js"
  read -r w_raw w_gz w_br < <(sizes "$WASM")
  read -r j_raw j_gz j_br < <(sizes "$JS")
  WASM_BR[$module]="$w_br"
  row "$module" "$(basename "$WASM")" "$(n "$w_raw")" "$(n "$w_gz")" "$(n "$w_br")"
  row "" "$(basename "$JS")" "$(n "$j_raw")" "$(n "$j_gz")" "$(n "$j_br")"
  # What the module's page downloads: its wasm and glue, and the stylesheet.
  row "" "page total (+ css)" "$(n $((w_raw + j_raw + c_raw)))" "$(n $((w_gz + j_gz + c_gz)))" "$(n $((w_br + j_br + c_br)))"
  # Lazy chunks (Leptos #[lazy], split by wasm-split): fetched on first use only.
  l_raw=0 l_gz=0 l_br=0
  for chunk in "$(dirname "$WASM")"/*.wasm; do
    [[ "$chunk" == "$WASM" ]] && continue
    read -r c1 c2 c3 < <(sizes "$chunk")
    row "" "lazy: $(basename "$chunk" | cut -c1-24)" "$(n "$c1")" "$(n "$c2")" "$(n "$c3")"
    l_raw=$((l_raw + c1)) l_gz=$((l_gz + c2)) l_br=$((l_br + c3))
  done
  if ((l_raw > 0)); then
    row "" "wasm incl. lazy chunks" "$(n $((w_raw + l_raw)))" "$(n $((w_gz + l_gz)))" "$(n $((w_br + l_br)))"
  fi
done
row "all" "$(basename "$CSS")" "$(n "$c_raw")" "$(n "$c_gz")" "$(n "$c_br")"
echo

over=0
for module in "${MODULES[@]}"; do
  budget=$((BUDGET_KB[$module] * 1024))
  br="${WASM_BR[$module]}"
  if ((br <= budget)); then
    verdict="OK  "
  else
    verdict="OVER"
    over=1
  fi
  printf '%-8s wasm budget: %s (%s B = %s brotli, budget %s KB = %s B)\n' \
    "$module" "$verdict" "$(n "$br")" "$(kb "$br")" "${BUDGET_KB[$module]}" "$(n "$budget")"
  # For bench/run.sh.
  awk -v m="$module" -v b="$br" 'BEGIN { printf "BENCH wasm_%s_br_kb=%.1f\n", m, b / 1024 }'
done

if [[ "$over" == 1 && "${SC_ENFORCE_BUDGET:-0}" == 1 ]]; then
  exit 1
fi
