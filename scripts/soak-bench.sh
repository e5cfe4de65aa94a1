#!/usr/bin/env bash
# Memory soak: a release `nunchi serve` (SQLite) takes Segment batches from wrk in rounds
# (500 events a request, every messageId unique, 50,000 returning anonymous visitors and
# a pool of signed-in users), and after each round the script prints the events stored,
# the server's resident memory (all of it, and the anonymous part: heap, not file pages)
# and the growth per event since the first round. Then it restarts the server on the same
# data and prints its memory once loaded. A server that holds nothing it should not has
# a flat heap apart from the engine's 8 bytes and the dedup window's entry per event.
# Usage: scripts/soak-bench.sh [rounds] [seconds per round] [connections]
# (NUNCHI_BIN=path/to/nunchi runs that binary instead of building this checkout)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-10}"
secs="${2:-30}"
conns="${3:-8}"
command -v wrk >/dev/null || { sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"; $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
# NUNCHI_BIN runs another build (an older one, to compare) instead of this checkout's.
if [ -z "${NUNCHI_BIN:-}" ]; then
    cargo build --release -p nunchi --quiet
fi
bin="${NUNCHI_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/nunchi}"
work=$(mktemp -d /tmp/nunchi-soak.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# No rate limit: the benchmark is the flood.
export NUNCHI_DATA_DIR="$work" NUNCHI_LOG=warn NUNCHI_RATE_LIMIT_TRACKING=0
"$bin" user create --email bench@example.com --name Bench --role admin --password 'correct horse battery staple' >/dev/null
token=$("$bin" token --email bench@example.com --name bench --scopes admin | tail -1)
pid=""
# Started with the engine's log line on, to know when it holds every stored event.
start() {
    local loaded
    loaded=$(grep -c "analytics engine loaded" "$work/serve.log" 2>/dev/null || true)
    NUNCHI_LOG="warn,nunchi_server::events=info" "$bin" serve --listen "127.0.0.1:$port" >>"$work/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 3000); do
        [ "$(grep -c "analytics engine loaded" "$work/serve.log" 2>/dev/null || true)" -gt "${loaded:-0}" ] && break
        sleep 0.1
    done
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
trap 'stop; rm -rf "$work"' EXIT
# Resident memory in KiB: total and anonymous (heap and stacks; file pages excluded).
mem() { awk '/^VmRSS/ {t=$2} /^RssAnon/ {a=$2} END {print t, a}' "/proc/$pid/status"; }
count() { sqlite3 "$work/nunchi.db" 'SELECT COUNT(*) FROM events'; }

start
key=$(curl -sf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"name": "soak"}' "http://127.0.0.1:$port/api/v1/sources" | python3 -c 'import json,sys; print(json.load(sys.stdin)["write_key"])')
export WRITE_KEY=$(printf '%s:' "$key" | base64 -w0)
printf '%6s %12s %10s %10s %14s\n' round events "RSS MiB" "anon MiB" "anon B/event"
read -r _ anon0 < <(mem)
events0=$(count)
for r in $(seq "$rounds"); do
    BATCH=500 wrk -t1 -c"$conns" -d"${secs}s" -s "$root/scripts/wrk/segment_batch.lua" "http://127.0.0.1:$port" >/dev/null
    sleep 2
    read -r rss anon < <(mem)
    n=$(count)
    python3 -c "import sys; r,n,rss,anon,a0,n0=map(int,sys.argv[1:]); print(f'{r:6d} {n:12,d} {rss/1024:10.1f} {anon/1024:10.1f} {(anon-a0)*1024/max(n-n0,1):14.1f}')" \
        "$r" "$n" "$rss" "$anon" "$anon0" "$events0"
done
stop
start
read -r rss anon < <(mem)
echo "after a restart on the same $(count) events: RSS $((rss / 1024)) MiB, anonymous $((anon / 1024)) MiB"
