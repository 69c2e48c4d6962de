#!/usr/bin/env bash
# Load benchmark of the release server: page GETs and RFC 8058 one-click POSTs with wrk.
#
#   benches/run.sh                       # from any directory
#
# What it does: builds the release binary, seeds a fresh SQLite database in a temporary
# folder with BENCH_CONTACTS contacts (one link token each), starts `prefcenter --demo` on
# 127.0.0.1 (a free port), then runs wrk (--latency) for each scenario:
#
#   healthz     GET /healthz               HTTP stack + one trivial read (baseline)
#   GET /u      GET /u/{token}             unsubscribe page, a different contact each request
#   GET /p      GET /p/{token}             subscription center, likewise
#   POST 1-click POST /u/{token}           List-Unsubscribe=One-Click, each request with a NEW
#                                          token: a real unsubscribe, 4 ledger records, durably
#                                          committed (synchronous=FULL) before the 200
#   bulk        the same one-click POSTs (other tokens) while the server writes bulk units of
#               BENCH_BULK state changes back to back through its writer (POST /_bench/bulk,
#               served only with --bench-endpoints): the one-click latency during an import
#   import      the same one-click POSTs (other tokens) while the server imports a long-layout
#               CSV of BENCH_IMPORT_ROWS rows (two topics per new contact, the source confirmed)
#               through POST /_bench/import (served only with --bench-endpoints): the console's
#               plan and bulk-priority batches; the import's time to its last batch and the
#               server's peak memory are reported with the one-click latency during it
#   decide      POST /api/v1/decide, a different seeded contact each request (an API key made
#               with `prefcenter api-key create`): the sending systems' question, with its reason
#   bulkdecide  POST /api/v1/decide/bulk of every seeded contact (up to 1,000,000) as
#               newline-delimited JSON, with curl: the time to the last answer and the server's
#               peak memory during it (not wrk: one request)
#   search      GET /admin/contacts?q=… as a signed-in staff user (made with `prefcenter user
#               create`, signed in with curl): the staff desk's search by the start of a name
#               (one word or two, accents folded), of an email address, or an address whole;
#               the seeded contacts have names (bench_name: 1,600 pairs)
#   export      one change record written per seeded contact (the bench bulk endpoint), then
#               GET /admin/changes.csv of all of them as a staff user (curl): the time to the
#               last byte and the server's peak memory during it
#   bulklinks   POST /api/v1/links/bulk of every seeded contact (up to 1,000,000): a million
#               messages' unsubscribe and center links and List-Unsubscribe headers minted in
#               one call, timed to the last answer (a curl, like bulkdecide)
#
# Before those, the same load runs against the ceiling server (benches/ceiling.rs): a bare axum
# server with prefcenter's SQLite settings on a copy of the seeded database, answering a static
# page of the /u page's size, a no-op GET and POST, and a group-committed write of the rows one
# one-click writes. Each prefcenter row reports its ratio to the matching ceiling: what this
# machine does at best for that kind of request, measured in the same run.
#
# then stops the server (SIGTERM), checks the ledger (record count against the unsubscribes,
# `prefcenter ledger verify`), prints a Markdown table and writes it to
# bench-results/latest.md (gitignored).
#
# Tokens: the one-click run splits the tokens between wrk threads and never reuses one (a repeat
# would be a no-op that writes nothing). The default seeds 200,000 contacts rather than 100,000
# so that even 10,000 unsubscribes/s for 20 s stay distinct; the page GETs walk all of them
# round-robin. If the server unsubscribes faster than BENCH_CONTACTS / BENCH_DURATION, the wrk
# threads run out and stop; wrk still divides by the full duration, so such a run is reported
# invalid (seed more, or shorten BENCH_DURATION). BENCH_CONTACTS=100000 gives the smaller data
# set the targets were first stated with.
#
# Environment (all optional):
#   BENCH_CONTACTS=300000    contacts (and link tokens) to seed; the POST scenario takes the
#                            first two thirds of the tokens, the bulk scenario the rest
#   BENCH_BULK=100000        state changes per bulk unit (the bulk scenario)
#   BENCH_IMPORT_ROWS=1000000  rows of the import scenario's file
#   BENCH_DURATION=20        seconds per scenario ("20" or "20s")
#   BENCH_CONNECTIONS=64     wrk connections
#   BENCH_THREADS=2          wrk threads
#   BENCH_SEARCH_CONNECTIONS=8   wrk connections of the search scenario (staff at once)
#   BENCH_NO_BUILD=1         skip `cargo build --release`
#   BENCH_BIN=path           use this binary instead of building (e.g. a patched build)
#   BENCH_CEILING_BIN=path   use this ceiling server binary instead of building it
#   BENCH_NO_CEILING=1       skip the ceiling server (no ratio column)
#   BENCH_TMPDIR=/tmp        where the temporary database folder goes (must not be tmpfs if
#                            the fsync cost is to be real)
#   BENCH_KEEP=1             keep the temporary folder (database, logs, wrk output)
#   BENCH_SCENARIOS="healthz u p post"   subset / order of the scenarios
#   BENCH_OUT=path           where the report goes (default bench-results/latest.md)
#   BENCH_BACKENDS="sqlite postgres"   also run on PostgreSQL (one and two instances, with
#                            its own write ceiling): "sqlite" alone skips it
#
# Exit status: 0 when the run is valid (no non-2xx, no socket errors, ledger checks pass),
# 1 otherwise. Missing the throughput targets does not fail the run; the table says so.

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
# start_pg / stop_pg / pg_bin (the throw-away PostgreSQL cluster); this script's own log and
# apt_install, defined below, replace the ones it brings.
# shellcheck source=../scripts/tools.sh
source "$ROOT/scripts/tools.sh"

CONTACTS="${BENCH_CONTACTS:-300000}"
BULK="${BENCH_BULK:-100000}"
DURATION="${BENCH_DURATION:-20}"
DURATION="${DURATION%s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
SCENARIOS="${BENCH_SCENARIOS:-healthz u p post bulk}"
BACKENDS="${BENCH_BACKENDS:-sqlite postgres}"
TARGET_RPS=5000 # bulk: one-click during bulk units
TARGET_P99_MS=50
# Ratio to the ceiling each prefcenter row must reach (issue 7), and the one-click's p99.
declare -A CEILING_OF=([healthz]=c_get [u]=c_page [p]=c_page [post]=c_write [bulk]=c_write [decide]=c_decide
    [pg1_u]=c_page [pg1_p]=c_page [pg2_u]=c_page [pg1_post]=c_write_pg [pg2_post]=c_write_pg)
declare -A TARGET_RATIO=([healthz]=0.8 [u]=0.3 [p]=0.3 [post]=0.6 [decide]=0.5)
POST_P99_MS=20 # one-click and single decisions
SEARCH_P99_MS=50 # issue 12: the staff desk's search over 1,000,000 contacts
SEARCH_CONNECTIONS="${BENCH_SEARCH_CONNECTIONS:-8}" # staff searching at the same moment
EXPORT_SECS=10 # issue 12: 1,000,000 change records as CSV
BULK_DECIDE_SECS=3 # issue 11: 1,000,000 recipients
BULK_DECIDE_MIB=300
BULK_LINKS_SECS=10 # issue 11: minting 1,000,000 links
IMPORT_ROWS="${BENCH_IMPORT_ROWS:-1000000}"
IMPORT_SECS=30 # issue 13: 1,000,000 long-layout rows
IMPORT_MIB=300
# PostgreSQL rows (issue 8): at least this share of SQLite's rate for the same scenario in the
# same run, and this p99.
declare -A PG_FLOOR_OF=([pg1_u]=u [pg1_p]=p [pg1_post]=post [pg2_u]=u [pg2_post]=post)
PG_FLOOR=0.5
PG_P99_MS=50
RECORDS_PER_UNSUBSCRIBE=4 # bench contacts: purpose "commercial" + its 3 topics, email only

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
    printf '[bench] ERROR: %s\n' "$*" >&2
    exit 1
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

