// A container listing (GET /containers/json) read as it arrives: each container's summary is reduced to
// the record Repairman keeps (id, names, state, status, created, only the labels it reads, and a
// `container:` network mode, for the dependency graph of docs/behaviour.md §10) as soon
// as its bytes are in, so memory follows the number of containers, never the size of the listing.
// Checks match parseContainerList (shape.ts): a broken reply is a ShapeError or a JsonSyntaxError.
import { JsonTokenizer, SKIPPED, type JsonScalar, type JsonSink } from './json-stream.js';
import { ShapeError } from './shape.js';
import type { ContainerSummary } from './types.js';
import { formatBytes } from '../util/format-bytes.js';

/** Label prefixes Repairman reads: its own. */
export const KEPT_LABEL_PREFIXES = ['org.riotkit.repairman.'];
/**
 * Other labels Repairman reads: compose's and Swarm's that a decision uses, and those of the other
 * autoheal tools it honours (docs/behaviour.md §11). Compose's others (config hash, working dir...)
 * would cost ~0.3 KB per container and are never read (BENCHMARKS.md "Scale").
 */
export const KEPT_LABEL_NAMES = [
  'com.docker.compose.project', 'com.docker.compose.service', 'com.docker.compose.oneoff', 'com.docker.compose.replace',
  'com.docker.compose.depends_on', 'com.docker.swarm.task.id',
  'autoheal', 'autoheal.stop.timeout', 'deunhealth.restart.on.unhealthy',
];

/** Whether a label is one Repairman reads; `extra` names more (e.g. a configured AUTOHEAL_CONTAINER_LABEL). */
export function isKeptLabel(key: string, extra: readonly string[] = []): boolean {
  for (const p of KEPT_LABEL_PREFIXES) if (key.startsWith(p)) return true;
  return KEPT_LABEL_NAMES.includes(key) || extra.includes(key);
}

/** Only the labels Repairman reads (events carry all of a container's labels as attributes). */
export function keptLabels(labels: Record<string, string>, extra: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (isKeptLabel(k, extra)) out[k] = v;
  return out;
}

export interface ListingLimits {
  /** Bytes of one container's entry (with the separator before it) that are accepted. */
  maxRecordBytes: number;
  /** Containers accepted in one listing. */
  maxRecords: number;
  /** More label names to keep. */
  extraLabels?: readonly string[];
}

/** A listing larger than its limits: not JSON trouble, a reply nobody should buffer. */
export class ListingTooLargeError extends Error {}

type Field = 'Id' | 'Names' | 'State' | 'Status' | 'Created' | 'Labels' | 'HostConfig' | 'other';
const FIELDS = new Set<string>(['Id', 'Names', 'State', 'Status', 'Created', 'Labels', 'HostConfig']);

interface Draft {
  Id?: unknown;
  Names: string[];
  namesBad: boolean;
  State?: unknown;
  Status?: unknown;
  Created?: unknown;
  Labels: Record<string, string>;
  labelsBad: boolean;
  /** HostConfig.NetworkMode when it is `container:<id>` (the only mode the graph needs). */
  NetworkMode?: string;
}

/**
 * Feeds a listing's bytes to the tokenizer and hands each reduced container to `onContainer`.
 * Depth 1 is the array, 2 a container, 3 one of its fields' values (Names' array, Labels' object).
 */
export class ListingParser implements JsonSink {
  private readonly tokenizer = new JsonTokenizer(this);
  private depth = 0;
  private index = 0;
  private field: Field = 'other';
  private labelKey: string | typeof SKIPPED = SKIPPED;
  /** Inside HostConfig, the value being read is NetworkMode's. */
  private networkModeKey = false;
  private draft: Draft | undefined;
  /** Where the current entry (or the gap before the next) began, in bytes. */
  private recordFrom = 0;
  private readonly extra: readonly string[];

  constructor(private readonly limits: ListingLimits, private readonly onContainer: (c: ContainerSummary) => void) {
    this.extra = limits.extraLabels ?? [];
  }

  /** Containers handed out so far. */
  get count(): number {
    return this.index;
  }

  write(chunk: Uint8Array): void {
    this.tokenizer.write(chunk);
    // A single string or a run of blanks can be larger than a chunk: checked at every chunk too.
    this.checkRecordSize(this.tokenizer.bytes);
  }

  end(): void {
    this.tokenizer.end();
  }

  private checkRecordSize(at: number): void {
    if (at - this.recordFrom > this.limits.maxRecordBytes) {
      throw new ListingTooLargeError(`containers[${this.index}] takes more than ${formatBytes(this.limits.maxRecordBytes)} of the listing, the most accepted for one container`);
    }
  }

  private where(): string {
    return `containers[${this.index}]`;
  }

  // ---- JsonSink -------------------------------------------------------------------------------

