// Every reference to the behaviour contract names a section that exists in docs/behaviour.md, in one
// form: `docs/behaviour.md §2.2` (several: `docs/behaviour.md §1, §5`). The contract used to live
// outside the repository as "SPEC n"; such a leftover, a bare "§n" or a "section n" fails too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { COMMANDS } from './commands/command-table.js';
import { renderHelp } from './commands/render.js';

const CONTRACT = 'docs/behaviour.md';

/** The section numbers of the contract: "1" for "## 1. Settings", "2.2" for "### 2.2 Crashed ...". */
function contractSections(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#{2,3} (\d+(?:\.\d+)*)\.? /gm)].map((m) => m[1]!));
}

interface BadReference {
  line: number;
  text: string;
  problem: string;
}

// `docs/behaviour.md` followed by one or more `§n`: "§1, §5", "§2.2 and §2.3".
const REFERENCE = /docs\/behaviour\.md((?:(?:,| and)? §\d+(?:\.\d+)*)+)/g;

/**
 * The references in `text` that are wrong: a section `sections` lacks, a "SPEC" leftover, or a form
 * other than the one above. In the contract itself (`isContract`) a bare "§n" and "section" are prose.
 */
function badReferences(text: string, sections: ReadonlySet<string>, isContract = false): BadReference[] {
  const bad: BadReference[] = [];
  const lineOf = (index: number): number => text.slice(0, index).split('\n').length;
  const report = (index: number, length: number, problem: string): void => {
    bad.push({ line: lineOf(index), text: text.slice(index, index + length), problem });
  };
  const covered = new Set<number>();
  for (const m of text.matchAll(REFERENCE)) {
    for (const s of m[1]!.matchAll(/§(\d+(?:\.\d+)*)/g)) {
      const at = m.index + CONTRACT.length + s.index;
      covered.add(at);
      if (!sections.has(s[1]!)) report(at, s[0].length, `${CONTRACT} has no section ${s[1]}`);
    }
  }
  for (const s of text.matchAll(/§(\d+(?:\.\d+)*)?/g)) {
    if (covered.has(s.index)) continue;
    if (!isContract) report(s.index, s[0].length, `write a reference as "${CONTRACT} §n"`);
    else if (s[1] === undefined || !sections.has(s[1])) report(s.index, s[0].length, `${CONTRACT} has no section ${s[1] ?? '(none given)'}`);
  }
  for (const m of text.matchAll(/\bSPEC\b|\b[Tt]he spec\b/g)) {
    report(m.index, m[0].length, `the contract is ${CONTRACT} now: write "${CONTRACT} §n"`);
  }
  if (!isContract) {
    for (const m of text.matchAll(/\bsections? \d+(?:\.\d+)*/gi)) report(m.index, m[0].length, `write a reference as "${CONTRACT} §n"`);
  }
  return bad;
}

// dist/src/docs-references.test.js -> the repository root.
const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

// What is scanned: the code, its tests, scripts and examples, the documents, and the generated --help.
const SCANNED = ['src', 'test', 'bench', 'scripts', 'examples', 'docs', 'README.md', 'BENCHMARKS.md', 'RELIABILITY.md', 'Dockerfile'];

function filesUnder(path: string): string[] {
  if (!statSync(new URL(path, root)).isDirectory()) return [path];
  return readdirSync(new URL(`${path}/`, root))
    .sort()
    .flatMap((name) => filesUnder(`${path}/${name}`));
}

const TEXT = /(\.(md|ts|mjs|js|sh|ya?ml|json)|Dockerfile)$/;

describe('references to docs/behaviour.md', () => {
  const sections = contractSections(read(CONTRACT));

  it('finds the sections of the contract, 1 to 12 with their sub-sections', () => {
    for (const s of ['1', '2', '2.1', '2.2', '2.3', '2.4', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']) {
      assert.ok(sections.has(s), `section ${s} is missing from ${CONTRACT}`);
    }
  });

  it('reports a missing section, a SPEC leftover and a reference in another form (fixture)', () => {
    const fixture = [
      '// Fine: docs/behaviour.md §2.2, and a list: docs/behaviour.md §1, §5 and docs/behaviour.md §2.3 and §7.',
      '// No such section: docs/behaviour.md §13, nor docs/behaviour.md §2.9.',
      '// A list with one bad member: docs/behaviour.md §4, §99.',
      '// Leftovers: (SPEC 3) and SPEC section 4, where the spec is silent.',
      '// Other forms: behaviour §2.2, section 5.',
    ].join('\n');
    const found = badReferences(fixture, new Set(['1', '2.2', '2.3', '4', '5', '7']));
    const summary = found.map((b) => `${b.line}:${b.text}`);
    assert.deepEqual(summary, [
      '2:§13', '2:§2.9', '3:§99',
      '5:§2.2',
      '4:SPEC', '4:SPEC', '4:the spec',
      '4:section 4', '5:section 5',
    ]);
    assert.match(found[0]!.problem, /has no section 13/);
    assert.deepEqual(badReferences('docs/behaviour.md §2.2 and docs/behaviour.md', new Set(['2.2'])), []);
  });

  it('reports a bare § to a missing section inside the contract itself, and lets its prose say "section"', () => {
    const found = badReferences('length of the frame (§3); see §14. Sections 9 to 12 are planned.', new Set(['3']), true);
    assert.deepEqual(found.map((b) => b.text), ['§14']);
  });

  // This file spells out the wrong forms on purpose.
  const files = SCANNED.flatMap(filesUnder).filter((f) => TEXT.test(f) && f !== 'src/docs-references.test.ts');
  it('scans the files it should', () => {
    for (const f of [CONTRACT, 'README.md', 'Dockerfile', 'src/cli.ts', 'src/heal/healer.ts', 'test/docs/readme.test.ts']) {
      assert.ok(files.includes(f), `${f} is not scanned`);
    }
    assert.ok(files.length > 200, String(files.length));
  });

  for (const file of files) {
    it(`${file}: every reference names a section that exists`, () => {
      const bad = badReferences(read(file), sections, file === CONTRACT);
      assert.deepEqual(bad.map((b) => `${file}:${b.line}: "${b.text}": ${b.problem}`), []);
    });
  }

  it('the generated --help of every command: every reference names a section that exists', () => {
    for (const command of [undefined, ...COMMANDS.map((c) => c.name)]) {
      const help = renderHelp('0.0.0', command);
      const bad = badReferences(help, sections);
      assert.deepEqual(bad.map((b) => `repairman ${command ?? ''} --help:${b.line}: "${b.text}": ${b.problem}`), []);
    }
  });

  it('--help points at the contract (so this test reads what users read)', () => {
    assert.match(renderHelp('0.0.0'), /docs\/behaviour\.md §4/);
  });
});
