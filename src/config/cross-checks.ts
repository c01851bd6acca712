// The cross-checks of docs/behaviour.md §1, shared by the global validation (load.ts) and by label decoding
// (labels.ts), so a container's merged policy obeys exactly the same rules as the global one.
import type { ContainerPolicy } from './types.js';
import type { PolicyField } from './settings-table.js';

export interface CrossCheck {
  /** The setting the rule is about (named first in errors). */
  key: string;
  /** Every field the rule reads. */
  fields: readonly PolicyField[];
  rule: string;
  holds(p: ContainerPolicy): boolean;
  /** The numbers that break the rule, e.g. "300 < 5 × 100 = 500"; `name` decorates each operand. */
  explain(p: ContainerPolicy, name: (field: PolicyField) => string): string;
  /** What would make it hold. */
  expected: string;
}

export const CROSS_CHECKS: readonly CrossCheck[] = [
  {
    key: 'frame_size_in_seconds',
    fields: ['frameSizeSec', 'maxRestartsInFrame', 'secondsBetweenRestarts'],
    rule: 'frame_size_in_seconds >= max_restarts_in_frame × seconds_between_restarts',
    holds: (p) => p.frameSizeSec >= p.maxRestartsInFrame * p.secondsBetweenRestarts,
    explain: (p, name) =>
      `frame_size_in_seconds ${name('frameSizeSec')} < max_restarts_in_frame ${name('maxRestartsInFrame')} × ` +
      `seconds_between_restarts ${name('secondsBetweenRestarts')} = ${p.maxRestartsInFrame * p.secondsBetweenRestarts}`,
    expected: 'a frame long enough for max_restarts_in_frame restarts spaced seconds_between_restarts apart',
  },
  {
    key: 'max_checks_to_give_up',
    fields: ['maxChecksToGiveUp', 'maxRestartsInFrame'],
    rule: 'max_checks_to_give_up is 0 or >= max_restarts_in_frame',
    holds: (p) => p.maxChecksToGiveUp === 0 || p.maxChecksToGiveUp >= p.maxRestartsInFrame,
    explain: (_p, name) =>
      `max_checks_to_give_up ${name('maxChecksToGiveUp')} < max_restarts_in_frame ${name('maxRestartsInFrame')}`,
    expected: 'max_checks_to_give_up of 0 (never give up) or at least max_restarts_in_frame',
  },
];