  wantsString(isKey: boolean): boolean {
    if (this.depth === 2) return isKey || this.field !== 'other';
    if (this.depth === 3) {
      return this.field === 'Names' || (this.field === 'Labels' && (isKey || this.labelKey !== SKIPPED)) || (this.field === 'HostConfig' && (isKey || this.networkModeKey));
    }
    return false;
  }

  startObject(): void {
    this.enter();
    if (this.depth === 1) throw new ShapeError('container list is not an array');
    if (this.depth === 2) {
      this.draft = { Names: [], namesBad: false, Labels: {}, labelsBad: false };
      this.field = 'other';
    } else if ((this.depth === 3 && this.field !== 'Labels') || (this.depth === 4 && this.field === 'Names')) this.badField();
  }

  startArray(): void {
    this.enter();
    if (this.depth === 2) throw new ShapeError(`${this.where()} is not an object`);
    if ((this.depth === 3 && this.field !== 'Names') || (this.depth === 4 && this.field === 'Names')) this.badField();
  }

  endObject(): void {
    if (this.depth === 2) this.finishRecord();
    this.leave();
  }

  endArray(): void {
    this.leave();
  }

  key(name: string | typeof SKIPPED): void {
    if (this.depth === 2) {
      this.field = typeof name === 'string' && FIELDS.has(name) ? (name as Field) : 'other';
    } else if (this.depth === 3 && this.field === 'Labels') {
      this.labelKey = typeof name === 'string' && isKeptLabel(name, this.extra) ? name : SKIPPED;
    } else if (this.depth === 3 && this.field === 'HostConfig') {
      this.networkModeKey = name === 'NetworkMode';
    }
  }

  value(v: JsonScalar | typeof SKIPPED): void {
    if (this.depth === 0) throw new ShapeError('container list is not an array');
    if (this.depth === 1) throw new ShapeError(`${this.where()} is not an object`);
    const d = this.draft!;
    if (this.depth === 2) {
      switch (this.field) {
        case 'Names':
          if (v !== null) d.namesBad = true;
          break;
        case 'Labels':
          if (v !== null) d.labelsBad = true;
          break;
        case 'other':
        case 'HostConfig':
          break;
        default:
          d[this.field] = v;
      }
    } else if (this.depth === 3) {
      if (this.field === 'Names') {
        if (typeof v !== 'string') d.namesBad = true;
        // Link aliases ("/other/alias") are of no use to Repairman; the own name has one slash.
        else if (v.lastIndexOf('/') <= 0 || d.Names.length === 0) d.Names.push(v);
      } else if (this.field === 'Labels' && typeof v === 'string' && this.labelKey !== SKIPPED) {
        d.Labels[this.labelKey] = v;
      } else if (this.field === 'HostConfig' && this.networkModeKey && typeof v === 'string' && v.startsWith('container:')) {
        d.NetworkMode = v;
      }
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private enter(): void {
    this.depth++;
    if (this.depth === 1) this.recordFrom = this.tokenizer.position + 1;
  }

  private leave(): void {
    this.depth--;
    if (this.depth === 2) {
      this.labelKey = SKIPPED;
      this.networkModeKey = false;
    }
  }

  /** Names that is not an array or Labels that is not an object. */
  private badField(): void {
    const d = this.draft!;
    if (this.field === 'Names') d.namesBad = true;
    else if (this.field === 'Labels') d.labelsBad = true;
  }

  private finishRecord(): void {
    const end = this.tokenizer.position + 1;
    this.checkRecordSize(end);
    const d = this.draft!;
    const where = this.where();
    if (typeof d.Id !== 'string') throw new ShapeError(`${where}.Id is not a string`);
    if (d.namesBad) throw new ShapeError(`${where}.Names is not a list of strings`);
    if (typeof d.State !== 'string') throw new ShapeError(`${where}.State is not a string`);
    if (d.Status !== undefined && d.Status !== null && typeof d.Status !== 'string') throw new ShapeError(`${where}.Status is not a string`);
    if (d.Created !== undefined && d.Created !== null && typeof d.Created !== 'number') throw new ShapeError(`${where}.Created is not a number`);
    if (d.labelsBad) throw new ShapeError(`${where}.Labels is not an object`);
    if (this.index >= this.limits.maxRecords) throw new ListingTooLargeError(`the listing has more than ${this.limits.maxRecords} containers`);
    this.index++;
    this.recordFrom = end;
    this.draft = undefined;
    this.onContainer({
      Id: d.Id,
      Names: d.Names,
      Created: typeof d.Created === 'number' ? d.Created : 0,
      State: d.State,
      Status: typeof d.Status === 'string' ? d.Status : '',
      Labels: d.Labels,
      ...(d.NetworkMode !== undefined ? { HostConfig: { NetworkMode: d.NetworkMode } } : {}),
    });
  }
}
