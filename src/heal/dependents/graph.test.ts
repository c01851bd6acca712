// The dependency graph alone (docs/behaviour.md §10): each kind of edge by example, cycles, and fast-check
// properties of the order (providers first, every reachable dependent once, cycles never followed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildGraph, composeRestartServices, dependencyView, dependentsInOrder, findCycles, GRAPH_LABELS, graphNode, parseDependsOnNames, type GraphNode } from './graph.js';

const node = (name: string, over: Partial<GraphNode> = {}): GraphNode => ({ id: `${name}-id`.padEnd(64, '0'), name, networkMode: 'none', labels: {}, ...over });

describe('dependency graph: edges', () => {
  it('network mode container:<id>, container:<name> and an id prefix', () => {
    const vpn = node('vpn', { id: 'a'.repeat(64) });
    const g = buildGraph([
      vpn,
      node('torrent', { networkMode: `container:${vpn.id}` }),
      node('web', { networkMode: 'container:vpn' }),
      node('cli', { networkMode: 'container:aaaaaaaaaaaa' }),
      node('lost', { networkMode: `container:${'f'.repeat(64)}` }),
    ]);
    assert.deepEqual(g.dependentsOf('vpn').map((e) => [e.dependent, e.kind]), [['torrent', 'network'], ['web', 'network'], ['cli', 'network']]);
    assert.deepEqual(g.dangling, [{ dependent: 'lost', ref: 'f'.repeat(64) }]);
  });

  it('a network mode naming a removed id links to the container now holding its name (stale)', () => {
    const g = buildGraph([node('vpn', { id: 'b'.repeat(64) }), node('torrent', { networkMode: `container:${'a'.repeat(64)}` })], new Map([['a'.repeat(64), 'vpn']]));
    assert.deepEqual(g.providersOf('torrent'), [{ provider: 'vpn', dependent: 'torrent', kind: 'network', staleRef: 'a'.repeat(64) }]);
  });

  it('compose depends_on with restart:true in the same project only', () => {
    const lab = (project: string, service: string, deps?: string): Record<string, string> => ({
      'com.docker.compose.project': project, 'com.docker.compose.service': service, ...(deps ? { 'com.docker.compose.depends_on': deps } : {}),
    });
    const g = buildGraph([
      node('p_db_1', { labels: lab('p', 'db') }),
      node('q_db_1', { labels: lab('q', 'db') }),
      node('p_cache_1', { labels: lab('p', 'cache') }),
      node('p_app_1', { labels: lab('p', 'app', 'db:service_healthy:true,cache:service_started:false') }),
    ]);
    assert.deepEqual(g.providersOf('p_app_1').map((e) => [e.provider, e.kind]), [['p_db_1', 'compose']]);
    assert.deepEqual(composeRestartServices('a:service_started:true, b:service_healthy, c:x:TRUE'), ['a', 'c']);
  });

  it('the depends_on label: names that exist, untrusted text ignored', () => {
    const g = buildGraph([node('db'), node('api'), node('web', { labels: { 'org.riotkit.repairman.depends_on': 'db, /api,nosuch,,db' } })]);
    assert.deepEqual(g.providersOf('web').map((e) => e.provider), ['db', 'api']);
    assert.deepEqual(parseDependsOnNames(' a ,b c,,/d '), ['a', 'b', 'c', 'd']);
    assert.equal(parseDependsOnNames(Array.from({ length: 500 }, (_, i) => `n${i}`).join(',')).length, 64);
  });
});

describe('dependency graph: nodes', () => {
  it('a node keeps only the labels the graph reads, and gives the same edges as with all of them', () => {
    // A compose container as hosts have them: a few KB of labels the graph never reads.
    const bulky = (service: string, deps?: string): Record<string, string> => ({
      'com.docker.compose.project': 'p', 'com.docker.compose.service': service, 'com.docker.compose.config-hash': 'd'.repeat(64),
      'org.opencontainers.image.description': 'x'.repeat(3000), 'org.riotkit.repairman.max_restarts_in_frame': '3',
      ...(deps ? { 'com.docker.compose.depends_on': deps, 'org.riotkit.repairman.depends_on': 'p_cache_1' } : {}),
    });
    const raw = [
      { id: 'a'.repeat(64), name: 'p_db_1', mode: 'bridge', labels: bulky('db') },
      { id: 'b'.repeat(64), name: 'p_cache_1', mode: `container:${'a'.repeat(64)}`, labels: bulky('cache') },
      { id: 'c'.repeat(64), name: 'p_app_1', mode: 42, labels: bulky('app', 'db:service_healthy:true') },
    ];
    const slim = raw.map((r) => graphNode(r.id, r.name, r.mode, r.labels));
    const full: GraphNode[] = raw.map((r) => ({ id: r.id, name: r.name, networkMode: typeof r.mode === 'string' ? r.mode : '', labels: r.labels }));
    assert.deepEqual(slim[2], {
      id: 'c'.repeat(64), name: 'p_app_1', networkMode: '',
      labels: { 'org.riotkit.repairman.depends_on': 'p_cache_1', 'com.docker.compose.depends_on': 'db:service_healthy:true', 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'app' },
    });
    for (const n of slim) assert.ok(Object.keys(n.labels).every((k) => GRAPH_LABELS.includes(k)), n.name);
    assert.ok(JSON.stringify(slim).length < 1_000, 'no KB of unread labels kept');
    const edges = (g: ReturnType<typeof buildGraph>): string[] => g.edges.map((e) => `${e.provider}<-${e.dependent}:${e.kind}`).sort();
    assert.deepEqual(edges(buildGraph(slim)), edges(buildGraph(full)));
    assert.deepEqual(edges(buildGraph(slim)), ['p_cache_1<-p_app_1:label', 'p_db_1<-p_app_1:compose', 'p_db_1<-p_cache_1:network']);
    assert.deepEqual(graphNode('d', 'none', undefined, undefined), { id: 'd', name: 'none', networkMode: '', labels: {} });
  });
});

