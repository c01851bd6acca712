// Misspelt environment variables (issue 22): a switch or label typo gets "did you mean", an unknown
// variable used to be ignored without a word. Only names that look meant for Repairman are reported,
// never the rest of the environment (PATH, HOSTNAME...).
import { closest, editDistance } from '../util/suggest.js';
import { SETTINGS } from './settings-table.js';

/**
 * Variables read outside the settings table or kept for compatibility with willfarrell/docker-autoheal
 * (docs/behaviour.md §11): known, so never reported even when the table does not list them.
 */
const OTHER_KNOWN = [
  'AUTOHEAL_CONTAINER_LABEL', 'AUTOHEAL_INTERVAL', 'AUTOHEAL_START_PERIOD', 'AUTOHEAL_DEFAULT_STOP_TIMEOUT',
  'AUTOHEAL_ONLY_MONITOR_RUNNING', 'AUTOHEAL_LABEL', 'DOCKER_SOCK', 'CURL_TIMEOUT', 'WEBHOOK_URL',
  'WEBHOOK_JSON_KEY', 'APPRISE_URL', 'POST_RESTART_SCRIPT', 'LOG_LEVEL', 'DOCKER_CONFIG', 'DOCKER_CONTEXT',
];

/** Every variable name Repairman reads: the settings table's plus the compatible ones. */
export function knownEnvNames(): Set<string> {
  return new Set([...SETTINGS.flatMap((row) => row.env), ...OTHER_KNOWN]);
}

export interface EnvTypo {
  name: string;
  suggestion?: string;
}

/**
 * Unknown variables that look meant for Repairman: every DEFAULT_* name (that prefix is Repairman's),
 * and any other name of 6+ characters within 2 edits of a known one (CHECK_INTERVALL, AUTOHEAL_INTERVL).
 */
export function findEnvTypos(env: NodeJS.ProcessEnv): EnvTypo[] {
  const known = knownEnvNames();
  const names = [...known];
  const typos: EnvTypo[] = [];
  for (const name of Object.keys(env).sort()) {
    if (known.has(name) || env[name] === undefined) continue;
    const suggestion = closest(name, names);
    if (name.startsWith('DEFAULT_')) {
      typos.push(suggestion ? { name, suggestion } : { name });
      continue;
    }
    if (suggestion && name.length >= 6 && editDistance(name, suggestion, 2) <= 2) typos.push({ name, suggestion });
  }
  return typos;
}

/** One line per typo, as logged at start. */
export function describeEnvTypo(typo: EnvTypo): string {
  return typo.suggestion
    ? `environment variable ${typo.name} is not one Repairman reads (did you mean ${typo.suggestion}?); it is ignored`
    : `environment variable ${typo.name} is not one Repairman reads; it is ignored (see repairman --help)`;
}
