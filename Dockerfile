# Repairman's container image.
#
#   docker build -t repairman:latest .
#   docker run -d --name repairman -v /var/run/docker.sock:/var/run/docker.sock -p 8080:8080 repairman:latest
#
# Two stages on the same Debian release (glibc): the build stage compiles the native SQLite addon
# (better-sqlite3) with the same C library the runtime stage runs it on. A musl (Alpine) runtime
# would need a musl build stage too; mixing the two gives an addon that fails to load.
#
# Without a registry (an offline engine, Repairman's own tests), scripts/make-base-image.sh imports
# equivalent base images made from the host's files and prints their names for --build-arg.
#
# Privileges, read before deploying: the Docker socket is root-equivalent. Whoever can talk to it
# can start a privileged container with the host's / mounted, so a non-root user inside this
# container that can reach the socket gains nothing in safety. Options, least privilege first:
#   1. A socket proxy that passes only the endpoints Repairman uses (_ping, version, events,
#      containers: list, inspect, logs, start, stop, restart, delete), with Repairman pointed at it
#      over tcp:// and running as `node`: no socket in this container at all. For example
#      tecnativa/docker-socket-proxy with CONTAINERS=1 ALLOW_START=1 ALLOW_STOP=1 ALLOW_RESTARTS=1
#      and DOCKER_HOST=tcp://socket-proxy:2375 here. Removing compose duplicates also needs DELETE,
#      which that proxy grants only with POST=1, and POST=1 lets a client create containers again.
#   2. The socket mounted, running as the unprivileged `node` user (uid 1000) with the socket's
#      group added: `user: node` and `group_add: ["<gid of /var/run/docker.sock on the host>"]`
#      (`stat -c %g /var/run/docker.sock`). Limits what a bug in Repairman itself can do to the
#      container's own filesystem, not what it can do through the socket.
#   3. The default below: root in the container with the socket mounted, so the quick start works
#      on any host without knowing the socket's group.

ARG BUILD_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /src

# Dependencies first: this layer is reused until package.json or the lockfile change. The full
# tree (with dev dependencies) is needed for tsc; better-sqlite3's install script downloads a
# prebuilt addon when it can and compiles it (python3, make, g++ of this stage) when it cannot.
COPY package.json package-lock.json ./
RUN JOBS=max npm ci --no-audit --no-fund

COPY tsconfig.json ./
COPY src ./src
# Build, then keep only what runs: production dependencies, no tests, no source maps, and of the
# addon's build tree only the .node file it loads (the objects and SQLite sources are ~25 MB).
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && find node_modules -mindepth 1 -maxdepth 1 -type d -empty -delete \
 && find dist -name '*.test.js' -delete \
 && find dist -name '*.map' -delete \
 && mv node_modules/better-sqlite3/build/Release/better_sqlite3.node /tmp/ \
 && rm -rf node_modules/better-sqlite3/build node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
 && mkdir -p node_modules/better-sqlite3/build/Release \
 && mv /tmp/better_sqlite3.node node_modules/better-sqlite3/build/Release/ \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()" \
 && mkdir -p /out/data

# ---------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
ARG VERSION=""
ARG REVISION=""

# Outside the image Repairman listens on 127.0.0.1; in it, on every address of the container, because
# its port is only reachable when published (`-p`), a choice the admin makes (docs/behaviour.md §1).
ENV NODE_ENV=production \
    HTTP_ADDRESS=0.0.0.0
WORKDIR /app

# No RUN step in this stage: it works on a base image without a shell, and every layer is a copy.
COPY --from=build /src/package.json /app/package.json
COPY --from=build /src/node_modules /app/node_modules
COPY --from=build /src/dist/src /app/dist/src
# A place for DB_PATH=/data/repairman.db, writable by root and by the `node` user (uid 1000).
COPY --from=build --chown=1000:1000 /out/data /data

# OCI metadata, and Repairman's own marks: a Repairman watching this host never heals its own
# container (it also finds itself by container id; the label covers a second instance, e.g. one
# per namespace, watching the first).
LABEL org.opencontainers.image.title="repairman" \
      org.opencontainers.image.description="Kubernetes-like self-repair for plain Docker hosts: restarts unhealthy and crashed containers under a restart budget, removes docker-compose leftovers, notifies, and reports over HTTP." \
      org.opencontainers.image.licenses="LGPL-3.0-or-later" \
      org.opencontainers.image.source="https://github.com/riotkit-org/docker-autoheal" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.riotkit.repairman.enable_autoheal="false"

EXPOSE 8080

# `repairman healthcheck` asks this instance's own /healthz (HTTP_ADDRESS, HTTP_PORT and
# HTTP_PREFIX from the environment) and exits 0 or 1. Exec form: no shell needed.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "/app/dist/src/cli.js", "healthcheck"]

# Node is PID 1 and handles SIGTERM/SIGINT itself (Repairman's own handlers: it stops within a
# second and exits 0), so no init process is needed. Arguments after the image name replace `run`:
#   docker run ... repairman:latest run --debug     docker run ... repairman:latest status
ENTRYPOINT ["node", "/app/dist/src/cli.js"]
CMD ["run"]
