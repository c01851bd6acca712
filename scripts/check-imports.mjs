// The import-direction check, run by `npm run lint` and scripts/run-tests.sh (npm test, test:unit): every arrow points
// down and no file imports itself back. Fails (exit 1) naming each offending import.
//
// (a) Cycles: no import cycle between any two files of src/, test/ and bench/ (type-only imports
//     count: a cycle of types is still two modules that cannot be understood apart).
// (b) Layers: a file of src/ (tests excepted: they may set up anything) imports only from its own
//     folder or from a folder of a LOWER rank, never sideways or up, and never from outside src/.
//     A new folder needs a rank here before anything may import it.
//
// The ranks, highest first (`node scripts/check-imports.mjs --ranks` prints them), read from the
// code: the entry point over the commands over the running app, which wires the server, the state
// view and the core; the settings (config/) sit above the domains whose words and defaults they
// parse (notify's levels and targets, docker's default host), and below the core that reads them.
//   14 cli.ts       the entry point: dispatch, signals, exit
//   13 commands     one file per `repairman <command>`, the command table, --help and README text
//   12 app.ts       the running supervisor: wires everything below
//   11 http         the HTTP server and status page (reads state/)
//   10 state        the read-only view of the running state (StateView)
//    9 heal         the healer and the watcher
//    8 dedupe       compose leftovers: matcher and cleaner
//    7 config       the settings table, parsing, labels, load
//    6 notify       notification levels, targets, formats, delivery
//    5 journal      the journal (SQLite) and its entry types
//    4 budget       the restart budget (pure)
//    3 docker       the Docker Engine API client and its types
//    2 http-client  outgoing HTTP requests (node:http)
//    1 log          the logger
//    0 util, errors, metrics   leaves: no imports between them
//
// Usage: node scripts/check-imports.mjs [--root DIR] [--ranks]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Rank of each top-level entry of src/ (a folder, or a file directly in src/). */
export const RANKS = Object.freeze({
  'cli.ts': 14,
  commands: 13,
  'app.ts': 12,
  http: 11,
  state: 10,
  heal: 9,
  dedupe: 8,
  config: 7,
  notify: 6,
  journal: 5,
  budget: 4,
  docker: 3,
  'http-client': 2,
  'log.ts': 1,
  util: 0,
  'errors.ts': 0,
  metrics: 0,
});

/**
 * Known violations still tolerated, as "from -> to" (paths from the root). Empty: every one is a
 * failure. An entry that no longer occurs fails too, so the list only shrinks.
 */
export const ALLOWED = Object.freeze([]);

const SCANNED = ['src', 'test', 'bench'];
const isTest = (file) => /\.test\.ts$/.test(file);
const posix = (p) => p.split(sep).join('/');

function listTs(dir) {
  let out = [];
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(listTs(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** './x.js' from a file -> the .ts file it means, or undefined when not a file of ours. */
function resolveImport(fromFile, spec, files) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(fromFile), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (files.has(candidate)) return candidate;
  }
  return undefined;
}

/** The import graph: file -> [{ to, line }] for every relative import of a scanned file. */
export function importGraph(root) {
  const all = SCANNED.flatMap((d) => listTs(join(root, d)));
  const files = new Set(all);
  const graph = new Map();
  for (const file of all) {
    const text = readFileSync(file, 'utf8');
    const edges = [];
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      const to = resolveImport(file, ref.fileName, files);
      if (to) edges.push({ to, spec: ref.fileName, line: text.slice(0, ref.pos).split('\n').length });
    }
    graph.set(file, edges);
  }
  return graph;
}

/** Every cycle as a list of files, one per strongly connected component (Tarjan), shortest found. */
export function findCycles(graph) {
  let index = 0;
  const stack = [];
  const onStack = new Set();
  const idx = new Map();
  const low = new Map();
  const components = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!idx.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v), low.get(to)));
      } else if (onStack.has(to)) {
        low.set(v, Math.min(low.get(v), idx.get(to)));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).some((e) => e.to === v);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  // One concrete cycle per component: breadth-first from its first file back to itself.
  return components.map((component) => {
    const inside = new Set(component);
    const start = [...component].sort()[0];
    const prev = new Map();
    const queue = [start];
    while (queue.length) {
      const v = queue.shift();
      for (const { to } of graph.get(v) ?? []) {
        if (!inside.has(to)) continue;
        if (to === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(prev.get(path[0]));
          return [...path, start];
        }
        if (!prev.has(to)) {
          prev.set(to, v);
          queue.push(to);
        }
      }
    }
    return [start, start];
  });
}

