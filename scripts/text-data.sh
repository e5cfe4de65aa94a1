#!/usr/bin/env bash
# Fetches the English training data for the text models from PyPI and prints where it
# lies: the human-rated VADER ground truth (tweets, Amazon, movie and NYT snippets) and
# the VADER lexicon, both inside the source distribution of vaderSentiment 3.3.2 (MIT).
# Nothing is committed; everything goes under ~/.cache/nunchi/text-data.
set -euo pipefail
dir="${NUNCHI_TEXT_DATA:-$HOME/.cache/nunchi/text-data}"
mkdir -p "$dir"
if [ ! -f "$dir/hutto_ICWSM_2014/tweets_GroundTruth.txt" ]; then
    tmp=$(mktemp -d)
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
        'vaderSentiment==3.3.2' -d "$tmp" >&2
    tar -xzf "$tmp"/vaderSentiment-3.3.2.tar.gz -C "$tmp"
    tar -xzf "$tmp"/vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz -C "$dir"
    cp "$tmp"/vaderSentiment-3.3.2/vaderSentiment/vader_lexicon.txt "$dir/"
    rm -rf "$tmp"
fi
echo "$dir/hutto_ICWSM_2014"
