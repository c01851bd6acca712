import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary } from '../docker/types.js';
import { composeLabelsDiffer, containerName, findDuplicates, inNamespace, namespaceNameFilter, splitPrefixes, type DuplicateMatch, type MatchOptions } from './matcher.js';

// An explicit clock: every container below was created at BASE_SEC unless said otherwise, and "now"
// is an hour later, far past the grace.
const BASE_SEC = Date.UTC(2024, 0, 1) / 1000;
const NOW_MS = (BASE_SEC + 3600) * 1000;

const HEX_A = '0123456789ab';
const HEX_B = 'fedcba987654';
let seq = 0;
function id(prefix?: string): string {
  seq++;
  const tail = seq.toString(16).padStart(64, '0');
  return prefix ? (prefix + tail).slice(0, 64) : tail;
}

function ctr(name: string, opts: { labels?: Record<string, string>; created?: number; state?: string; id?: string; names?: string[] } = {}): ContainerSummary {
  return {
    Id: opts.id ?? id(),
    Names: opts.names ?? [`/${name}`],
    Image: 'repairman-test:latest',
    Created: opts.created ?? BASE_SEC,
    State: opts.state ?? 'running',
    Status: 'Up',
    // By default the compose labels of a service named like the container without its prefixes: a
    // duplicate needs them (docs/behaviour.md §4); tests about labels pass their own.
    Labels: opts.labels ?? { 'com.docker.compose.project': 'p', 'com.docker.compose.service': splitPrefixes(name).base },
  };
}

const compose = (project: string, service: string, extra: Record<string, string> = {}): Record<string, string> => ({
  'com.docker.compose.project': project,
  'com.docker.compose.service': service,
  'com.docker.compose.container-number': '1',
  ...extra,
});

const on: MatchOptions = { nowMs: NOW_MS, cleaningEnabled: () => true };
const names = (ds: DuplicateMatch[]): string[] => ds.map((d) => d.name);

describe('splitPrefixes', () => {
  const table: [string, string[], string][] = [
    [`${HEX_A}_web`, [HEX_A], 'web'],
    [`${HEX_A}_${HEX_B}_proj_web_1`, [HEX_A, HEX_B], 'proj_web_1'],
    [`${HEX_A}_proj-web-1`, [HEX_A], 'proj-web-1'],
    ['web', [], 'web'],
    ['abcdefghijkl_web', [], 'abcdefghijkl_web'], // 12 characters, not hex
    ['0123456789a_web', [], '0123456789a_web'], // 11 hex
    ['0123456789abc_web', [], '0123456789abc_web'], // 13 hex
    ['0123456789AB_web', [], '0123456789AB_web'], // uppercase is not a docker id
    [`${HEX_A}-web`, [], `${HEX_A}-web`], // dash, not underscore
    [`${HEX_A}_`, [], `${HEX_A}_`], // nothing behind the prefix
    [`${HEX_A}_${HEX_B}`, [HEX_A], HEX_B], // the rest is a name, not a prefix (no underscore after it)
    [`x${HEX_A}_web`, [], `x${HEX_A}_web`],
  ];
  for (const [name, prefixes, base] of table) {
    it(`${name} -> [${prefixes.join(',')}] + ${base}`, () => {
      assert.deepEqual(splitPrefixes(name), { prefixes, base });
    });
  }
});

describe('containerName', () => {
  it('strips the leading slash and prefers the canonical name over link aliases', () => {
    assert.equal(containerName({ Id: 'x', Names: ['/other/alias', '/web'] }), 'web');
    assert.equal(containerName({ Id: 'x', Names: ['/web'] }), 'web');
  });
  it('falls back to the id when the engine sends no names', () => {
    assert.equal(containerName({ Id: 'abc', Names: [] }), 'abc');
    assert.equal(containerName({ Id: 'abc', Names: undefined as unknown as string[] }), 'abc');
  });
});

