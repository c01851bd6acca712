#!/usr/bin/env bash
# A private ROOTLESS Podman for Repairman's tests: `podman system service` run by a non-root user on
# $XDG_RUNTIME_DIR/podman/podman.sock, the socket Repairman finds with DOCKER_HOST unset (README, Podman).
#
#   scripts/test-podman-rootless.sh up      create the user when missing (subuid/subgid), start the service, import the test image
#   scripts/test-podman-rootless.sh down    stop the service
#   scripts/test-podman-rootless.sh purge   stop it and delete its data (the user stays)
#   scripts/test-podman-rootless.sh env     print `export REPAIRMAN_TEST_ROOTLESS_XDG_RUNTIME_DIR=... REPAIRMAN_TEST_ROOTLESS_USER=...`
#   scripts/test-podman-rootless.sh status  exit 0 when it answers
#   scripts/test-podman-rootless.sh podman ARGS...  run the podman CLI against this service (--remote)
#
# Everything lives under REPAIRMAN_PODMAN_ROOTLESS_DIR (its own storage, run dir, XDG_RUNTIME_DIR, HOME
# and containers.conf), never the user's or root's Podman. Overlay storage when the kernel lets a user
# namespace mount it (native rootless overlay, Linux 5.13+), else vfs. It needs root once (useradd,
# /etc/subuid, apt-get install uidmap): the tests run as root anyway, like the private dockerd.
#
# Optional environment:
#   REPAIRMAN_PODMAN_ROOTLESS_DIR   default /tmp/repairman-podman-rootless (short: unix socket limit)
#   REPAIRMAN_PODMAN_ROOTLESS_USER  default repairman-rl (created as a system user without a home)
#   REPAIRMAN_TEST_IMAGE            default repairman-test:latest
set -euo pipefail

DIR="${REPAIRMAN_PODMAN_ROOTLESS_DIR:-/tmp/repairman-podman-rootless}"
USER_NAME="${REPAIRMAN_PODMAN_ROOTLESS_USER:-repairman-rl}"
XDG="$DIR/xdg"
SOCK="$XDG/podman/podman.sock"
IMAGE="${REPAIRMAN_TEST_IMAGE:-repairman-test:latest}"
unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT CONTAINER_HOST CONTAINER_CONNECTION

log() { echo "test-podman-rootless: $*" >&2; }
# shellcheck source=scripts/lib-engine.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-engine.sh"

