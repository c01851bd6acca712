// Docs drift: README.md's settings and error tables must be exactly what the code generates
// (fix with `npm run docs`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { regenerateReadme } from './render.js';

test('README.md settings and error tables match the code (run `npm run docs` to fix)', () => {
  // dist/src/commands/docs.test.js -> repository root
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const expected = regenerateReadme(readme);
  if (expected !== readme) {
    const a = readme.split('\n');
    const b = expected.split('\n');
    const at = a.findIndex((line, i) => line !== b[i]);
    assert.fail(`README.md differs from the code at line ${at + 1}:\n  README: ${a[at]}\n  code:   ${b[at]}\nRun \`npm run docs\` and commit README.md.`);
  }
});
