import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JournalKind } from '../journal/types.js';
import { normalizeLevel, severityOf, shouldSend, SEVERITY_OF_KIND } from './levels.js';

// docs/behaviour.md §5, row by row: event kind, severity, sent at DEBUG / INFO / WARNING.
const CONTRACT_TABLE: [string, JournalKind, 'debug' | 'info' | 'warning', boolean, boolean, boolean][] = [
  ['container restarted', 'restart', 'debug', true, false, false],
  ['duplicate removed', 'duplicate_removed', 'debug', true, false, false],
  ['multiple restart failures', 'multiple_failures', 'info', true, true, false],
  ['healthy again', 'recovered', 'info', true, true, false],
  ['maximum restarts reached, waiting longer', 'longer_wait', 'warning', true, true, true],
  ['gave up', 'give_up', 'warning', true, true, true],
  ['restart failed', 'restart_failed', 'warning', true, true, true],
  ['configuration error (label)', 'config_error', 'warning', true, true, true],
  // docs/behaviour.md §5 rows added with docs/behaviour.md §12.
  ['container stopped (on_unhealthy stop)', 'stopped', 'warning', true, true, true],
  ['container killed (on_unhealthy kill)', 'killed', 'warning', true, true, true],
  ['unhealthy, only told (on_unhealthy notify)', 'unhealthy', 'warning', true, true, true],
  ['post-action command done', 'post_action', 'debug', true, false, false],
  ['post-action command failed or timed out', 'post_action_failed', 'warning', true, true, true],
  ['paused for maintenance', 'pause', 'info', true, true, false],
  ['resumed, or the pause is over', 'resume', 'info', true, true, false],
  // docs/behaviour.md §5 row added with docs/behaviour.md §9 (a socket proxy).
  ['an engine call refused (403, a socket proxy), once per call kind', 'refused', 'warning', true, true, true],
];

for (const [row, kind, severity, atDebug, atInfo, atWarning] of CONTRACT_TABLE) {
  test(`docs/behaviour.md §5 row "${row}": severity ${severity}, sent at DEBUG=${atDebug} INFO=${atInfo} WARNING=${atWarning}`, () => {
    assert.equal(severityOf(kind), severity);
    assert.equal(shouldSend(severityOf(kind), 'DEBUG'), atDebug);
    assert.equal(shouldSend(severityOf(kind), 'INFO'), atInfo);
    assert.equal(shouldSend(severityOf(kind), 'WARNING'), atWarning);
    // ERROR is accepted as WARNING.
    assert.equal(shouldSend(severityOf(kind), 'ERROR'), atWarning);
  });
}

test('every journal kind has a severity (one table), test messages are the most important', () => {
  const kinds: (JournalKind | 'test')[] = ['restart', 'wait', 'multiple_failures', 'longer_wait', 'give_up', 'recovered',
    'restart_failed', 'duplicate_removed', 'config_error', 'reset', 'gone', 'test', 'stopped', 'killed', 'unhealthy', 'held', 'left_to_engine', 'post_action',
    'post_action_failed', 'pause', 'resume', 'refused'];
  assert.deepEqual(Object.keys(SEVERITY_OF_KIND).sort(), [...kinds].sort());
  assert.equal(severityOf('test'), 'warning');
});

test('levels are read in any case, with spaces, ERROR and WARN as WARNING', () => {
  for (const [raw, want] of [['debug', 'DEBUG'], ['Debug', 'DEBUG'], [' INFO ', 'INFO'], ['info', 'INFO'], ['wArNiNg', 'WARNING'],
    ['warn', 'WARNING'], ['error', 'WARNING'], ['ERROR', 'WARNING']] as const) {
    assert.equal(normalizeLevel(raw), want, raw);
  }
  for (const raw of ['', 'verbose', 'critical', '0', 'debugg']) assert.equal(normalizeLevel(raw), undefined, raw);
  assert.equal(shouldSend('debug', 'debug'), true);
  assert.equal(shouldSend('info', 'warning'), false);
  assert.equal(shouldSend('warning', 'error'), true);
});

test('a level that is not a level falls back to the default INFO rather than silencing everything', () => {
  assert.equal(shouldSend('debug', 'nonsense'), false);
  assert.equal(shouldSend('info', 'nonsense'), true);
  assert.equal(shouldSend('warning', ''), true);
});