for v in CONTACTS DURATION CONNECTIONS THREADS; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "BENCH_$v must be a positive integer (got '${!v}')"
done

# --- 1. tools ------------------------------------------------------------------------------

apt_install() {
    log "installing $* (apt-get)"
    local sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y "$@" >/dev/null ||
        { "${sudo[@]}" apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y "$@" >/dev/null; } ||
        die "could not install $*"
}
command -v wrk >/dev/null || apt_install wrk
command -v sqlite3 >/dev/null || apt_install sqlite3
command -v curl >/dev/null || apt_install curl
if [[ " $BACKENDS " == *" postgres "* && -z "$(pg_bin)" ]]; then apt_install postgresql; fi

# --- 2. build ------------------------------------------------------------------------------

BIN="${BENCH_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/prefcenter}"
if [[ -z "${BENCH_BIN:-}" && "${BENCH_NO_BUILD:-}" != 1 ]]; then
    log "building the release binary (cargo build --release --features ssr --bin prefcenter)"
    (cd "$ROOT" && cargo build --release --features ssr --bin prefcenter)
fi
[[ -x "$BIN" ]] || die "no binary at $BIN (build it, or set BENCH_BIN)"

CEIL_BIN="${BENCH_CEILING_BIN:-}"
if [[ -z "$CEIL_BIN" && "${BENCH_NO_CEILING:-}" != 1 ]]; then
    if [[ "${BENCH_NO_BUILD:-}" != 1 ]]; then
        log "building the ceiling server (cargo build --release --features ssr --bench ceiling)"
        CEIL_BIN="$(cd "$ROOT" && cargo build --release --features ssr --bench ceiling --message-format=json |
            grep '"name":"ceiling"' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1)"
    else
        CEIL_BIN="$(ls -t "${CARGO_TARGET_DIR:-$ROOT/target}"/release/deps/ceiling-* 2>/dev/null | grep -v '\.d$' | head -n1 || true)"
    fi
    [[ -x "$CEIL_BIN" ]] || die "no ceiling server binary (set BENCH_CEILING_BIN, or BENCH_NO_CEILING=1)"
fi

# --- 3. fresh database ---------------------------------------------------------------------

TMP_BASE="${BENCH_TMPDIR:-${TMPDIR:-/tmp}}"
WORK="$(mktemp -d "$TMP_BASE/prefcenter-bench.XXXXXX")"
SERVER_PID=""
CEIL_PID=""

cleanup() {
    local rc=$?
    [[ -z "$CEIL_PID" ]] || { kill -KILL "$CEIL_PID" 2>/dev/null; wait "$CEIL_PID" 2>/dev/null; } || true
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 300); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    stop_pg
    if [[ "${BENCH_KEEP:-}" == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

FS_TYPE="$(findmnt -n -o FSTYPE -T "$WORK" 2>/dev/null || stat -f -c %T "$WORK" 2>/dev/null || echo unknown)"
if [[ "$FS_TYPE" == tmpfs || "$FS_TYPE" == ramfs ]]; then
    log "WARNING: $WORK is on $FS_TYPE: fsync costs nothing there, POST numbers will flatter"
fi

DB="$WORK/bench.db"
TOKENS="$WORK/tokens.txt"
export PREFCENTER_DATABASE_URL="sqlite://$DB"
export PREFCENTER_DATA_DIR="$WORK/data"
export PREFCENTER_LOG="warn"
export LEPTOS_SITE_ROOT="$ROOT/target/site"
unset PREFCENTER_LISTEN PREFCENTER_BASE_URL

log "seeding $CONTACTS contacts into $DB"
t0="$(now)"
"$BIN" bench-seed --contacts "$CONTACTS" --tokens-out "$TOKENS" >"$WORK/seed.out" 2>&1 ||
    { cat "$WORK/seed.out" >&2; die "bench-seed failed"; }
SEED_SECS="$(elapsed "$t0" "$(now)")"
TOKEN_COUNT="$(grep -c . "$TOKENS")"
[[ "$TOKEN_COUNT" -eq "$CONTACTS" ]] || die "expected $CONTACTS tokens, got $TOKEN_COUNT"
if [[ " $SCENARIOS " == *" decide "* || " $SCENARIOS " == *" bulkdecide "* || " $SCENARIOS " == *" bulklinks "* ]]; then
    API_KEY="$("$BIN" api-key create bench --scope decide --scope links 2>"$WORK/api-key.err")" ||
        { cat "$WORK/api-key.err" >&2; die "prefcenter api-key create failed (this build has no API?)"; }
    sqlite3 "$DB" "SELECT address FROM contact_points WHERE address LIKE 'bench%' ORDER BY id;" >"$WORK/addresses.txt"
fi
DB_MIB="$(du -m "$DB" | cut -f1)"
log "seeded in ${SEED_SECS}s ($TOKEN_COUNT tokens, database ${DB_MIB} MiB)"

# --- 4. server -----------------------------------------------------------------------------

BENCH_FLAG=()
# Older builds (for side-by-side runs) know no bench endpoints; the bulk scenario needs them.
if "$BIN" --bench-endpoints --help >/dev/null 2>&1; then BENCH_FLAG=(--bench-endpoints); fi
# The API's per-key limit is lifted: the scenarios measure the server, not the limiter.
PREFCENTER_API_RATE_PER_SECOND=100000000 PREFCENTER_LISTEN="127.0.0.1:0" "$BIN" --demo "${BENCH_FLAG[@]}" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 600); do
    URL="$(sed -n 's/^prefcenter listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$WORK/server.out")"
    [[ -n "$URL" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null ||
        { cat "$WORK/server.out" "$WORK/server.err" >&2; die "the server exited during start-up"; }
    sleep 0.1
done
[[ -n "$URL" ]] || die "the server did not print its address within 60 s"
for _ in $(seq 1 100); do
    curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$URL/healthz" >/dev/null || die "$URL/healthz does not answer 200"
log "server pid $SERVER_PID at $URL"
LOADAVG_START="$(cut -d' ' -f1-3 /proc/loadavg)"

proc_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; } # kB
CLK_TCK="$(getconf CLK_TCK)"
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; } # utime + stime
# All CPUs' busy ticks (user nice system irq softirq steal): what else ran during a scenario.
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# Sanity: both pages render for a seeded contact (and how big they are).
FIRST_TOKEN="$(head -n1 "$TOKENS")"
for page in u p; do
    read -r code size < <(curl -sS -o /dev/null -w '%{http_code} %{size_download}\n' "$URL/$page/$FIRST_TOKEN")
    [[ "$code" == 200 ]] || die "GET /$page/{token} answered $code"
    printf -v "PAGE_BYTES_$page" '%s' "$size"
done
RSS_IDLE_KB="$(proc_field "$SERVER_PID" VmRSS)"

# --- 5./6. scenarios -----------------------------------------------------------------------

ledger_count() { sqlite3 -cmd '.timeout 10000' "$DB" 'SELECT count(*) FROM consent_ledger;'; }

declare -A R # R[scenario.key] = value
ROWS=()
CEIL_ROWS=()

