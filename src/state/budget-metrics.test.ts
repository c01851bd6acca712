import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsRegistry } from '../metrics/registry.js';
import { registerBudgetMetrics } from './budget-metrics.js';
import type { BudgetView } from './types.js';

const view = (state: BudgetView['state'], restartsInFrame = 0, streak = 0): BudgetView =>
  ({ state, untilMs: null, restartsInFrame, reachedMaxInPreviousFrame: false, streak });

describe('budget metrics', () => {
  it('counts watched containers by state, and has a series per container in trouble only', () => {
    const reg = new MetricsRegistry();
    const views = new Map<string, BudgetView>([
      ['calm', view('ok')],
      ['flappy', view('ok', 2, 1)],
      ['stuck', view('given_up', 0, 5)],
      ['resting', view('longer_wait', 3, 3)],
      ['swarm-task', view('given_up', 9, 9)],
    ]);
    const containers = [...views.keys()].map((name) => ({ name, excluded: name === 'swarm-task' ? { reason: 'swarm_task' } : null }));
    registerBudgetMetrics(reg, { containers: () => containers, budgetViewOf: (n) => views.get(n)! }, () => 0);
    const text = reg.render();
    assert.equal(reg.get('repairman_budget_containers', { state: 'ok' }), 2);
    assert.equal(reg.get('repairman_budget_containers', { state: 'waiting' }), 0);
    assert.equal(reg.get('repairman_budget_containers', { state: 'longer_wait' }), 1);
    assert.equal(reg.get('repairman_budget_containers', { state: 'given_up' }), 1, 'excluded containers are not counted');
    assert.equal(reg.get('repairman_container_budget_state', { container: 'stuck', state: 'given_up' }), 1);
    assert.equal(reg.get('repairman_container_restart_streak', { container: 'stuck' }), 5);
    assert.equal(reg.get('repairman_container_restarts_in_frame', { container: 'flappy' }), 2);
    assert.equal(reg.get('repairman_container_budget_state', { container: 'flappy', state: 'ok' }), 1);
    assert.doesNotMatch(text, /container="calm"/, 'no series for a container out of trouble');
    assert.doesNotMatch(text, /swarm-task/, 'no series for an excluded container');

    // Recovered: its series disappear at the next scrape instead of staying at their last value.
    views.set('stuck', view('ok'));
    const again = reg.render();
    assert.doesNotMatch(again, /container="stuck"/);
    assert.equal(reg.get('repairman_budget_containers', { state: 'given_up' }), 0);
    assert.equal(reg.get('repairman_budget_containers', { state: 'ok' }), 3);
  });
});
