# Shared by scripts/test-engine.sh (dockerd), scripts/test-podman.sh and scripts/test-podman-rootless.sh
# (podman): sourced, not run.
# The caller defines log() and sets -euo pipefail.

# Installs the Debian packages named (once, as root); a package's own service must not start: the
# tests run private instances only, and policy-rc.d is how Debian's maintainer scripts are told so.
apt_install() {
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ]; then
    log "missing $*; run this script as root once so it can apt-get install them"
    exit 1
  fi
  log "installing $* from Debian"
  export DEBIAN_FRONTEND=noninteractive
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; made_policy=1
  fi
  apt-get update -qq
  # shellcheck disable=SC2046
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "$@" | sort -u) >/dev/null || {
    [ "$made_policy" = 1 ] && rm -f "$policy"; exit 1; }
  if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi
}

# SIGTERM, up to TRIES x 0.2 s to end, then SIGKILL.
stop_pid() {
  local pid=$1 tries=$2
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$tries"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}

# Runs the check (a function name) every 0.2 s for up to 30 s; on failure shows the log's last lines and exits.
wait_until() {
  local check=$1 what=$2 logfile=$3
  for _ in $(seq 1 150); do
    if "$check"; then return; fi
    sleep 0.2
  done
  log "$what did not answer within 30 s; last log lines:"
  tail -20 "$logfile" >&2 || true
  exit 1
}

# The test image's root file system, made offline from busybox-static: /bin with every applet, root
# in /etc/passwd and /etc/group, a world-writable /tmp.
make_busybox_rootfs() {
  local root=$1 busybox applet
  if [ -x /bin/busybox ]; then busybox=/bin/busybox; else busybox=$(command -v busybox); fi
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/var/www"
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
  echo 'root:x:0:' > "$root/etc/group"
  chmod 1777 "$root/tmp"
}

# Purge's guard: rm -rf of a mistyped engine dir must not take a system folder with it.
refuse_system_dir() {
  case "${1%/}" in ""|/tmp|/var|/var/lib|/var/run|/run|/usr|/home|/root|/etc|"${HOME%/}") log "refusing to purge $1"; exit 64 ;; esac
}

# Mounts left by a killed engine would make rm fail half way.
unmount_under() {
  grep -o " $1/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}

# The pid in PIDFILE, but only while that process is still OUR podman service on SOCK (a stale
# pidfile's number may belong to an unrelated process after a reboot).
podman_service_pid() {
  local pidfile=$1 sock=$2 pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "unix://$sock" || return 1
  echo "$pid"
}

# A private podman's configuration in DIR (containers.conf, storage.conf, registries.conf): a machine
# without systemd (cgroupfs, events in a file, runc), no network, storage DRIVER. EXTRA_CONTAINERS and
# EXTRA_STORAGE are lines added to the [containers] and [storage] sections ("" for none).
write_podman_config() {
  local dir=$1 driver=$2 extra_containers=$3 extra_storage=$4
  mkdir -p "$dir/root" "$dir/run" "$dir/tmp" "$dir/cni"
  cat > "$dir/containers.conf" <<CONF
[containers]
default_ulimits = []
netns = "none"
${extra_containers}
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/tmp/events.log"
events_logfile_max_size = "1g"
runtime = "runc"
tmp_dir = "$dir/tmp"
volume_path = "$dir/root/volumes"
[network]
network_backend = "cni"
network_config_dir = "$dir/cni"
CONF
  cat > "$dir/storage.conf" <<CONF
[storage]
driver = "$driver"
graphroot = "$dir/root"
runroot = "$dir/run"
${extra_storage}
CONF
  echo 'unqualified-search-registries = []' > "$dir/registries.conf"
}
