#!/usr/bin/env bash
# Runs every test: the cargo-leptos build (server and browser bundle), unit and property
# tests, integration tests against the real server, and the end2end suite in Debian's
# Chromium (Playwright, axe-core).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$ROOT"
ensure_build_tools
ensure_test_tools

log "cargo leptos build (server + browser bundle)"
cargo leptos build

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

log "cargo test --features ssr (unit, property and integration tests)"
cargo test --features ssr 2>&1 | tee "$OUT/cargo.txt"

log "end2end: Playwright on /usr/bin/chromium"
export PREFCENTER_BIN="$ROOT/target/debug/prefcenter"
(cd "$ROOT/end2end" && npx playwright test) 2>&1 | tee "$OUT/e2e.txt"

# One closing line for the whole run.
passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$OUT/cargo.txt" | awk '{ s += $1 } END { print s + 0 }')
e2e=$(sed -n 's/^ *\([0-9]*\) passed (.*/\1/p' "$OUT/e2e.txt" | tail -n 1)
log "all tests passed: cargo $passed, end2end ${e2e:-0}"
echo "$((passed + ${e2e:-0})) passed, 0 failed"
