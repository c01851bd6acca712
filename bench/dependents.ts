// Dependents (docs/behaviour.md §10): the time from a provider running again to its dependent running
// again, both ends engine timestamps (the provider's `start` event, the dependent's `start` event after
// it), over trials of `docker restart` of the provider by hand. The dependent shares the provider's
// network namespace (`--network container:X`); the provider has no health check (no wait for one).
//
//   node dist/bench/dependents.js [--trials 10]   (REPAIRMAN_TEST_DOCKER_HOST: the private engine)
import { docker, runContainer, removeNamespace, uniqueNamespace } from '../test/helpers/engine.js';
import { engineEvents, engineNowSec, startRepairman } from '../test/helpers/repairman.js';
import { loadNow } from './lib/proc.js';

const SLEEP = 'trap "exit 0" TERM; sleep 100000 & wait';

async function main(): Promise<void> {
  const at = process.argv.indexOf('--trials');
  const trials = at > 0 ? Number(process.argv[at + 1]) : 10;
  const ns = uniqueNamespace('bench-deps');
  const x = `${ns}vpn`;
  const d = `${ns}torrent`;
  const rm = await startRepairman({ namespace: ns, args: ['--seconds-between-restarts', '0', '--max-restarts-in-frame', '0', '--max-checks-to-give-up', '0'] });
  const loads: number[] = [];
  const ms: number[] = [];
  try {
    await runContainer(x, { cmd: SLEEP, extra: ['--network', 'none'] });
    await runContainer(d, { cmd: SLEEP, extra: ['--network', `container:${x}`] });
    for (let i = 0; i < trials; i++) {
      const since = (await engineNowSec()) - 1;
      const seen = rm.find((l) => l.msg === 'dependent restarted' && l.container === d).length;
      await docker(['restart', '-t', '1', x]);
      await rm.waitForLog((l) => l.msg === 'dependent restarted' && l.container === d && rm.find((m) => m.msg === 'dependent restarted' && m.container === d).length > seen, 30_000);
      const events = await engineEvents({ since, until: (await engineNowSec()) + 1, filters: { event: ['start'] } });
      const xStart = events.filter((e) => e.Actor.Attributes.name === x).at(-1);
      const dStart = events.filter((e) => e.Actor.Attributes.name === d && xStart && e.timeNano > xStart.timeNano).at(-1);
      if (!xStart || !dStart) throw new Error(`trial ${i}: start events missing`);
      ms.push((dStart.timeNano - xStart.timeNano) / 1e6);
      loads.push(loadNow().load1);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await rm.stop();
    await removeNamespace(ns);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  const l = loadNow();
  console.log(JSON.stringify({
    trials, medianMs: Math.round(median), maxMs: Math.round(sorted.at(-1)!), minMs: Math.round(sorted[0]!),
    load1: { min: Math.min(...loads), max: Math.max(...loads) }, cores: l.cores, samplesMs: ms.map((v) => Math.round(v)),
  }));
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
