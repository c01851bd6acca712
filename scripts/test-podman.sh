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
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      log "missing ${need[*]}; run this script as root once so it can apt-get install them"
      exit 1
    fi
    log "installing ${need[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2068
    apt-get install -y -qq --no-install-recommends ${need[@]} >/dev/null
  fi
}

write_config() {
  mkdir -p "$DIR/root" "$DIR/run" "$DIR/tmp" "$DIR/cni"
  cat > "$DIR/containers.conf" <<CONF
[containers]
default_ulimits = []
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$DIR/tmp/events.log"
events_logfile_max_size = "1g"
runtime = "runc"
tmp_dir = "$DIR/tmp"
volume_path = "$DIR/root/volumes"
[network]
network_backend = "cni"
network_config_dir = "$DIR/cni"
CONF
  cat > "$DIR/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$DIR/root"
runroot = "$DIR/run"
CONF
  echo 'unqualified-search-registries = []' > "$DIR/registries.conf"
}

# The pid in our pidfile, but only while that process is still OUR podman service (a stale pidfile's
# number may belong to an unrelated process after a reboot).
our_service_pid() {
  local pid
  pid=$(cat "$DIR/service.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "unix://$SOCK" || return 1
  echo "$pid"
}

busybox_bin() {
  if [ -x /bin/busybox ]; then echo /bin/busybox; else command -v busybox; fi
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
    kill "$old" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$old" 2>/dev/null || true
  fi
  rm -f "$DIR/service.pid" "$SOCK"
  log "starting podman system service on $SOCK (data in $DIR)"
  # --time=0: no idle timeout. setsid: the service outlives this shell and does not get its signals.
  setsid podman --root "$DIR/root" --runroot "$DIR/run" --tmpdir "$DIR/tmp" --log-level=warn \
    system service --time=0 "unix://$SOCK" >"$DIR/service.log" 2>&1 < /dev/null &
  echo $! > "$DIR/service.pid"
  for _ in $(seq 1 150); do
    if engine_answers; then log "podman answers ($(podman --version))"; return; fi
    sleep 0.2
  done
  log "podman did not answer within 30 s; last log lines:"
  tail -20 "$DIR/service.log" >&2 || true
  exit 1
}

# The same offline busybox rootfs as scripts/test-engine.sh's image.
build_image() {
  if remote_podman image exists "$IMAGE" 2>/dev/null; then return; fi
  log "importing $IMAGE offline from busybox-static"
  local root="$DIR/rootfs"
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/var/www"
  cp "$(busybox_bin)" "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
  echo 'root:x:0:' > "$root/etc/group"
  chmod 1777 "$root/tmp"
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
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/service.pid" "$SOCK"
}

case "${1:-up}" in
  up) install_missing; start_engine; build_image ;;
  down) stop_engine ;;
  purge)
    case "${DIR%/}" in ""|/tmp|/var|/var/lib|/var/run|/run|/usr|/home|/root|/etc|"${HOME%/}") log "refusing to purge $DIR"; exit 64 ;; esac
    if [ -d "$DIR/root" ]; then
      # Containers' conmon and runc processes outlive the service: stop them with podman itself.
      local_podman rm -af -t 0 >/dev/null 2>&1 || true
    fi
    stop_engine
    grep -o " $DIR/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$DIR" ;;
  env) echo "export DOCKER_HOST=unix://$SOCK REPAIRMAN_PODMAN_DIR=$DIR" ;;
  status) engine_answers ;;
  podman) shift; remote_podman "$@" ;;
  *) echo "usage: $0 up|down|purge|env|status|podman ARGS..." >&2; exit 64 ;;
esac
