#!/usr/bin/env bash
# A private, isolated Docker engine for Repairman's tests and demos.
#
#   scripts/test-engine.sh up      install what is missing, start dockerd, build the test image
#   scripts/test-engine.sh down    stop it (containers and data stay in the engine dir)
#   scripts/test-engine.sh purge   stop it and delete its data
#   scripts/test-engine.sh env     print `export DOCKER_HOST=...` for this engine
#   scripts/test-engine.sh status  exit 0 when it answers
#
# It never touches /var/run/docker.sock: the engine has its own socket, --data-root, --exec-root and
# --pidfile under REPAIRMAN_ENGINE_DIR, no bridge and no iptables rules, so it is safe beside another
# engine on the same machine. Idempotent: `up` on a running engine only checks the image.
#
# Optional environment:
#   REPAIRMAN_ENGINE_DIR       where everything lives (default /tmp/repairman-engine; short, because a
#                              unix socket path is limited to 107 bytes)
#   REPAIRMAN_ENGINE_TCP       also listen on this tcp address, e.g. 127.0.0.1:23760
#   REPAIRMAN_ENGINE_TLS_DIR   with REPAIRMAN_ENGINE_TCP: --tlsverify with ca.pem, server-cert.pem,
#                              server-key.pem from this folder
#   REPAIRMAN_TEST_IMAGE       image name (default repairman-test:latest)
#   REPAIRMAN_ENGINE_TEST_TOOLS  0: install only what the engine needs, not the test suite's tools
#   REPAIRMAN_ENGINE_DOCKERD_ARGS  more dockerd switches, split on spaces (e.g. --live-restore, so
#                              containers keep running while a reliability test stops the engine)
set -euo pipefail

DIR="${REPAIRMAN_ENGINE_DIR:-/tmp/repairman-engine}"
SOCK="$DIR/docker.sock"
IMAGE="${REPAIRMAN_TEST_IMAGE:-repairman-test:latest}"
export DOCKER_HOST="unix://$SOCK"
unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT

log() { echo "test-engine: $*" >&2; }
# shellcheck source=scripts/lib-engine.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-engine.sh"

engine_answers() {
  [ -S "$SOCK" ] && docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1
}

install_missing() {
  local need=()
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v docker >/dev/null 2>&1 || need+=(docker.io)
  [ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need+=(busybox-static)
  # The test suite's own tools; the demo (REPAIRMAN_ENGINE_TEST_TOOLS=0) needs only the engine and busybox.
  if [ "${REPAIRMAN_ENGINE_TEST_TOOLS:-1}" = 1 ]; then
    command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
    command -v openssl >/dev/null 2>&1 || need+=(openssl)
    # promtool and Prometheus for the examples/prometheus tests (Debian's prometheus package has both).
    command -v promtool >/dev/null 2>&1 || need+=(prometheus)
    if [ "${REPAIRMAN_ENGINE_BROWSER:-1}" = 1 ] && [ ! -x /usr/bin/chromium ]; then need+=(chromium); fi
  fi
  # Their own services (a system dockerd, a Prometheus on :9090) do not start (apt_install).
  apt_install ${need[@]+"${need[@]}"}
}

# The pid in our pidfile, but only while that process is still OUR dockerd: after a reboot or a
# killed run the number in a stale pidfile may belong to an unrelated process (even another
# engine), which must never be killed.
our_dockerd_pid() {
  local pid
  pid=$(cat "$DIR/docker.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--pidfile $DIR/docker.pid " || return 1
  echo "$pid"
}

start_engine() {
  mkdir -p "$DIR/data" "$DIR/exec"
  if engine_answers; then
    log "engine already answers on $SOCK"
    return
  fi
  # A stale pidfile or socket from a killed run would make dockerd refuse to start.
  if [ -f "$DIR/docker.pid" ]; then
    local old
    if old=$(our_dockerd_pid); then
      log "dockerd pid $old exists but does not answer; stopping it"
      stop_pid "$old" 50
    fi
    rm -f "$DIR/docker.pid"
  fi
  rm -f "$SOCK"
  local args=(--host "unix://$SOCK" --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$DIR/docker.pid"
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false
    --log-level=warn)
  if [ -n "${REPAIRMAN_ENGINE_DOCKERD_ARGS:-}" ]; then
    local extra
    read -r -a extra <<< "$REPAIRMAN_ENGINE_DOCKERD_ARGS"
    args+=("${extra[@]}")
  fi
  if [ -n "${REPAIRMAN_ENGINE_TCP:-}" ]; then
    args+=(--host "tcp://$REPAIRMAN_ENGINE_TCP")
    if [ -n "${REPAIRMAN_ENGINE_TLS_DIR:-}" ]; then
      args+=(--tlsverify --tlscacert "$REPAIRMAN_ENGINE_TLS_DIR/ca.pem"
        --tlscert "$REPAIRMAN_ENGINE_TLS_DIR/server-cert.pem" --tlskey "$REPAIRMAN_ENGINE_TLS_DIR/server-key.pem")
    fi
  fi
  log "starting dockerd on $SOCK (data in $DIR)"
  # setsid: the engine must outlive the shell that started it, and not get its signals.
  setsid dockerd "${args[@]}" >"$DIR/dockerd.log" 2>&1 < /dev/null &
  wait_until engine_answers dockerd "$DIR/dockerd.log"
  log "engine answers (API $(docker version --format '{{.Server.APIVersion}}'))"
}

build_image() {
  if docker image inspect "$IMAGE" >/dev/null 2>&1; then return; fi
  log "building $IMAGE offline from busybox-static"
  local root="$DIR/rootfs"
  make_busybox_rootfs "$root"
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
  rm -rf "$root"
}

stop_engine() {
  if [ -f "$DIR/docker.pid" ]; then
    local pid
    if pid=$(our_dockerd_pid); then
      log "stopping dockerd pid $pid"
      stop_pid "$pid" 100
    fi
  fi
  rm -f "$DIR/docker.pid" "$SOCK"
}

case "${1:-up}" in
  up) install_missing; start_engine; build_image ;;
  down) stop_engine ;;
  purge)
    refuse_system_dir "$DIR"
    stop_engine
    unmount_under "$DIR"
    rm -rf "$DIR" ;;
  env) echo "export DOCKER_HOST=unix://$SOCK" ;;
  status) engine_answers ;;
  *) echo "usage: $0 up|down|purge|env|status" >&2; exit 64 ;;
esac
