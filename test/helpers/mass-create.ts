// Thousands of containers on the private engine, fast: created (never started) through the Engine API
// with a few requests in flight, instead of one `docker create` process each. Removed by their label
// with one prune. For scale tests and the scale benchmark only; never the machine's default engine.
import http from 'node:http';
import { testDockerHost, TEST_IMAGE } from './engine.js';

/** The label every mass-created container carries (value: the batch), for the prune. */
export const MASS_LABEL = 'org.example.repairman-mass';

function socketPath(): string {
  const host = testDockerHost();
  if (!host.startsWith('unix://')) throw new Error(`mass-create talks to a unix socket engine, not ${host}`);
  return host.slice('unix://'.length);
}

function request(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath: socketPath(), method, path,
      headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {},
      timeout: 120_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 120 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Labels like compose's plus a long description: about `bytes` of labels in the listing. */
export function composeLikeLabels(project: string, service: string, bytes = 3000): Record<string, string> {
  const labels: Record<string, string> = {
    'com.docker.compose.project': project,
    'com.docker.compose.service': service,
    'com.docker.compose.container-number': '1',
    'com.docker.compose.oneoff': 'False',
    'com.docker.compose.config-hash': 'd'.repeat(64),
    'com.docker.compose.project.working_dir': `/srv/${project}`,
    'com.docker.compose.project.config_files': `/srv/${project}/docker-compose.yml`,
    'com.docker.compose.version': '2.24.6',
    'org.opencontainers.image.source': `https://git.example.org/${project}/${service}`,
  };
  const used = JSON.stringify(labels).length;
  labels['org.opencontainers.image.description'] = 'x'.repeat(Math.max(0, bytes - used - 50));
  return labels;
}

export interface MassCreateOptions {
  /** Name prefix (a test's namespace): containers are `${prefix}m${i}`. */
  prefix: string;
  count: number;
  /** Bytes of labels per container (default 3000). */
  labelBytes?: number;
  /** Requests in flight (default 8). */
  concurrency?: number;
  /** Index of the first container (to grow a batch: default 0). */
  from?: number;
}

/** Create `count` containers (state "created"); resolves with the milliseconds it took. */
export async function massCreate(opts: MassCreateOptions): Promise<number> {
  const t0 = Date.now();
  let next = opts.from ?? 0;
  const end = next + opts.count;
  const worker = async (): Promise<void> => {
    while (next < end) {
      const i = next++;
      const name = `${opts.prefix}m${i}`;
      const labels = { ...composeLikeLabels(opts.prefix.replace(/-$/, ''), `svc${i}`, opts.labelBytes), [MASS_LABEL]: opts.prefix };
      const r = await request('POST', `/containers/create?name=${encodeURIComponent(name)}`, {
        Image: TEST_IMAGE, Cmd: ['sh', '-c', 'exit 0'], Labels: labels, HostConfig: { NetworkMode: 'none' },
      });
      if (r.status !== 201) throw new Error(`creating ${name}: ${r.status} ${r.text}`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return Date.now() - t0;
}

/** Remove every container mass-created with this prefix (one prune, they never ran). */
export async function massRemove(prefix: string): Promise<void> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${MASS_LABEL}=${prefix}`] }));
  const r = await request('POST', `/containers/prune?filters=${filters}`);
  if (r.status !== 200) throw new Error(`pruning ${prefix}: ${r.status} ${r.text}`);
}

/** Containers the engine has (all, any state): one listing's length, read as a stream of bytes. */
export async function engineContainerCount(): Promise<number> {
  const r = await request('GET', '/containers/json?all=1');
  return (JSON.parse(r.text) as unknown[]).length;
}
