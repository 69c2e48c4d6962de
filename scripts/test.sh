#!/usr/bin/env bash
# Runs every test: the cargo-leptos build (server and browser bundle), unit and property
# tests, integration tests against the real server (with a real SMTP server) on SQLite and
# again on a throw-away PostgreSQL cluster, the end2end suite in Debian's Chromium
# (Playwright, axe-core), and schemathesis fuzzing the API against its OpenAPI document with a
# valid key. Prints how long each phase took.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$ROOT"

STARTED=$SECONDS
PHASE_STARTED=$SECONDS
PHASES=()
phase_done() {
  local took=$((SECONDS - PHASE_STARTED))
  PHASES+=("$1: $((took / 60)) min $((took % 60)) s")
  log "$1 took $((took / 60)) min $((took % 60)) s"
  PHASE_STARTED=$SECONDS
}

# Runs a phase with a bound well above its usual time, so a test that hangs fails the run
# with its name on screen instead of holding CI until its own limit.
bounded() {
  local minutes=$1 rc=0
  shift
  timeout --kill-after=30s "${minutes}m" "$@" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "!! still running after ${minutes} min, stopped: a test hangs (the last one started above)"
  fi
  return "$rc"
}

start_build_tools
start_test_tools
if [ "${#TOOL_PIDS[@]}" -gt 0 ]; then
  prebuild
fi
wait_tools
phase_done "tools (and compiling meanwhile)"

log "cargo leptos build (server + browser bundle)"
cargo leptos build
phase_done "build"

OUT="$(mktemp -d)"
trap 'stop_pg; rm -rf "$OUT"' EXIT

log "cargo test --features ssr (unit, property and integration tests, SQLite)"
bounded 30 cargo test --features ssr 2>&1 | tee "$OUT/cargo.txt"
phase_done "cargo test (SQLite)"

start_pg
log "cargo test --features ssr --test it (integration tests, PostgreSQL)"
bounded 15 cargo test --features ssr --test it 2>&1 | tee "$OUT/cargo-pg.txt"
stop_pg
phase_done "integration tests (PostgreSQL)"

log "end2end: Playwright on /usr/bin/chromium"
export PREFCENTER_BIN="$ROOT/target/debug/prefcenter"
(cd "$ROOT/end2end" && npx playwright test) 2>&1 | tee "$OUT/e2e.txt"
phase_done "end2end"

log "schemathesis: the API against its own OpenAPI document, with a valid key"
ST_WORK="$OUT/schemathesis"
mkdir -p "$ST_WORK"
(
  export PREFCENTER_DATABASE_URL="sqlite://$ST_WORK/db.sqlite" PREFCENTER_DATA_DIR="$ST_WORK" NO_COLOR=1
  PREFCENTER_LISTEN=127.0.0.1:0 "$PREFCENTER_BIN" --demo >"$ST_WORK/server.out" 2>&1 &
  server=$!
  trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null' EXIT
  url=""
  for _ in $(seq 1 300); do
    url="$(sed -n 's/^prefcenter listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$ST_WORK/server.out")"
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$ST_WORK/server.out"; exit 1; }
  key="$("$PREFCENTER_BIN" api-key create schemathesis --scope decide --scope read --scope write --scope links)"
  # No server error, and every answer as the document says (status, media type, body,
  # headers); calls without the key must be refused.
  "$ST_DIR/bin/st" run "$url/api/v1/openapi.json" -H "Authorization: Bearer $key" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,ignored_auth \
    --max-time "${SCHEMATHESIS_SECONDS:-45}" --no-color
) 2>&1 | tee "$OUT/schemathesis.txt"
phase_done "schemathesis"

# One closing line for the whole run.
passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$OUT/cargo.txt" | awk '{ s += $1 } END { print s + 0 }')
passed_pg=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$OUT/cargo-pg.txt" | awk '{ s += $1 } END { print s + 0 }')
e2e=$(sed -n 's/^ *\([0-9]*\) passed (.*/\1/p' "$OUT/e2e.txt" | tail -n 1)
fuzzed=$(sed -n 's/^ *\([0-9]*\) generated, .*/\1/p' "$OUT/schemathesis.txt" | tail -n 1)
for p in "${PHASES[@]}"; do log "  $p"; done
total=$((SECONDS - STARTED))
log "all tests passed in $((total / 60)) min $((total % 60)) s: cargo $passed (SQLite), integration $passed_pg (PostgreSQL), end2end ${e2e:-0}, schemathesis ${fuzzed:-0} generated API calls"
echo "$((passed + passed_pg + ${e2e:-0})) passed, 0 failed"
