#!/usr/bin/env bash
# A private, isolated Podman engine (the Docker-compatible API of `podman system service`) for
# Repairman's tests: the second engine of the test matrix, beside scripts/test-engine.sh's dockerd.
#
#   scripts/test-podman.sh up      install podman when missing, start the service, import the test image
#   scripts/test-podman.sh down    stop the service (containers and images stay in the engine dir)
#   scripts/test-podman.sh purge   stop it and delete its data
#   scripts/test-podman.sh env     print `export DOCKER_HOST=...` (and PODMAN_DIR) for this engine
#   scripts/test-podman.sh status  exit 0 when it answers
#   scripts/test-podman.sh podman ARGS...  run the podman CLI against this engine (--remote)
#
# It never touches the user's Podman: its own socket, storage (--root), run dir (--runroot), tmp dir
# (--tmpdir) and containers.conf (CONTAINERS_CONF) under REPAIRMAN_PODMAN_DIR; containers get no
# network (netns none), so no bridge and no firewall rules. The configuration is one that runs on a
# machine without systemd (cgroupfs, events in a file, runc). The event file may grow to 1 GB: at
# Podman's default 1 MB it is cut in half every few test runs, which ends every event stream (Repairman
# reconnects; a test would see the gap).
#
# Optional environment:
#   REPAIRMAN_PODMAN_DIR   where everything lives (default /tmp/repairman-podman; short: unix socket limit)
#   REPAIRMAN_TEST_IMAGE   image name (default repairman-test:latest)
set -euo pipefail

DIR="${REPAIRMAN_PODMAN_DIR:-/tmp/repairman-podman}"
SOCK="$DIR/podman.sock"
IMAGE="${REPAIRMAN_TEST_IMAGE:-repairman-test:latest}"
unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT CONTAINER_HOST CONTAINER_CONNECTION
export CONTAINERS_CONF="$DIR/containers.conf"
# The user's storage.conf and registries must not matter either.
export CONTAINERS_STORAGE_CONF="$DIR/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$DIR/registries.conf"

log() { echo "test-podman: $*" >&2; }
# shellcheck source=scripts/lib-engine.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-engine.sh"

# The podman CLI with this engine's directories (the service itself, image import).
local_podman() {
  podman --root "$DIR/root" --runroot "$DIR/run" --tmpdir "$DIR/tmp" "$@"
}
# The podman CLI as a client of the service (what a test does: healthcheck run, inspect).
remote_podman() {
  podman --remote --url "unix://$SOCK" "$@"
}

engine_answers() {
  [ -S "$SOCK" ] && curl -fsS --max-time 3 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1
}

install_missing() {
  local need=()
  command -v podman >/dev/null 2>&1 || need+=(podman)
  command -v runc >/dev/null 2>&1 || need+=(runc)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  [ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need+=(busybox-static)
  apt_install ${need[@]+"${need[@]}"}
}

write_config() {
  write_podman_config "$DIR" overlay "" ""
}

our_service_pid() {
  podman_service_pid "$DIR/service.pid" "$SOCK"
}

start_engine() {
  write_config
  if engine_answers; then
    log "podman already answers on $SOCK"
    return
  fi
  local old
  if old=$(our_service_pid); then
    log "podman service pid $old does not answer; stopping it"
    stop_pid "$old" 50
  fi
  rm -f "$DIR/service.pid" "$SOCK"
  log "starting podman system service on $SOCK (data in $DIR)"
  # --time=0: no idle timeout. setsid: the service outlives this shell and does not get its signals.
  setsid podman --root "$DIR/root" --runroot "$DIR/run" --tmpdir "$DIR/tmp" --log-level=warn \
    system service --time=0 "unix://$SOCK" >"$DIR/service.log" 2>&1 < /dev/null &
  echo $! > "$DIR/service.pid"
  wait_until engine_answers podman "$DIR/service.log"
  log "podman answers ($(podman --version))"
}

# The same offline busybox rootfs as scripts/test-engine.sh's image (make_busybox_rootfs).
build_image() {
  if remote_podman image exists "$IMAGE" 2>/dev/null; then return; fi
  log "importing $IMAGE offline from busybox-static"
  local root="$DIR/rootfs"
  make_busybox_rootfs "$root"
  tar -C "$root" -cf "$DIR/rootfs.tar" .
  rm -rf "$root"
  # podman import names an unqualified image localhost/NAME; the tag makes the plain name resolve too.
  remote_podman import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' "$DIR/rootfs.tar" "$IMAGE" >/dev/null
  rm -f "$DIR/rootfs.tar"
}

stop_engine() {
  local pid
  if pid=$(our_service_pid); then
    log "stopping podman service pid $pid"
    stop_pid "$pid" 100
  fi
  rm -f "$DIR/service.pid" "$SOCK"
}

case "${1:-up}" in
  up) install_missing; start_engine; build_image ;;
  down) stop_engine ;;
  purge)
    refuse_system_dir "$DIR"
    if [ -d "$DIR/root" ]; then
      # Containers' conmon and runc processes outlive the service: stop them with podman itself.
      local_podman rm -af -t 0 >/dev/null 2>&1 || true
    fi
    stop_engine
    unmount_under "$DIR"
    rm -rf "$DIR" ;;
  env) echo "export DOCKER_HOST=unix://$SOCK REPAIRMAN_PODMAN_DIR=$DIR" ;;
  status) engine_answers ;;
  podman) shift; remote_podman "$@" ;;
  *) echo "usage: $0 up|down|purge|env|status|podman ARGS..." >&2; exit 64 ;;
esac
