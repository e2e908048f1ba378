import type { Secret } from '../lib/secret.js';
import type { Family, MinerReading } from './sample.js';

/** Where and how to reach one rig. Built by the collector from validated config. */
export interface PollTarget {
  host: string;
  port: number;
  /** Configured family, or 'auto' to detect. */
  family: Family | 'auto';
  username?: string | undefined;
  password?: Secret | undefined;
  /** TCP connect timeout. */
  connectTimeoutMs: number;
  /** Hard deadline for one command (connect + send + read). */
  commandTimeoutMs: number;
  /** Largest reply accepted, bytes. */
  maxReplyBytes: number;
}

/**
 * A protocol driver reads one rig. It knows wire formats and firmware quirks, nothing about scheduling or
 * storage. It must honour `signal` (abort = stop at once, close sockets) and either return a reading or
 * throw an `RtError` with a `RT_ERR_PROTO_…` code.
 */
export interface MinerDriver {
  readonly family: Family;
  poll(target: PollTarget, signal: AbortSignal): Promise<MinerReading>;
}
