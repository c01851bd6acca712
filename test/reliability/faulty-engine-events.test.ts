// Reliability: the engine's event stream misbehaves. A stream that stalls (connected, then silent, or
// never even answering) must not stop healing: the --interval re-check is the safety net. Garbage in
// the stream (random bytes, invalid UTF-8, half JSON, a 2 MB line, objects that are not events,
// forged events about a healthy container, events with absurd times) must be skipped without a crash,
// must not get anything restarted, and must not break the next reconnection.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { docker, hasTestEngine, waitFor } from '../helpers/engine.js';
import type { LogLine } from '../helpers/repairman.js';
import { behindProxy, PATHS } from './helpers/behind-proxy.js';
import { assertAliveAndClean, sleep } from './helpers/observe.js';
import { report } from './helpers/report.js';

const ms = (l: LogLine): number => Date.parse(l.time);
const skip = !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set';

describe('reliability: a stalled event stream', { skip }, () => {
  it('connected but silent, or not answering at all: the interval re-check keeps healing', async () => {
    // --interval 2: the safety net is what heals here.
    const s = await behindProxy('rel-stall', { intervalSec: 2, args: ['--seconds-between-restarts', '1', '--max-restarts-in-frame', '0', '--max-checks-to-give-up', '0'] });
    try {
      const { rm, px } = s;
      // 1. The stream connects and then says nothing, ever.
      await waitFor('the event stream connected', () => px.calls(PATHS.events).length >= 1, 10_000);
      px.rule({ method: 'GET', path: PATHS.events }, { kind: 'stall' });
      px.dropConnections();
      // (The client may retry a request cut on a reused connection by itself: look at the proxy, not the log.)
      await waitFor('the stream reconnected into the stall', () => px.calls(PATHS.events).some((c) => c.fault === 'stall'), 15_000);
      await sleep(4_000);
      const t1 = Date.now();
      s.breakSick();
      const r1 = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === s.sick && ms(l) >= t1, 10_000);
      await s.waitHealthy(s.sick);
      // 2. The stream request is never answered: it fails at the call deadline and is retried.
      px.clear();
      px.rule({ method: 'GET', path: PATHS.events }, { kind: 'hang' });
      px.dropConnections();
      await waitFor('the stream reconnected into the hang', () => px.calls(PATHS.events).some((c) => c.fault === 'hang'), 15_000);
      const t2 = Date.now();
      s.breakCrash();
      const r2 = await rm.waitForLog((l) => l.msg === 'started' && l.container === s.crash && ms(l) >= t2, 10_000);
      const broke = await rm.waitForLog((l) => l.msg === 'event stream broke, reconnecting' && l.code === 'RM_ENGINE_TIMEOUT', 20_000);
      assert.match(String(broke.error), /GET \/events: the engine at \S+ did not answer within 10000 ms/);
      assert.equal((await docker(['inspect', '--format', '{{.State.Status}}', s.calm])), 'running');
      assert.deepEqual(rm.actionsOn(s.calm), []);
      assertAliveAndClean(rm);
      report('event stream stalled', `silent stream: unhealthy restarted ${ms(r1) - t1} ms after (interval 2 s); unanswered stream: crash started ${ms(r2) - t2} ms after, the stream call failed at its 10 s deadline and was retried`);
    } finally {
      await s.close();
    }
  });
});

describe('reliability: garbage in the event stream', { skip }, () => {
  it('is skipped: no crash, nothing restarted on its word, and the stream still reconnects', async () => {
    // --interval 30: reactions below come from events, not from the safety net.
    const s = await behindProxy('rel-evgarbage', { intervalSec: 30, args: ['--seconds-between-restarts', '1', '--max-restarts-in-frame', '0', '--max-checks-to-give-up', '0'] });
    try {
      const { rm, px } = s;
      const calmId = await docker(['inspect', '--format', '{{.Id}}', s.calm]);
      const sickId = await docker(['inspect', '--format', '{{.Id}}', s.sick]);
      const now = Math.floor(Date.now() / 1000);
      const forged = (action: string, id: string, name: string, attrs: Record<string, string> = {}, time: number = now): Buffer =>
        Buffer.from(JSON.stringify({ Type: 'container', Action: action, Actor: { ID: id, Attributes: { name, image: 'x', ...attrs } }, time, timeNano: time * 1e9 }) + '\n');
      let round = 0;
      const garbage = (): Buffer[] => {
        round++;
        return [
          Buffer.concat([randomBytes(64).map((b) => (b === 0x0a ? 0x20 : b)), Buffer.from('\n')]),
          Buffer.from('{\n'),
          Buffer.from('{"Type":"container"}\n'),
          Buffer.from('[1,2,3]\n'),
          Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x0a]), // invalid UTF-8
          Buffer.from('<html>502 Bad Gateway</html>\n'),
          forged('health_status: unhealthy', calmId, s.calm),
          forged('die', calmId, s.calm, { exitCode: '3' }),
          forged('oom', calmId, s.calm),
          forged('health_status: unhealthy', calmId, s.calm, {}, 1e300),
          forged('start', calmId, s.calm, {}, -5),
          ...(round % 10 === 0 ? [Buffer.concat([Buffer.alloc(2 * 1024 * 1024, 0x61), Buffer.from('\n')])] : []),
          ...(round === 3 ? [forged('destroy', sickId, s.sick), forged('rename', sickId, s.sick, { oldName: s.sick.replace('sick', 'old') })] : []),
        ];
      };
      await waitFor('the event stream connected', () => px.calls(PATHS.events).length >= 1, 10_000);
      px.rule({ method: 'GET', path: PATHS.events }, { kind: 'inject', lines: garbage, everyMs: 100 });
      px.dropConnections();
      await waitFor('the stream reconnected into the garbage', () => px.calls(PATHS.events).some((c) => c.fault === 'inject'), 15_000);
      const t0 = Date.now();
      await sleep(6_000);
      assert.ok(round >= 20, `garbage rounds sent: ${round}`);
      assert.deepEqual(s.actionsSince(t0), [], 'nothing acted on forged or broken events');
      assertAliveAndClean(rm);

      // The real events between the garbage still work...
      const t1 = Date.now();
      s.breakSick();
      const r1 = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === s.sick && ms(l) >= t1, 10_000);
      await s.waitHealthy(s.sick);
      // ...and so does the next reconnection, after events with absurd times went by.
      px.dropConnections();
      await sleep(4_000);
      const t2 = Date.now();
      s.breakSick();
      const r2 = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === s.sick && ms(l) >= t2, 10_000);
      await s.waitHealthy(s.sick);
      px.clear();
      assert.deepEqual(rm.actionsOn(s.calm), []);
      assertAliveAndClean(rm);
      report('event stream garbage', `${round} rounds of 11-13 garbage lines (every 100 ms): nothing restarted; a real incident between them restarted in ${ms(r1) - t1} ms; after a reconnection in ${ms(r2) - t2} ms`);
    } finally {
      await s.close();
    }
  });
});
