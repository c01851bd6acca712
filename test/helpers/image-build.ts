// Repairman's container image on the private engine, built from the repository's Dockerfile with the
// base images scripts/make-base-image.sh makes offline (the engine has no registry). Used by the image
// tests and the Swarm stack test; files running side by side take turns (a lock directory per engine),
// so the second one finds the first one's layers in the cache instead of building everything again.
//
// Cold (no base images, no layer cache): about 1 minute (base images from the repository's own Node 24
// binary ~25 s; docker build ~45 s: npm ci of the dev dependencies and tsc, nothing compiled natively).
// Warm: the base images and the dependency layer are reused; only tsc and the copies run again.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { engineEnv, testDockerHost } from './engine.js';

const execFileP = promisify(execFile);

/** The repository root, from dist/test/helpers/image-build.js. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const IMAGE = process.env.REPAIRMAN_IMAGE_TEST_TAG ?? 'repairman-image-test:latest';
/** The build stage's result, tagged so the next build can remove the one it replaces. */
const BUILD_STAGE_TAG = `${IMAGE.replace(/:[^:/]*$/, '')}:build-stage`;

export interface Exec {
  code: number;
  out: string;
  ms: number;
}

/** Run a command against the private engine; never throws (the result carries code and output). */
export async function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Exec> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await execFileP(cmd, args, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: engineEnv(opts.env),
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, out: stdout + stderr, ms: Date.now() - started };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message ?? ''}`, ms: Date.now() - started };
  }
}

export async function imageId(ref: string): Promise<string | null> {
  const res = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]);
  return res.code === 0 ? res.out.trim() : null;
}

export function tail(text: string, lines = 60): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** One build at a time per engine: a lock directory holding its owner's pid (a dead owner's lock is taken over). */
async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const dir = join(tmpdir(), `repairman-image-build-${createHash('sha256').update(testDockerHost()).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'pid'), String(process.pid));
      break;
    } catch {
      const owner = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => ''));
      let alive = false;
      try {
        alive = owner > 0 && process.kill(owner, 0);
      } catch {
        alive = false;
      }
      // No pid yet: the owner is between mkdir and writeFile; wait.
      if (owner > 0 && !alive) await rm(dir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the image build lock ${dir} was held for 30 minutes`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Build IMAGE; never throws: `built` false with the reason (and the tool's output) in `error`. */
export async function buildRepairmanImage(): Promise<{ built: boolean; error: string; ms: number }> {
  return withBuildLock(async () => {
    const started = Date.now();
    const fail = (error: string): { built: boolean; error: string; ms: number } => ({ built: false, error, ms: Date.now() - started });
    const base = await run('bash', [join(REPO_ROOT, 'scripts/make-base-image.sh')], { timeoutMs: 10 * 60_000 });
    if (base.code !== 0) return fail(`make-base-image.sh failed (exit ${base.code}):\n${tail(base.out)}`);
    const buildImage = /^BUILD_IMAGE=(\S+)$/m.exec(base.out)?.[1];
    const runtimeImage = /^RUNTIME_IMAGE=(\S+)$/m.exec(base.out)?.[1];
    if (!buildImage || !runtimeImage) return fail(`make-base-image.sh printed no image names:\n${tail(base.out)}`);
    const previous = await imageId(IMAGE);
    const previousStage = await imageId(BUILD_STAGE_TAG);
    // --network host: the build stage needs the npm registry and the engine has no bridge.
    // --force-rm: a failed step leaves no stopped container behind.
    const build = await run('docker', ['build', '--network', 'host', '--force-rm', '--build-arg', `BUILD_IMAGE=${buildImage}`,
      '--build-arg', `RUNTIME_IMAGE=${runtimeImage}`, '--build-arg', 'VERSION=test', '-t', IMAGE, '.'], { timeoutMs: 20 * 60_000 });
    if (build.code !== 0) return fail(`docker build failed (exit ${build.code}) after ${build.ms} ms:\n${tail(build.out)}`);
    console.log(`# image: base images ready in ${base.ms} ms, docker build in ${build.ms} ms`);
    // Each build whose sources changed leaves the previous final image and the previous build stage's
    // last layer untagged (~600 MB apiece as listed, mostly shared): remove them so repeated runs do
    // not pile up. The build stage is found in the classic builder's output (the layer just before
    // the runtime stage's FROM); BuildKit prints differently and keeps that in its own cache anyway.
    const runtimeFrom = build.out.search(/Step \d+\/\d+ : FROM \$\{RUNTIME_IMAGE\}/);
    const stage = runtimeFrom > 0 ? [...build.out.slice(0, runtimeFrom).matchAll(/---> ([0-9a-f]{12})\b/g)].pop()?.[1] : undefined;
    if (stage) await run('docker', ['tag', stage, BUILD_STAGE_TAG]);
    for (const [old, tag] of [[previous, IMAGE], [previousStage, BUILD_STAGE_TAG]] as const) {
      if (old && old !== (await imageId(tag))) await run('docker', ['rmi', old]);
    }
    return { built: true, error: '', ms: Date.now() - started };
  });
}
