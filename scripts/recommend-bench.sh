#!/usr/bin/env bash
# Recommendation quality and speed, side by side with the peers, in one run:
#   1. MovieLens ml-100k (extracted from the recbole wheel on PyPI; not committed) under
#      RecBole's protocol: NDCG@10, Recall@10, HR@10 of `nunchi recommend` and of the
#      popularity baseline, over three random splits, and the time to fit;
#   2. item-to-item top 10 for every item of 5M purchases (1M customers, 200k items):
#      nunchi's fit beside DuckDB and chDB counting the same co-purchases, and the
#      latency of single recommendations.
# Usage: scripts/recommend-bench.sh [--quick]   (--quick: 1/10 of the purchases)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d /tmp/nunchi-recommend.XXXXXX)
trap 'rm -rf "$work"' EXIT
scale=1
[ "${1:-}" = "--quick" ] && scale=10

python3 -c 'import duckdb, chdb, numpy' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check 'duckdb>=1.1' 'chdb>=3' numpy
cargo build --release -p nunchi --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/release/nunchi"

echo "== MovieLens ml-100k, RecBole's protocol"
python3 -m pip download --quiet --disable-pip-version-check --no-deps 'recbole==1.2.1' -d "$work" >/dev/null
python3 -m zipfile -e "$work"/recbole-1.2.1-py3-none-any.whl "$work/recbole"
python3 "$root/scripts/recommend_movielens.py" \
    "$work/recbole/recbole/dataset_example/ml-100k/ml-100k.inter" "$bin" 1 2 3
echo "== the same with EASE"
python3 "$root/scripts/recommend_movielens.py" \
    "$work/recbole/recbole/dataset_example/ml-100k/ml-100k.inter" "$bin" 1 2 3 -- --model ease

echo "== item-to-item, $((5000000 / scale)) purchases"
python3 "$root/scripts/recommend_bench.py" generate "$work/purchases.csv" \
    $((1000000 / scale)) $((5000000 / scale)) $((200000 / scale))
"$bin" recommend --interactions "$work/purchases.csv" --similar --top 10 >/dev/null
"$bin" recommend --interactions "$work/purchases.csv" --top 10 --exclude-seen --time-queries 100000
python3 "$root/scripts/recommend_bench.py" peers "$work/purchases.csv"