describe('findDuplicates: which names are duplicates', () => {
  // [description, listing names, expected duplicate names]
  const table: [string, string[], string[]][] = [
    ['compose v1 style (underscores)', ['proj_web_1', `${HEX_A}_proj_web_1`], [`${HEX_A}_proj_web_1`]],
    ['compose v2 style (dashes)', ['proj-web-1', `${HEX_A}_proj-web-1`], [`${HEX_A}_proj-web-1`]],
    ['custom container_name', ['mydb', `${HEX_A}_mydb`], [`${HEX_A}_mydb`]],
    ['stacked prefixes', ['proj_web_1', `${HEX_B}_${HEX_A}_proj_web_1`], [`${HEX_B}_${HEX_A}_proj_web_1`]],
    ['single and stacked at once', ['web', `${HEX_A}_web`, `${HEX_B}_${HEX_A}_web`], [`${HEX_A}_web`, `${HEX_B}_${HEX_A}_web`]],
    ['no real container: not a duplicate', [`${HEX_A}_proj_web_1`], []],
    ['stacked with only the middle one present: the real one is the base name', [`${HEX_B}_${HEX_A}_web`, `${HEX_A}_web`], []],
    ['12 characters that are not hex', ['svc', 'abcdefghijkl_svc'], []],
    ['11 hex digits', ['svc', '0123456789a_svc'], []],
    ['13 hex digits', ['svc', '0123456789abc_svc'], []],
    ['uppercase hex', ['svc', '0123456789AB_svc'], []],
    ['a dash after the hex', ['svc', `${HEX_A}-svc`], []],
    ['hex inside the name, not in front', ['proj_svc', `proj_${HEX_A}_svc`], []],
    ['compose one-off suffix is not a prefix', ['proj_web', `proj_web_run_${HEX_A}`], []],
    ['project named with 12 hex is not stripped to a missing name', [`${HEX_A}_web_1`], []],
    ['similar but different base name', ['proj_web_10', `${HEX_A}_proj_web_1`], []],
    ['name that is only hex', [HEX_B, `${HEX_A}_${HEX_B}`], [`${HEX_A}_${HEX_B}`]],
  ];
  for (const [what, listing, expected] of table) {
    it(what, () => {
      const found = findDuplicates(listing.map((n) => ctr(n)), on);
      assert.deepEqual(names(found), [...expected].sort());
      for (const d of found) {
        assert.notEqual(d.duplicateOf.name, d.name, 'never the real container');
        assert.ok(listing.includes(d.duplicateOf.name), 'the real container is in the listing');
        assert.ok(!expected.includes(d.duplicateOf.name), 'a real container is never reported');
        assert.equal(d.heldBack, null);
      }
    });
  }

  it('never returns the real container, and points at it by id and name', () => {
    const real = ctr('proj_web_1');
    const dup = ctr(`${HEX_A}_proj_web_1`, { state: 'exited' });
    const [d, ...rest] = findDuplicates([dup, real], on);
    assert.equal(rest.length, 0);
    assert.ok(d);
    assert.equal(d.id, dup.Id);
    assert.deepEqual(d.duplicateOf, { id: real.Id, name: 'proj_web_1' });
    assert.equal(d.running, false);
    assert.equal(d.state, 'exited');
    assert.deepEqual(d.prefixes, [HEX_A]);
    assert.match(d.reason, /re-create prefix "0123456789ab_" in front of proj_web_1/);
  });

  it('reports running, paused and restarting duplicates as running', () => {
    for (const state of ['running', 'paused', 'restarting']) {
      const [d] = findDuplicates([ctr('w'), ctr(`${HEX_A}_w`, { state })], on);
      assert.equal(d?.running, true, state);
    }
    for (const state of ['exited', 'created', 'dead']) {
      const [d] = findDuplicates([ctr('w'), ctr(`${HEX_A}_w`, { state })], on);
      assert.equal(d?.running, false, state);
    }
  });

  it('skips a duplicate the engine is already removing', () => {
    assert.deepEqual(findDuplicates([ctr('w'), ctr(`${HEX_A}_w`, { state: 'removing' })], on), []);
  });

  it('describes stacked prefixes', () => {
    const [d] = findDuplicates([ctr('w'), ctr(`${HEX_B}_${HEX_A}_w`)], on);
    assert.match(d?.reason ?? '', /2 stacked re-create prefixes "fedcba987654_0123456789ab_"/);
  });

  it('uses the canonical name when link aliases are listed too', () => {
    const found = findDuplicates([ctr('w'), ctr(`${HEX_A}_w`, { names: ['/other/alias', `/${HEX_A}_w`] })], on);
    assert.deepEqual(names(found), [`${HEX_A}_w`]);
  });

  it('ignores entries without an id and tolerates missing labels', () => {
    const broken = { ...ctr(`${HEX_A}_w`), Id: '' };
    const noLabels = { ...ctr(`${HEX_B}_w`), Labels: null as unknown as Record<string, string> };
    assert.deepEqual(names(findDuplicates([ctr('w'), broken, noLabels], on)), [`${HEX_B}_w`]);
  });
});

