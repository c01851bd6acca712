// An explanation as people read it (`repairman explain NAME`); `--json` prints the Explanation itself.
import { printable } from '../../util/printable.js';
import { formatTime } from '../../util/time-format.js';
import { problemSentence, settingText } from './explain.js';
import type { Explanation } from './types.js';

function edges(list: { name: string; kinds: string[] }[]): string {
  return list.length ? list.map((x) => `${x.name} (${x.kinds.join(', ')})`).join(', ') : 'none';
}

export function renderExplanation(e: Explanation, opts: { from?: string; notes?: readonly string[] } = {}): string {
  const out: string[] = [];
  if (e.name === null) {
    out.push(e.sentence, `Next: ${e.next}`);
  } else {
    const health = e.health ? `, ${e.health}` : '';
    out.push(`${e.name} (${e.state ?? 'unknown'}${health}): ${e.watched ? 'watched' : 'not watched'}`);
    out.push(e.sentence, `Next: ${e.next}`, '', 'Settings that decide:');
    for (const s of e.settings) out.push(`  ${settingText(s)}`);
    out.push(`Budget: ${e.budgetText}`);
    if (e.pause) out.push(`Maintenance pause: ${e.pause.all ? 'every container' : 'this container'}, ${e.pause.untilMs === null ? 'until resumed' : `until ${formatTime(e.pause.untilMs, e.timeZone)}`}`);
    const d = e.dependencies;
    out.push(`Depends on: ${edges(d.providers)}`, `Dependents: ${edges(d.dependents)}${d.dependents.length ? ' (restarted after it)' : ''}`);
    if (d.cycle) out.push(`In a dependency cycle: ${d.cycle.join(' -> ')} (never followed)`);
    if (e.labelProblems.length) {
      out.push('Label problems:');
      for (const p of e.labelProblems) out.push(`  ${problemSentence(p)}`);
    }
    out.push(`History: repairman history ${e.name}`);
  }
  out.push(`Read from ${opts.from ?? e.source.where}; times in ${e.timeZone}`);
  for (const n of opts.notes ?? []) out.push(n);
  // Names, label keys and values come from containers: nothing in them may act on the terminal.
  return `${out.map(printable).join('\n')}\n`;
}
