// Per-container settings from org.riotkit.repairman.* labels (docs/behaviour.md §1). Labels are data written
// by anyone who can start a container, so decoding never throws: a bad value becomes a problem and the
// container keeps the global value (a bad enable_autoheal or heal_exited means false: a typo must never
// switch healing on). Runs for every container on every re-check: no per-call regex compilation, and
// containers without our labels cost one prefix test per label.
import { maskLabelValue, maskSecretsInText, maskUrlList } from '../util/mask.js';
import { printable } from '../util/printable.js';
import { hostOf, notifyUrlOrigin } from '../notify/targets.js';
import { CROSS_CHECKS } from './cross-checks.js';
import { BOOLEAN_EXPECTED, parseBoolean } from './parsers.js';
import { closest } from '../util/suggest.js';
import {
  LABEL_PREFIX,
  POLICY_ROW_BY_KEY,
  SETTINGS,
  type PolicyField,
  type PolicyRow,
} from './settings-table.js';
import type { ContainerPolicy, DecodedLabels, LabelProblem } from './types.js';

/** Label values are shown in logs, notifications and on the status page: keep them short. */
const MAX_SHOWN_CHARS = 200;

/** Fields where a bad value means false instead of the global value. */
const FALSE_ON_ERROR: ReadonlySet<PolicyField> = new Set<PolicyField>(['enableAutoheal', 'healExited']);

const ROW_BY_FIELD: ReadonlyMap<PolicyField, PolicyRow> = new Map([...POLICY_ROW_BY_KEY.values()].map((r) => [r.field, r]));

const KNOWN_SUFFIXES: readonly string[] = [...POLICY_ROW_BY_KEY.keys()];

/** Global-only settings someone might try to set on a container, with where to set them instead. */
const GLOBAL_ONLY_HINT: ReadonlyMap<string, string> = new Map(
  SETTINGS.filter((r) => r.scope !== 'policy').map((r) => [
    r.key,
    `${r.key} is a global setting, not a per-container one: set ${[r.switch, ...r.env].filter(Boolean).join(' or ')} instead`,
  ]),
);

/**
 * A label's value as every output shows it (log, journal, HTTP, page, CLI): the ONE masking rule for
 * labels (src/util/mask.ts maskLabelValue; notify_url's URLs as scheme and host), control characters
 * made visible, cut to a readable length. An unknown key is often a typo of notify_url (`notify_urll`)
 * or a secret parked on a container: it gets the same rule.
 */
function shown(row: PolicyRow | undefined, suffix: string, raw: string): string {
  const text = printable(row?.secret ? maskUrlList(raw) : maskLabelValue(suffix, raw));
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
}

/** A label key as shown: token-like parts masked, control characters made visible, cut short. */
function shownKey(key: string): string {
  const text = printable(LABEL_PREFIX + maskSecretsInText(key.slice(LABEL_PREFIX.length)));
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
}

/** At most this many URLs in one notify_url label (docs/behaviour.md §5): a label is not a mailing list. */
export const MAX_LABEL_NOTIFY_URLS = 5;

/** What happens instead of a bad label, as a message says it: "using 3 (global)", or "the label is ignored". */
export function fallbackWords(fallback: string): string {
  return fallback === 'ignored' ? 'the label is ignored' : `using ${fallback}`;
}

/** What a label may not decide on its own: where notifications go (docs/behaviour.md §5). */
export interface LabelContext {
  /** --label-notify-origins: origins a notify_url label may use besides the global URLs' origins. */
  notifyOrigins?: readonly string[];
  /** The Docker endpoint's host (tcp:// or ssh:// DOCKER_HOST): never a label's notification target. */
  engineHost?: string | null;
  /** willfarrell's selection label, `all`, or ''/absent when its rules do not apply (docs/behaviour.md §11). */
  autohealLabel?: string;
}