describe('dependency graph: order and cycles', () => {
  const label = (names: string): Record<string, string> => ({ 'org.riotkit.repairman.depends_on': names });

  it('a chain A <- B <- C is ordered B then C', () => {
    const g = buildGraph([node('c', { labels: label('b') }), node('b', { networkMode: 'container:a' }), node('a')]);
    assert.deepEqual(dependentsInOrder(g, 'a').map((d) => d.name), ['b', 'c']);
    assert.deepEqual(dependentsInOrder(g, 'b').map((d) => d.name), ['c']);
    assert.deepEqual(dependencyView(g, 'b'), { providers: [{ name: 'a', kinds: ['network'] }], dependents: [{ name: 'c', kinds: ['label'] }] });
  });

  it('a cycle is found, reported in the view and never followed', () => {
    const g = buildGraph([node('a'), node('x', { labels: label('a,y') }), node('y', { labels: label('x') }), node('z', { labels: label('y') }), node('self', { labels: label('self') })]);
    assert.deepEqual(g.cycles, [['self'], ['x', 'y']]);
    assert.deepEqual(dependentsInOrder(g, 'a'), []);
    assert.deepEqual(dependencyView(g, 'x').cycle, ['x', 'y']);
  });

  it('a long chain does not overflow the stack', () => {
    const n = 20_000;
    const names = Array.from({ length: n }, (_, i) => `c${i}`);
    assert.deepEqual(findCycles(names, (x) => (x === `c${n - 1}` ? ['c0'] : [`c${Number(x.slice(1)) + 1}`])).map((c) => c.length), [n]);
  });

  // Random graphs of up to 12 containers with label edges (which may form cycles).
  const arbGraph = fc.integer({ min: 1, max: 12 }).chain((n) =>
    fc.tuple(fc.constant(n), fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 30 }), fc.nat(n - 1)),
  );
  const build = (n: number, pairs: [number, number][]): ReturnType<typeof buildGraph> => {
    const deps = new Map<number, number[]>();
    for (const [p, d] of pairs) deps.set(d, [...(deps.get(d) ?? []), p]);
    return buildGraph(Array.from({ length: n }, (_, i) => node(`n${i}`, { labels: deps.has(i) ? label(deps.get(i)!.map((p) => `n${p}`).join(',')) : {} })));
  };

  it('property: providers come before their dependents, each once, no cycle member, only reachable ones', () => {
    fc.assert(fc.property(arbGraph, ([n, pairs, s]) => {
      const g = build(n, pairs);
      const start = `n${s}`;
      const order = dependentsInOrder(g, start).map((d) => d.name);
      assert.equal(new Set(order).size, order.length);
      assert.ok(!order.includes(start));
      for (const name of order) assert.ok(!g.inCycle(name), `${name} is in a cycle`);
      const at = new Map(order.map((name, i) => [name, i]));
      for (const e of g.edges) if (at.has(e.provider) && at.has(e.dependent)) assert.ok(at.get(e.provider)! < at.get(e.dependent)!);
      // Exactly what is reachable from start without passing through a cycle member.
      const reach = new Set<string>();
      const queue = [start];
      while (queue.length) {
        for (const e of g.dependentsOf(queue.shift()!)) {
          if (e.dependent === start || reach.has(e.dependent) || g.inCycle(e.dependent)) continue;
          reach.add(e.dependent);
          queue.push(e.dependent);
        }
      }
      assert.deepEqual([...order].sort(), [...reach].sort());
    }), { numRuns: 500 });
  });

  it('property: a cycle is exactly a set of containers that reach each other', () => {
    fc.assert(fc.property(arbGraph, ([n, pairs]) => {
      const g = build(n, pairs);
      const reaches = (a: string, b: string): boolean => {
        const seen = new Set<string>();
        const queue = [a];
        while (queue.length) {
          for (const e of g.dependentsOf(queue.shift()!)) {
            if (e.dependent === b) return true;
            if (!seen.has(e.dependent)) { seen.add(e.dependent); queue.push(e.dependent); }
          }
        }
        return false;
      };
      const names = Array.from({ length: n }, (_, i) => `n${i}`);
      for (const a of names) {
        const cyc = g.cycles.find((c) => c.includes(a));
        for (const b of names) {
          const together = cyc?.includes(b) ?? false;
          if (a === b) assert.equal(together, cyc !== undefined && (cyc.length > 1 || reaches(a, a)));
          else assert.equal(together, reaches(a, b) && reaches(b, a), `${a} ${b}`);
        }
      }
    }), { numRuns: 300 });
  });
});