describe('findDuplicates: compose labels', () => {
  const table: [string, Record<string, string>, Record<string, string>, boolean][] = [
    ['same project and service', compose('p', 'web'), compose('p', 'web'), false],
    ['neither carries compose labels (anyone can choose a hex-prefixed name)', {}, {}, true],
    ['the same project but no service on either side', { 'com.docker.compose.project': 'p' }, { 'com.docker.compose.project': 'p' }, true],
    ['different project', compose('p', 'web'), compose('q', 'web'), true],
    ['different service', compose('p', 'web'), compose('p', 'api'), true],
    ['only the duplicate carries them', compose('p', 'web'), {}, true],
    ['only the real one carries them', {}, compose('p', 'web'), true],
    ['only a project label on one side', { 'com.docker.compose.project': 'p' }, {}, true],
    ['other compose labels may differ', compose('p', 'web', { 'com.docker.compose.config-hash': 'a' }), compose('p', 'web', { 'com.docker.compose.config-hash': 'b' }), false],
  ];
  for (const [what, dupLabels, realLabels, held] of table) {
    it(`${what}: ${held ? 'held back' : 'removable'}`, () => {
      const [d] = findDuplicates([ctr('p_web_1', { labels: realLabels }), ctr(`${HEX_A}_p_web_1`, { labels: dupLabels })], on);
      assert.ok(d);
      assert.equal(d.holds.some((h) => h.code === 'compose_labels_differ'), held);
      assert.equal(d.heldBack === null, !held);
      assert.equal(composeLabelsDiffer(dupLabels, realLabels) !== null, held);
    });
  }
  it('names both sides in the reason', () => {
    assert.equal(
      composeLabelsDiffer(compose('p', 'web'), {}),
      'compose labels differ (duplicate: project "p", service "web"; real: no compose labels)',
    );
  });
});

describe('findDuplicates: com.docker.compose.replace', () => {
  const realId = id('aa11bb22cc33');
  const real = (): ContainerSummary => ctr('p-web-1', { id: realId, labels: compose('p', 'web') });
  const dupWith = (replace: string): ContainerSummary => ctr(`${realId.slice(0, 12)}_p-web-1`, { labels: compose('p', 'web', { 'com.docker.compose.replace': replace }) });

  const table: [string, string, boolean][] = [
    ['the full id of an existing container (compose v2)', realId, true],
    ['a 12-digit id prefix of an existing container', realId.slice(0, 12), true],
    ['the exact name of an existing container', 'p-web-1', true],
    ['<service>-<number> inside the project (older compose v2)', 'web-1', true],
    ['an id that no longer exists', 'f'.repeat(64), false],
    ['a name that no longer exists', 'p-web-7', false],
    ['an id prefix too short to trust', realId.slice(0, 6), false],
    ['empty', '', false],
  ];
  for (const [what, value, held] of table) {
    it(`${what}: ${held ? 'held back' : 'removable'}`, () => {
      const [d] = findDuplicates([real(), dupWith(value)], on);
      assert.ok(d);
      assert.equal(d.holds.some((h) => h.code === 'replace_pending'), held, d.heldBack ?? 'not held');
    });
  }

  it('a replace label naming the duplicate itself does not hold it back', () => {
    const dup = ctr(`${HEX_A}_p-web-1`, { labels: compose('p', 'web') });
    dup.Labels['com.docker.compose.replace'] = dup.Id;
    const [d] = findDuplicates([real(), dup], on);
    assert.equal(d?.heldBack, null);
  });

  it('a replace target that is a third container also holds it back', () => {
    const other = ctr('p-web-2', { labels: compose('p', 'web') });
    const [d] = findDuplicates([real(), other, dupWith(other.Id)], on);
    assert.match(d?.heldBack ?? '', /names p-web-2 .* still exists/);
  });
});

describe('findDuplicates: the grace for compose mid-way', () => {
  const run = (dupCreated: number, realCreated: number, nowMs: number, graceSec?: number): DuplicateMatch | undefined =>
    findDuplicates([ctr('w', { created: realCreated }), ctr(`${HEX_A}_w`, { created: dupCreated })], { ...on, nowMs, graceSec })[0];

  it('holds a duplicate younger than 60 s back until it is 60 s old', () => {
    const created = BASE_SEC + 1000;
    const young = run(created, BASE_SEC, (created + 59) * 1000);
    assert.match(young?.heldBack ?? '', /^it was created 59 s ago, less than the 60 s grace/);
    assert.equal(young?.releaseAtMs, (created + 60) * 1000);
    assert.equal(run(created, BASE_SEC, (created + 60) * 1000)?.heldBack, null);
  });

  it('holds back while the real container is young (compose v1 renames the old one, then creates the real one)', () => {
    const created = BASE_SEC + 1000;
    const d = run(BASE_SEC, created, (created + 10) * 1000);
    assert.match(d?.heldBack ?? '', /the real container w was created 10 s ago/);
    assert.equal(d?.releaseAtMs, (created + 60) * 1000);
  });

  it('uses the grace given', () => {
    const created = BASE_SEC + 1000;
    assert.notEqual(run(created, BASE_SEC, (created + 2) * 1000, 3)?.heldBack, null);
    assert.equal(run(created, BASE_SEC, (created + 3) * 1000, 3)?.heldBack, null);
  });

  it('an unknown creation time holds it back (bad input never causes a removal)', () => {
    const d = run(Number.NaN, BASE_SEC, NOW_MS);
    assert.equal(d?.holds[0]?.code, 'unknown_age');
    assert.equal(d?.releaseAtMs, null);
  });

  it('releaseAtMs is null when anything but age holds it back', () => {
    const created = BASE_SEC + 1000;
    const d = findDuplicates([ctr('w', { labels: compose('p', 'w') }), ctr(`${HEX_A}_w`, { created, labels: {} })], { ...on, nowMs: (created + 1) * 1000 })[0];
    assert.equal(d?.holds.length, 2);
    assert.equal(d?.releaseAtMs, null);
  });
});

