// Figures a reliability test wants on record (timings, counts, the RSS curve): printed as a TAP
// comment and, when REPAIRMAN_RELIABILITY_REPORT names a file (scripts/run-reliability.sh sets it),
// appended there as one JSON line, for RELIABILITY.md's "last result".
import { appendFileSync } from 'node:fs';

export function report(test: string, text: string, figures: Record<string, unknown> = {}): void {
  console.log(`# ${test}: ${text}`);
  const file = process.env.REPAIRMAN_RELIABILITY_REPORT;
  if (!file) return;
  try {
    appendFileSync(file, JSON.stringify({ at: new Date().toISOString(), test, text, ...figures }) + '\n');
  } catch {
    // a report that cannot be written must not fail the test
  }
}
