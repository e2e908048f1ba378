/** Messages between the collector's main thread and its poll workers (structured clone, batched). */
import type { Family } from '../protocols/sample.js';

export interface WireTarget {
  host: string;
  port: number;
  family: Family | 'auto';
  username?: string | undefined;
  /** Revealed only to cross the thread boundary; the worker wraps it in a Secret again. */
  password?: string | undefined;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  maxReplyBytes: number;
}

export interface WireJob {
  id: number;
  family: Family | 'auto';
  target: WireTarget;
  /** The worker aborts the poll after this long even if no abort arrives from the main thread. */
  deadline_ms: number;
}

export type ToWorker = { t: 'jobs'; jobs: WireJob[] } | { t: 'abort'; ids: number[] };

/** `code` null: the driver threw something that is not an RtError. */
export type JobResult =
  | { id: number; reading: unknown }
  | { id: number; error: { code: string | null; message: string } };

/** `ready`: the worker has loaded the drivers (once, first). */
export type FromWorker = { t: 'ready' } | { t: 'done'; results: JobResult[] };
