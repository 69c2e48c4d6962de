# Installs what building and testing need, each only when missing, so a second run is fast.
# Sourced by scripts/run.sh and scripts/test.sh. Everything comes from the package registries
# (crates.io, Debian, npm); nothing downloads a prebuilt binary.
#
# The slow installs (cargo-leptos and wasm-bindgen-cli compile from source; Chromium and npm
# come from Debian) run in the background while the project itself compiles: start them with
# `start_build_tools` / `start_test_tools`, compile, then `wait_tools`.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# The bundled SQLite (libsqlite3-sys) is compiled with SQLITE_ENABLE_MEMORY_MANAGEMENT, which
# puts the page caches of all the process's connections in one group behind one mutex: with
# the server's many read connections that mutex took about a fifth of a bulk decision's CPU.
# Undefined here, each connection keeps its own cache (bulk decide of a million contacts with
# states 3.45 s → 3.0 s median, single decisions 27–30,000/s → 29–35,000/s; README,
# "Benchmark"). Two more: SQLITE_DEFAULT_MEMSTATUS=0, so that SQLite's allocations do not
# take its global statistics mutex (prefcenter never asks for the figures), and a lookaside of
# 200 slots instead of 40 per connection (240 KB, allocated as used), so that a kept statement's
# cursors come from it: with 40, the inline lookups' two kept statements left none free and
# every cursor was a malloc (measured with sqlite3_db_status: 3 misses per decision; 3.4 →
# 3.2 µs per lookup in a loop). Every build the scripts make (run, test, benchmarks) uses
# them; a plain `cargo build` without them gets SQLite's defaults, correct, only slower.
export LIBSQLITE3_FLAGS="${LIBSQLITE3_FLAGS--USQLITE_ENABLE_MEMORY_MANAGEMENT -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_DEFAULT_LOOKASIDE=1200,200}"

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- background jobs ------------------------------------------------------------------------

TOOL_LOGS=""
TOOL_PIDS=()
TOOL_NAMES=()

# bg NAME COMMAND...: runs COMMAND in the background, its output in a log shown only if it fails.
bg() {
  local name="$1"
  shift
  if [ -z "$TOOL_LOGS" ]; then
    TOOL_LOGS="$(mktemp -d)"
    # If the script stops before wait_tools, the installs stop with it.
    trap 'kill "${TOOL_PIDS[@]}" 2>/dev/null; rm -rf "$TOOL_LOGS"' EXIT
  fi
  log "$name (in the background)"
  local log="$TOOL_LOGS/$name.log" started
  started="$(date +%s)"
  (
    "$@" >"$log" 2>&1
    rc=$?
    echo "$(($(date +%s) - started))" >"$log.took"
    exit "$rc"
  ) &
  TOOL_PIDS+=("$!")
  TOOL_NAMES+=("$name")
}

# Waits for every background job; stops the script with the job's log if one failed.
wait_tools() {
  local i failed=0
  for i in "${!TOOL_PIDS[@]}"; do
    if wait "${TOOL_PIDS[$i]}"; then
      log "${TOOL_NAMES[$i]}: done in $(cat "$TOOL_LOGS/${TOOL_NAMES[$i]}.log.took") s"
    else
      printf '\n--- %s failed; its output: ---\n' "${TOOL_NAMES[$i]}" >&2
      cat "$TOOL_LOGS/${TOOL_NAMES[$i]}.log" >&2
      failed=1
    fi
  done
  TOOL_PIDS=()
  TOOL_NAMES=()
  trap - EXIT
  [ -z "$TOOL_LOGS" ] || rm -rf "$TOOL_LOGS"
  TOOL_LOGS=""
  [ "$failed" = 0 ] || exit 1
}

# --- what each script needs -----------------------------------------------------------------

apt_install() {
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >/dev/null
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# Adds the wasm32 target (quick, in the foreground: the project's browser bundle needs it) and
# starts the installs of cargo-leptos 0.3.4 and the Cargo.lock's wasm-bindgen-cli, debug
# builds (half the build time of release builds, and as fast for what they do here).
start_build_tools() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  # Debug builds without debug info: nobody debugs these tools, and it makes them build and
  # link faster still.
  if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.4'; then
    bg "installing cargo-leptos 0.3.4" env CARGO_PROFILE_DEV_DEBUG=0 \
      cargo install --debug --locked cargo-leptos@0.3.4
  fi
  # cargo-leptos would download wasm-bindgen unless the exact version is on PATH.
  local want
  want="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then
    bg "installing wasm-bindgen-cli $want" env CARGO_PROFILE_DEV_DEBUG=0 \
      cargo install --debug wasm-bindgen-cli --version "$want"
  fi
}

