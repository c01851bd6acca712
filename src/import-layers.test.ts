// The import-direction check of `npm run lint` (scripts/check-imports.mjs), run as lint runs it, on
// tiny repositories in a temporary folder: it must fail on a cycle and on an import that goes up or
// sideways, name the offending import, and pass on a tree whose arrows all point down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/src/import-layers.test.js -> the repository's scripts/
const SCRIPT = fileURLToPath(new URL('../../scripts/check-imports.mjs', import.meta.url));

function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'rm-imports-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function check(root: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, '--root', root], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A small tree whose arrows all point down (commands -> config -> util, a test importing anything). */
const CLEAN = {
  'src/util/words.ts': 'export const WORD = "w";\n',
  'src/config/load.ts': "import { WORD } from '../util/words.js';\nexport const load = (): string => WORD;\n",
  'src/commands/run.ts': "import { load } from '../config/load.js';\nimport type { Kind } from './kind.js';\nexport const run = (k: Kind): string => load() + k;\n",
  'src/commands/kind.ts': 'export type Kind = string;\n',
  'src/util/words.test.ts': "import { run } from '../commands/run.js';\nimport { helper } from '../../test/helpers/h.js';\nrun(helper);\n",
  'test/helpers/h.ts': "export const helper = 'x';\n",
};

test('import check: passes when every arrow points down', (t) => {
  const root = repo(CLEAN);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const r = check(root);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /no cycles, every arrow points down/);
});

test('import check: fails on a cycle, naming its files in order', (t) => {
  const root = repo({
    ...CLEAN,
    // Three files of one folder (no layer is crossed): only the cycle check can see this.
    'src/config/a.ts': "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n",
    'src/config/b.ts': "import type { C } from './c.js';\nexport const b = (): number => 1 as C;\n",
    'src/config/c.ts': "import { a } from './a.js';\nexport type C = number;\nexport const c = a;\n",
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const r = check(root);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /import cycle: src\/config\/a\.ts -> src\/config\/b\.ts -> src\/config\/c\.ts -> src\/config\/a\.ts/);
  assert.match(r.out, /^imports: 1 problem /m);
});

test('import check: fails on an upward or sideways import, naming the file, the line and the ranks', (t) => {
  const root = repo({
    ...CLEAN,
    // util (rank 0) reaching up to config, with a dynamic import so that form is seen too.
    'src/util/up.ts': "// a comment mentioning from '../commands/run.js' is not an import\nexport const up = async (): Promise<unknown> => import('../config/load.js');\n",
    // errors.ts and util share rank 0: sideways.
    'src/errors.ts': "import { WORD } from './util/words.js';\nexport const E = WORD;\n",
    // Production code must not reach into test/.
    'src/config/leak.ts': "import { helper } from '../../test/helpers/h.js';\nexport const leak = helper;\n",
    // A folder nobody ranked.
    'src/newfolder/x.ts': "export const x = 1;\n",
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const r = check(root);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /src\/util\/up\.ts:2 imports '\.\.\/config\/load\.js': upward import, util \(rank 0\) -> config \(rank 7\)/);
  assert.match(r.out, /src\/errors\.ts:1 imports '\.\/util\/words\.js': sideways import, errors\.ts \(rank 0\) -> util \(rank 0\)/);
  assert.match(r.out, /src\/config\/leak\.ts:1 imports '\.\.\/\.\.\/test\/helpers\/h\.js': code in src\/ must not import from outside src\//);
  assert.match(r.out, /src\/newfolder has no rank/);
  assert.doesNotMatch(r.out, /commands\/run/, 'text in a comment is not an import');
  assert.match(r.out, /^imports: 4 problems /m);
});
