// The README must stay true: its compose example is the working examples/docker-compose.yml (which
// the image tests start against a real engine), and the files it links exist.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('../../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

it('README shows examples/docker-compose.yml exactly', () => {
  const compose = readFileSync(new URL('examples/docker-compose.yml', root), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'README has a yaml block');
  assert.equal(block, compose, 'copy examples/docker-compose.yml into the README yaml block');
});

it('every relative link in the README points to a file of the repository', () => {
  const links = [...readme.matchAll(/\]\(([^)#\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
  assert.ok(links.length > 3);
  for (const l of links) assert.ok(existsSync(new URL(l, root)), `README links to ${l}, which does not exist`);
});

it('README shows the two set-up commands', () => {
  assert.match(readme, /npm ci && npm test/);
  assert.match(readme, /npm ci && npm run build && node dist\/src\/cli\.js/);
});