/** The Docker endpoint's host for a LabelContext: null for a unix socket or an unreadable value. */
export function engineHostOf(dockerHost: string | undefined): string | null {
  const raw = (dockerHost ?? '').trim();
  if (!/^(tcp|ssh|http|https):\/\//i.test(raw)) return null;
  const host = hostOf(raw.replace(/^[a-z]+:/i, 'http:'));
  return host === '' ? null : host;
}

/**
 * Why a notify_url label's URLs may not be used, or null when they may. A label is written by whoever
 * can start a container: left free it makes Repairman POST anywhere it can reach (a socket proxy's
 * /containers/x/kill, a cloud metadata address). So each URL's origin must be one the admin already
 * trusts: a global notify URL's, or one in --label-notify-origins; never the engine's host.
 */
export function labelNotifyUrlsRefused(urls: readonly string[], globalUrls: readonly string[], ctx: LabelContext): string | null {
  if (urls.length > MAX_LABEL_NOTIFY_URLS) return `at most ${MAX_LABEL_NOTIFY_URLS} URLs in one label (got ${urls.length})`;
  const allowed = new Set<string>(ctx.notifyOrigins ?? []);
  for (const g of globalUrls) {
    const o = notifyUrlOrigin(g);
    if (o) allowed.add(o);
  }
  const engine = ctx.engineHost ? ctx.engineHost.replace(/^\[|\]$/g, '').toLowerCase() : null;
  for (const url of urls) {
    const origin = notifyUrlOrigin(url);
    if (!origin) return 'an http(s) URL';
    if (engine !== null && hostOf(origin) === engine) return `a URL not on the Docker endpoint's host (${origin} is the engine's host)`;
    if (!allowed.has(origin)) {
      const known = [...allowed];
      return `URLs on an origin the admin allows (${origin} is not one of ${known.length ? known.join(', ') : 'none: no global notify URL and no --label-notify-origins'}; add it to --label-notify-origins / LABEL_NOTIFY_ORIGINS to allow it)`;
    }
  }
  return null;
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch {
    return '<unprintable>';
  }
}

export const DEUNHEALTH_LABEL = 'deunhealth.restart.on.unhealthy';
export const AUTOHEAL_STOP_TIMEOUT_LABEL = 'autoheal.stop.timeout';
/** willfarrell's opt-out label under AUTOHEAL_CONTAINER_LABEL=all (its entrypoint checks `autoheal` there). */
export const AUTOHEAL_DEFAULT_LABEL = 'autoheal';

export function decodeLabels(
  container: string,
  labels: Record<string, string> | null | undefined,
  defaults: ContainerPolicy,
  context: LabelContext = {},
): DecodedLabels {
  const policy: ContainerPolicy = { ...defaults };
  const problems: LabelProblem[] = [];
  const fromLabels: PolicyField[] = [];
  if (labels === null || labels === undefined || typeof labels !== 'object') return { policy, problems, fromLabels };
  // Fields one of our own labels spoke about (valid or not): the compatible labels do not touch those.
  let ownSeen: Set<PolicyField> | undefined;
  const target = policy as unknown as Record<string, unknown>;
  // Raw label text of each field set from a label (for cross-check problems).
  let rawOf: Map<PolicyField, string> | undefined;

  for (const key of Object.keys(labels)) {
    if (!key.startsWith(LABEL_PREFIX)) continue;
    const suffix = key.slice(LABEL_PREFIX.length);
    const raw = asText((labels as Record<string, unknown>)[key]);
    const row = POLICY_ROW_BY_KEY.get(suffix);
    if (!row) {
      const hint = GLOBAL_ONLY_HINT.get(suffix);
      const guess = hint ? undefined : closest(suffix, KNOWN_SUFFIXES);
      problems.push({
        container,
        label: shownKey(key),
        value: shown(undefined, suffix, raw),
        expected: hint ?? `a known key${guess ? ` (did you mean ${LABEL_PREFIX}${guess}?)` : ''}`,
        fallback: 'ignored',
        ...(guess ? { suggestion: LABEL_PREFIX + guess } : {}),
        code: 'RM_LABEL_UNKNOWN',
      });
      continue;
    }
    (ownSeen ??= new Set()).add(row.field);
    let parsed = row.parse(raw);
    if (parsed.ok && row.field === 'notifyUrls') {
      const refused = labelNotifyUrlsRefused(parsed.value as string[], defaults.notifyUrls, context);
      if (refused !== null) parsed = { ok: false, reason: refused };
    }
    if (parsed.ok) {
      target[row.field] = parsed.value;
      if (!fromLabels.includes(row.field)) fromLabels.push(row.field);
      (rawOf ??= new Map()).set(row.field, raw);
      continue;
    }
    const falseOnError = FALSE_ON_ERROR.has(row.field);
    const fallbackValue = falseOnError ? false : defaults[row.field];
    target[row.field] = fallbackValue;
    problems.push({
      container,
      label: key,
      value: shown(row, row.key, raw),
      expected: row.expected + (parsed.reason ? ` (${parsed.reason})` : ''),
      fallback: falseOnError ? 'false' : `${row.show(fallbackValue)} (global)`,
      code: 'RM_LABEL_INVALID',
    });
  }

  if (rawOf) crossCheck(container, policy, defaults, rawOf, fromLabels, problems);
  const mode = context.autohealLabel ?? '';
  const selector = mode === '' || mode === 'all' ? AUTOHEAL_DEFAULT_LABEL : mode;
  const compatFrom = selector in labels || DEUNHEALTH_LABEL in labels || AUTOHEAL_STOP_TIMEOUT_LABEL in labels
    ? decodeCompatLabels(container, labels, policy, defaults, context, ownSeen ?? new Set(), problems)
    : undefined;
  return { policy, problems, fromLabels, ...(compatFrom ? { compatFrom } : {}) };
}

/** `"true"` typed with its quotes into a compose file is still true. */
function unquoted(raw: string): string {
  const t = raw.trim();
  return t.length >= 2 && ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) ? t.slice(1, -1) : t;
}

