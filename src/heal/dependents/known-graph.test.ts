// The graph's knowledge of containers, and what it costs: with --namespace, containers created and
// started outside it are known from their events alone (no inspect each: a busy CI host's churn),
// yet still found as providers of a dependent inside it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ev, setup } from '../../../test/helpers/healer-setup.js';
import type { ContainerSummary } from '../../docker/types.js';
import { KnownGraph } from './known-graph.js';

const summary = (id: string, name: string, labels: Record<string, string> = {}, networkMode = ''): ContainerSummary =>
  ({ Id: id, Names: [`/${name}`], Image: 'x', Created: 0, State: 'running', Status: 'Up', Labels: labels, HostConfig: { NetworkMode: networkMode } }) as ContainerSummary;

describe('KnownGraph', () => {
  it('a provider known only by its event is found by a dependent naming it; removed and recreated, the old id is remembered', () => {
    const built: number[] = [];
    const k = new KnownGraph((g) => void built.push(g.edges.length));
    k.replaceAll([summary('id-app', 'ns-app', { 'org.riotkit.repairman.depends_on': 'vpn' }), summary('id-tor', 'ns-tor', {}, 'container:id-vpn1')]);
    k.fromEvent('id-vpn1', 'vpn', { 'com.example': 'x' });
    assert.deepEqual(k.graph().edges.map((e) => `${e.provider}<-${e.dependent}:${e.kind}`).sort(), ['vpn<-ns-app:label', 'vpn<-ns-tor:network']);
    k.fromEvent('id-vpn1', 'renamed-by-event', {});
    assert.equal(k.named('vpn')?.id, 'id-vpn1', 'an event never overwrites what is known');
    k.removed('id-vpn1', 'vpn');
    k.fromEvent('id-vpn2', 'vpn', {});
    assert.equal(k.departedName('id-vpn1'), 'vpn');
    assert.equal(k.named('vpn')?.id, 'id-vpn2');
    k.renamed('id-vpn2', 'vpn-new');
    assert.equal(k.named('vpn'), undefined);
    assert.ok(built.length >= 2, 'each change builds the graph again');
  });
});

describe('dependents: containers outside --namespace cost no inspect', () => {
  it('create and start events outside the namespace are not inspected; inside they are', async () => {
    const s = setup({ settings: { namespace: 'ns-' } });
    const outside = s.engine.add({ name: 'ci-job-1' });
    const inside = s.engine.add({ name: 'ns-web' });
    for (const c of [outside, inside]) {
      s.healer.handleEvent(ev('create', c));
      s.healer.handleEvent(ev('start', c));
    }
    await s.clock.advance(0);
    assert.equal(s.engine.count(`inspect ${outside.id}`), 0, s.engine.calls.join('\n'));
    assert.ok(s.engine.count(`inspect ${inside.id}`) >= 1);
    assert.equal(s.healer.dependencyViewOf('ci-job-1').dependents.length, 0);
    await s.healer.stop();
  });

  it('a provider outside the namespace, known from its events, still has its dependent inside restarted after it starts', async () => {
    const s = setup({ settings: { namespace: 'ns-' } });
    const app = s.engine.add({ name: 'ns-app', labels: { 'org.riotkit.repairman.depends_on': 'vpn' }, startedAt: new Date(s.clock.now() - 60_000).toISOString() });
    await s.healer.recheck('full');
    const vpn = s.engine.add({ name: 'vpn', startedAt: new Date(s.clock.now()).toISOString() });
    s.healer.handleEvent(ev('create', vpn));
    s.healer.handleEvent(ev('start', vpn));
    await s.clock.advance(0);
    await s.clock.advance(1_000);
    assert.deepEqual(s.healer.dependencyViewOf('ns-app').providers.map((p) => p.name), ['vpn']);
    assert.equal(s.engine.count(`restart ${app.name}`), 1, s.engine.calls.join('\n'));
    await s.healer.stop();
  });
});
