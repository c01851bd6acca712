// The README must stay true: its compose example is the working examples/docker-compose.yml (which
// the image tests start against a real engine), the files it links exist, and its architecture names
// the parts of src/ that exist, in the order of their layers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const root = new URL('../../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

it('README shows examples/docker-compose.yml exactly', () => {
  const compose = readFileSync(new URL('examples/docker-compose.yml', root), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'README has a yaml block');
  assert.equal(block, compose, 'copy examples/docker-compose.yml into the README yaml block');
});

it('the compose example watches the project its own command makes (issue 22: it watched "aarchive", the command made "examples")', () => {
  const compose = readFileSync(new URL('examples/docker-compose.yml', root), 'utf8');
  const project = /docker compose -p (\S+) -f examples\/docker-compose\.yml up/.exec(compose)?.[1];
  const namespace = /^\s+NAMESPACE: "([^"]*)"/m.exec(compose)?.[1];
  assert.ok(project, 'the example says how to start it, with a project name');
  assert.equal(namespace, project);
});

it('every relative link in the README points to a file of the repository', () => {
  const links = [...readme.matchAll(/\]\(([^)#\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
  assert.ok(links.length > 3);
  for (const l of links) assert.ok(existsSync(new URL(l, root)), `README links to ${l}, which does not exist`);
});

it('the command-line section lists every command of the command table', async () => {
  const { COMMANDS } = await import('../../src/commands/command-table.js');
  const block = /\n## Command line\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  assert.ok(block, 'README has a command-line block');
  for (const c of COMMANDS) {
    if (c.name === 'help' || c.name === 'version') continue;
    assert.match(block, new RegExp(`^repairman ${c.name === 'run' ? '\\[run\\]' : c.name}( |$)`, 'm'), `README's command-line block lists repairman ${c.name}`);
  }
});

it('README shows the two set-up commands', () => {
  assert.match(readme, /npm ci && npm test/);
  assert.match(readme, /npm ci && npm run build && node dist\/src\/cli\.js/);
});

describe('README architecture', () => {
  const section = /\n## Architecture\n([\s\S]*?)(?=\n## |$)/.exec(readme)?.[1] ?? '';
  const bullets = section.slice(0, section.indexOf('```'));
  const diagram = /```text\n([\s\S]*?)```/.exec(section)?.[1] ?? '';

  it('has a list of the parts of src/ and one picture of an event becoming a restart, a journal entry and a notification', () => {
    assert.ok(bullets.includes('- `src/cli.ts`'), 'the list of parts');
    for (const stop of ['Docker engine', 'heal/watcher.ts', 'restart / start', 'journal/journal.ts', 'notify/delivery.ts']) {
      assert.ok(diagram.includes(stop), `the picture shows ${stop}`);
    }
  });

  it('every file and folder it names exists (the picture names paths under src/)', () => {
    const named = [...bullets.matchAll(/`(src\/[\w./<>-]+)`/g)].map((m) => m[1]!).filter((p) => !p.includes('<'));
    const pictured = [...diagram.matchAll(/\b([a-z-]+\/[a-z-]+\.ts)\b/g)].map((m) => `src/${m[1]!}`);
    const heal = [...(/`src\/heal\/` — ([\s\S]*?)\n- /.exec(bullets)?.[1] ?? '').matchAll(/`([\w-]+\.ts)`/g)].map((m) => `src/heal/${m[1]!}`);
    assert.ok(named.length > 10 && pictured.length > 10 && heal.length > 10, `${named.length} ${pictured.length} ${heal.length}`);
    for (const p of [...named, ...pictured, ...heal]) assert.ok(existsSync(new URL(p, root)), `README architecture names ${p}, which does not exist`);
  });

  it('names every part of src/, from the top layer down, as scripts/check-imports.mjs ranks them', () => {
    const script = readFileSync(new URL('scripts/check-imports.mjs', root), 'utf8');
    const block = /export const RANKS = Object\.freeze\(\{([\s\S]*?)\}\)/.exec(script)?.[1] ?? '';
    const ranks = new Map([...block.matchAll(/'?([\w.-]+)'?: (\d+),/g)].map((m) => [m[1]!, Number(m[2])]));
    const parts = readdirSync(new URL('src/', root), { withFileTypes: true })
      .filter((e) => e.isDirectory() || (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')))
      .map((e) => e.name);
    assert.ok(parts.length > 10);
    const order = [...bullets.matchAll(/`src\/([\w.-]+?)\/?`/g)].map((m) => m[1]!).filter((p, i, all) => all.indexOf(p) === i);
    for (const p of parts) {
      assert.ok(order.includes(p), `README architecture does not name src/${p}`);
      assert.ok(ranks.has(p), `src/${p} has no rank in scripts/check-imports.mjs`);
    }
    const ranked = order.filter((p) => ranks.has(p));
    for (let i = 1; i < ranked.length; i++) {
      assert.ok(ranks.get(ranked[i]!)! <= ranks.get(ranked[i - 1]!)!, `README lists src/${ranked[i]} below src/${ranked[i - 1]}, but it ranks higher`);
    }
  });
});

describe('README first screen (issue 22: a newcomer needs what it is, a demo, the real command and the image)', () => {
  const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
  const section = (title: string): string => new RegExp(`\\n## ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n([\\s\\S]*?)(?=\\n## |$)`).exec(readme)?.[1] ?? '';

  it('opens with the demo, the real command and the image, in that order, before the details', () => {
    assert.deepEqual(headings.slice(0, 4), ['Try it: `npm run demo`', 'Run it', 'The image', 'Run the tests']);
    const intro = readme.slice(0, readme.indexOf('\n## '));
    assert.ok(intro.split('\n').filter((l) => l.trim() && !l.startsWith('#')).length <= 4, 'what it is, in a few lines');
  });

  it('the demo is an npm script running scripts/demo.sh, and the containers it lists are the ones the script makes', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts.demo ?? '', /bash scripts\/demo\.sh$/);
    const script = readFileSync(new URL('scripts/demo.sh', root), 'utf8');
    const demo = section('Try it: `npm run demo`');
    assert.match(demo, /```sh\nnpm run demo\n```/);
    const listed = [...demo.matchAll(/^\| `(demo-[a-z]+)` \|/gm)].map((m) => m[1]!);
    const made = [...script.matchAll(/^run "\$\{NS\}([a-z]+)"/gm)].map((m) => `demo-${m[1]!}`);
    assert.deepEqual([...listed].sort(), [...made].sort());
    // What the README promises about the private engine is what the scripts do.
    assert.match(demo, /\/tmp\/repairman-demo/);
    assert.match(script, /REPAIRMAN_DEMO_DIR:-\/tmp\/repairman-demo\}/);
    assert.match(script, /^export DOCKER_HOST="unix:\/\/\$DIR\/docker\.sock"$/m, 'every docker call goes to its own engine');
    assert.match(script, /trap 'cleanup; exit 0' INT TERM/);
    assert.match(script, /max_restarts_in_frame=3.*frame_size_in_seconds=60/s);
  });

  it('the image section says how to build offline and why published ports do not forward on the private engine', () => {
    const image = section('The image');
    assert.match(image, /docker build -t repairman:latest \./);
    assert.match(image, /`scripts\/make-base-image\.sh`/);
    const maker = readFileSync(new URL('scripts/make-base-image.sh', root), 'utf8');
    assert.match(maker, /BUILD_IMAGE=/);
    assert.match(maker, /RUNTIME_IMAGE=/);
    assert.match(image, /without a bridge and without iptables/);
    const engine = readFileSync(new URL('scripts/test-engine.sh', root), 'utf8');
    assert.match(engine, /--bridge=none --iptables=false/);
    assert.match(image, /--network host/);
  });

  it('the reference tables come after the architecture', () => {
    const at = (h: string): number => headings.indexOf(h);
    assert.ok(at('Architecture') > 0);
    assert.ok(at('Settings reference') > at('Architecture'));
    assert.ok(at('Error codes') > at('Architecture'));
  });

  it('keeps exactly two set-up commands: one runs Repairman, one runs the tests', () => {
    const setups = [...readme.matchAll(/^npm ci && .+$/gm)].map((m) => m[0]);
    assert.deepEqual(setups, ['npm ci && npm run build && node dist/src/cli.js', 'npm ci && npm test']);
  });
});

it('the Podman table names test files that exist, and every "yes" on Podman is a file the Podman matrix runs', () => {
  const section = /\n## Podman\n([\s\S]*?)(?=\n## |$)/.exec(readme)?.[1] ?? '';
  const rows = [...section.matchAll(/^\| (.+) \| (.+) \| (.+) \| (.+) \|$/gm)].slice(2).map((m) => ({ feature: m[1]!, test: m[2]!, podman: m[4]! }));
  assert.ok(rows.length >= 10, `${rows.length} rows`);
  const script = readFileSync(new URL('scripts/run-tests.sh', root), 'utf8');
  const matrix = (/^\s*matrix="([^"]+)"/m.exec(script)?.[1] ?? '').split(/\s+/);
  for (const row of rows) {
    const file = /^`([\w-]+)`$/.exec(row.test)?.[1];
    if (!file) continue;
    assert.ok(existsSync(new URL(`test/integration/${file}.test.ts`, root)), `README's Podman table names ${file}, which does not exist`);
    if (row.podman.startsWith('yes')) assert.ok(matrix.includes(file), `README says "${row.feature}" works on Podman, but ${file} is not in run-tests.sh's matrix`);
  }
});
