// The machine a figure was measured on, recorded beside every result (a benchmark without its
// machine and load is not a number anyone can compare).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { docker, testDockerHost } from '../../test/helpers/engine.js';
import { loadNow } from './proc.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  engine: string;
  engineApi: string;
  storageDriver: string;
  /** DOCKER_HOST of the engine measured (a private one; never the machine's default). */
  engineHost: string;
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) return m[1].trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export async function machineInfo(): Promise<MachineInfo> {
  let engine = 'unknown';
  let engineApi = 'unknown';
  let storageDriver = 'unknown';
  try {
    [engine, engineApi] = (await docker(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'])).split(' ') as [string, string];
    storageDriver = await docker(['info', '--format', '{{.Driver}}']);
  } catch {
    // reported as unknown
  }
  return {
    cpu: cpuModel(),
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    engine,
    engineApi,
    storageDriver,
    engineHost: testDockerHost(),
  };
}

export { loadNow };