/** The top-level entry of src/ a file belongs to ('heal', 'cli.ts'), or undefined outside src/. */
function layerOf(root, file) {
  const rel = posix(relative(join(root, 'src'), file));
  if (rel.startsWith('..')) return undefined;
  return rel.split('/')[0];
}

/** Every import of a src/ file (tests excepted) that goes sideways, up, or out of src/. */
export function findLayerViolations(root, graph, ranks = RANKS) {
  const problems = [];
  for (const [file, edges] of graph) {
    const from = layerOf(root, file);
    if (from === undefined || isTest(file)) continue;
    const where = (e) => `${posix(relative(root, file))}:${e.line} imports '${e.spec}'`;
    if (!(from in ranks)) {
      problems.push({ from: file, to: file, message: `${posix(relative(root, file))}: src/${from} has no rank in scripts/check-imports.mjs (RANKS): give it one` });
      continue;
    }
    for (const e of edges) {
      const to = layerOf(root, e.to);
      if (to === undefined) {
        problems.push({ from: file, to: e.to, message: `${where(e)}: code in src/ must not import from outside src/ (${posix(relative(root, e.to))})` });
        continue;
      }
      if (to === from) continue;
      if (!(to in ranks)) {
        problems.push({ from: file, to: e.to, message: `${where(e)}: src/${to} has no rank in scripts/check-imports.mjs (RANKS): give it one` });
        continue;
      }
      if (ranks[to] >= ranks[from]) {
        const how = ranks[to] === ranks[from] ? 'sideways' : 'upward';
        problems.push({
          from: file,
          to: e.to,
          message: `${where(e)}: ${how} import, ${from} (rank ${ranks[from]}) -> ${to} (rank ${ranks[to]}); only lower ranks may be imported`,
        });
      }
    }
  }
  return problems;
}

/** All problems as lines of text, the allow-list applied. Empty: the check passes. */
export function checkImports(root, { ranks = RANKS, allowed = ALLOWED } = {}) {
  const graph = importGraph(root);
  const rel = (f) => posix(relative(root, f));
  const lines = [];
  const used = new Set();
  const allow = (from, to) => {
    const key = `${rel(from)} -> ${rel(to)}`;
    if (!allowed.includes(key)) return false;
    used.add(key);
    return true;
  };
  for (const cycle of findCycles(graph)) {
    const pairs = cycle.slice(1).map((to, i) => [cycle[i], to]);
    if (pairs.some(([a, b]) => allow(a, b))) continue;
    lines.push(`import cycle: ${cycle.map(rel).join(' -> ')}`);
  }
  for (const p of findLayerViolations(root, graph, ranks)) {
    if (!allow(p.from, p.to)) lines.push(p.message);
  }
  for (const key of allowed) {
    if (!used.has(key)) lines.push(`allow-list entry no longer needed, remove it from scripts/check-imports.mjs (ALLOWED): ${key}`);
  }
  return lines;
}

function main(argv) {
  if (argv.includes('--ranks')) {
    const byRank = new Map();
    for (const [name, rank] of Object.entries(RANKS)) byRank.set(rank, [...(byRank.get(rank) ?? []), name]);
    for (const rank of [...byRank.keys()].sort((a, b) => b - a)) console.log(`${String(rank).padStart(2)}  ${byRank.get(rank).join(', ')}`);
    return 0;
  }
  const at = argv.indexOf('--root');
  const root = resolve(at >= 0 ? argv[at + 1] : join(dirname(fileURLToPath(import.meta.url)), '..'));
  const problems = checkImports(root);
  if (problems.length === 0) {
    console.log('imports: no cycles, every arrow points down');
    return 0;
  }
  console.error(`imports: ${problems.length} problem${problems.length === 1 ? '' : 's'} (the layers are in scripts/check-imports.mjs):`);
  for (const line of problems) console.error(`  ${line}`);
  return 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