# run_wrk NAME PATH SCRIPT [script args...]
# A staff user, signed in as a browser would (the form's token, then the POST): prints the
# session cookie as "name=value". Made once per run.
staff_session() {
    local jar="$WORK/cookies.txt" csrf code
    if [[ ! -s "$jar" ]]; then
        printf 'bench staff password 1\n' | "$BIN" user create bench-staff@example.com --role staff >/dev/null 2>"$WORK/user.err" ||
            { cat "$WORK/user.err" >&2; die "prefcenter user create failed"; }
        csrf="$(curl -sS -c "$jar" "$URL/admin/sign-in" | grep -o 'name="csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//')"
        code="$(curl -sS -o /dev/null -w '%{http_code}' -b "$jar" -c "$jar" -H "Origin: $URL" \
            --data-urlencode "csrf=$csrf" --data-urlencode "email=bench-staff@example.com" \
            --data-urlencode "password=bench staff password 1" "$URL/admin/sign-in")"
        [[ "$code" == 303 ]] || die "signing in as a staff user answered $code"
    fi
    awk '$6 == "prefcenter_session" { print $6 "=" $7 }' "$jar" | tail -n1
}

run_wrk() {
    local name="$1" path="$2" script="$3"
    shift 3
    local out="$WORK/wrk-$name.txt" tfile="$WORK/time-$name.txt"
    local ticks0 ticks1 busy0 busy1 t0 t1 wall
    local conns="${WRK_CONNECTIONS:-$CONNECTIONS}"
    log "wrk $name: $THREADS threads, $conns connections, ${DURATION}s, $CUR_URL$path"
    ticks0="$(cpu_ticks "$CUR_PID")"
    busy0="$(busy_ticks)"
    t0="$(now)"
    local TIMEFORMAT='%U %S'
    if ! { time wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" --timeout 10s --latency \
        -s "$BENCH_DIR/$script" "$CUR_URL$path" -- "$@" >"$out" 2>&1; } 2>"$tfile"; then
        cat "$out" >&2
        die "wrk failed for $name"
    fi
    t1="$(now)"
    ticks1="$(cpu_ticks "$CUR_PID")"
    busy1="$(busy_ticks)"
    local line
    line="$(grep '^BENCH_RESULT ' "$out" | tail -n1)" || { cat "$out" >&2; die "no result line from wrk ($name)"; }
    local kv
    for kv in ${line#BENCH_RESULT }; do
        R[$name.${kv%%=*}]="${kv#*=}"
    done
    wall="$(elapsed "$t0" "$t1")"
    read -r wu ws <"$tfile"
    R[$name.server_cpu]="$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v w="$wall" 'BEGIN { printf "%.0f", 100 * t / hz / w }')"
    R[$name.wrk_cpu]="$(awk -v u="$wu" -v s="$ws" -v w="$wall" 'BEGIN { printf "%.0f", 100 * (u + s) / w }')"
    # Everything else on the machine (other processes, kernel work not charged to either).
    R[$name.other_cpu]="$(awk -v b=$((busy1 - busy0)) -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v w="$wall" -v u="$wu" -v s="$ws" \
        'BEGIN { o = 100 * ((b - t) / hz - u - s) / w; printf "%.0f", (o < 0 ? 0 : o) }')"
    R[$name.hwm_mib]="$(awk -v k="$(proc_field "$CUR_PID" VmHWM)" 'BEGIN { printf "%.1f", k / 1024 }')"
    R[$name.sock_err]=$((${R[$name.connect_err]} + ${R[$name.read_err]} + ${R[$name.write_err]} + ${R[$name.timeout_err]}))
    if [[ "$name" == c_* ]]; then
        CEIL_ROWS+=("$name")
    elif [[ "$name" == pg* ]]; then
        PG_ROWS+=("$name")
    else
        ROWS+=("$name")
    fi
    log "  ${R[$name.rps]} req/s, p50 ${R[$name.p50_ms]} ms, p99 ${R[$name.p99_ms]} ms, non-2xx ${R[$name.non2xx]}, socket errors ${R[$name.sock_err]}, server CPU ${R[$name.server_cpu]}%, wrk CPU ${R[$name.wrk_cpu]}%, other CPU ${R[$name.other_cpu]}%"
}

declare -A LABEL=(
    [c_page]="ceiling: GET of a static page of ${PAGE_BYTES_u} B"
    [c_get]="ceiling: GET no-op"
    [c_post]="ceiling: POST no-op (one-click body)"
    [c_write]="ceiling: POST group-committed write of a one-click's rows"
    [c_decide]="ceiling: POST no-op taking a decision's request and giving a decision's answer (decide's own wrk script)"
    [healthz]="GET /healthz (baseline)"
    [u]="GET /u/{token} (unsubscribe page)"
    [p]="GET /p/{token} (subscription center)"
    [post]="POST /u/{token} one-click (new token each)"
    [decide]="POST /api/v1/decide (a different contact each)"
    [search]="GET /admin/contacts?q=… (staff desk search, a different query each; ${SEARCH_CONNECTIONS} connections)"
    [bulk]="POST one-click during bulk units of ${BULK} changes"
    [import]="POST one-click during an import of ${IMPORT_ROWS} rows"
    [c_write_pg]="ceiling: PostgreSQL, group-committed write of a one-click's rows"
    [pg1_u]="PostgreSQL, one instance: GET /u/{token}"
    [pg1_p]="PostgreSQL, one instance: GET /p/{token}"
    [pg1_post]="PostgreSQL, one instance: POST one-click"
    [pg2_u]="PostgreSQL, two instances: GET /u/{token}"
    [pg2_post]="PostgreSQL, two instances: POST one-click"
)
PG_ROWS=()

POST_LAST=$((CONTACTS * 2 / 3))
post_checks() {
    LEDGER_NEW=$(($(ledger_count) - LEDGER_BEFORE))
    OK_POSTS=$((${R[post.requests]} - ${R[post.non2xx]}))
    # Points unsubscribed by one-click, and any that did not get exactly 4 records.
    read -r UNSUB_POINTS ODD_POINTS < <(sqlite3 -cmd '.timeout 10000' -separator ' ' "$DB" \
        "SELECT count(*), coalesce(sum(n <> $RECORDS_PER_UNSUBSCRIBE), 0) FROM
           (SELECT contact_point_id, count(*) AS n FROM consent_ledger
            WHERE source = 'one_click' GROUP BY contact_point_id);")
}

# --- the ceiling server, first -------------------------------------------------------------

if [[ -n "$CEIL_BIN" ]]; then
    sqlite3 -cmd '.timeout 10000' "$DB" ".backup '$WORK/ceiling.db'"
    "$CEIL_BIN" --db "$WORK/ceiling.db" --page-bytes "$PAGE_BYTES_u" >"$WORK/ceiling.out" 2>"$WORK/ceiling.err" &
    CEIL_PID=$!
    CUR_URL=""
    for _ in $(seq 1 300); do
        CUR_URL="$(sed -n 's/^ceiling listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$WORK/ceiling.out")"
        [[ -n "$CUR_URL" ]] && break
        kill -0 "$CEIL_PID" 2>/dev/null || { cat "$WORK/ceiling.err" >&2; die "the ceiling server exited during start-up"; }
        sleep 0.1
    done
    [[ -n "$CUR_URL" ]] || die "the ceiling server did not print its address"
    CUR_PID="$CEIL_PID"
    for s in $SCENARIOS; do
        case "$s" in
        healthz) run_wrk c_get /noop plain.lua ;;
        u | p) [[ -n "${R[c_page.rps]:-}" ]] || run_wrk c_page /page plain.lua ;;
        decide)
            # The no-op POST for reference, and the ceiling decide is held to: the same
            # requests from the same script (a body formatted per request, the key), answered
            # with a decision's bytes, so that wrk's own work per request is the same in both.
            [[ -n "${R[c_post.rps]:-}" ]] || run_wrk c_post /noop plain.lua POST List-Unsubscribe=One-Click
            run_wrk c_decide "" decide.lua "$WORK/addresses.txt" "$THREADS" "$API_KEY"
            ;;
        post | bulk | import)
            [[ -n "${R[c_write.rps]:-}" ]] || {
                run_wrk c_post /noop plain.lua POST List-Unsubscribe=One-Click
                run_wrk c_write /write plain.lua POST List-Unsubscribe=One-Click
            }
            ;;
        esac
    done
    kill -KILL "$CEIL_PID" 2>/dev/null || true
    wait "$CEIL_PID" 2>/dev/null || true
    CEIL_PID=""
    rm -f "$WORK"/ceiling.db*