# wasm-opt, which `cargo leptos build --release` runs on the browser bundle: Debian's binaryen.
ensure_release_tools() {
  if ! command -v wasm-opt >/dev/null 2>&1; then
    log "installing binaryen (apt-get)"
    apt_install binaryen
  fi
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# schemathesis (PyPI), in a virtual environment of its own under target/: it fuzzes the API
# against its OpenAPI document.
SCHEMATHESIS_VERSION=4.32.5
ST_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/schemathesis"

schemathesis_missing() {
  [ "$("$ST_DIR/bin/st" --version 2>/dev/null | awk '{print $3}')" != "$SCHEMATHESIS_VERSION" ]
}

install_schemathesis() {
  if ! python3 -m venv "$ST_DIR" >/dev/null 2>&1; then
    apt_install python3-venv
    python3 -m venv "$ST_DIR"
  fi
  "$ST_DIR/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
}

test_tools_missing() {
  schemathesis_missing || [ ! -x /usr/bin/chromium ] || ! command -v npm >/dev/null 2>&1 || [ -z "$(pg_bin)" ] ||
    [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] ||
    [ ! -d "$ROOT/end2end/node_modules/@axe-core/playwright" ] ||
    [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]
}

install_test_tools() {
  local pkgs=()
  [ -x /usr/bin/chromium ] || pkgs+=(chromium)
  command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
  [ -n "$(pg_bin)" ] || pkgs+=(postgresql)
  [ "${#pkgs[@]}" = 0 ] || apt_install "${pkgs[@]}"
  (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
  if schemathesis_missing; then install_schemathesis; fi
}

# Debian's Chromium (and Node.js), PostgreSQL and the end2end npm packages, in the background.
start_test_tools() {
  if test_tools_missing; then
    bg "installing Chromium and the end2end npm packages" install_test_tools
  fi
}

# A throw-away PostgreSQL cluster for this run: initdb in a temporary folder, started on a free
# loopback port, run as the `postgres` user when this script runs as root (PostgreSQL refuses
# root). Exports PREFCENTER_TEST_POSTGRES (the admin URL the tests create their databases
# with); `stop_pg` removes it all. Durability is off for the tests (they kill prefcenter,
# never the database server); `start_pg durable` keeps PostgreSQL's defaults (the benchmark).
start_pg() {
  local settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${1:-}" != durable ] || settings=""
  settings="$settings ${PG_SETTINGS:-}"
  local bin port
  bin="$(pg_bin)"
  [ -n "$bin" ] || { log "PostgreSQL is not installed"; return 1; }
  PG_DIR="$(mktemp -d "${PG_TMPDIR:-/tmp}/prefcenter-pg.XXXXXX")"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  PG_AS=("${as[@]}")
  PG_BIN="$bin"
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync -E UTF8 >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log"; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -o \
    "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 $settings" \
    start >/dev/null || { cat "$PG_DIR/server.log"; return 1; }
  export PREFCENTER_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throw-away cluster in $PG_DIR)"
}

stop_pg() {
  [ -n "${PG_DIR:-}" ] || return 0
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}

# --- building ---------------------------------------------------------------------------------

# The environment cargo-leptos gives cargo (leptos reads LEPTOS_OUTPUT_NAME when it compiles):
# `prebuild` compiles with the same, so `cargo leptos build` finds its work already done.
leptos_env() {
  env LEPTOS_OUTPUT_NAME=prefcenter LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=. LEPTOS_BIN_DIR=. \
    LEPTOS_JS_MINIFY=false LEPTOS_HASH_FILES=false "$@"
}

# Compiles the server and the browser bundle's crates (debug), as `cargo leptos build` will,
# while the tools install.
prebuild() {
  log "compiling the project while the tools install"
  leptos_env cargo build --package=prefcenter --bin=prefcenter --no-default-features --features=ssr
  leptos_env cargo build --package=prefcenter --lib --target=wasm32-unknown-unknown \
    --target-dir="${CARGO_TARGET_DIR:-$ROOT/target}/front" --no-default-features --features=hydrate
}
