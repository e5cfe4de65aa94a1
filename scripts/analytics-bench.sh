#!/usr/bin/env bash
# The analytics engine benchmark: generates the deterministic 1M-customer, ~10M-event log
# and runs the funnel, transitions and retention queries on nunchi's engine, chDB and
# DuckDB (installed from PyPI) over the same file, printing medians and ratios; a
# behavioural segment's membership on the same three; then weekly
# NPS by channel over 1M generated survey answers on the same three.
# Usage: scripts/analytics-bench.sh [customers] [runs]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
customers="${1:-1000000}"
runs="${2:-5}"
work=$(mktemp -d /tmp/nunchi-analytics-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 -c 'import chdb, duckdb' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check 'chdb>=3' 'duckdb>=1.1'
cargo build --release -p nunchi --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/release/nunchi"
"$bin" analyze generate --customers "$customers" --out "$work/events.csv"
python3 "$root/scripts/analytics_bench.py" "$bin" "$work/events.csv" "$runs"
# Segments: a behavioural segment's members, the same three engines.
python3 "$root/scripts/segment_bench.py" "$bin" "$work/events.csv" "$runs"
# Voice of the Customer: weekly NPS by channel over 1M answers, the same three engines.
python3 "$root/scripts/scores_bench.py" "$bin" "$work/answers.csv" "$runs"
