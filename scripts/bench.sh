#!/usr/bin/env bash
# Foundation benchmarks, printed as figures (see BENCHMARKS.md for the latest results):
#   - CSV import of N customers (default 1,000,000) with 1% bad rows: rows/s and peak memory,
#   - customer search latency (p50/p90/p99) over those N customers,
# on SQLite, and on PostgreSQL too when its server binaries are installed.
#   scripts/bench.sh                 # N=1000000
#   N=100000 scripts/bench.sh        # quicker
#   scripts/bench.sh --build-times   # clean debug and release build times instead
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ "${1:-}" = "--build-times" ]; then
    scratch=$(mktemp -d /tmp/nunchi-build.XXXXXX)
    trap 'rm -rf "$scratch"' EXIT
    for profile in debug release; do
        flags=(--workspace --all-targets)
        [ "$profile" = release ] && flags=(--release -p nunchi)
        start=$(date +%s)
        CARGO_TARGET_DIR="$scratch/$profile" cargo build --quiet "${flags[@]}"
        echo "clean $profile build (cargo build ${flags[*]}): $(( $(date +%s) - start )) s"
    done
    exit 0
fi

n=${N:-1000000}
cargo build --quiet --release -p nunchi
bin="${CARGO_TARGET_DIR:-$root/target}/release/nunchi"
work=$(mktemp -d /tmp/nunchi-bench.XXXXXX)
pgdir=""
cleanup() { [ -n "$pgdir" ] && "$root/scripts/pg-cluster.sh" stop "$pgdir"; rm -rf "$work"; }
trap cleanup EXIT

echo "== generating $n demo customers as CSV, every 100th row broken"
"$bin" demo --customers "$n" --csv "$work/customers.csv" --bad-every 100
ls -l "$work/customers.csv" | awk '{printf "   %.0f MiB\n", $5/1048576}'

run() {
    local name=$1
    shift
    echo
    echo "== $name: import"
    env "$@" NUNCHI_DATA_DIR="$work/$name" "$bin" import customers "$work/customers.csv" --errors "$work/$name-errors.csv"
    echo "== $name: search"
    env "$@" NUNCHI_DATA_DIR="$work/$name" "$bin" bench --queries 5000
}

run sqlite NUNCHI_DATABASE_URL="sqlite:$work/sqlite/nunchi.db"
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    pgdir=$(mktemp -d /tmp/nunchi-pg.XXXXXX)
    # A durable server, unlike the test cluster: fsync stays on.
    url=$(PG_FSYNC=on "$root/scripts/pg-cluster.sh" start "$pgdir")
    psql -q "$url" -c "CREATE DATABASE nunchi_bench"
    run postgres NUNCHI_DATABASE_URL="${url%/postgres}/nunchi_bench"
fi
