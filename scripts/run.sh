#!/usr/bin/env bash
# Builds (debug, with cargo-leptos) and runs the server on the embedded default: a SQLite file
# in ./data, the demo organization, each demo contact's link printed.
#
#   scripts/run.sh [prefcenter arguments]      e.g. scripts/run.sh --listen 0.0.0.0:8080
#   scripts/run.sh --release [arguments]       the optimized build, for a deployment
#
# A first run installs the build tools while it compiles the project. When nothing under src/,
# style/, public/, migrations/ or the manifests changed since the last build, it starts the
# server at once, without checking the tools or calling cargo.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$ROOT"

PROFILE=debug
if [ "${1:-}" = "--release" ]; then
  PROFILE=release
  shift
fi
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET/$PROFILE/prefcenter"
STAMP="$TARGET/.run-$PROFILE.stamp"
export LEPTOS_SITE_ROOT="$TARGET/site"

up_to_date() {
  [ -f "$STAMP" ] && [ -x "$BIN" ] && [ -d "$LEPTOS_SITE_ROOT/pkg" ] &&
    [ -z "$(find src style public migrations Cargo.toml Cargo.lock -newer "$STAMP" -print -quit 2>/dev/null)" ]
}

if up_to_date; then
  log "nothing changed since the last build; starting $BIN"
else
  start_build_tools
  if [ "$PROFILE" = release ]; then
    ensure_release_tools
  fi
  if [ "${#TOOL_PIDS[@]}" -gt 0 ] && [ "$PROFILE" = debug ]; then
    prebuild
  fi
  wait_tools
  # Stamped with the time the build started: a file edited during the build is newer.
  touch "$STAMP.new"
  BUILD=(cargo leptos build)
  [ "$PROFILE" = debug ] || BUILD+=(--release)
  log "building (${BUILD[*]})"
  "${BUILD[@]}"
  mv "$STAMP.new" "$STAMP"
fi
log "starting prefcenter --demo"
exec "$BIN" --demo "$@"
