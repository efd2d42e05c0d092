#!/usr/bin/env bash
# Runs one API test many times while both cores are kept busy, to shake out timing bugs (a lost
# wake-up showed up only this way). Usage:
#   bash scripts/stress-test.sh escalation::a_killed_worker_loses_nothing 300
# Failing runs' output (with the server's debug log) is kept in $TMPDIR/nightowl-stress/.
set -euo pipefail
cd "$(dirname "$0")/.."
test_name=${1:?test name, e.g. escalation::a_killed_worker_loses_nothing}
runs=${2:-200}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/nightowl-target}
export NIGHTOWL_TEST_DATABASE_URL=${NIGHTOWL_TEST_DATABASE_URL:-postgres://nightowl:nightowl@127.0.0.1:5432/nightowl_test}
export NIGHTOWL_TEST_LOG=${NIGHTOWL_TEST_LOG:-nightowl=debug}
bin=$(cargo test --locked -p nightowl-tests --test api --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "api":
        print(m["executable"])' | tail -1)
out=${TMPDIR:-/tmp}/nightowl-stress
mkdir -p "$out"
burners=()
for _ in 1 2; do yes > /dev/null & burners+=($!); done
trap 'kill "${burners[@]}" 2>/dev/null || true' EXIT
failed=0
cd tests
for i in $(seq 1 "$runs"); do
  if ! timeout 120 "$bin" "$test_name" --exact > "$out/run.log" 2>&1; then
    failed=$((failed + 1))
    cp "$out/run.log" "$out/failed-$i.log"
  fi
  printf '\r%d/%d runs, %d failed' "$i" "$runs" "$failed"
done
echo
[ "$failed" -eq 0 ]
