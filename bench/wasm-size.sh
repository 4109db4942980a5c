#!/usr/bin/env bash
# Size of what the browser downloads: builds the release site (wasm-opt on) and prints
# raw / gzip -9 / brotli q11 sizes of the hydrate .wasm, the JS glue and the CSS.
# Budget: the hydrate wasm, brotli-compressed, must stay under 250 KB (KiB: 256,000 bytes).
# Prints OK/OVER; exits non-zero on OVER only when SC_ENFORCE_BUDGET=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUDGET_KB=250
BUDGET=$((BUDGET_KB * 1024))

# The budget is about the shipped bundle, so wasm-opt is never skipped here.
SC_NO_WASM_OPT=0 bash scripts/build-site.sh

SITE=target/site
name="$(node -p 'require("./target/site/manifest.json").output_name')"
css_url="$(node -p 'require("./target/site/manifest.json").stylesheet')"
WASM="$SITE/pkg/${name}_bg.wasm"
JS="$SITE/pkg/${name}.js"
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

read -r w_raw w_gz w_br < <(sizes "$WASM")
read -r j_raw j_gz j_br < <(sizes "$JS")
read -r c_raw c_gz c_br < <(sizes "$CSS")

row() { printf '%-34s %12s %12s %12s\n' "$@"; }
n() { printf "%'d" "$1"; }
echo
row "file" "raw B" "gzip -9 B" "brotli q11 B"
row "----" "-----" "---------" "------------"
row "$(basename "$WASM")" "$(n "$w_raw")" "$(n "$w_gz")" "$(n "$w_br")"
row "$(basename "$JS")" "$(n "$j_raw")" "$(n "$j_gz")" "$(n "$j_br")"
row "$(basename "$CSS")" "$(n "$c_raw")" "$(n "$c_gz")" "$(n "$c_br")"
row "total" "$(n $((w_raw + j_raw + c_raw)))" "$(n $((w_gz + j_gz + c_gz)))" "$(n $((w_br + j_br + c_br)))"
echo

if ((w_br <= BUDGET)); then
  echo "wasm budget: OK   ($(n "$w_br") B brotli <= ${BUDGET_KB} KB = $(n "$BUDGET") B)"
else
  echo "wasm budget: OVER ($(n "$w_br") B brotli > ${BUDGET_KB} KB = $(n "$BUDGET") B)"
  if [[ "${SC_ENFORCE_BUDGET:-0}" == 1 ]]; then
    exit 1
  fi
fi
