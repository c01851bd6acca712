# Repairman's container image.
#
#   docker build -t repairman:latest .
#   docker run -d --name repairman -v /var/run/docker.sock:/var/run/docker.sock -p 8080:8080 repairman:latest
#
# Two stages: the build stage compiles the TypeScript (tsc is a dev dependency), the runtime stage gets
# only the compiled JavaScript and package.json. Repairman has no runtime dependency (its SQLite is
# Node's built-in node:sqlite), so there is no native code and nothing tied to one CPU architecture:
#   docker buildx build --platform linux/arm64,linux/amd64 -t <registry>/repairman:latest --push .
#
# Without a registry (an offline engine, Repairman's own tests), scripts/make-base-image.sh imports
# equivalent base images made from the npm registry's Node 24 binary and prints their names for --build-arg.
#
# Privileges, read before deploying: the Docker socket is root-equivalent. Whoever can talk to it
# can start a privileged container with the host's / mounted, so a non-root user inside this
# container that can reach the socket gains nothing in safety. Options, least privilege first:
#   1. A socket proxy that passes only the endpoints Repairman uses (_ping, version, events,
#      containers: list, inspect, logs, start, stop, restart, kill, delete; README "Security" has
#      each call and setting), with Repairman pointed at it over tcp:// and running as `node`: no
#      socket in this container at all. For example linuxserver/socket-proxy with CONTAINERS=1
#      ALLOW_RESTARTS=1 ALLOW_START=1 ALLOW_LOGS=1 (POST=0) and DOCKER_HOST=tcp://socket-proxy:2375
#      here. tecnativa/docker-socket-proxy refuses every restart unless POST=1. Removing compose
#      duplicates also needs DELETE, which both grant only with POST=1, and POST=1 lets a client
#      create containers again.
#   2. The socket mounted, running as the unprivileged `node` user (uid 1000) with the socket's
#      group added: `user: node` and `group_add: ["<gid of /var/run/docker.sock on the host>"]`
#      (`stat -c %g /var/run/docker.sock`). Limits what a bug in Repairman itself can do to the
#      container's own filesystem, not what it can do through the socket.
#   3. The default below: root in the container with the socket mounted, so the quick start works
#      on any host without knowing the socket's group.

ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /src

# Dependencies first: this layer is reused until package.json or the lockfile change. Only the dev
# dependencies (tsc); the optional ones are the Node binary the tests run on, which this image has.
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --no-audit --no-fund

COPY tsconfig.json ./
COPY src ./src
# Build, then keep only what runs: no tests, no source maps.
RUN npm run build \
 && find dist -name '*.test.js' -delete \
 && find dist -name '*.map' -delete \
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
# package.json says "type": "module" (dist/ is ES modules); there is no node_modules to copy.
COPY --from=build /src/package.json /app/package.json
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
# --max-semi-space-size=1: V8's young generation stays at 1 MB instead of growing to 32 MB per
# semi-space, the largest part of RSS on a host with thousands of containers (BENCHMARKS.md "Scale").
ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/dist/src/cli.js"]
CMD ["run"]