fi

CUR_URL="$URL"
CUR_PID="$SERVER_PID"
LEDGER_BEFORE=""
for s in $SCENARIOS; do
    case "$s" in
    healthz) run_wrk healthz /healthz plain.lua ;;
    u) run_wrk u "" page.lua "$TOKENS" "$THREADS" /u/ ;;
    p) run_wrk p "" page.lua "$TOKENS" "$THREADS" /p/ ;;
    post)
        LEDGER_BEFORE="$(ledger_count)"
        run_wrk post "" one_click.lua "$TOKENS" "$THREADS" 1 "$POST_LAST"
        post_checks
        ;;
    bulk)
        [[ ${#BENCH_FLAG[@]} -gt 0 ]] || die "this build has no bench endpoints: the bulk scenario needs them"
        BULK_BEFORE="$(ledger_count)"
        BULK_ONE_CLICK_BEFORE="$(sqlite3 -cmd '.timeout 10000' "$DB" "SELECT count(*) FROM consent_ledger WHERE source = 'one_click';")"
        : >"$WORK/bulk.jsonl"
        (
            end=$((SECONDS + DURATION))
            while [[ $SECONDS -lt $end ]]; do
                curl -sS -X POST "$URL/_bench/bulk?n=$BULK" >>"$WORK/bulk.jsonl" && echo >>"$WORK/bulk.jsonl"
            done
        ) &
        BULK_PID=$!
        sleep 0.5
        run_wrk bulk "" one_click.lua "$TOKENS" "$THREADS" $((POST_LAST + 1)) "$CONTACTS"
        wait "$BULK_PID" || true
        BULK_UNITS="$(grep -c '"records"' "$WORK/bulk.jsonl" || true)"
        BULK_RECORDS="$(sed -n 's/.*"records":\([0-9]*\).*/\1/p' "$WORK/bulk.jsonl" | awk '{ s += $1 } END { print s + 0 }')"
        BULK_MS="$(sed -n 's/.*"millis":\([0-9]*\).*/\1/p' "$WORK/bulk.jsonl" | awk '{ s += $1; n++ } END { if (n) printf "%.0f", s / n; else print 0 }')"
        BULK_NEW=$(($(ledger_count) - BULK_BEFORE))
        BULK_ONE_CLICK=$(($(sqlite3 -cmd '.timeout 10000' "$DB" "SELECT count(*) FROM consent_ledger WHERE source = 'one_click';") - BULK_ONE_CLICK_BEFORE))
        ;;
    import)
        [[ ${#BENCH_FLAG[@]} -gt 0 ]] || die "this build has no bench endpoints: the import scenario needs them"
        awk -v n="$IMPORT_ROWS" 'BEGIN {
            print "Consent ID,Email,Consent option,Consent value"
            for (i = 0; i < n; i++)
                printf "%d,import%d@example.org,%s,%s\n", i + 1, int(i / 2), (i % 2 ? "Product updates" : "Newsletter"), (i % 3 ? "True" : "False")
        }' >"$WORK/import.csv"
        IMPORT_RSS0_KB="$(proc_field "$SERVER_PID" VmRSS)"
        IMPORT_HWM0_KB="$(proc_field "$SERVER_PID" VmHWM)"
        log "import: $IMPORT_ROWS long-layout rows ($(du -m "$WORK/import.csv" | cut -f1) MiB) through POST /_bench/import"
        curl -sS -X POST "$URL/_bench/import?file=$WORK/import.csv&profile=contoso&confirmed=1" >"$WORK/import.json" &
        IMPORT_PID=$!
        sleep 1
        run_wrk import "" one_click.lua "$TOKENS" "$THREADS" $((POST_LAST + 1)) "$CONTACTS"
        wait "$IMPORT_PID" || problem_later="the import request failed"
        IMPORT_HWM_KB="$(proc_field "$SERVER_PID" VmHWM)"
        IMPORT_JSON="$(cat "$WORK/import.json")"
        IMPORT_SECS_TOOK="$(sed -n 's/.*"millis":\([0-9]*\).*/\1/p' "$WORK/import.json" | awk '{ printf "%.1f", $1 / 1000 }')"
        [[ -n "$IMPORT_SECS_TOOK" ]] || problem_later="the import answered $IMPORT_JSON"
        log "  $IMPORT_JSON; peak RSS $(awk -v k="$IMPORT_HWM_KB" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
        ;;
    decide) run_wrk decide "" decide.lua "$WORK/addresses.txt" "$THREADS" "$API_KEY" ;;
    search)
        # A desk's load, not a crowd's: a few staff searching at once (closed loop: with 64
        # connections the latency would be the queue's, not the search's).
        WRK_CONNECTIONS="$SEARCH_CONNECTIONS" run_wrk search "" search.lua "$(staff_session)" "$CONTACTS"
        ;;
    export)
        # A million change records (one per seeded contact, through the writer's bulk units),
        # then the whole export downloaded by a staff user, timed to its last byte.
        log "export: writing one change record per contact (POST /_bench/bulk?n=$CONTACTS)"
        curl -sS -X POST "$URL/_bench/bulk?n=$CONTACTS" >"$WORK/export-seed.json" ||
            die "bench bulk failed (was the server started with --bench-endpoints?)"
        cookie="$(staff_session)"
        hwm0="$(proc_field "$SERVER_PID" VmHWM)"
        t0="$(now)"
        code="$(curl -sS -o "$WORK/changes.csv" -w '%{http_code}' -H "Cookie: $cookie" "$URL/admin/changes.csv")"
        EXPORT_SECS_TOOK="$(elapsed "$t0" "$(now)")"
        EXPORT_HWM_KB="$(proc_field "$SERVER_PID" VmHWM)"
        EXPORT_HWM0_KB="$hwm0"
        EXPORT_ROWS=$(($(wc -l <"$WORK/changes.csv") - 1))
        EXPORT_MIB="$(du -m "$WORK/changes.csv" | cut -f1)"
        EXPORT_RECORDS="$(ledger_count)"
        [[ "$code" == 200 ]] || problem_later="the export answered $code"
        log "  $EXPORT_ROWS rows ($EXPORT_MIB MiB) of $EXPORT_RECORDS records in ${EXPORT_SECS_TOOK} s; peak RSS $(awk -v k="$EXPORT_HWM_KB" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
        ;;
    bulkdecide)
        sed 's/.*/{"email":"&"}/' "$WORK/addresses.txt" | head -n 1000000 >"$WORK/list.ndjson"
        BULK_DECIDE_N="$(wc -l <"$WORK/list.ndjson")"
        # VmHWM is the process's peak so far: the reading after says more than the idle one only
        # if this scenario raised it, which is what it measures.
        hwm0="$(proc_field "$SERVER_PID" VmHWM)"
        log "bulk decide: $BULK_DECIDE_N recipients (newline-delimited JSON, $(du -m "$WORK/list.ndjson" | cut -f1) MiB)"
        t0="$(now)"
        code="$(curl -sS -o "$WORK/bulk-decide.out" -w '%{http_code}' -X POST \
            "$URL/api/v1/decide/bulk?purpose=commercial&topic=newsletter&channel=email&profile=contoso" \
            -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/x-ndjson' \
            --data-binary @"$WORK/list.ndjson")"
        BULK_DECIDE_SECS_TOOK="$(elapsed "$t0" "$(now)")"
        BULK_DECIDE_HWM_KB="$(proc_field "$SERVER_PID" VmHWM)"
        BULK_DECIDE_HWM0_KB="$hwm0"
        BULK_DECIDE_OUT="$(wc -l <"$WORK/bulk-decide.out")"
        BULK_DECIDE_ERRORS="$(grep -c '"error"' "$WORK/bulk-decide.out" || true)"
        [[ "$code" == 200 ]] || problem_later="bulk decide answered $code"
        log "  $BULK_DECIDE_OUT answers in ${BULK_DECIDE_SECS_TOOK} s; peak RSS $(awk -v k="$BULK_DECIDE_HWM_KB" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
        ;;
    bulklinks)
        sed 's/.*/{"email":"&"}/' "$WORK/addresses.txt" | head -n 1000000 >"$WORK/links.ndjson"
        BULK_LINKS_N="$(wc -l <"$WORK/links.ndjson")"
        hwm0="$(proc_field "$SERVER_PID" VmHWM)"
        log "bulk links: $BULK_LINKS_N recipients"
        t0="$(now)"
        code="$(curl -sS -o "$WORK/bulk-links.out" -w '%{http_code}' -X POST \
            "$URL/api/v1/links/bulk?purpose=commercial&topic=newsletter&profile=contoso" \
            -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/x-ndjson' \
            --data-binary @"$WORK/links.ndjson")"
        BULK_LINKS_SECS_TOOK="$(elapsed "$t0" "$(now)")"
        BULK_LINKS_HWM_KB="$(proc_field "$SERVER_PID" VmHWM)"
        BULK_LINKS_HWM0_KB="$hwm0"
        BULK_LINKS_OUT="$(wc -l <"$WORK/bulk-links.out")"
        BULK_LINKS_ERRORS="$(grep -c '"error"' "$WORK/bulk-links.out" || true)"
        [[ "$code" == 200 ]] || problem_later="bulk links answered $code"
        # One minted link must open its page (a sample: the first answer's center URL).
        sample="$(head -n 1 "$WORK/bulk-links.out" | sed -n 's/.*"center_url":"\([^"]*\)".*/\1/p')"
        [[ -n "$sample" && "$(curl -s -o /dev/null -w '%{http_code}' "$sample")" == 200 ]] ||
            problem_later="a minted link does not open its page ($sample)"
        log "  $BULK_LINKS_OUT answers in ${BULK_LINKS_SECS_TOOK} s; peak RSS $(awk -v k="$BULK_LINKS_HWM_KB" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
        ;;
    *) die "unknown scenario '$s' (healthz, u, p, post, bulk, import, decide, search, export, bulkdecide, bulklinks)" ;;
    esac
done

# --- 5. peak memory, then stop the server --------------------------------------------------

PEAK_RSS_KB="$(proc_field "$SERVER_PID" VmHWM)"
log "stopping the server (SIGTERM)"
kill -TERM "$SERVER_PID"
STOP_OK=no
for _ in $(seq 1 400); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        STOP_OK=yes
        break
    fi
    sleep 0.1
done
SERVER_RC=0
if [[ "$STOP_OK" == yes ]]; then
    wait "$SERVER_PID" || SERVER_RC=$?
else
    log "the server did not stop within 40 s of SIGTERM; killing it"
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_RC=killed
fi
SERVER_PID=""

# --- 7. ledger checks ----------------------------------------------------------------------

VALID=yes
PROBLEMS=()
problem() {
    VALID=no
    PROBLEMS+=("$*")
    log "INVALID: $*"
}

for s in "${CEIL_ROWS[@]}" "${ROWS[@]}"; do
    [[ "${R[$s.non2xx]}" == 0 ]] || problem "$s: ${R[$s.non2xx]} non-2xx responses (first: ${R[$s.first_bad_status]})"
    [[ "${R[$s.sock_err]}" == 0 ]] || problem "$s: ${R[$s.sock_err]} socket errors (connect ${R[$s.connect_err]}, read ${R[$s.read_err]}, write ${R[$s.write_err]}, timeout ${R[$s.timeout_err]})"
done
[[ "$SERVER_RC" == 0 ]] || problem "the server exited with status $SERVER_RC after SIGTERM"
[[ -z "${problem_later:-}" ]] || problem "$problem_later"
if [[ -n "${BULK_DECIDE_N:-}" ]]; then
    [[ "$BULK_DECIDE_OUT" -eq "$BULK_DECIDE_N" ]] || problem "bulk decide: $BULK_DECIDE_OUT answers for $BULK_DECIDE_N recipients"
    [[ "$BULK_DECIDE_ERRORS" == 0 ]] || problem "bulk decide: $BULK_DECIDE_ERRORS error lines"
fi
if [[ -n "${BULK_LINKS_N:-}" ]]; then
    [[ "$BULK_LINKS_OUT" -eq "$BULK_LINKS_N" ]] || problem "bulk links: $BULK_LINKS_OUT answers for $BULK_LINKS_N recipients"
    [[ "$BULK_LINKS_ERRORS" == 0 ]] || problem "bulk links: $BULK_LINKS_ERRORS error lines"
fi
if [[ -n "${BULK_UNITS:-}" ]]; then
    [[ "$BULK_UNITS" -ge 1 ]] || problem "bulk: no bulk unit finished during the run"
    # A unit still running when the window closed adds records after BULK_NEW was read.
    [[ "$BULK_NEW" -ge $((BULK_RECORDS + BULK_ONE_CLICK)) ]] ||
        problem "bulk: the ledger grew by $BULK_NEW, less than $BULK_RECORDS bulk + $BULK_ONE_CLICK one-click records"
fi

LEDGER_TOTAL="$(ledger_count)"
LEDGER_NOTE="no POST run"
if [[ -n "$LEDGER_BEFORE" ]]; then
    # wrk counts answered requests; up to one request per connection was still in flight when
    # it stopped, and the server commits those too (the writer already had them).
    [[ "$UNSUB_POINTS" -ge "$OK_POSTS" && "$UNSUB_POINTS" -le $((OK_POSTS + CONNECTIONS)) ]] ||
        problem "one-click: $OK_POSTS answered 200 but $UNSUB_POINTS contact points were unsubscribed"
    [[ "$ODD_POINTS" == 0 ]] || problem "one-click: $ODD_POINTS contact points do not have exactly $RECORDS_PER_UNSUBSCRIBE records"
    [[ "$LEDGER_NEW" -eq $((UNSUB_POINTS * RECORDS_PER_UNSUBSCRIBE)) ]] ||
        problem "ledger grew by $LEDGER_NEW records during the POST run, expected $UNSUB_POINTS × $RECORDS_PER_UNSUBSCRIBE"
    [[ "${R[post.reused]}" == 0 ]] || problem "one-click: ${R[post.reused]} POSTs repeated a token (no-op)"
    [[ "${R[post.exhausted]}" == 0 ]] ||
        problem "one-click: the $CONTACTS tokens ran out before ${DURATION} s; wrk divides by the full duration, so the rate is undercounted (raise BENCH_CONTACTS)"
    LEDGER_NOTE="+$LEDGER_NEW during the POST run = $UNSUB_POINTS unsubscribes × $RECORDS_PER_UNSUBSCRIBE ($OK_POSTS answered 200 to wrk; the rest were in flight when wrk stopped)"
fi

log "prefcenter ledger verify"
t0="$(now)"
VERIFY_RC=0
"$BIN" ledger verify >"$WORK/verify.out" 2>"$WORK/verify.err" || VERIFY_RC=$?
VERIFY_SECS="$(elapsed "$t0" "$(now)")"
VERIFY_LINE="$(grep -m1 -E '^ledger ' "$WORK/verify.out" || head -n1 "$WORK/verify.out" "$WORK/verify.err" | tr '\n' ' ')"
[[ "$VERIFY_RC" == 0 ]] || problem "ledger verify exited $VERIFY_RC: $VERIFY_LINE"

# --- 7b. PostgreSQL: one and two instances, with its own ceiling ----------------------------
#
# A throw-away PostgreSQL cluster with the server's default durability (scripts/tools.sh
# start_pg durable), seeded like the SQLite file. The ceiling server writes a one-click's rows
# on a copy of it; then one instance, then two instances sharing the database (two wrk
# processes of half the connections each, one per instance; rates added, the worse p99), run
# the page GETs and the one-click. Floors (issue 8): at least half of SQLite's rate in this
# run, p99 < 50 ms.

if [[ " $BACKENDS " == *" postgres "* ]]; then
    PG_TMPDIR="$TMP_BASE" start_pg durable || die "could not start PostgreSQL"
    # Instances reach the database through its Unix socket, as an instance on the database's
    # own machine would (the SQLite rows pay for no network either); the README says so.
    PG_PORT="${PREFCENTER_TEST_POSTGRES##*:}"
    PG_PORT="${PG_PORT%%/*}"
    pg_db_url() { echo "postgres://postgres@localhost:$PG_PORT/$1?host=$PG_DIR"; }
    PG_ADMIN="$(pg_db_url postgres)"
    psql_q() { psql -X -q -t -A "$1" -c "$2"; }
    psql_q "$PG_ADMIN" "CREATE DATABASE bench"
    PG_URL="$(pg_db_url bench)"
    log "seeding $CONTACTS contacts into PostgreSQL"
    t0="$(now)"
    PREFCENTER_DATABASE_URL="$PG_URL" "$BIN" bench-seed --contacts "$CONTACTS" --tokens-out "$WORK/pg-tokens.txt" >"$WORK/pg-seed.out" 2>&1 ||
        { cat "$WORK/pg-seed.out" >&2; die "bench-seed on PostgreSQL failed"; }
    PG_SEED_SECS="$(elapsed "$t0" "$(now)")"
    PG_TOKENS="$WORK/pg-tokens.txt"
    pg_ledger_count() { psql_q "$PG_URL" "SELECT count(*) FROM consent_ledger"; }

    if [[ -n "$CEIL_BIN" ]]; then
        psql_q "$PG_ADMIN" "CREATE DATABASE ceiling TEMPLATE bench"
        "$CEIL_BIN" --database-url "$(pg_db_url ceiling)" --page-bytes "$PAGE_BYTES_u" >"$WORK/pg-ceiling.out" 2>"$WORK/pg-ceiling.err" &
        CEIL_PID=$!
        CUR_URL=""
        for _ in $(seq 1 300); do
            CUR_URL="$(sed -n 's/^ceiling listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$WORK/pg-ceiling.out")"
            [[ -n "$CUR_URL" ]] && break
            kill -0 "$CEIL_PID" 2>/dev/null || { cat "$WORK/pg-ceiling.err" >&2; die "the PostgreSQL ceiling server exited during start-up"; }
            sleep 0.1
        done
        CUR_PID="$CEIL_PID"
        run_wrk c_write_pg /write plain.lua POST List-Unsubscribe=One-Click
        kill -KILL "$CEIL_PID" 2>/dev/null || true
        wait "$CEIL_PID" 2>/dev/null || true
        CEIL_PID=""
        psql_q "$PG_ADMIN" "DROP DATABASE ceiling"
    fi

    # start_instance NAME: a prefcenter on PostgreSQL; sets PIDS[NAME] and URLS[NAME].
    declare -A PIDS URLS
    start_instance() {
        PREFCENTER_DATABASE_URL="$PG_URL" PREFCENTER_DATA_DIR="$WORK/data-$1" PREFCENTER_SECRET="bench-secret-shared-by-every-instance-0123" \
            PREFCENTER_LISTEN="127.0.0.1:0" "$BIN" --demo >"$WORK/$1.out" 2>"$WORK/$1.err" &
        PIDS[$1]=$!
        local u=""
        for _ in $(seq 1 600); do
            u="$(sed -n 's/^prefcenter listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$WORK/$1.out")"
            [[ -n "$u" ]] && break
            kill -0 "${PIDS[$1]}" 2>/dev/null || { cat "$WORK/$1.err" >&2; die "instance $1 exited during start-up"; }
            sleep 0.1
        done
        [[ -n "$u" ]] || die "instance $1 did not start"
        URLS[$1]="$u"
    }
    stop_instance() {
        kill -TERM "${PIDS[$1]}" 2>/dev/null || true
        wait "${PIDS[$1]}" 2>/dev/null || true
    }

    # run_wrk2 NAME SCRIPT ARGS_A... -- ARGS_B...: two wrk processes at once, one per instance,
    # half the connections each; the rates add up, the latency is the worse of the two.
    run_wrk2() {
        local name="$1" script="$2"
        shift 2
        local a=() b=() side=a
        for x in "$@"; do
            if [[ "$x" == "--" && "$side" == a ]]; then side=b; continue; fi
            if [[ "$side" == a ]]; then a+=("$x"); else b+=("$x"); fi
        done
        local half=$((CONNECTIONS / 2)) t=$(( THREADS > 1 ? THREADS / 2 : 1 ))
        log "wrk $name: two instances, $half connections each, ${DURATION}s"
        wrk -t"$t" -c"$half" -d"${DURATION}s" --timeout 10s --latency -s "$BENCH_DIR/$script" "${URLS[a]}" -- "${a[@]}" >"$WORK/wrk-$name-a.txt" 2>&1 &
        local wa=$!
        wrk -t"$t" -c"$half" -d"${DURATION}s" --timeout 10s --latency -s "$BENCH_DIR/$script" "${URLS[b]}" -- "${b[@]}" >"$WORK/wrk-$name-b.txt" 2>&1 &
        local wb=$!
        wait "$wa" || die "wrk failed for $name (a)"
        wait "$wb" || die "wrk failed for $name (b)"
        local side2 line kv
        for side2 in a b; do
            line="$(grep '^BENCH_RESULT ' "$WORK/wrk-$name-$side2.txt" | tail -n1)" || die "no result line from wrk ($name $side2)"
            for kv in ${line#BENCH_RESULT }; do
                R[$name.$side2.${kv%%=*}]="${kv#*=}"
            done
        done
        local k
        for k in rps requests non2xx connect_err read_err write_err timeout_err reused exhausted; do
            R[$name.$k]="$(awk -v x="${R[$name.a.$k]:-0}" -v y="${R[$name.b.$k]:-0}" 'BEGIN { print x + y }')"
        done
        for k in p50_ms p99_ms; do
            R[$name.$k]="$(awk -v x="${R[$name.a.$k]}" -v y="${R[$name.b.$k]}" 'BEGIN { print (x > y ? x : y) }')"
        done
        R[$name.first_bad_status]="${R[$name.a.first_bad_status]:-}${R[$name.b.first_bad_status]:-}"
        R[$name.sock_err]=$((${R[$name.connect_err]} + ${R[$name.read_err]} + ${R[$name.write_err]} + ${R[$name.timeout_err]}))
        R[$name.server_cpu]="—"; R[$name.wrk_cpu]="—"; R[$name.other_cpu]=0
        R[$name.hwm_mib]="$(awk -v k="$(proc_field "${PIDS[a]}" VmHWM)" 'BEGIN { printf "%.1f", k / 1024 }')"
        { echo "instance a:"; cat "$WORK/wrk-$name-a.txt"; echo "instance b:"; cat "$WORK/wrk-$name-b.txt"; } >"$WORK/wrk-$name.txt"
        PG_ROWS+=("$name")
        log "  ${R[$name.rps]} req/s, p50 ${R[$name.p50_ms]} ms, p99 ${R[$name.p99_ms]} ms, non-2xx ${R[$name.non2xx]}, socket errors ${R[$name.sock_err]}"
    }

    # Token ranges: one instance's one-click takes the first half, two instances the second
    # (a quarter each), so no token is used twice.
    HALF=$((CONTACTS / 2))
    PG_LEDGER_BEFORE="$(pg_ledger_count)"
    start_instance one
    CUR_URL="${URLS[one]}"
    CUR_PID="${PIDS[one]}"
    for s in $SCENARIOS; do
        case "$s" in
        u) run_wrk pg1_u "" page.lua "$PG_TOKENS" "$THREADS" /u/ ;;
        p) run_wrk pg1_p "" page.lua "$PG_TOKENS" "$THREADS" /p/ ;;
        post) run_wrk pg1_post "" one_click.lua "$PG_TOKENS" "$THREADS" 1 "$HALF" ;;
        esac
    done
    PG_PEAK_KB="$(proc_field "${PIDS[one]}" VmHWM)"
    stop_instance one
    start_instance a
    start_instance b
    HALF_T=$(( THREADS > 1 ? THREADS / 2 : 1 ))
    for s in $SCENARIOS; do
        case "$s" in
        u) run_wrk2 pg2_u page.lua "$PG_TOKENS" "$HALF_T" /u/ -- "$PG_TOKENS" "$HALF_T" /u/ ;;
        post) run_wrk2 pg2_post one_click.lua "$PG_TOKENS" "$HALF_T" $((HALF + 1)) $((HALF + HALF / 2)) -- \
            "$PG_TOKENS" "$HALF_T" $((HALF + HALF / 2 + 1)) "$CONTACTS" ;;
        esac
    done
    stop_instance a
    stop_instance b

    # Every one-click wrote its four records, once; the combined ledger verifies.
    PG_LEDGER_NEW=$(($(pg_ledger_count) - PG_LEDGER_BEFORE))
    read -r PG_UNSUB PG_ODD < <(psql_q "$PG_URL" "SELECT count(*), coalesce(sum((n <> $RECORDS_PER_UNSUBSCRIBE)::int), 0) FROM
        (SELECT contact_point_id, count(*) AS n FROM consent_ledger WHERE source = 'one_click' GROUP BY contact_point_id) x" | tr '|' ' ')
    [[ "$PG_ODD" == 0 ]] || problem "PostgreSQL one-click: $PG_ODD contact points do not have exactly $RECORDS_PER_UNSUBSCRIBE records"
    [[ "$PG_LEDGER_NEW" -eq $((PG_UNSUB * RECORDS_PER_UNSUBSCRIBE)) ]] ||
        problem "PostgreSQL: the ledger grew by $PG_LEDGER_NEW, expected $PG_UNSUB × $RECORDS_PER_UNSUBSCRIBE"
    for s in "${PG_ROWS[@]}"; do
        [[ "${R[$s.non2xx]}" == 0 ]] || problem "$s: ${R[$s.non2xx]} non-2xx responses"
        [[ "${R[$s.sock_err]}" == 0 ]] || problem "$s: ${R[$s.sock_err]} socket errors"
        [[ "${R[$s.reused]:-0}" == 0 ]] || problem "$s: ${R[$s.reused]} POSTs repeated a token"
        [[ "${R[$s.exhausted]:-0}" == 0 ]] || problem "$s: the tokens ran out before ${DURATION} s (raise BENCH_CONTACTS)"
    done
    PG_VERIFY_RC=0
    PREFCENTER_DATABASE_URL="$PG_URL" PREFCENTER_SECRET="bench-secret-shared-by-every-instance-0123" \
        "$BIN" ledger verify >"$WORK/pg-verify.out" 2>"$WORK/pg-verify.err" || PG_VERIFY_RC=$?
    PG_VERIFY_LINE="$(grep -m1 -E '^ledger ' "$WORK/pg-verify.out" || head -n1 "$WORK/pg-verify.err")"
    [[ "$PG_VERIFY_RC" == 0 ]] || problem "PostgreSQL ledger verify exited $PG_VERIFY_RC: $PG_VERIFY_LINE"
    stop_pg
fi

# --- 8. report -----------------------------------------------------------------------------

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ms() { awk -v v="$1" 'BEGIN { if (v < 10) printf "%.2f ms", v; else printf "%.1f ms", v }'; }
int() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
ratio() { # scenario [digits] → its rate ÷ its ceiling's (2 decimals unless told), or —
    local c="${CEILING_OF[$1]:-}"
    if [[ -n "$c" && -n "${R[$c.rps]:-}" ]]; then
        awk -v a="${R[$1.rps]}" -v b="${R[$c.rps]}" -v d="${2:-2}" 'BEGIN { printf "%.*f", d, a / b }'
    else
        echo "—"
    fi
}
target() { # scenario → what it must reach, and whether it did
    local s="$1" r
    # Compared unrounded: 0.4996 shows as 0.50 but does not reach 0.5.
    r="$(ratio "$s" 6)"
    case "$s" in
    c_*) echo "—" ;;
    pg*)
        local base="${PG_FLOOR_OF[$s]}"
        awk -v r="${R[$s.rps]}" -v b="${R[$base.rps]:-0}" -v p="${R[$s.p99_ms]}" -v f="$PG_FLOOR" -v tp="$PG_P99_MS" \
            'BEGIN {
                if (b == 0) { printf "no SQLite row"; exit }
                ok = (r / b >= f) && (p < tp)
                printf "≥%.1f× SQLite (%.2f), p99 <%d ms: %s", f, r / b, tp, (ok ? "met" : "**missed**")
            }'
        ;;
    search)
        awk -v p="${R[$s.p99_ms]}" -v tp="$SEARCH_P99_MS" \
            'BEGIN { printf "p99 <%d ms: %s", tp, ((p < tp) ? "met" : "**missed**") }'
        ;;
    bulk)
        awk -v r="${R[$s.rps]}" -v p="${R[$s.p99_ms]}" -v tr="$TARGET_RPS" -v tp="$TARGET_P99_MS" \
            'BEGIN { printf "≥%d/s, p99 <%d ms: %s", tr, tp, ((r >= tr && p < tp) ? "met" : "**missed**") }'
        ;;
    import)
        awk -v p="${R[$s.p99_ms]}" -v tp="$TARGET_P99_MS" \
            'BEGIN { printf "p99 <%d ms: %s", tp, ((p < tp) ? "met" : "**missed**") }'
        ;;
    *)
        awk -v r="$r" -v t="${TARGET_RATIO[$s]}" -v p="${R[$s.p99_ms]}" -v tp="$([[ "$s" == post || "$s" == decide ]] && echo "$POST_P99_MS" || echo 0)" \
            'BEGIN {
                ok = (r != "—" && r + 0 >= t + 0) && (tp == 0 || p < tp + 0)
                printf "≥%.1f×%s: %s", t, (tp ? sprintf(", p99 <%d ms", tp) : ""), (r == "—" ? "no ceiling" : (ok ? "met" : "**missed**"))
            }'
        ;;
    esac
}

