#!/usr/bin/env bash
# `npm run demo`: Repairman healing throw-away containers on a private Docker engine, with its status
# page, in one command. Nothing here touches /var/run/docker.sock or pulls an image:
#   1. a private engine (scripts/test-engine.sh: its own socket and data under REPAIRMAN_DEMO_DIR, no
#      bridge, no iptables) with the offline test image (busybox-static, `docker import`);
#   2. five containers: one turns unhealthy, one crashes once, one crashes in a loop until its
#      restart budget runs out, one a person stops, one stays healthy;
#   3. Repairman watching them (--namespace demo-), its page on 127.0.0.1.
# Ctrl-C (SIGINT) or SIGTERM removes all of it: Repairman, the containers, the engine and its data,
# the temporary folder.
#
# Optional environment: REPAIRMAN_DEMO_DIR (the engine's folder, default /tmp/repairman-demo; short: a
# unix socket path is limited to 107 bytes), REPAIRMAN_DEMO_PORT (the page's port, default 8080; a
# free one when that is taken or 0).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/node24.sh
source "$ROOT/scripts/node24.sh"
DIR="${REPAIRMAN_DEMO_DIR:-/tmp/repairman-demo}"
NS=demo-
LABEL=org.riotkit.repairman.
export REPAIRMAN_ENGINE_DIR="$DIR"
# The demo needs the engine and the image only, not the test suite's tools (chromium, prometheus...).
export REPAIRMAN_ENGINE_TEST_TOOLS=0
export DOCKER_HOST="unix://$DIR/docker.sock"
unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT
IMAGE="${REPAIRMAN_TEST_IMAGE:-repairman-test:latest}"

say() { echo "demo: $*"; }

WORK=""
RM_PID=""
cleaned=0
cleanup() {
  [ "$cleaned" = 1 ] && return
  cleaned=1
  trap '' INT TERM
  echo
  say "cleaning up"
  if [ -n "$RM_PID" ]; then
    kill -TERM "$RM_PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$RM_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$RM_PID" 2>/dev/null || true
  fi
  # Removed first (SIGKILL): an engine stopping with running containers waits for each one's stop timeout.
  local ids
  ids=$(docker ps -aq --filter "name=^/$NS" 2>/dev/null || true)
  # shellcheck disable=SC2086
  [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1 || true
  bash "$ROOT/scripts/test-engine.sh" purge 2>/dev/null || true
  [ -n "$WORK" ] && rm -rf "$WORK"
  say "removed Repairman, the containers, the engine in $DIR and $WORK"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

[ -f "$ROOT/dist/src/cli.js" ] || { say "building"; (cd "$ROOT" && npx tsc -p tsconfig.json); }
WORK=$(mktemp -d /tmp/repairman-demo-work.XXXXXX)

say "starting a private Docker engine in $DIR (its own socket; /var/run/docker.sock is not used)"
bash "$ROOT/scripts/test-engine.sh" up

# A port for the page: REPAIRMAN_DEMO_PORT (default 8080) if free, else any free one.
PORT=$(node -e '
  const net = require("node:net");
  const any = () => { const t = net.createServer().listen(0, "127.0.0.1", () => { console.log(t.address().port); t.close(); }); };
  const want = Number(process.argv[1]);
  if (!want) any();
  else { const s = net.createServer().once("error", any); s.listen(want, "127.0.0.1", () => { console.log(want); s.close(); }); }' "${REPAIRMAN_DEMO_PORT:-8080}")

run() { docker run -d --name "$1" "${@:2}" >/dev/null; }
# A shell that ends at once on docker stop (sh as PID 1 ignores SIGTERM otherwise).
LIVE='trap "exit 0" TERM; sleep 100000 & wait'
QUICK=("--label" "${LABEL}seconds_between_restarts=2")

say "starting the containers (namespace $NS)"
# Healthy all along.
run "${NS}db" --health-cmd 'true' --health-interval 2s "$IMAGE" sh -c "$LIVE"
# Turns unhealthy about 10 s after its first start; a restart cures it.
run "${NS}web" --health-cmd 'test ! -f /tmp/sick' --health-interval 2s --health-retries 2 "${QUICK[@]}" "$IMAGE" \
  sh -c "if [ ! -f /tmp/once ]; then touch /tmp/once; (sleep 10; touch /tmp/sick) & else rm -f /tmp/sick; fi; $LIVE"
# Crashes (exit 3) 15 s after its first start; started again, it keeps running.
run "${NS}worker" "${QUICK[@]}" "$IMAGE" sh -c "if [ ! -f /tmp/once ]; then touch /tmp/once; sleep 15; exit 3; fi; $LIVE"
# Crashes every 4 s: 3 restarts in its 60 s frame, then a longer wait of 60 s, then gives up after 5.
run "${NS}flappy" "${QUICK[@]}" --label "${LABEL}max_restarts_in_frame=3" --label "${LABEL}frame_size_in_seconds=60" \
  --label "${LABEL}seconds_between_next_frame=60" --label "${LABEL}max_checks_to_give_up=5" "$IMAGE" sh -c 'sleep 4; exit 1'
# Stopped by a person once Repairman watches (below).
run "${NS}cron" "$IMAGE" sh -c "$LIVE"

say "starting Repairman"
node "$ROOT/dist/src/cli.js" --namespace "$NS" --interval 5 --http-port "$PORT" --db-path "$WORK/journal.db" &
RM_PID=$!
URL="http://127.0.0.1:$PORT/"
for _ in $(seq 1 100); do
  if node -e 'fetch(process.argv[1] + "healthz").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$URL" 2>/dev/null; then break; fi
  kill -0 "$RM_PID" 2>/dev/null || { say "Repairman exited"; exit 1; }
  sleep 0.2
done
docker stop -t 1 "${NS}cron" >/dev/null

cat <<EOF

demo: ready: $URL
  Open the status page: $URL  (JSON: ${URL}api/containers; Ctrl-C removes everything)
  What to watch for:
  - ${NS}db      healthy all along.
  - ${NS}web     turns unhealthy within 15 s; Repairman restarts it, then it stays healthy.
  - ${NS}worker  crashes with exit code 3 within 15 s; Repairman starts it again.
  - ${NS}flappy  crashes every 4 s: restarted 3 times in its 60 s frame, then a longer wait of 60 s,
                 then more restarts until it is given up after 5 without recovery (about 2 min).
  - ${NS}cron    stopped by hand just now: "stopped by hand, left alone", never started again.
  Repairman's log follows.

EOF
wait "$RM_PID" || true
RM_PID=""
say "Repairman ended"
