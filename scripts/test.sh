#!/usr/bin/env bash
# The whole test suite, as CI runs it: services up, lints, then every test against real PostgreSQL and
# Redis. Uses a fresh `nightowl_test` database each run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"

# Test-only peers: Python's icalendar parses the calendar feeds; a real Alertmanager sends webhooks.
if ! python3 -c 'import icalendar' 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check icalendar 2>/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-icalendar >/dev/null; }
fi
# schemathesis checks the OpenAPI document against the live API (tests/tests/api/schemathesis.rs).
export PATH="$HOME/.local/bin:$PATH"
# The flags the test passes are those of schemathesis 4.32.
if ! schemathesis --version 2>/dev/null | grep -q ' 4\.32\.'; then
  python3 -m pip --version >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null; }
  python3 -m pip install -q --disable-pip-version-check 'schemathesis==4.32.5' 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check --user --break-system-packages 'schemathesis==4.32.5'
fi
# A real Alertmanager sends webhooks in the pipeline tests.
if ! command -v prometheus-alertmanager >/dev/null && ! command -v alertmanager >/dev/null; then
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager >/dev/null
fi

export NIGHTOWL_TEST_DATABASE_URL=${NIGHTOWL_TEST_DATABASE_URL:-postgres://nightowl:nightowl@127.0.0.1:5432/nightowl_test}
db_name=${NIGHTOWL_TEST_DATABASE_URL##*/}
server=${NIGHTOWL_TEST_DATABASE_URL%/*}
psql "$server/postgres" -v ON_ERROR_STOP=1 -qc "drop database if exists $db_name with (force)"
psql "$server/postgres" -v ON_ERROR_STOP=1 -qc "create database $db_name"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "format"
cargo fmt --all -- --check
step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "plugins (wasm32-wasip2): lint, native unit tests, build into plugins/dist"
# Clippy twice: for wasm32 (the components) and natively with --all-targets (tests and data-case harness).
host_target=$(rustc -vV | sed -n 's/^host: //p')
(cd plugins && cargo fmt --all -- --check && cargo clippy --locked -- -D warnings \
  && cargo clippy --locked --all-targets --target "$host_target" -- -D warnings \
  && cargo test --locked --target "$host_target")
bash scripts/build-plugins.sh
step "web UI: the bundle (ui/dist), within its size budget"
bash scripts/build-ui.sh
step "tests"
# One test binary at a time (cargo test's default): the migration tests reshape tenant schemas that
# a concurrently running binary's `migrate` would otherwise walk through.
cargo test --workspace --locked
step "web UI in a real browser (Chromium, playwright-core)"
bash scripts/test-browser.sh
