// Property test: whatever labels a container carries, decoding never throws and never turns healing
// on through a malformed value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeLabels } from './labels.js';
import { parseBoolean } from './parsers.js';
import { LABEL_PREFIX, POLICY_ROWS, defaultSettings } from './settings-table.js';

const KEYS = POLICY_ROWS.map((r) => r.key);
const TRUE_SPELLINGS = ['true', 'TRUE', 'yes', 'Y', '1', 'on', ' On '];
const NEAR_MISSES = ['tru', 'truee', 'yes!', '2', '', ' ', 'null', 'undefined', '1.0', 'ja', 'oui', 'true\u0000', '\u00a0true', 'ｔｒｕｅ'];

const labelKey = fc.oneof(
  fc.constantFrom(...KEYS).map((k) => LABEL_PREFIX + k),
  fc.string().map((s) => LABEL_PREFIX + s),
  fc.constantFrom(...KEYS).map((k) => LABEL_PREFIX + k.toUpperCase()),
  fc.string(),
  fc.constantFrom('__proto__', 'constructor', 'toString', `${LABEL_PREFIX}__proto__`),
);
const labelValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(...TRUE_SPELLINGS, ...NEAR_MISSES),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('90s', '5m', '1h30m', '-1', '1e308', '99999999999999999999', 'https://x.example/a', 'ftp://x/y'),
);
const labelMap = fc.dictionary(labelKey, labelValue, { maxKeys: 20 });
const policy = fc.record({
  enableAutoheal: fc.boolean(),
  healExited: fc.boolean(),
});

test('random label maps never throw and never enable healing through a malformed value', () => {
  fc.assert(
    fc.property(labelMap, policy, (labels, flags) => {
      const defaults = { ...defaultSettings().defaults, ...flags };
      const d = decodeLabels('c', labels, defaults);
      for (const [field, key] of [['enableAutoheal', 'enable_autoheal'], ['healExited', 'heal_exited']] as const) {
        const raw = Object.prototype.hasOwnProperty.call(labels, LABEL_PREFIX + key) ? labels[LABEL_PREFIX + key] : undefined;
        const parsed = raw === undefined ? undefined : parseBoolean(raw);
        const allowed = raw === undefined ? defaults[field] : parsed?.ok === true && parsed.value === true;
        if (d.policy[field]) assert.ok(allowed, `${key}=${JSON.stringify(raw)} with global ${defaults[field]} enabled it`);
        // and a valid spelling is honoured either way
        if (parsed?.ok) assert.equal(d.policy[field], parsed.value);
        if (raw !== undefined && !parsed?.ok) {
          assert.equal(d.policy[field], false);
          assert.ok(d.problems.some((p) => p.label === LABEL_PREFIX + key && p.code === 'RM_LABEL_INVALID'));
        }
      }
      // every problem is well-formed and every value is of the right type
      for (const p of d.problems) {
        assert.equal(p.container, 'c');
        assert.ok(p.label.startsWith(LABEL_PREFIX));
        assert.equal(typeof p.value, 'string');
        assert.ok(p.expected.length > 0 && p.fallback.length > 0);
      }
      for (const row of POLICY_ROWS) assert.equal(typeof d.policy[row.field], typeof defaults[row.field]);
      assert.ok(d.policy.frameSizeSec >= d.policy.maxRestartsInFrame * d.policy.secondsBetweenRestarts);
      assert.ok(d.policy.maxChecksToGiveUp === 0 || d.policy.maxChecksToGiveUp >= d.policy.maxRestartsInFrame);
    }),
    { numRuns: 3000 },
  );
});

test('labels with only known keys and valid values produce no problems unless a cross-check fails', () => {
  const validValue: Record<string, fc.Arbitrary<string>> = {
    seconds_between_restarts: fc.nat(120).map(String),
    frame_size_in_seconds: fc.nat(100_000).map(String),
    max_restarts_in_frame: fc.nat(10).map(String),
    seconds_between_next_frame: fc.nat(10_000).map((n) => `${n}s`),
    max_checks_to_give_up: fc.nat(100).map(String),
    max_historic_entries: fc.nat(1000).map(String),
    enable_cleaning_duplicated_services: fc.constantFrom(...TRUE_SPELLINGS, 'no', 'off'),
    enable_autoheal: fc.constantFrom(...TRUE_SPELLINGS, 'false', 'N'),
    heal_exited: fc.constantFrom(...TRUE_SPELLINGS, '0'),
    stop_timeout: fc.nat(600).map(String),
    notify_url: fc.constantFrom('', 'https://a.example/x', 'https://a.example/x,http://b.example/y'),
    notify_level: fc.constantFrom('debug', 'INFO', 'Warning', 'error'),
    depends_on: fc.constantFrom('', 'vpn', 'vpn, db'),
    recreate_dependents: fc.constantFrom(...TRUE_SPELLINGS, 'false'),
    on_unhealthy: fc.constantFrom('restart', 'STOP', ' kill', 'Notify'),
    unhealthy_for: fc.nat(3600).map(String),
    budget_mode: fc.constantFrom('frames', 'Backoff'),
  };
  const arb = fc.record(Object.fromEntries(KEYS.map((k) => [LABEL_PREFIX + k, validValue[k] as fc.Arbitrary<string>])), { requiredKeys: [] });
  fc.assert(
    fc.property(arb, (labels) => {
      // Label URLs on an origin the admin allows (docs/behaviour.md §5).
      const d = decodeLabels('c', labels as Record<string, string>, defaultSettings().defaults, { notifyOrigins: ['https://a.example', 'http://b.example'] });
      for (const p of d.problems) assert.match(p.expected, / is 0 or >= | >= max_restarts_in_frame × /);
    }),
    { numRuns: 2000 },
  );
});
