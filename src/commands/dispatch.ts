// Which command `repairman [COMMAND] [SWITCHES]` asks for (used by src/cli.ts; separate so it can be
// tested without starting the program).
import { COMMAND_BY_NAME } from './command-table.js';
import { ROW_BY_SWITCH } from '../config/settings-table.js';
import { closest } from '../util/suggest.js';

export type Dispatch = { command: string; argv: string[] } | { error: string };

/**
 * Find the command in argv: the first word that is not a switch or a switch's value, so settings may
 * come before it (`repairman --debug check-labels web`). `--help`/`-h` anywhere (before `--`) asks
 * for the command's help, `--version`/`-V` for the version.
 */
export function dispatch(argv: readonly string[]): Dispatch {
  const rest: string[] = [];
  let command: string | undefined;
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (token === '--help' || token === '-h') {
      help = true;
      continue;
    }
    if (token === '--version' || token === '-V') {
      version = true;
      continue;
    }
    if (command === undefined && !token.startsWith('-')) {
      if (!COMMAND_BY_NAME.has(token)) {
        // `repairman --intervl 5`: "5" is the value of a misspelt switch, not a command; the command's
        // own parser then says "did you mean --interval" (issue 22).
        const previous = argv[i - 1];
        if (previous?.startsWith('-') && !previous.includes('=') && !ROW_BY_SWITCH.has(previous) && previous !== '--help' && previous !== '-h' && previous !== '--version' && previous !== '-V') {
          rest.push(token);
          continue;
        }
        const guess = closest(token, COMMAND_BY_NAME.keys());
        return { error: `unknown command "${token}"${guess ? ` (did you mean ${guess}?)` : ''}; see repairman --help` };
      }
      command = token;
      continue;
    }
    rest.push(token);
    // A value-taking setting written `--name value`: its value is not the command.
    if (command === undefined && !token.includes('=') && ROW_BY_SWITCH.get(token)?.kind === 'value' && i + 1 < argv.length) {
      rest.push(argv[++i] as string);
    }
  }
  if (version && command === undefined) return { command: 'version', argv: [] };
  if (help || command === 'help') return { command: 'help', argv: command === 'help' ? rest : command ? [command] : [] };
  return { command: command ?? 'run', argv: rest };
}
