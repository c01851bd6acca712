// ssh:// engines, the docker CLI's way: run `ssh ... -- host docker system dial-stdio` and speak HTTP
// over its stdin/stdout. One ssh process per connection; the HTTP agent keeps connections alive so a
// busy supervisor does not pay an ssh handshake per call.
import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';

/** Kept from ssh's stderr for error messages ("Could not resolve hostname", "Permission denied"). */
const STDERR_KEEP_BYTES = 2048;

export interface SshConnectionOptions {
  /** The ssh executable (default "ssh", found in PATH). */
  command?: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * A Duplex over a child process's stdio, with the no-op socket methods node:http and its Agent call
 * (setKeepAlive, setNoDelay, setTimeout, ref, unref).
 */
export class SshConnection extends Duplex {
  private readonly child: ChildProcess;
  private stderrTail = '';
  private exited = false;

  constructor(opts: SshConnectionOptions) {
    super({ allowHalfOpen: false });
    const child = spawn(opts.command ?? 'ssh', opts.args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout!.pause();
    });
    // The end of stdout is not reported yet: ssh's stderr may still be on its way, and a dead ssh
    // must come out as its reason ("Could not resolve hostname ..."), not as "socket hang up".
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
    });
    // Writing to a dead ssh gives EPIPE on stdin; the exit handler below reports the real reason.
    child.stdin!.on('error', () => undefined);
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.exited = true;
      const msg = err.code === 'ENOENT' ? `cannot run ${opts.command ?? 'ssh'}: not found in PATH` : `cannot run ssh: ${err.message}`;
      this.destroy(Object.assign(new Error(msg), { code: err.code === 'ENOENT' ? 'ENOENT' : 'ECONNRESET' }));
    });
    child.on('exit', () => {
      this.exited = true;
    });
    // 'close' comes after the exit and after stdout and stderr are drained.
    child.on('close', (code, signal) => {
      this.exited = true;
      if (this.destroyed) return;
      const why = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
      if (code === 0 && why === '') {
        this.push(null);
        return;
      }
      const err = Object.assign(new Error(`ssh exited (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}`), { code: 'ECONNRESET' });
      this.destroy(err);
    });
  }

  override _read(): void {
    this.child.stdout?.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Writing to an ssh that died fails with EPIPE; the data is dropped and the 'close' handler
    // reports why ssh died instead, which is what a person needs to read.
    if (this.exited || !this.child.stdin || this.child.stdin.destroyed) {
      callback();
      return;
    }
    this.child.stdin.write(chunk, encoding, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.child.stdin?.end(callback);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.exited) this.child.kill('SIGTERM');
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    callback(err);
  }

  /** What ssh printed on stderr lately (for diagnostics). */
  get stderrText(): string {
    return this.stderrTail;
  }

  // node:http's Agent treats its connections as net.Sockets.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(_ms: number, cb?: () => void): this {
    if (cb) this.once('timeout', cb);
    return this;
  }
  ref(): this {
    this.child.ref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as { ref?: () => void } | null)?.ref?.();
    return this;
  }
  unref(): this {
    // An idle kept-alive connection must not keep the process alive.
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
    return this;
  }
}

export function createSshConnection(opts: SshConnectionOptions): SshConnection {
  return new SshConnection(opts);
}
