/**
 * What the list and summary routes serve, computed once per fleet change and shared by every request: at 10,000
 * rigs one summary costs tens of milliseconds, so computing it per request would let API load starve polling.
 *
 * A snapshot is rebuilt when the fleet changed (`FleetView.version`): a small fleet (under 500 rigs) on every
 * change, a large one at most once a second (issue 12: "computed once per state change, or per second"), so its
 * cost (~20–45 ms at 10,000 rigs with what is derived from it) is a few % of a core however many requests come.
 * A FleetView without `version` is rebuilt on every request.
 */
import { createHash } from 'node:crypto';
import type { FleetView, RigStatus } from '../collector/views.js';
import type { Config } from '../config/schema.js';
import { redactText } from '../lib/secret.js';
import { type RigSummary, summarizeRig } from './rig-view.js';

const MAX_AGE_MS = 1000;
/** Below this many rigs a changed fleet is always rebuilt: cheap, and what a reader asks right after a change. */
const THROTTLE_FROM_RIGS = 500;

export interface Snapshot {
  /** Fleet version it was built from (null: the fleet has no version). */
  version: number | null;
  built_ms: number;
  rigs: RigStatus[];
  /** Per-rig summaries (at `built_ms`), computed on first use: /v1/fleet and /metrics never need them. */
  readonly summaries: RigSummary[];
  /** Per-key derived values (sorted lists, rendered bodies), dropped with the snapshot. */
  memo: Map<string, unknown>;
}

export class Snapshots {
  private current: Snapshot | null = null;
  private builtAt = 0;

  constructor(
    private readonly fleet: FleetView,
    private readonly config: Config,
    private readonly now: () => number,
  ) {}

  get(): Snapshot {
    const version = this.fleet.version?.() ?? null;
    const cur = this.current;
    if (cur && version !== null && cur.version === version) return cur;
    const t = performance.now();
    if (cur && version !== null && cur.rigs.length >= THROTTLE_FROM_RIGS && t - this.builtAt < MAX_AGE_MS)
      return cur;
    const nowMs = this.now();
    const rigs = this.fleet.list();
    const config = this.config;
    const summarize = () => rigs.map((r) => summarizeRig(config, r, nowMs));
    let summaries: RigSummary[] | null = null;
    const snap: Snapshot = {
      version,
      built_ms: nowMs,
      rigs,
      get summaries() {
        summaries ??= summarize();
        return summaries;
      },
      memo: new Map(),
    };
    this.current = snap;
    this.builtAt = t;
    return snap;
  }

  /** A value derived from the current snapshot, computed once per snapshot. */
  memo<T>(key: string, make: (snap: Snapshot) => T): T {
    const snap = this.get();
    if (snap.memo.has(key)) return snap.memo.get(key) as T;
    const value = make(snap);
    snap.memo.set(key, value);
    return value;
  }
}

const byFleet = new WeakMap<FleetView, Snapshots>();

/** The snapshot cache shared by every route serving this fleet. */
export function snapshotsFor(fleet: FleetView, config: Config, now: () => number): Snapshots {
  let s = byFleet.get(fleet);
  if (!s) {
    s = new Snapshots(fleet, config, now);
    byFleet.set(fleet, s);
  }
  return s;
}

/**
 * A rendered JSON body with its entity tag. The body is redacted here, once, and kept as bytes: a Buffer leaves
 * without the onSend hook's per-request redaction pass and string encoding (hundreds of KB for a page of rigs).
 */
export interface Rendered {
  body: Buffer;
  etag: string;
}

export function render(value: unknown): Rendered {
  const body = Buffer.from(redactText(JSON.stringify(value)));
  return { body, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"` };
}

/** True when the request's If-None-Match names this tag (or `*`). */
export function notModified(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const text = Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch;
  return text.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === etag || tag === '*';
  });
}
