#!/usr/bin/env bash
# Builds (release, with cargo-leptos) and runs the server on the embedded default: a SQLite
# file in ./data, the demo organization, each demo contact's link printed.
# Extra arguments go to prefcenter (e.g. --listen 0.0.0.0:8080).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$ROOT"
ensure_build_tools
log "building (cargo leptos build --release)"
cargo leptos build --release
export LEPTOS_SITE_ROOT="$ROOT/target/site"
log "starting prefcenter --demo"
exec "$ROOT/target/release/prefcenter" --demo "$@"
