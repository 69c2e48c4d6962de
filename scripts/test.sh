#!/usr/bin/env bash
# Runs every test: the cargo-leptos build (server and browser bundle), unit and property
# tests, integration tests against the real server (with a real SMTP server) on SQLite and
# again on a throw-away PostgreSQL cluster, and the end2end suite in Debian's Chromium
# (Playwright, axe-core). Prints how long each phase took.
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
cargo test --features ssr 2>&1 | tee "$OUT/cargo.txt"
phase_done "cargo test (SQLite)"

start_pg
log "cargo test --features ssr --test it (integration tests, PostgreSQL)"
cargo test --features ssr --test it 2>&1 | tee "$OUT/cargo-pg.txt"
stop_pg
phase_done "integration tests (PostgreSQL)"

log "end2end: Playwright on /usr/bin/chromium"
export PREFCENTER_BIN="$ROOT/target/debug/prefcenter"
(cd "$ROOT/end2end" && npx playwright test) 2>&1 | tee "$OUT/e2e.txt"
phase_done "end2end"

# One closing line for the whole run.
passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$OUT/cargo.txt" | awk '{ s += $1 } END { print s + 0 }')
passed_pg=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$OUT/cargo-pg.txt" | awk '{ s += $1 } END { print s + 0 }')
e2e=$(sed -n 's/^ *\([0-9]*\) passed (.*/\1/p' "$OUT/e2e.txt" | tail -n 1)
for p in "${PHASES[@]}"; do log "  $p"; done
total=$((SECONDS - STARTED))
log "all tests passed in $((total / 60)) min $((total % 60)) s: cargo $passed (SQLite), integration $passed_pg (PostgreSQL), end2end ${e2e:-0}"
echo "$((passed + passed_pg + ${e2e:-0})) passed, 0 failed"