/**
 * The labels of willfarrell/docker-autoheal and deunhealth (docs/behaviour.md §11), below our own labels.
 * Selection: willfarrell's label true heals, false (any case) never does; deunhealth's label true opts in
 * whatever the global setting; an explicit false wins over a true. `autoheal=false` is honoured even
 * when no AUTOHEAL_* variable is set: a container someone opted out is never restarted because the image
 * changed.
 */
function decodeCompatLabels(
  container: string,
  labels: Record<string, string>,
  policy: ContainerPolicy,
  defaults: ContainerPolicy,
  compat: LabelContext,
  ownSeen: ReadonlySet<PolicyField>,
  problems: LabelProblem[],
): Partial<Record<PolicyField, string>> | undefined {
  let from: Partial<Record<PolicyField, string>> | undefined;
  const text = (key: string): string | undefined => (Object.hasOwn(labels, key) ? asText((labels as Record<string, unknown>)[key]) : undefined);
  const bad = (label: string, raw: string, expected: string, fallback: string): void => {
    problems.push({ container, label, value: shown(undefined, label, raw), expected, fallback, code: 'RM_LABEL_INVALID' });
  };

  if (!ownSeen.has('enableAutoheal')) {
    const mode = compat.autohealLabel ?? '';
    const selector = mode === '' || mode === 'all' ? AUTOHEAL_DEFAULT_LABEL : mode;
    let explicitFalse = false;
    const wRaw = text(selector);
    if (wRaw !== undefined) {
      const parsed = parseBoolean(unquoted(wRaw));
      if (!parsed.ok) {
        // Only a label we act on is checked: `autoheal` outside willfarrell's rules is someone else's.
        if (mode !== '') {
          policy.enableAutoheal = false;
          (from ??= {}).enableAutoheal = selector;
          bad(selector, wRaw, `true or false, any case (${BOOLEAN_EXPECTED})`, 'false');
        }
      } else if (!parsed.value) {
        policy.enableAutoheal = false;
        explicitFalse = true;
        (from ??= {}).enableAutoheal = selector;
      } else if (mode !== '') {
        policy.enableAutoheal = true;
        (from ??= {}).enableAutoheal = selector;
      }
    }
    const dRaw = text(DEUNHEALTH_LABEL);
    if (dRaw !== undefined && !explicitFalse && from?.enableAutoheal === undefined) {
      const parsed = parseBoolean(unquoted(dRaw));
      if (!parsed.ok) bad(DEUNHEALTH_LABEL, dRaw, `true or false, any case (${BOOLEAN_EXPECTED})`, 'ignored');
      else if (parsed.value) {
        policy.enableAutoheal = true;
        (from ??= {}).enableAutoheal = DEUNHEALTH_LABEL;
      }
    }
  }

  if (!ownSeen.has('stopTimeoutSec')) {
    const raw = text(AUTOHEAL_STOP_TIMEOUT_LABEL);
    if (raw !== undefined) {
      const row = ROW_BY_FIELD.get('stopTimeoutSec') as PolicyRow;
      const parsed = row.parse(unquoted(raw));
      if (parsed.ok) {
        policy.stopTimeoutSec = parsed.value as number;
        (from ??= {}).stopTimeoutSec = AUTOHEAL_STOP_TIMEOUT_LABEL;
      } else bad(AUTOHEAL_STOP_TIMEOUT_LABEL, raw, row.expected, `${row.show(defaults.stopTimeoutSec)} (global)`);
    }
  }
  return from;
}

/**
 * The merged policy must obey the same cross-checks as the global one. When it does not, every
 * label-set field the broken rule reads goes back to its global value (the globals passed them), and
 * the rules are checked again: reverting one field may break another rule.
 */
function crossCheck(
  container: string,
  policy: ContainerPolicy,
  defaults: ContainerPolicy,
  rawOf: Map<PolicyField, string>,
  fromLabels: PolicyField[],
  problems: LabelProblem[],
): void {
  const target = policy as unknown as Record<string, unknown>;
  let changed = true;
  while (changed) {
    changed = false;
    for (const check of CROSS_CHECKS) {
      if (check.holds(policy)) continue;
      const offending = check.fields.filter((f) => rawOf.has(f));
      if (offending.length === 0) continue; // the globals themselves break it: reported at start, not here
      const explanation = check.explain(policy, (f) => `${String(policy[f])} (${rawOf.has(f) ? 'label' : 'global'})`);
      for (const field of offending) {
        const row = ROW_BY_FIELD.get(field) as PolicyRow;
        const raw = rawOf.get(field) ?? '';
        target[field] = defaults[field];
        rawOf.delete(field);
        const at = fromLabels.indexOf(field);
        if (at !== -1) fromLabels.splice(at, 1);
        problems.push({
          container,
          label: row.label,
          value: shown(row, row.key, raw),
          expected: `${check.rule}; here ${explanation}`,
          fallback: `${row.show(defaults[field])} (global)`,
          code: 'RM_LABEL_INVALID',
        });
      }
      changed = true;
    }
  }
}
