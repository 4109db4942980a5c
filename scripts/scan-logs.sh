#!/usr/bin/env bash
# Scans a test run's log (JSON lines, written with SC_TEST_LOG by the
# integration tests at debug level) for what must never be logged: JWTs,
# bearer tokens, e-mail addresses, shared secrets and data keys of the
# tests, credentials in URLs. Fails when the log is missing or suspiciously
# short (a scan of nothing proves nothing), or when anything is found.
set -euo pipefail
log="${1:?usage: scan-logs.sh LOGFILE}"
min_lines="${2:-500}"
[[ -s "$log" ]] || { echo "scan-logs: $log is missing or empty" >&2; exit 1; }
lines=$(wc -l <"$log")
if ((lines < min_lines)); then
  echo "scan-logs: only $lines lines in $log (expected at least $min_lines)" >&2
  exit 1
fi
patterns=(
  'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}'             # a JWT (header.payload)
  '(JWT|Bearer) [A-Za-z0-9._~+/-]{16,}'                      # an Authorization value
  '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}'  # an e-mail address
  'shared-secret-[0-9]'                                      # the tests' shared secrets
  'secret-[a-z]+-0123456789'                                 # …and their other shape
  '(test|bench|dev|old|new|k1):[A-Za-z0-9+/]{43}='           # a data key
  '[a-z]+://[^/ "@:]+:[^/ "@]+@'                             # a password in a URL
  'forge-[0-9a-f]{48}'                                       # the fake's Forge OAuth tokens
)
found=0
for p in "${patterns[@]}"; do
  if hits=$(grep -Eo -- "$p" "$log" | sort | uniq -c | sort -rn | head -5) && [[ -n "$hits" ]]; then
    echo "scan-logs: pattern /$p/ found in $log:" >&2
    echo "$hits" >&2
    found=1
  fi
done
if ((found)); then exit 1; fi
echo "scan-logs: $lines log lines, none with a token, secret, key or e-mail address"
