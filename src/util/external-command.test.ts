import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExternalCommand, MAX_LINE_CHARS, type ExternalCommand } from './external-command.js';

const sh = (line: string, more: Partial<ExternalCommand> = {}): ExternalCommand => ({ file: '/bin/sh', args: ['-c', line], capture: 'stdout+stderr', ...more });
const opts = (more: { limitMs?: number; signal?: AbortSignal; tailLines?: number } = {}) => ({ limitMs: 10_000, signal: new AbortController().signal, tailLines: 10, ...more });

/** True while a process with this pid runs (a zombie waiting for its reaper has ended). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('exit 0 is ok; the environment is added to Repairman\'s own and the arguments are passed as they are', async () => {
  const end = await runExternalCommand(
    { file: '/bin/sh', args: ['-c', 'echo "$A $HOME"; printf "%s|" "$@"', 'sh', 'one two', '$A'], env: { A: 'from-env' }, capture: 'stdout+stderr' },
    opts(),
  );
  assert.deepEqual(end, { result: 'ok', exitCode: 0, signal: null, lines: [`from-env ${process.env.HOME ?? ''}`, 'one two|$A|'] });
});

test('another exit code is failed; only the last lines are kept, blank ones skipped, long ones cut, CRLF undone', async () => {
  const long = 'x'.repeat(MAX_LINE_CHARS + 100);
  const end = await runExternalCommand(sh(`for i in 1 2 3 4 5; do echo line$i; done; echo; printf 'crlf\\r\\n'; echo ${long}; printf 'no newline'; exit 3`), opts({ tailLines: 4 }));
  assert.equal(end.result, 'failed');
  assert.equal(end.exitCode, 3);
  assert.deepEqual(end.lines, ['line5', 'crlf', 'x'.repeat(MAX_LINE_CHARS), 'no newline']);
});

test("each stream's unfinished line stays its own", async () => {
  const end = await runExternalCommand(sh("printf 'out-'; echo err >&2; sleep 0.1; echo line; printf 'err-end' >&2"), opts());
  assert.deepEqual(end.lines.toSorted(), ['err', 'err-end', 'out-line']);
});

test("capture 'stderr' discards stdout", async () => {
  const end = await runExternalCommand(sh('echo out; echo err >&2', { capture: 'stderr' }), opts());
  assert.deepEqual(end.lines, ['err']);
});

test('a program that cannot start is failed with the reason, never a throw', async () => {
  const missing = await runExternalCommand({ file: '/nonexistent/hook', args: [], capture: 'stderr' }, opts());
  assert.equal(missing.result, 'failed');
  assert.match(missing.error ?? '', /ENOENT/);
  const bad = await runExternalCommand({ file: 'a\0b', args: [], capture: 'stderr' }, opts());
  assert.equal(bad.result, 'failed');
  assert.equal(bad.exitCode, null);
  assert.ok(bad.error);
});

test('at the time limit its whole process group is killed, a background child too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-extcmd-'));
  const t0 = Date.now();
  const end = await runExternalCommand(sh(`sleep 30 & echo $! > ${dir}/pid; echo started; wait`), opts({ limitMs: 300 }));
  assert.ok(Date.now() - t0 < 5000, 'killed at its limit, not after sleep 30');
  assert.equal(end.result, 'timeout');
  assert.equal(end.exitCode, null);
  assert.equal(end.signal, 'SIGKILL');
  assert.deepEqual(end.lines, ['started']);
  const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
  await until('the background sleep to be gone', () => !alive(pid));
});

test('the abort signal kills it (its group); an aborted signal starts nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-extcmd-'));
  const ctl = new AbortController();
  const running = runExternalCommand(sh(`sleep 30 & echo $! > ${dir}/pid; wait`), opts({ signal: ctl.signal }));
  await until('the command to start its child', () => {
    try {
      return readFileSync(join(dir, 'pid'), 'utf8').trim() !== '';
    } catch {
      return false;
    }
  });
  const t0 = Date.now();
  ctl.abort();
  const end = await running;
  assert.ok(Date.now() - t0 < 5000, 'killed at the abort, not after sleep 30');
  assert.equal(end.result, 'aborted');
  const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
  await until('the background sleep to be gone', () => !alive(pid));

  const never = await runExternalCommand(sh(`touch ${dir}/ran`), opts({ signal: ctl.signal }));
  assert.equal(never.result, 'aborted');
  assert.throws(() => readFileSync(join(dir, 'ran')));
});
