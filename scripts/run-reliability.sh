#!/usr/bin/env bash
# The reliability suite (test/reliability/, see RELIABILITY.md): faults, bad input and load, against
# the private test engine plus engines of its own (/tmp/rm-rel-*) that some tests stop and start.
#
#   scripts/run-reliability.sh               build, engine up, every test; the load test runs 60 s
#   scripts/run-reliability.sh --long        the same with the 10-minute load test (REPAIRMAN_LOAD_SEC=600)
#   scripts/run-reliability.sh --no-build    skip the type-check and build (dist/ is current)
#   scripts/run-reliability.sh test/reliability/sigkill.test.ts ...   only these files
#
# The figures each test reports (timings, counts, RSS curves) are printed as TAP comments and
# collected, one JSON line per figure, in $REPAIRMAN_RELIABILITY_REPORT (default: a new file under
# /tmp, named at the end). Knobs: REPAIRMAN_LOAD_SEC, REPAIRMAN_LOAD_CONTAINERS, REPAIRMAN_LOAD_NODE_FLAGS
# (flags for Repairman's node in the load test), REPAIRMAN_FUZZ_RUNS,
# REPAIRMAN_HTTP_FUZZ_REQUESTS, REPAIRMAN_NOTIFY_OUTAGE_SEC, REPAIRMAN_SIGKILL_ROUNDS,
# REPAIRMAN_SIGTERM_ROUNDS, REPAIRMAN_REL_ENGINE_PREFIX (default /tmp/rm-rel-: where the tests' own
# engines live; another prefix lets two runs share a machine), TEST_CONCURRENCY (files side by side,
# default 3; the scale test runs alone after them: every Repairman beside it would see its 3,000
# containers on the shared engine, which distorts their memory figures; the load test runs alone,
# last, so its CPU use does not disturb the others' timing).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/node24.sh
. scripts/node24.sh
echo "== node $(node -v) ($(command -v node))"

build=1
files=()
for arg in "$@"; do
  case "$arg" in
    --long) export REPAIRMAN_LOAD_SEC="${REPAIRMAN_LOAD_SEC:-600}" ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "unknown option $arg (see --help)" >&2; exit 64 ;;
    *) files+=("$arg") ;;
  esac
done

if [ "$build" = 1 ]; then
  echo "== type-check and build"
  # Not `rm -rf dist` (the test command does that): other work may be using dist/ right now.
  npx tsc -p tsconfig.json
fi

# test/reliability/x.test.ts -> dist/test/reliability/x.test.js (only files that still have a source).
to_dist() { local f="${1#./}"; f="${f%.ts}"; f="${f%.js}"; f="${f#dist/}"; echo "dist/${f}.js"; }
if [ ${#files[@]} -eq 0 ]; then
  while IFS= read -r f; do files+=("$f"); done < <(find test/reliability -maxdepth 1 -name '*.test.ts' | sort)
fi
main=()
scale=()
load=()
for f in "${files[@]}"; do
  d=$(to_dist "$f")
  [ -f "$d" ] || { echo "no built test for $f ($d): build first" >&2; exit 1; }
  case "$d" in */load.test.js) load+=("$d") ;; */scale.test.js) scale+=("$d") ;; *) main+=("$d") ;; esac
done

echo "== private engine"
bash scripts/test-engine.sh up
eval "$(bash scripts/test-engine.sh env)"
export REPAIRMAN_TEST_DOCKER_HOST="$DOCKER_HOST"
unset DOCKER_HOST

export REPAIRMAN_RELIABILITY_REPORT="${REPAIRMAN_RELIABILITY_REPORT:-$(mktemp /tmp/repairman-reliability-XXXXXX.jsonl)}"
status=0
started=$(date +%s)
if [ ${#main[@]} -gt 0 ]; then
  echo "== reliability tests (${#main[@]} files)"
  node --test --test-concurrency="${TEST_CONCURRENCY:-3}" --test-timeout=900000 --test-reporter=spec "${main[@]}" || status=$?
fi
if [ ${#scale[@]} -gt 0 ]; then
  echo "== scale test (alone)"
  node --test --test-timeout=900000 --test-reporter=spec "${scale[@]}" || status=$?
fi
if [ ${#load[@]} -gt 0 ]; then
  echo "== load test (${REPAIRMAN_LOAD_SEC:-60} s, alone)"
  node --test --test-timeout=$(( (${REPAIRMAN_LOAD_SEC:-60} + 600) * 1000 )) --test-reporter=spec "${load[@]}" || status=$?
fi
echo "== done in $(( $(date +%s) - started )) s (exit $status); figures in $REPAIRMAN_RELIABILITY_REPORT"
exit "$status"
