// fast-check helpers for the reliability fuzzers.
import fc from 'fast-check';

/** Runs per property (REPAIRMAN_FUZZ_RUNS overrides, e.g. 100000 for a long hunt). */
export const FUZZ_RUNS = Number(process.env.REPAIRMAN_FUZZ_RUNS ?? 2000);

function withCause(err: unknown): unknown {
  const cause = (err as { cause?: unknown }).cause;
  if (err instanceof Error && cause instanceof Error) err.message += `\nfailed with: ${cause.message.slice(0, 2000)}`;
  return err;
}

/** fc.assert, with the failing assertion's own message in the error (the TAP report drops `cause`). */
export function check<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>, params: fc.Parameters<Ts>): void {
  try {
    fc.assert(property, params);
  } catch (err) {
    throw withCause(err);
  }
}

export async function checkAsync<Ts extends [unknown, ...unknown[]]>(property: fc.IAsyncProperty<Ts>, params: fc.Parameters<Ts>): Promise<void> {
  try {
    await fc.assert(property, params);
  } catch (err) {
    throw withCause(err);
  }
}
