#!/usr/bin/env bash
# Every performance target of issue #13 in one run (release builds, loopback,
# this machine's cores), printed as one table: each figure, the ceiling (a
# bare axum + jsonwebtoken server answering the same request, in the same
# process and run), the ratio and the target, with PASS or MISS.
#
#   reads     server/examples/bench_reads.rs   (ceiling, learning/course, authoring/open)
#   submits   server/examples/bench_submit.rs  (SQLite, then PostgreSQL at BENCH_PG_URL)
#   crash     server/examples/bench_crash.rs   (kill -9 mid-load: no acknowledged submit lost)
#   memory    server/examples/bench_mixed.rs   (RSS through a mixed run over 100 sites; BENCH_MIXED_SECS)
#   report    server/examples/bench_report.rs  (space-admin report, when present)
#   bundles   bench/wasm-size.sh               (per-module WASM, brotli)
#
# Env: BENCH_SECS and BENCH_ROUNDS (reads: 5 s per phase, 3 interleaved rounds), BENCH_LEARNERS_PER_CLIENT (submits),
# BENCH_PG_URL. Needs wrk (installed by bench/load.sh if missing) and a
# PostgreSQL server for the PostgreSQL rows. Stops by itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench/run.sh: installing wrk (apt)"
  if [[ $(id -u) == 0 ]]; then apt-get update -qq && apt-get install -y -qq wrk; else sudo apt-get install -y wrk; fi
fi

examples=(--example bench_reads --example bench_submit --example bench_crash --example bench_mixed)
[[ -f server/examples/bench_report.rs ]] && examples+=(--example bench_report)
cargo build --release -q -p server --features dev-host "${examples[@]}"
BIN=target/release/examples

echo "== reads (wrk, 32 connections) =="
"$BIN/bench_reads" | tee "$OUT/reads.txt"
for db in sqlite postgres; do
  echo "== submits ($db) =="
  BENCH_DB=$db "$BIN/bench_submit" | tee "$OUT/submit-$db.txt" || echo "BENCH submit_${db}_per_s=error" >>"$OUT/submit-$db.txt"
done
echo "== kill -9 during submits (SQLite) =="
"$BIN/bench_crash" | tee "$OUT/crash.txt" || echo "BENCH crash_lost=error" >>"$OUT/crash.txt"
if [[ -x "$BIN/bench_report" ]]; then
  for db in sqlite postgres; do
    echo "== space-admin report ($db) =="
    BENCH_DB=$db "$BIN/bench_report" | tee "$OUT/report-$db.txt" || true
  done
fi
echo "== memory: mixed run over 100 sites (SQLite) =="
"$BIN/bench_mixed" | tee "$OUT/mixed.txt" || echo "BENCH mixed_rss_max_mib=error" >>"$OUT/mixed.txt"
echo "== bundles =="
bash bench/wasm-size.sh | tee "$OUT/wasm.txt" || true

# The BENCH key=value lines of every run, as one lookup.
cat "$OUT"/*.txt | sed -n 's/^BENCH \([a-z0-9_]*\)=\(.*\)$/\1 \2/p' >"$OUT/all"
val() { awk -v k="$1" '$1 == k { print $2 }' "$OUT/all" | tail -1; }

row() { # what figure ceiling target-op target unit [ratio, when measured as such]
  local what="$1" fig="$2" ceil="$3" op="$4" target="$5" unit="$6" given="${7:-}" ratio="—" ok
  [[ -z "$fig" ]] && { printf '| %s | not measured | %s | — | %s %s %s | MISS |\n' "$what" "${ceil:-—}" "$op" "$target" "$unit"; return; }
  [[ -n "$ceil" && "$ceil" != "—" ]] && ratio="$(awk -v a="$fig" -v b="$ceil" 'BEGIN { printf "%.2f×", a / b }')"
  local cmp="$fig"
  [[ "$unit" == "× ceiling" ]] && cmp="$(awk -v a="$fig" -v b="$ceil" 'BEGIN { printf "%.4f", a / b }')"
  # bench_reads measures each ratio within a round (the ceiling seconds
  # before the app) and reports the median round: judge by that.
  if [[ -n "$given" ]]; then cmp="$given"; ratio="$(awk -v r="$given" 'BEGIN { printf "%.2f×", r }')"; fi
  if awk -v a="$cmp" -v t="$target" -v op="$op" 'BEGIN { exit !((op == "≥" && a >= t) || (op == "≤" && a <= t)) }'; then ok=PASS; else ok=MISS; fi
  printf '| %s | %s | %s | %s | %s %s %s | %s |\n' "$what" "$fig" "${ceil:-—}" "$ratio" "$op" "$target" "$unit" "$ok"
}

CEIL="$(val ceiling_rps)"
echo
echo "## bench/run.sh — $(date -u +%Y-%m-%d), $(nproc) cores"
echo
echo "| figure | value | ceiling | ratio | target | |"
echo "|---|---|---|---|---|---|"
row "ceiling: bare axum + HS256, req/s" "$CEIL" "" "≥" 0 "req/s"
row "learning/course req/s" "$(val learning_course_rps)" "$CEIL" "≥" 0.5 "× ceiling" "$(val learning_course_ratio)"
row "learning/course p99 ms" "$(val learning_course_p99_ms)" "" "≤" 5 "ms"
row "authoring/open req/s" "$(val authoring_open_rps)" "$CEIL" "≥" 0.5 "× ceiling" "$(val authoring_open_ratio)"
row "authoring/open p99 ms" "$(val authoring_open_p99_ms)" "" "≤" 5 "ms"
row "submits/s SQLite" "$(val submit_sqlite_per_s)" "" "≥" 5000 "/s"
row "submit p99 ms SQLite" "$(val submit_sqlite_p99_ms)" "" "≤" 20 "ms"
row "acknowledged submits lost to kill -9 (of $(val crash_acknowledged))" "$(val crash_lost)" "" "≤" 0 ""
row "submits/s PostgreSQL" "$(val submit_postgres_per_s)" "" "≥" 2500 "/s"
row "submit p99 ms PostgreSQL" "$(val submit_postgres_p99_ms)" "" "≤" 20 "ms"
for m in learner editor admin; do
  case $m in learner) b=150 ;; editor) b=250 ;; admin) b=200 ;; esac
  row "$m bundle, KB brotli" "$(val "wasm_${m}_br_kb")" "" "≤" "$b" "KB"
done
row "RSS through a 5-minute mixed run, MiB" "$(val mixed_rss_max_mib)" "" "≤" 64 "MiB"
