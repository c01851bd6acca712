// Which container Repairman itself runs in, so it never restarts itself (docs/behaviour.md §2.3). Docker shows the
// container id in /proc/self/cgroup (cgroup v1, or v2 on hosts without a private cgroup namespace),
// in /proc/self/mountinfo (the bind mounts of /etc/hostname and friends, also under cgroup v2), and
// by default as the first 12 hex digits of the id in HOSTNAME. None of them is certain alone.
import { readFileSync } from 'node:fs';

export interface SelfIdentity {
  /** Full 64-hex ids found in /proc. */
  ids: string[];
  /** HOSTNAME when it looks like a short container id (12 hex digits). */
  shortId: string | null;
}

const FULL_ID = /[0-9a-f]{64}/g;

/** Pure: find candidate ids in the texts of /proc/self/cgroup and /proc/self/mountinfo and HOSTNAME. */
export function parseSelfIdentity(cgroup: string | null, mountinfo: string | null, hostname: string | undefined): SelfIdentity {
  const ids = new Set<string>();
  for (const line of (cgroup ?? '').split('\n')) {
    // ".../docker/<id>", ".../docker-<id>.scope", ".../libpod-<id>.scope", kubepods paths: the id is
    // the last 64-hex run of the path.
    const all = line.match(FULL_ID);
    const last = all?.[all.length - 1];
    if (last) ids.add(last);
  }
  for (const line of (mountinfo ?? '').split('\n')) {
    // "/var/lib/docker/containers/<id>/hostname /etc/hostname ..." (also resolv.conf, hosts).
    const m = /\/containers\/([0-9a-f]{64})\/(?:hostname|hosts|resolv\.conf)\b/.exec(line);
    if (m?.[1]) ids.add(m[1]);
  }
  const h = (hostname ?? '').trim().toLowerCase();
  return { ids: [...ids], shortId: /^[0-9a-f]{12}$/.test(h) ? h : null };
}

export function detectSelfIdentity(env: NodeJS.ProcessEnv, read: (path: string) => string | null = readOrNull): SelfIdentity {
  return parseSelfIdentity(read('/proc/self/cgroup'), read('/proc/self/mountinfo'), env.HOSTNAME);
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Is this container id Repairman's own? A full id from /proc is conclusive. HOSTNAME is a weaker hint
 * (a user may set any hostname), so it is used only when /proc gave nothing.
 */
export function isSelfContainer(self: SelfIdentity, containerId: string): boolean {
  const id = containerId.toLowerCase();
  if (self.ids.length > 0) return self.ids.includes(id);
  return self.shortId !== null && id.startsWith(self.shortId);
}
