import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSshConnection } from './ssh-connection.js';

test('bytes go through the child\'s stdin and come back on its stdout; a clean exit ends the stream', async () => {
  const conn = createSshConnection({ command: 'sh', args: ['-c', 'head -c 5; echo " done"'] });
  const got: Buffer[] = [];
  conn.on('data', (c: Buffer) => got.push(c));
  conn.write('hello world');
  await once(conn, 'end');
  assert.equal(Buffer.concat(got).toString(), 'hello done\n');
});

test('an ssh that fails reports its stderr (last lines), not a bare hang-up', async () => {
  const conn = createSshConnection({ command: 'sh', args: ['-c', 'echo "debug noise" >&2; echo "ssh: connect to host h port 22: Connection refused" >&2; exit 255'] });
  conn.write('GET /_ping HTTP/1.1\r\n\r\n');
  const [err] = (await once(conn, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNRESET');
  assert.match(err.message, /code 255/);
  assert.match(err.message, /Connection refused/);
});

test('a missing ssh executable is ENOENT with a clear message', async () => {
  const conn = createSshConnection({ command: '/nonexistent/ssh', args: [] });
  const [err] = (await once(conn, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ENOENT');
  assert.match(err.message, /\/nonexistent\/ssh: not found in PATH/);
});

test('destroying the connection ends the ssh process', async () => {
  const conn = createSshConnection({ command: 'sh', args: ['-c', 'echo $$; exec sleep 30'] });
  const [first] = (await once(conn, 'data')) as [Buffer];
  const pid = Number(first.toString().trim());
  assert.ok(pid > 0);
  conn.destroy();
  await new Promise((r) => setTimeout(r, 100));
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
});

test('socket methods the HTTP agent calls are present and harmless', () => {
  const conn = createSshConnection({ command: 'sh', args: ['-c', 'sleep 5'] });
  assert.equal(conn.setKeepAlive(), conn);
  assert.equal(conn.setNoDelay(), conn);
  assert.equal(conn.setTimeout(1000), conn);
  assert.equal(conn.unref(), conn);
  assert.equal(conn.ref(), conn);
  conn.destroy();
});