# The podman CLI as the user, with this engine's files only (a clean environment: none of root's).
as_user_podman() {
  (cd / && setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$DIR/home" XDG_RUNTIME_DIR="$XDG" \
    CONTAINERS_CONF="$DIR/containers.conf" CONTAINERS_STORAGE_CONF="$DIR/storage.conf" CONTAINERS_REGISTRIES_CONF="$DIR/registries.conf" \
    podman "$@")
}
remote_podman() {
  podman --remote --url "unix://$SOCK" "$@"
}

engine_answers() {
  [ -S "$SOCK" ] && curl -fsS --max-time 3 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1
}

need_root() {
  if [ "$(id -u)" != 0 ]; then log "$1: run this script as root once"; exit 1; fi
}

install_missing() {
  local need=()
  command -v podman >/dev/null 2>&1 || need+=(podman)
  command -v runc >/dev/null 2>&1 || need+=(runc)
  command -v newuidmap >/dev/null 2>&1 || need+=(uidmap)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  [ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need+=(busybox-static)
  apt_install ${need[@]+"${need[@]}"}
}

# A system user with 65536 subordinate ids: what rootless Podman maps the container's users to.
ensure_user() {
  if ! id "$USER_NAME" >/dev/null 2>&1; then
    need_root "no user $USER_NAME"
    log "creating user $USER_NAME"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$USER_NAME"
  fi
  local file
  for file in /etc/subuid /etc/subgid; do
    touch "$file"
    if ! grep -q "^$USER_NAME:" "$file"; then
      need_root "no $file range for $USER_NAME"
      # The first free range of 65536 above every range already given.
      local start
      start=$(awk -F: 'BEGIN { m = 100000 } { e = $2 + $3; if (e > m) m = e } END { print m }' "$file")
      echo "$USER_NAME:$start:65536" >> "$file"
      log "$file: $USER_NAME:$start:65536"
    fi
  done
}

write_config() {
  local driver="$1"
  # Rootless Podman ignores graphroot and reads rootless_storage_path.
  write_podman_config "$DIR" "$driver" 'cgroups = "disabled"' "rootless_storage_path = \"$DIR/root\""
  mkdir -p "$DIR/home" "$XDG/podman"
  chown -R "$USER_NAME:" "$DIR"
  chmod 700 "$XDG"
}

our_service_pid() {
  podman_service_pid "$DIR/service.pid" "$SOCK"
}

start_service() {
  if engine_answers; then log "rootless podman already answers on $SOCK"; return; fi
  local old
  if old=$(our_service_pid); then kill "$old" 2>/dev/null || true; sleep 1; kill -9 "$old" 2>/dev/null || true; fi
  rm -f "$DIR/service.pid" "$SOCK"
  log "starting rootless podman system service as $USER_NAME on $SOCK"
  # setpriv execs (runuser would fork): the pid recorded is the service's own.
  setsid bash -c 'echo $$ > "$1"; shift; cd / && exec setpriv --reuid="$1" --regid="$1" --init-groups -- "${@:2}"' _ "$DIR/service.pid" "$USER_NAME" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$DIR/home" XDG_RUNTIME_DIR="$XDG" CONTAINERS_CONF="$DIR/containers.conf" CONTAINERS_STORAGE_CONF="$DIR/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$DIR/registries.conf" podman --log-level=warn system service --time=0 "unix://$SOCK" \
    >"$DIR/service.log" 2>&1 < /dev/null &
  wait_until engine_answers "rootless podman" "$DIR/service.log"
  log "rootless podman answers ($(podman --version))"
}

# The same offline busybox rootfs as the other test engines' image (make_busybox_rootfs).
build_image() {
  if remote_podman image exists "$IMAGE" 2>/dev/null; then return; fi
  log "importing $IMAGE offline from busybox-static"
  local root="$DIR/rootfs"
  make_busybox_rootfs "$root"
  tar -C "$root" -cf "$DIR/rootfs.tar" .
  rm -rf "$root"
  chown "$USER_NAME:" "$DIR/rootfs.tar"
  remote_podman import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' "$DIR/rootfs.tar" "$IMAGE" >/dev/null
  rm -f "$DIR/rootfs.tar"
}

# Overlay when a container runs on it, else vfs (an older kernel refuses overlay in a user namespace).
choose_storage() {
  if [ -f "$DIR/storage.conf" ] && grep -q '^driver = ' "$DIR/storage.conf"; then
    write_config "$(sed -n 's/^driver = "\(.*\)"/\1/p' "$DIR/storage.conf")"
    return
  fi
  write_config overlay
  start_service
  build_image
  if remote_podman run --rm "$IMAGE" true >/dev/null 2>"$DIR/overlay-check.log"; then
    log "storage: overlay"
    return
  fi
  log "overlay failed for $USER_NAME ($(tail -1 "$DIR/overlay-check.log")): vfs instead"
  stop_service
  as_user_podman system reset --force >/dev/null 2>&1 || true
  rm -rf "$DIR/root" "$DIR/run"
  write_config vfs
}

stop_service() {
  local pid
  if pid=$(our_service_pid); then
    # Rootless Podman re-executes itself in its user namespace: the child is the service proper.
    local kids
    kids=$(pgrep -P "$pid" || true)
    log "stopping rootless podman service pid $pid${kids:+ (and $kids)}"
    # shellcheck disable=SC2086
    kill "$pid" $kids 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" $kids 2>/dev/null || break; sleep 0.2; done
    # shellcheck disable=SC2086
    kill -9 "$pid" $kids 2>/dev/null || true
  fi
  rm -f "$DIR/service.pid" "$SOCK"
}

# Rootless Podman keeps a pause process holding its user namespace; ours is named in our run dir.
stop_pause_process() {
  local f pid
  for f in "$XDG/libpod/tmp/pause.pid" "$DIR/tmp/pause.pid"; do
    pid=$(cat "$f" 2>/dev/null || true)
    if [ -n "$pid" ] && [ "$(stat -c %U "/proc/$pid" 2>/dev/null)" = "$USER_NAME" ]; then kill "$pid" 2>/dev/null || true; fi
  done
}

case "${1:-up}" in
  up) install_missing; ensure_user; choose_storage; start_service; build_image ;;
  down) stop_service ;;
  purge)
    refuse_system_dir "$DIR"
    if [ -d "$DIR/root" ] && id "$USER_NAME" >/dev/null 2>&1; then as_user_podman rm -af -t 0 >/dev/null 2>&1 || true; fi
    stop_service
    stop_pause_process
    unmount_under "$DIR"
    rm -rf "$DIR" ;;
  env) echo "export REPAIRMAN_TEST_ROOTLESS_XDG_RUNTIME_DIR=$XDG REPAIRMAN_TEST_ROOTLESS_USER=$USER_NAME" ;;
  status) engine_answers ;;
  podman) shift; remote_podman "$@" ;;
  *) echo "usage: $0 up|down|purge|env|status|podman ARGS..." >&2; exit 64 ;;
esac
