// What `explain` reads from the journal file alone (journalKnowledge): a stop or kill a Repairman on the
// file saw counts for the container id it was seen on, as the running healer would count it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeliberateStopMark } from '../../journal/types.js';
import { journalKnowledge } from './facts.js';

const NOW = Date.UTC(2026, 11, 3, 10, 0, 0);

function knowledge(stops: DeliberateStopMark[]): ReturnType<typeof journalKnowledge> {
  const journal = { loadBudget: () => null, pauses: () => [], lastAliveMs: () => NOW - 5000, deliberateStops: () => stops };
  return journalKnowledge(journal, { healExitedLookbackSec: 300 }, NOW);
}

describe('explain facts from the journal file: stops seen', () => {
  it('a docker stop or kill seen on this container id: stopped by hand', () => {
    const k = knowledge([
      { container: 'web', id: 'id-web', action: 'stop', signal: null, atMs: NOW - 3_600_000 },
      { container: 'job', id: 'id-job', action: 'kill', signal: 'SIGTERM', atMs: NOW - 3_600_000 },
    ]);
    assert.deepEqual(k.seen('web', 'id-web'), { deliberateStop: true, ownStop: false, sawAlive: true, unhealthySinceMs: null });
    assert.equal(k.seen('job', 'id-job')?.deliberateStop, true);
    assert.equal(k.seen('web', 'id-other'), null, 'another container under the name');
    assert.equal(k.seen('db', 'id-db'), null, 'never stopped');
  });

  it("Repairman's own on_unhealthy stop, kept in the file, is told apart from a person's", () => {
    const k = knowledge([{ container: 'web', id: 'id-web', action: 'stop', signal: null, atMs: NOW - 60_000, own: true }]);
    assert.deepEqual(k.seen('web', 'id-web'), { deliberateStop: true, ownStop: true, sawAlive: true, unhealthySinceMs: null });
  });

  it('a reload signal counts only for a minute, as in the healer', () => {
    const hup = (ageMs: number): DeliberateStopMark[] => [{ container: 'web', id: 'id-web', action: 'kill', signal: 'HUP', atMs: NOW - ageMs }];
    assert.equal(knowledge(hup(30_000)).seen('web', 'id-web')?.deliberateStop, true);
    assert.equal(knowledge(hup(61_000)).seen('web', 'id-web'), null);
  });
});