REPORT="$WORK/report.md"
{
    echo "# prefcenter benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "Commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)'), $(nproc) CPU ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), database on $FS_TYPE, load average at start $LOADAVG_START." \
        "wrk $THREADS threads, $CONNECTIONS connections, ${DURATION} s per scenario, same machine (wrk and server share the CPUs)." \
        "$CONTACTS contacts seeded; server \`prefcenter --demo\` ($([[ -n "${BENCH_BIN:-}" ]] && echo "BENCH_BIN=$BIN" || echo "release build of this tree")), PREFCENTER_LOG=warn, SQLite WAL, synchronous=FULL."
    echo
    echo "| scenario | requests/s | ÷ ceiling | target | p50 | p99 | non-2xx | socket errors | requests | server CPU | wrk CPU | other CPU |"
    echo "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for s in "${CEIL_ROWS[@]}" "${ROWS[@]}" "${PG_ROWS[@]}"; do
        echo "| ${LABEL[$s]} | $(int "${R[$s.rps]}") | $(ratio "$s") | $(target "$s") | $(ms "${R[$s.p50_ms]}") | $(ms "${R[$s.p99_ms]}") | ${R[$s.non2xx]} | ${R[$s.sock_err]} | ${R[$s.requests]} | ${R[$s.server_cpu]}% | ${R[$s.wrk_cpu]}% | ${R[$s.other_cpu]}% |"
    done
    echo
    echo "CPU columns: share of one core over the scenario's wall time (this machine has $(nproc); 100% = one core busy)." \
        "\"other\" is everything else that ran meanwhile (other processes, unattributed kernel work); much of it means the numbers are disturbed." \
        "\"÷ ceiling\" is the rate relative to the ceiling server's for the same kind of request in the same run (/healthz to the no-op GET, the pages to the static page, one-click to the group-committed write): on a shared VM whose speed drifts (±20% between runs here) the ratio is what compares across runs."
    for s in "${CEIL_ROWS[@]}" "${ROWS[@]}"; do
        if [[ "${R[$s.other_cpu]}" -gt 25 ]]; then
            echo
            echo "**Warning:** other processes used up to ${R[$s.other_cpu]}% CPU during the runs; rerun on a quiet machine for comparable numbers."
            break
        fi
    done
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| peak RSS (VmHWM) | $(mib "$PEAK_RSS_KB") MiB (idle after start: $(mib "$RSS_IDLE_KB") MiB; after each scenario: $(for s in "${ROWS[@]}"; do printf '%s %s, ' "$s" "${R[$s.hwm_mib]}"; done | sed 's/, $//') MiB) |"
    echo "| seed time | ${SEED_SECS} s for $CONTACTS contacts (database ${DB_MIB} MiB) |"
    echo "| page sizes | /u ${PAGE_BYTES_u} B, /p ${PAGE_BYTES_p} B |"
    if [[ -n "$LEDGER_BEFORE" ]]; then
        post_secs="$(awk -v d="${R[post.duration_us]}" 'BEGIN { printf "%.1f", d / 1e6 }')"
        echo "| one-click run | ${R[post.distinct]} distinct tokens sent, ${R[post.requests]} answered in ${post_secs} s$([[ "${R[post.exhausted]}" == 0 ]] || echo " — **tokens ran out**, threads stopped early: rate undercounted"); ${R[post.reused]} repeats |"
    fi
    echo "| ledger records | $LEDGER_TOTAL total; $LEDGER_NOTE |"
    if [[ -n "${BULK_UNITS:-}" ]]; then
        echo "| bulk scenario | $BULK_UNITS bulk units of $BULK state changes committed during the run ($BULK_RECORDS records, ${BULK_MS} ms each on average, in pieces of 250 at bulk priority) while one-click wrote $BULK_ONE_CLICK records; the ledger grew by $BULK_NEW |"
    fi
    if [[ -n "${IMPORT_JSON:-}" ]]; then
        echo "| import | $IMPORT_ROWS long-layout rows imported in ${IMPORT_SECS_TOOK:-?} s while one-click ran (above): \`$IMPORT_JSON\`; server peak RSS $(mib "$IMPORT_HWM_KB") MiB (RSS before: $(mib "$IMPORT_RSS0_KB") MiB, peak before: $(mib "$IMPORT_HWM0_KB") MiB); target <${IMPORT_SECS} s and <${IMPORT_MIB} MB: $(awk -v t="${IMPORT_SECS_TOOK:-999}" -v m="$IMPORT_HWM_KB" -v ts="$IMPORT_SECS" -v tm="$IMPORT_MIB" 'BEGIN { print ((t < ts && m * 1024 < tm * 1000000) ? "met" : "**missed**") }') |"
    fi
    if [[ -n "${BULK_DECIDE_N:-}" ]]; then
        echo "| bulk decide | $BULK_DECIDE_N recipients against $CONTACTS contacts answered in ${BULK_DECIDE_SECS_TOOK} s ($BULK_DECIDE_OUT lines, $BULK_DECIDE_ERRORS errors); server peak RSS $(mib "$BULK_DECIDE_HWM_KB") MiB (before: $(mib "$BULK_DECIDE_HWM0_KB") MiB); target <${BULK_DECIDE_SECS} s and <${BULK_DECIDE_MIB} MB: $(awk -v t="$BULK_DECIDE_SECS_TOOK" -v m="$BULK_DECIDE_HWM_KB" -v ts="$BULK_DECIDE_SECS" -v tm="$BULK_DECIDE_MIB" 'BEGIN { print ((t < ts && m * 1024 < tm * 1000000) ? "met" : "**missed**") }') |"
    fi
    if [[ -n "${EXPORT_ROWS:-}" ]]; then
        echo "| change records export | $EXPORT_ROWS rows ($EXPORT_MIB MiB of CSV; the ledger holds $EXPORT_RECORDS records) downloaded in ${EXPORT_SECS_TOOK} s; server peak RSS $(mib "$EXPORT_HWM_KB") MiB (before: $(mib "$EXPORT_HWM0_KB") MiB); target <${EXPORT_SECS} s: $(awk -v t="$EXPORT_SECS_TOOK" -v ts="$EXPORT_SECS" 'BEGIN { print (t < ts ? "met" : "**missed**") }') |"
    fi
    if [[ -n "${BULK_LINKS_N:-}" ]]; then
        echo "| bulk links | $BULK_LINKS_N recipients' links (unsubscribe, center, List-Unsubscribe headers) minted in ${BULK_LINKS_SECS_TOOK} s ($BULK_LINKS_OUT lines, $BULK_LINKS_ERRORS errors, no row written); server peak RSS $(mib "$BULK_LINKS_HWM_KB") MiB (before: $(mib "$BULK_LINKS_HWM0_KB") MiB); target <${BULK_LINKS_SECS} s: $(awk -v t="$BULK_LINKS_SECS_TOOK" -v ts="$BULK_LINKS_SECS" 'BEGIN { print (t < ts ? "met" : "**missed**") }') |"
    fi
    echo "| ledger verify | exit $VERIFY_RC in ${VERIFY_SECS} s: $VERIFY_LINE |"
    if [[ ${#PG_ROWS[@]} -gt 0 ]]; then
        echo "| PostgreSQL | $(psql --version | awk '{ print $3 }'), default durability (fsync, synchronous_commit on), database on $FS_TYPE; seeded in ${PG_SEED_SECS} s; peak RSS of one instance $(mib "$PG_PEAK_KB") MiB; ledger +$PG_LEDGER_NEW = $PG_UNSUB unsubscribes × $RECORDS_PER_UNSUBSCRIBE; ledger verify (both instances' records): exit $PG_VERIFY_RC: $PG_VERIFY_LINE |"
    fi
    echo "| server stop | SIGTERM → exit $SERVER_RC |"
    echo "| valid | $VALID$( ((${#PROBLEMS[@]})) && printf ' — %s' "${PROBLEMS[@]}") |"
    echo
    echo "<details><summary>wrk output</summary>"
    echo
    for s in "${CEIL_ROWS[@]}" "${ROWS[@]}" "${PG_ROWS[@]}"; do
        echo "#### ${LABEL[$s]}"
        echo
        echo '```'
        grep -v '^BENCH_RESULT ' "$WORK/wrk-$s.txt"
        echo '```'
        echo
    done
    echo "</details>"
} >"$REPORT"

OUT="${BENCH_OUT:-$ROOT/bench-results/latest.md}"
mkdir -p "$(dirname "$OUT")"
cp "$REPORT" "$OUT"
echo
sed '/^<details>/,$d' "$REPORT"
echo "(full report with wrk output: $OUT)"

[[ "$VALID" == yes ]] || exit 1
