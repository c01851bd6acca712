// `npm run docs`: rewrite README.md's generated sections (settings and error tables) from the code.
// Runs on the build (dist/); src/commands/docs.test.ts fails when README.md and the code disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { regenerateReadme } from '../dist/src/commands/render.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = regenerateReadme(before);
if (after === before) {
  console.log('README.md is up to date');
} else {
  writeFileSync(path, after);
  console.log('README.md updated');
}
