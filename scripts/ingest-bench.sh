#!/usr/bin/env bash
# Ingest benchmark: a release `nunchi serve` on a free loopback port (SQLite, WAL,
# synchronous=FULL: every acknowledged group of events is fsynced), driven by wrk with
# Segment-shaped requests — /v1/batch with 500 events each, then single /v1/track calls.
# Every event carries a unique messageId, so each one is stored. Prints events/s for
# both and checks the stored count. Usage: scripts/ingest-bench.sh [seconds] [connections]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-10}"
conns="${2:-32}"
command -v wrk >/dev/null || { sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"; $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
cargo build --release -p nunchi --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/release/nunchi"
work=$(mktemp -d /tmp/nunchi-ingest.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# No rate limit: the benchmark is the flood.
export NUNCHI_DATA_DIR="$work" NUNCHI_LOG=warn NUNCHI_RATE_LIMIT_TRACKING=0
"$bin" user create --email bench@example.com --name Bench --role admin --password 'correct horse battery staple' >/dev/null
token=$("$bin" token --email bench@example.com --name bench --scopes admin | tail -1)
"$bin" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
key=$(curl -sf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"name": "bench"}' "http://127.0.0.1:$port/api/v1/sources" | python3 -c 'import json,sys; print(json.load(sys.stdin)["write_key"])')
export WRITE_KEY=$(printf '%s:' "$key" | base64 -w0)
count() { sqlite3 "$work/nunchi.db" 'SELECT COUNT(*) FROM events' 2>/dev/null || echo "?"; }

echo "== /v1/batch, 500 events per request, $conns connections, ${secs}s"
BATCH=500 wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$root/scripts/wrk/segment_batch.lua" "http://127.0.0.1:$port" | tee "$work/batch.txt"
batch_rps=$(awk '/Requests\/sec/ {print $2}' "$work/batch.txt")
echo "stored events: $(count)"
echo "== /v1/track, one event per request, $conns connections, ${secs}s"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$root/scripts/wrk/segment_track.lua" "http://127.0.0.1:$port" | tee "$work/track.txt"
track_rps=$(awk '/Requests\/sec/ {print $2}' "$work/track.txt")
echo "stored events: $(count)"
python3 - "$batch_rps" "$track_rps" <<'PY'
import sys
b, t = float(sys.argv[1]), float(sys.argv[2])
print(f"\nbatch API: {b * 500:,.0f} events/s durable ({b:,.0f} requests/s of 500)")
print(f"single track: {t:,.0f} events/s durable")
PY
