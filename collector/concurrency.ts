/**
 * How many polls may be in flight at once when `poll.concurrency` is `auto`.
 *
 * A poll in flight costs a socket, not CPU, while it waits: a rig that accepts and never answers holds its slot
 * for the whole command timeout. With a fixed 256 slots, 5 % of 10,000 rigs hanging filled nearly all of them and
 * healthy rigs waited (measured: healthy p99 9.2 s → 19.5 s at 5,000 rigs). `auto` gives room for every rig to
 * hang once per interval (rigs × command timeout / interval), at least 256, at most 4,096, and never more than half
 * the process's open-file limit (each poll holds one descriptor; the store, journal, API and sinks need theirs).
 */
import { readFileSync } from 'node:fs';

export const AUTO_CONCURRENCY_MIN = 256;
export const AUTO_CONCURRENCY_MAX = 4096;

export function autoConcurrency(
  rigs: number,
  commandTimeoutMs: number,
  intervalMs: number,
  openFileLimit: number | null = openFilesLimit(),
): number {
  const hangRoom = Math.ceil((rigs * commandTimeoutMs) / Math.max(1, intervalMs));
  let slots = Math.min(AUTO_CONCURRENCY_MAX, Math.max(AUTO_CONCURRENCY_MIN, hangRoom));
  if (openFileLimit !== null) slots = Math.min(slots, Math.max(16, Math.floor(openFileLimit / 2)));
  return slots;
}

let cachedLimit: number | null | undefined;

/** The soft limit on open files (Linux /proc/self/limits), null where it cannot be read. */
export function openFilesLimit(): number | null {
  if (cachedLimit !== undefined) return cachedLimit;
  cachedLimit = null;
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft && /^\d+$/.test(soft)) cachedLimit = Number(soft);
  } catch {
    // Not Linux: no cap from the limit.
  }
  return cachedLimit;
}

/** `poll.concurrency` as the scheduler takes it: a number, or for `auto` a rule over the rigs polled. */
export function pollConcurrency(poll: {
  concurrency: number | 'auto';
  command_timeout_ms: number;
  interval_ms: number;
}): number | ((rigs: number) => number) {
  if (poll.concurrency !== 'auto') return poll.concurrency;
  return (rigs) => autoConcurrency(rigs, poll.command_timeout_ms, poll.interval_ms);
}
