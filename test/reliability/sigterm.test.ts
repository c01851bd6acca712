// Reliability: SIGTERM under load ends Repairman with exit code 0 within a second (docs/behaviour.md §7), however
// busy it is: containers flapping (restarts in flight, some of them slow: a 5 s stop timeout), a
// notification receiver that never answers (deliveries in flight), HTTP clients holding keep-alive
// connections and asking all the time, and a database file being written. Several rounds, each
// stopped at a random moment; the database must open cleanly after each, and hold exactly one
// journal entry for every restart Repairman asked of the engine, the abandoned ones included (with
// no restart marker left behind for the next start).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openJournal } from '../../src/journal/journal.js';
import type { JournalEntry } from '../../src/journal/types.js';
import { hasTestEngine, removeNamespace, runContainer, uniqueNamespace } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startRepairman } from '../helpers/repairman.js';
import { assertNoCrashLogged, sleep } from './helpers/observe.js';
import { report } from './helpers/report.js';

const ROUNDS = Number(process.env.REPAIRMAN_SIGTERM_ROUNDS ?? 6);
const FLAP_CMD = 'touch /tmp/ok; trap "exit 0" TERM; (sleep 2; rm -f /tmp/ok) & sleep 100000 & wait';
const SLOW_FLAP_CMD = 'touch /tmp/ok; trap "" TERM; (sleep 2; rm -f /tmp/ok) & while true; do sleep 1; done';

describe(`reliability: SIGTERM under load, ${ROUNDS} times`, { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('rel-term');
  const dir = mkdtempSync(join(tmpdir(), 'rm-rel-term-'));
  const dbPath = join(dir, 'repairman.db');
  let rx: Receiver;

  before(async () => {
    rx = await startReceiver({ fallback: { hang: true } });
    for (let i = 1; i <= 4; i++) await runContainer(`${ns}flap${i}`, { cmd: FLAP_CMD, health: { cmd: 'test -f /tmp/ok' } });
    for (let i = 1; i <= 2; i++) {
      await runContainer(`${ns}slow${i}`, { cmd: SLOW_FLAP_CMD, health: { cmd: 'test -f /tmp/ok' }, labels: { 'org.riotkit.repairman.stop_timeout': '5' } });
    }
  });
  after(async () => {
    await removeNamespace(ns);
    await rx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 within a second, every time', async () => {
    const results: string[] = [];
    const times: number[] = [];
    let lastNum = 0;
    let abandonedJournaled = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const rm = await startRepairman({
        namespace: ns,
        http: true,
        dbPath,
        intervalSec: 2,
        args: ['--seconds-between-restarts', '1', '--max-restarts-in-frame', '0', '--max-checks-to-give-up', '0', '--notify-level', 'DEBUG', '--notify-url', rx.url('/hang')],
      });
      // HTTP clients: keep-alive connections, asking every 50 ms until the end.
      const agent = new Agent({ keepAlive: true, maxSockets: 4 });
      let asking = true;
      const ask = async (): Promise<void> => {
        while (asking) {
          await new Promise<void>((resolve) => {
            const req = request({ host: '127.0.0.1', port: rm.httpPort!, path: '/api/containers', agent }, (res) => {
              res.resume();
              res.on('end', resolve);
              res.on('error', () => resolve());
            });
            req.on('error', () => resolve());
            req.setTimeout(2000, () => req.destroy());
            req.end();
          });
          await sleep(50);
        }
      };
      const clients = [ask(), ask(), ask()];
      // Stop at a random moment, preferably with restarts in flight.
      await sleep(1_500 + Math.random() * 4_000);
      const inFlight = rm.find('restarting').length - rm.find((l) => l.msg === 'restarted' || l.msg === 'restart failed').length;
      assertNoCrashLogged(rm);
      const exit = await rm.stop(5_000);
      // Its stdout read to the end (the exit can be reported before the last lines are).
      if (!rm.child.stdout!.readableEnded) await new Promise<void>((resolve) => {
        rm.child.stdout!.once('end', () => resolve());
        rm.child.stdout!.once('close', () => resolve());
      });
      asking = false;
      await Promise.all(clients);
      agent.destroy();
      times.push(exit.ms);
      const forced = rm.find('shutdown did not finish in time: exiting now').length > 0;
      results.push(`${exit.ms} ms${forced ? ' (grace timer)' : ''}, ${inFlight} restarts in flight`);
      assert.equal(exit.code, 0, `round ${round}: exit code ${exit.code} (signal ${exit.signal})\n${rm.dump()}`);
      assert.ok(exit.ms <= 1_000, `round ${round}: exited ${exit.ms} ms after SIGTERM`);
      assertNoCrashLogged(rm);
      const j = openJournal({ dbPath });
      let markers: string[];
      let fresh: JournalEntry[];
      try {
        markers = [...j.loadBudgets()].filter(([, b]) => b.inFlight).map(([name]) => name);
        fresh = j.list({ limit: 100_000 }).filter((e) => e.num > lastNum);
        lastNum = j.lastNum();
      } finally {
        j.close();
      }
      // Every restart asked of the engine ("restarting" is logged once its marker is saved) has one
      // entry: a restart or a failed one, those abandoned at the stop included. Markers a forced exit
      // left behind are journaled at the next start (interrupted: killed): not this round's.
      const requested = rm.find((l) => l.msg === 'restarting' || (l.msg === 'starting' && l.container !== undefined)).length;
      const journaled = fresh.filter((e) => (e.kind === 'restart' || e.kind === 'restart_failed') && e.details?.interrupted !== 'killed');
      const abandoned = journaled.filter((e) => e.details?.interrupted === 'stopped').length;
      abandonedJournaled += abandoned;
      results[results.length - 1] += ` (${abandoned} journaled as abandoned)`;
      if (!forced) {
        assert.deepEqual(markers, [], `round ${round}: restart markers left in the database`);
        assert.equal(journaled.length, requested, `round ${round}: ${requested} restarts asked of the engine, ${journaled.length} journaled: ${JSON.stringify(journaled)}`);
      }
    }
    report('SIGTERM', `${ROUNDS} rounds under load: ${results.join('; ')}; slowest ${Math.max(...times)} ms; ${abandonedJournaled} abandoned restarts journaled`, { times });
  });
});
