# Installs what building and testing need, each only when missing, so a second run is fast.
# Sourced by scripts/run.sh and scripts/test.sh. Everything comes from the package registries
# (crates.io, Debian, npm); nothing downloads a prebuilt binary.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_build_tools() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.4'; then
    log "installing cargo-leptos 0.3.4 (a debug build: about 6 minutes on 2 cores, once)"
    cargo install --debug --locked cargo-leptos@0.3.4
  fi
  # cargo-leptos would download wasm-bindgen unless the exact version is on PATH.
  local want
  want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then
    log "installing wasm-bindgen-cli $want"
    cargo install --debug wasm-bindgen-cli --version "$want"
  fi
  # wasm-opt, used by release builds; from Debian's binaryen.
  if ! command -v wasm-opt >/dev/null 2>&1; then
    apt_install binaryen
  fi
}

ensure_test_tools() {
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
  fi
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] || [ ! -d "$ROOT/end2end/node_modules/@axe-core/playwright" ] \
     || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    log "installing the end2end npm packages"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
  fi
}
