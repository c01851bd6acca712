// What the kernel says about a process: resident memory and CPU time (Linux /proc only).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

let clockTicks: number | undefined;

/** Kernel clock ticks per second (USER_HZ) that /proc/<pid>/stat counts CPU time in. */
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** VmRSS of a process in bytes (null when it is gone). */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * VmRSS split as the kernel accounts it: RssAnon (the process's own heap, stacks, JIT code) and
 * RssFile + RssShmem (pages of the node binary and libraries, shared with any other node process).
 */
export function rssParts(pid: number): { anonBytes: number; fileBytes: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { anonBytes: kb('RssAnon'), fileBytes: kb('RssFile') + kb('RssShmem') };
  } catch {
    return null;
  }
}

/** utime + stime of a process in seconds (null when it is gone). */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / clkTck();
  } catch {
    return null;
  }
}

/** The load averages (1, 5, 15 min) and core count, to put next to every figure. */
export function loadNow(): { load1: number; load5: number; load15: number; cores: number } {
  const [load1 = 0, load5 = 0, load15 = 0] = os.loadavg();
  return { load1: round2(load1), load5: round2(load5), load15: round2(load15), cores: os.cpus().length };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
