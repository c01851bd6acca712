// Reliability: bad configuration input never throws, always gives a clear error, never leaks a
// secret and never takes long. Labels are decoded by the healer from whatever the engine reports (any
// user of the host can set them), switches and environment come from the operator; both are fuzzed
// here with fast-check, including huge, control-character and non-UTF-8 (lone surrogate) values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { printable } from '../../src/util/printable.js';
import { decodeLabels } from '../../src/config/labels.js';
import { formatConfigErrors, loadSettings } from '../../src/config/load.js';
import { LABEL_PREFIX, POLICY_ROWS, SETTINGS, defaultSettings } from '../../src/config/settings-table.js';
import { RepairmanError } from '../../src/errors.js';
import { check, FUZZ_RUNS as RUNS } from './helpers/fuzz.js';

/** A label or a setting is decoded in well under this, whatever its size (no regex blow-up). */
const SLOW_MS = 250;

// Text the way a hostile or clumsy user writes it: every unit (incl. lone surrogates, which are what
// non-UTF-8 bytes become once the engine or the shell has decoded them), control characters,
// look-alike digits, and sizes from nothing to 200 KB.
const nasty = fc.oneof(
  { weight: 4, arbitrary: fc.string() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\n', '\r', '\t', '\u00a0', '\ud800', '\udfff', '\ufeff', '٣', '𝟗', '=', ',', ' ', '-') }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '-1', '1e9', '0x10', '99999999999999999999999', 'NaN', 'Infinity', '1h-5m', '5mm', '1h30m0s', '90s ', 'tru', 'yes ', 'ON', '\ud800true') },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', '9', '1h', ' ', ',', 'https://h.example/x?'), fc.integer({ min: 1000, max: 200_000 })).map(([s, n]) => s.repeat(Math.ceil(n / s.length))) },
);

const SECRET = 'SeCrEtT0kEn';
const secretUrl = fc.constantFrom(
  `https://hooks.slack.example/services/${SECRET}`,
  `http://user:${SECRET}@mm.example/hooks/x`,
  `ftp://x.example/${SECRET}`,
  `json+https://h.example/${SECRET}?token=${SECRET}`,
  `https://h.example/${SECRET} ,, ftp://bad/${SECRET}`,
);
/** In a notify URL setting any text is a secret, URL-shaped or not. */
const secretText = fc.oneof(secretUrl, fc.constant(`not a url ${SECRET}`), fc.constant(`h.example/${SECRET}`));

/** Run fn; when it was slow, run it again (a busy machine pauses anybody) and judge the fastest try. */
function timed<T>(what: string, fn: () => T): T {
  let best = Infinity;
  let out!: T;
  for (let i = 0; i < 3 && best >= SLOW_MS; i++) {
    const t0 = performance.now();
    out = fn();
    best = Math.min(best, performance.now() - t0);
  }
  assert.ok(best < SLOW_MS, `${what} took ${best.toFixed(0)} ms (fastest of 3 tries)`);
  return out;
}

