#!/usr/bin/env bash
# Repairman's benchmarks (issue 9), measured on the private test engine with the built binary.
#
#   bash bench/run.sh                 build, engine up, reaction + burst + footprint + growth (~10 min),
#                                     then print the markdown tables (npm run bench)
#   bash bench/run.sh reaction        one benchmark: reaction | burst | footprint | growth | fleet
#                                     (fleet = footprint and growth on the same containers)
#   bash bench/run.sh reaction-engines  reaction on the private dockerd, then on the private Podman
#                                     (scripts/test-podman.sh; REPAIRMAN_PODMAN_DIR), one run, both tables
#   bash bench/run.sh soak            footprint with a 10-minute window (RSS after 10 minutes; ~13 min)
#   bash bench/run.sh report          print the tables of the last results (bench/results/*.json)
#   bash bench/run.sh record          write those tables into BENCHMARKS.md (between its bench markers)
#   bash bench/run.sh clean           remove benchmark containers left by an interrupted run
#   bash bench/run.sh selftest        unit tests of the statistics and event pairing
#   bash bench/run.sh client-rss      the Docker client's own footprint (bench/client-rss.ts, printed only)
#   bash bench/run.sh scale           the scale curve: 10 / 1,000 / 5,000 / 10,000 containers created on the
#                                     private engine (bench/scale.ts; ~25 min on a loaded 2-CPU machine)
#
# Options after the benchmark's name go to it, e.g. `bash bench/run.sh reaction --trials 200`
# (`bash bench/run.sh help` lists them). Benchmarks are not tests: nothing here passes or fails on a
# timing; BENCHMARKS.md states each target as met or not.
#
# On a machine shared with other test runs, `REPAIRMAN_ENGINE_DIR=/tmp/rm-bench bash bench/run.sh` uses
# an engine of its own (started and stopped here): no foreign events reach Repairman, no foreign
# container is listed. It still shares the CPU: note the load (every result records it).
#
# The build goes to its own directory (REPAIRMAN_BENCH_BUILD, default node_modules/.cache/repairman-bench)
# so that a test run's `rm -rf dist` cannot pull the binary from under a benchmark. The engine is the
# private one of scripts/test-engine.sh (REPAIRMAN_ENGINE_DIR to use another); never /var/run/docker.sock.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/node24.sh
. scripts/node24.sh
ROOT=$PWD
OUT="${REPAIRMAN_BENCH_BUILD:-$ROOT/node_modules/.cache/repairman-bench}"
export REPAIRMAN_BENCH_ROOT="$ROOT"

cmd="${1:-all}"
[ $# -gt 0 ] && shift

log() { echo "bench: $*" >&2; }

build() {
  log "building into $OUT"
  rm -rf "$OUT"
  mkdir -p "$(dirname "$OUT")"
  if ! npx tsc -p tsconfig.json --outDir "$OUT" >"$OUT.tsc.log" 2>&1; then
    # tsc still emits; work in progress elsewhere in the tree must not stop a measurement of what builds.
    log "tsc reported errors (benchmarking what it emitted):"
    head -20 "$OUT.tsc.log" >&2
  fi
  [ -f "$OUT/src/cli.js" ] && [ -f "$OUT/bench/main.js" ] || { log "build failed"; exit 1; }
}

engine() {
  # An engine of its own (REPAIRMAN_ENGINE_DIR set, e.g. /tmp/rm-bench: no other test's containers or
  # events) is stopped again at the end when this script started it; the shared default one never is.
  if [ -n "${REPAIRMAN_ENGINE_DIR:-}" ] && [ "$REPAIRMAN_ENGINE_DIR" != /tmp/repairman-engine ] && ! bash scripts/test-engine.sh status; then
    trap 'bash scripts/test-engine.sh down' EXIT
  fi
  bash scripts/test-engine.sh up
  eval "$(bash scripts/test-engine.sh env)"
  export REPAIRMAN_TEST_DOCKER_HOST="$DOCKER_HOST"
  unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT
  case "$REPAIRMAN_TEST_DOCKER_HOST" in
    *"/var/run/docker.sock"*) log "refusing the default engine"; exit 1 ;;
  esac
}

bench() {
  REPAIRMAN_BENCH_COMMAND="bash bench/run.sh $*" node "$OUT/bench/main.js" "$@"
}

case "$cmd" in
  all)
    build; engine
    log "load before: $(uptime)"
    bench reaction "$@"
    bench burst
    bench fleet
    bench scale
    log "load after: $(uptime)"
    echo
    node "$OUT/bench/main.js" report
    echo; echo "### Docker client footprint (bench/client-rss.ts)"; echo
    DOCKER_HOST="$REPAIRMAN_TEST_DOCKER_HOST" node "$OUT/bench/client-rss.js"
    ;;
  client-rss)
    build; engine
    DOCKER_HOST="$REPAIRMAN_TEST_DOCKER_HOST" node "$OUT/bench/client-rss.js" "$@"
    ;;
  reaction-engines)
    build; engine
    bench reaction "$@"
    bash scripts/test-podman.sh up
    podman_host=$(bash scripts/test-podman.sh env | sed -n 's/^export DOCKER_HOST=\([^ ]*\).*/\1/p')
    REPAIRMAN_TEST_ENGINE=podman REPAIRMAN_TEST_DOCKER_HOST="$podman_host" bench reaction "$@"
    ;;
  reaction|burst|footprint|growth|fleet|soak|scale)
    build; engine
    bench "$cmd" "$@"
    ;;
  report|record|help)
    [ -f "$OUT/bench/main.js" ] || build
    node "$OUT/bench/main.js" "$cmd" "$@"
    ;;
  clean)
    [ -f "$OUT/bench/main.js" ] || build
    engine
    node "$OUT/bench/main.js" clean
    ;;
  selftest)
    build
    node --test "$OUT/bench/lib/"*.test.js
    ;;
  *)
    echo "usage: bash bench/run.sh [all|reaction|reaction-engines|burst|footprint|growth|fleet|soak|scale|report|record|clean|selftest|client-rss|help] [options]" >&2
    exit 64
    ;;
esac
