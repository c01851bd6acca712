// The deployment examples are valid as written: examples/docker-compose.yml (the seed's quick start,
// corrected) and examples/swarm-stack.yml pass `docker-compose config`, and their merged form says what
// the issue asks: strings for environment and label values, an 80 MB cap, the socket mounted, one
// Repairman per Swarm node. The settings they use are checked by Repairman's own configuration
// loader (`repairman config` with the example's environment must succeed). No container is started
// here: image.test.ts runs the compose example for real, swarm-stack.test.ts deploys the stack file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { engineEnv, hasTestEngine } from '../helpers/engine.js';
import { CLI_PATH } from '../helpers/repairman.js';

const execFileP = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface ServiceConfig {
  image?: string;
  build?: { context: string } | string;
  environment?: Record<string, unknown>;
  labels?: Record<string, unknown>;
  mem_limit?: string | number;
  restart?: string;
  volumes?: Array<string | { type: string; source: string; target: string }>;
  deploy?: {
    mode?: string;
    placement?: { constraints?: string[] };
    resources?: { limits?: { memory?: string | number } };
    restart_policy?: { condition?: string };
  };
}

/**
 * `docker-compose config` of one file, as JSON. Compose v1 prints YAML only; it is itself Python with
 * PyYAML, so that same Python reads it back (no YAML parser in Repairman's dependencies).
 */
async function composeConfig(file: string, env: Record<string, string> = {}): Promise<{ services: Record<string, ServiceConfig>; raw: string }> {
  const { stdout, stderr } = await execFileP('docker-compose', ['-f', join(REPO_ROOT, file), 'config'], { env: engineEnv(env), timeout: 60_000 });
  assert.doesNotMatch(stderr, /WARN|ERROR|invalid/i, stderr);
  const child = execFile('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { timeout: 30_000 });
  const json = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`python3 yaml: exit ${code}: ${err}`))));
    child.stdin!.end(stdout);
  });
  return { ...(JSON.parse(json) as { services: Record<string, ServiceConfig> }), raw: stdout };
}

/** The example's environment, read back the way Compose passes it. */
function stringEnv(env: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) {
    assert.equal(typeof v, 'string', `${k} is ${typeof v}, not a string`);
    out[k] = v as string;
  }
  return out;
}

/** `repairman config` with exactly this environment: the example's settings are valid for Repairman. */
async function assertRepairmanAccepts(env: Record<string, string>): Promise<string> {
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env };
  try {
    const { stdout } = await execFileP(process.execPath, [CLI_PATH, 'config'], { env: clean, timeout: 30_000 });
    return stdout;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    assert.fail(`repairman config rejected the example's environment (exit ${e.code}):\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

describe('deployment examples', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  it('examples/docker-compose.yml: the seed quick start, corrected', async () => {
    const { services } = await composeConfig('examples/docker-compose.yml');
    const svc = services.repairman;
    assert.ok(svc, 'a service named repairman');
    assert.equal(svc.image, 'repairman:latest');
    const context = typeof svc.build === 'string' ? svc.build : svc.build?.context;
    assert.equal(context?.replace(/\/$/, ''), REPO_ROOT.replace(/\/$/, ''), 'build: .. is the repository root (the Dockerfile)');
    assert.equal(String(svc.mem_limit).toLowerCase(), '80m');
    assert.ok(svc.volumes?.some((v) => typeof v === 'string' && v.startsWith('/var/run/docker.sock:/var/run/docker.sock')), JSON.stringify(svc.volumes));
    for (const [k, v] of Object.entries(svc.labels ?? {})) assert.equal(typeof v, 'string', `label ${k} is ${typeof v}`);
    assert.equal(svc.labels?.['org.riotkit.repairman.enable_autoheal'], 'false');
    const env = stringEnv(svc.environment);
    // Every setting of the seed's quick start is still there.
    for (const k of ['NAMESPACE', 'DEFAULT_SECONDS_BETWEEN_RESTARTS', 'DEFAULT_FRAME_SIZE', 'DEFAULT_MAX_RESTARTS_IN_FRAME',
      'DEFAULT_SECONDS_BETWEEN_NEXT_FRAME', 'DEFAULT_MAX_CHECKS_TO_GIVE_UP', 'DEFAULT_MAX_HISTORIC_ENTRIES',
      'DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING', 'DEFAULT_ENABLE_AUTO_HEAL', 'TZ', 'DEFAULT_NOTIFY_LEVEL', 'DEFAULT_NOTIFY_URL']) {
      assert.ok(k in env, `${k} missing`);
    }
    const shown = await assertRepairmanAccepts(env);
    assert.match(shown, /aarchive/);
  });

  it('examples/swarm-stack.yml: one Repairman per node, socket mounted, memory capped', async () => {
    const { services } = await composeConfig('examples/swarm-stack.yml', { REPAIRMAN_IMAGE: 'registry.example.org/repairman:1' });
    const svc = services.repairman;
    assert.ok(svc, 'a service named repairman');
    assert.equal(svc.image, 'registry.example.org/repairman:1');
    assert.equal(svc.deploy?.mode, 'global');
    assert.ok(svc.deploy?.placement?.constraints?.includes('node.platform.os == linux'));
    assert.match(String(svc.deploy?.resources?.limits?.memory), /^80M$/i);
    assert.equal(svc.deploy?.restart_policy?.condition, 'any');
    assert.ok(svc.volumes?.some((v) => typeof v === 'object' && v.type === 'bind' && v.source === '/var/run/docker.sock' && v.target === '/var/run/docker.sock'), JSON.stringify(svc.volumes));
    for (const [k, v] of Object.entries(svc.labels ?? {})) assert.equal(typeof v, 'string', `label ${k} is ${typeof v}`);
    await assertRepairmanAccepts(stringEnv(svc.environment));
  });

  it('examples/swarm-stack.yml is a valid stack file for `docker stack deploy`', async (t) => {
    // `docker stack config` (Docker CLI 25+) validates without a Swarm; older CLIs do not have it.
    const help = await execFileP('docker', ['stack', 'config', '--help'], { env: engineEnv(), timeout: 30_000 }).catch(() => null);
    if (!help) {
      t.skip('this docker CLI has no `docker stack config`');
      return;
    }
    const { stdout } = await execFileP('docker', ['stack', 'config', '-c', join(REPO_ROOT, 'examples/swarm-stack.yml')], {
      env: engineEnv({ REPAIRMAN_IMAGE: 'registry.example.org/repairman:1' }),
      timeout: 30_000,
    });
    assert.match(stdout, /mode: global/);
    assert.match(stdout, /image: registry\.example\.org\/repairman:1/);
  });
});
