// Notification footprint: RSS of a fresh node process that imports the delivery code and posts a few
// notifications to a local receiver, with Repairman's transport (node:http / node:https) and with
// the global fetch (undici: what delivery used before), over http:// and https://. Each variant runs
// in a fresh process, RUNS times; medians are reported.
//
//   npx tsc -p tsconfig.json
//   node dist/bench/notify-rss.js          # RUNS=5, POSTS=5 by default; https needs openssl
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 5);
const POSTS = Number(process.env.POSTS ?? 5);
const deliveryModule = fileURLToPath(new URL('../src/notify/delivery.js', import.meta.url));
const formatModule = fileURLToPath(new URL('../src/notify/format.js', import.meta.url));
const targetsModule = fileURLToPath(new URL('../src/notify/targets.js', import.meta.url));

// The transport delivery had before: fetch, redirects not followed, at most 200 characters of the body.
const fetchTransport = `async (url, request, signal) => {
  const res = await fetch(url, { method: 'POST', headers: request.headers, body: request.body, signal, redirect: 'manual' });
  return {
    status: res.status, statusText: res.statusText, header: (n) => res.headers.get(n) ?? undefined, close: () => undefined,
    readSome: async (max) => { const r = res.body.getReader(); const d = new TextDecoder(); let t = '';
      try { while (t.length < max) { const { done, value } = await r.read(); if (done) break; t += d.decode(value, { stream: true }); } }
      finally { await r.cancel().catch(() => undefined); } return t.slice(0, max); },
  };
}`;

function child(transport: 'default' | 'fetch', url: string, posts: number): string {
  return `const { attemptDelivery } = await import(${JSON.stringify(deliveryModule)});
    const { buildRequest } = await import(${JSON.stringify(formatModule)});
    const { parseNotifyTarget } = await import(${JSON.stringify(targetsModule)});
    const transport = ${transport === 'fetch' ? fetchTransport : 'undefined'};
    const target = parseNotifyTarget(${JSON.stringify(url)}).target;
    const event = { kind: 'give_up', severity: 'warning', container: 'web', host: 'h', atMs: Date.now(), summary: 'gave up', reason: 'unhealthy',
      urls: [], level: 'INFO', logLines: Array.from({ length: 10 }, (_, i) => 'log line ' + i) };
    // Rendered before the first measure: rendering (Intl, time zones) costs the same with any transport.
    const request = buildRequest(target, event);
    const before = process.memoryUsage().rss;
    let ok = 0;
    for (let i = 0; i < ${posts}; i++) if ((await attemptDelivery(target, request, { timeoutMs: 5000, transport })).ok) ok++;
    const rss = process.memoryUsage().rss;
    console.log(JSON.stringify({ before, rss, peak: process.resourceUsage().maxRSS * 1024, ok }));`;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function main(): Promise<void> {
  const answer: http.RequestListener = (req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  };
  const plain = http.createServer(answer);
  const httpUrl = `json+http://127.0.0.1:${await listen(plain)}/hooks/bench`;
  const dir = mkdtempSync(join(tmpdir(), 'rm-notify-rss-'));
  let secure: https.Server | undefined;
  let httpsUrl: string | undefined;
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem',
    '-out', 'cert.pem', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir });
  if (!made.error && made.status === 0) {
    secure = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, answer);
    httpsUrl = `json+https://127.0.0.1:${await listen(secure)}/hooks/bench`;
  }
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') };
  try {
    console.log(`machine: ${cpus().length} CPUs, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, node ${process.version}, ${new Date().toISOString()}`);
    console.log(`${POSTS} POSTs per process to a receiver on 127.0.0.1; ${RUNS} runs per variant, medians\n`);
    console.log('| transport | scheme | RSS before the first POST, message rendered (MB) | RSS after (MB) | growth (MB) | peak RSS (MB) |');
    console.log('|---|---|---|---|---|---|');
    for (const [scheme, url] of [['http', httpUrl], ['https', httpsUrl]] as const) {
      if (!url) {
        console.log(`| - | ${scheme} | openssl is missing: not measured | | | |`);
        continue;
      }
      for (const transport of ['default', 'fetch'] as const) {
        const before: number[] = [];
        const after: number[] = [];
        const peak: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', child(transport, url, POSTS)], { env, timeout: 60_000 });
          const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { before: number; rss: number; peak: number; ok: number };
          if (r.ok !== POSTS) throw new Error(`${transport} ${scheme}: ${r.ok} of ${POSTS} delivered`);
          before.push(r.before);
          after.push(r.rss);
          peak.push(r.peak);
        }
        const name = transport === 'fetch' ? 'global fetch (undici, before)' : 'node:http / node:https (now)';
        console.log(`| ${name} | ${scheme} | ${mb(median(before))} | ${mb(median(after))} | ${mb(median(after) - median(before))} | ${mb(median(peak))} |`);
      }
    }
  } finally {
    plain.close();
    secure?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