describe('findDuplicates: cleaning enabled per real container', () => {
  it('asks about the REAL container, once per real container, with its labels', () => {
    const asked: [string, Record<string, string>][] = [];
    const realLabels = { ...compose('p', 'a'), 'org.riotkit.repairman.enable_cleaning_duplicated_services': 'true' };
    const found = findDuplicates(
      [ctr('a', { labels: realLabels }), ctr(`${HEX_A}_a`), ctr(`${HEX_B}_a`), ctr('b'), ctr(`${HEX_A}_b`)],
      { nowMs: NOW_MS, cleaningEnabled: (name, labels) => (asked.push([name, labels]), name === 'a') },
    );
    assert.deepEqual(asked.map(([n]) => n).sort(), ['a', 'b']);
    assert.deepEqual(asked.find(([n]) => n === 'a')?.[1], realLabels);
    const byName = Object.fromEntries(found.map((d) => [d.name, d.heldBack]));
    assert.equal(byName[`${HEX_A}_a`], null);
    assert.equal(byName[`${HEX_B}_a`], null);
    assert.equal(byName[`${HEX_A}_b`], 'enable_cleaning_duplicated_services is off for b');
  });

  it('only a strict true enables it', () => {
    const [d] = findDuplicates([ctr('a'), ctr(`${HEX_A}_a`)], { nowMs: NOW_MS, cleaningEnabled: () => 'yes' as unknown as boolean });
    assert.equal(d?.holds[0]?.code, 'cleaning_disabled');
  });

  it('joins every hold in heldBack', () => {
    const created = BASE_SEC + 1000;
    const [d] = findDuplicates([ctr('a', { labels: compose('p', 'a') }), ctr(`${HEX_A}_a`, { created, labels: {} })], {
      nowMs: (created + 1) * 1000,
      cleaningEnabled: () => false,
    });
    assert.deepEqual(d?.holds.map((h) => h.code), ['cleaning_disabled', 'compose_labels_differ', 'young']);
    assert.equal(d?.heldBack, d?.holds.map((h) => h.text).join('; '));
  });
});

describe('findDuplicates: output', () => {
  it('is sorted by name and independent of listing order', () => {
    const listing = [ctr(`${HEX_B}_a`), ctr('b'), ctr(`${HEX_A}_b`), ctr('a'), ctr(`${HEX_A}_a`)];
    const forward = names(findDuplicates(listing, on));
    const backward = names(findDuplicates([...listing].reverse(), on));
    assert.deepEqual(forward, [`${HEX_A}_a`, `${HEX_A}_b`, `${HEX_B}_a`]);
    assert.deepEqual(backward, forward);
  });
  it('an empty listing has no duplicates', () => {
    assert.deepEqual(findDuplicates([], on), []);
  });
});

describe('namespace', () => {
  const table: [string, string, boolean][] = [
    ['proj_web_1', 'proj', true],
    [`${HEX_A}_proj_web_1`, 'proj', true],
    [`${HEX_B}_${HEX_A}_proj_web_1`, 'proj', true],
    ['/proj_web_1', 'proj', true],
    ['other_web_1', 'proj', false],
    [`${HEX_A}_other`, 'proj', false],
    ['abcdefghijkl_proj', 'proj', false],
    ['anything', '', true],
  ];
  for (const [name, ns, expected] of table) {
    it(`${name} in "${ns}": ${expected}`, () => {
      assert.equal(inNamespace(name, ns), expected);
      const filter = namespaceNameFilter(ns);
      if (filter === null) assert.equal(ns, '');
      else assert.equal(new RegExp(filter).test(name.startsWith('/') ? name : `/${name}`), expected);
    });
  }
  it('escapes regular-expression characters of the namespace', () => {
    assert.equal(namespaceNameFilter('a.b+'), '^/([0-9a-f]{12}_)*a\\.b\\+');
    assert.equal(new RegExp(namespaceNameFilter('a.b') ?? '').test('/axb_1'), false);
  });
});
