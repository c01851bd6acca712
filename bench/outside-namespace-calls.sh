#!/usr/bin/env bash
# Engine API calls a Repairman with --namespace makes while containers are created OUTSIDE its
# namespace (a CI host's churn): before ef9f334 each was inspected by the dependents graph; now they are
# known from their events. Prints the calls made during N creations and the RSS at the end.
#
#   npx tsc -p tsconfig.json && bash scripts/test-engine.sh up
#   bash bench/outside-namespace-calls.sh [N=200] [REPO=.]   # REPO: a checkout with dist/ built
set -euo pipefail
N=${1:-200}
REPO=$(cd "${2:-.}" && pwd)
cd "$(dirname "$0")/.."
eval "$(bash scripts/test-engine.sh env)"
# shellcheck source=scripts/node24.sh
source scripts/node24.sh
PORT=$((18000 + RANDOM % 1000))
TAG="rmbench$$"
node "$REPO/dist/src/cli.js" run --namespace "$TAG-watched-" --http-port "$PORT" --interval 600 > "/tmp/$TAG.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  docker ps -aq --filter "name=^/$TAG-other-" | xargs -r docker rm -f > /dev/null
  rm -f "/tmp/$TAG.log"
}
trap cleanup EXIT
calls() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk '/^repairman_engine_api_calls_total/ {print $2}'; }
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.2; done
before=$(calls)
seq 1 "$N" | xargs -P 8 -I{} docker create --name "$TAG-other-{}" --network none repairman-test:latest true > /dev/null
sleep 3
after=$(calls)
echo "$(git -C "$REPO" rev-parse --short HEAD): engine API calls during $N creations outside the namespace: $((after - before)); RSS $(( $(ps -o rss= -p "$pid") / 1024 )) MB; load $(cut -d' ' -f1-3 /proc/loadavg)"