describe('reliability: fuzzed labels (decodeLabels)', () => {
  const keys = POLICY_ROWS.map((r) => r.key);
  const labelKey = fc.oneof(
    fc.constantFrom(...keys).map((k) => LABEL_PREFIX + k),
    fc.constantFrom(...keys).map((k) => LABEL_PREFIX + k + ' '),
    nasty.map((s) => LABEL_PREFIX + s),
    nasty,
  );
  // The engine's JSON can carry anything where a string belongs; shape.ts drops non-strings, but the
  // decoder must survive them too.
  const labelValue = fc.oneof({ weight: 8, arbitrary: nasty }, { weight: 1, arbitrary: secretText }, { weight: 1, arbitrary: fc.anything() });

  it('never throws, reports each bad label clearly, keeps the policy well-formed', () => {
    const defaults = defaultSettings().defaults;
    check(
      fc.property(fc.dictionary(labelKey, labelValue, { maxKeys: 30 }), fc.string(), (labels, container) => {
        const d = timed('decodeLabels', () => decodeLabels(container, labels as Record<string, string>, defaults));
        for (const row of POLICY_ROWS) assert.equal(typeof d.policy[row.field], typeof defaults[row.field], row.key);
        for (const p of d.problems) {
          assert.ok(['RM_LABEL_INVALID', 'RM_LABEL_UNKNOWN'].includes(p.code), `code ${p.code}`);
          assert.equal(p.container, container);
          assert.ok(p.label.startsWith(LABEL_PREFIX), 'names the label');
          assert.equal(typeof p.value, 'string');
          assert.ok(p.expected.trim().length > 0, 'says what is expected');
          assert.ok(p.fallback.trim().length > 0, 'says what is used instead');
          if (p.label.endsWith('notify_url')) assert.ok(!p.value.includes(SECRET) && !p.expected.includes(SECRET), `secret shown: ${p.value}`);
        }
        // an unknown key is one the container really carries (a very long one is shown shortened)
        for (const p of d.problems) {
          if (p.code !== 'RM_LABEL_UNKNOWN') continue;
          // Shown terminal-safe (printable), shortened (…) or, where it looks like a secret, masked (***).
          const own = Object.keys(labels).some((k) => {
            const shown = printable(k);
            if (shown === p.label) return true;
            if (p.label.endsWith('…') && shown.startsWith(p.label.slice(0, -1))) return true;
            return p.label.includes('***') && shown.startsWith(p.label.slice(0, p.label.indexOf('***')));
          });
          assert.ok(own, `unknown label ${p.label} is not on the container`);
          assert.ok(p.label.length <= 300, `the label name is shown whole: ${p.label.length} characters`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('survives labels that are not an object of strings at all', () => {
    const defaults = defaultSettings().defaults;
    check(
      fc.property(fc.anything(), (labels) => {
        const d = decodeLabels('c', labels as Record<string, string>, defaults);
        assert.ok(Array.isArray(d.problems));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('reliability: fuzzed switches and environment (loadSettings)', () => {
  const switchNames = SETTINGS.filter((r) => r.switch).map((r) => r.switch as string);
  const envNames = SETTINGS.flatMap((r) => r.env);
  const argOne = fc.oneof(
    fc.tuple(fc.constantFrom(...switchNames), nasty).map(([s, v]) => [s, v]),
    fc.tuple(fc.constantFrom(...switchNames), nasty).map(([s, v]) => [`${s}=${v}`]),
    fc.constantFrom(...switchNames).map((s) => [s]),
    fc.constantFrom(...switchNames).map((s) => [s.replace(/^--/, '--no-')]),
    fc.constantFrom(...switchNames).map((s) => [s.toUpperCase()]),
    fc.tuple(fc.constantFrom('--notify-url', '--notify-url='), secretText).map(([s, v]) => (s.endsWith('=') ? [s + v] : [s, v])),
    nasty.map((s) => [s]),
    nasty.map((s) => [`--${s}`]),
    fc.constantFrom(['--'], ['-'], ['---'], ['--='], ['-x'], ['--help']),
  );
  const argv = fc.array(argOne, { maxLength: 12 }).map((parts) => parts.flat());
  const env = fc.oneof(
    fc.dictionary(fc.oneof(fc.constantFrom(...envNames), nasty), fc.oneof(nasty, secretUrl), { maxKeys: 15 }),
    secretText.map((v) => ({ DEFAULT_NOTIFY_URL: v, DEFAULT_NOTIFY_LEVEL: 'loud' })),
  );

  it('never throws; either valid settings or a list of clear errors; never shows a secret', () => {
    check(
      fc.property(argv, env, (args, vars) => {
        const r = timed('loadSettings', () => loadSettings(args, vars));
        if (r.ok) {
          const s = r.settings;
          for (const n of [s.intervalSec, s.httpPort, s.parallelism, s.defaults.secondsBetweenRestarts, s.defaults.frameSizeSec, s.defaults.maxRestartsInFrame, s.defaults.stopTimeoutSec]) {
            assert.ok(Number.isSafeInteger(n) && n >= 0, `a number setting came out as ${n}`);
          }
          assert.ok(s.defaults.frameSizeSec >= s.defaults.maxRestartsInFrame * s.defaults.secondsBetweenRestarts, 'cross-check held');
          return;
        }
        assert.ok(r.errors.length > 0);
        for (const e of r.errors) {
          assert.ok(e instanceof RepairmanError, 'a RepairmanError');
          assert.ok(['RM_CONFIG_INVALID', 'RM_CONFIG_CONFLICT', 'RM_USAGE'].includes(e.code), e.code);
          assert.ok(e.message.trim().length > 10, `a sentence, not "${e.message}"`);
          assert.ok(!e.message.includes(SECRET), `secret in: ${e.message}`);
          if (e.code === 'RM_CONFIG_INVALID') {
            // names where the value came from: the switch or the variable
            const where = String(e.details.name ?? '');
            assert.ok(where !== '' && e.message.includes(where), `does not name its source: ${e.message}`);
          }
        }
        const text = formatConfigErrors(r.errors);
        assert.ok(!text.includes(SECRET));
        assert.equal(text.split('\n').filter((l) => l.startsWith('  - ')).length, r.errors.length, 'every error listed');
      }),
      { numRuns: RUNS },
    );
  });
});
