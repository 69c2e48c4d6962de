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

log "cargo test --features ssr (unit, property and integration tests)"
cargo test --features ssr

log "end2end: Playwright on /usr/bin/chromium"
export PREFCENTER_BIN="$ROOT/target/debug/prefcenter"
(cd "$ROOT/end2end" && npx playwright test)
log "all tests passed"
