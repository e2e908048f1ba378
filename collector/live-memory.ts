/**
 * What the live fleet keeps of a rig's latest sample, kept small: at 10,000 rigs every byte per rig is 10 MB.
 *
 * - Raw replies (kept by partial and unsupported readings for diagnosis, up to 64 KB each, ~4 KB typically) are
 *   held deflated outside the V8 heap and inflated only when read: ~3.5× smaller, for ~30–50 µs of CPU per
 *   partial sample. At 10,000 emulated rigs they were 15 MB of the main thread's heap, read only by
 *   `/v1/rigs/:id`.
 * - A sample crosses from the poll worker as a structured clone, with its own copy of every string; the strings
 *   equal to those of the rig's previous sample (model, firmware, pool URLs, notes…) are swapped for the previous
 *   ones, so a rig's unchanged text is held once however often it is polled.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  FAMILIES,
  type PoolReading,
  RIG_STATES,
  type RigIdentity,
  type Sample,
} from '../protocols/sample.js';

/** Deflate level 1: most of the size gain of higher levels (3.6× against 4.1× at 6) for the least CPU. */
const LEVEL = 1;

export function packRaw(raw: string): Buffer {
  const z = deflateRawSync(raw, { level: LEVEL });
  // zlib hands back a view of its 16 KB output chunk: copied into a buffer of its own size, or each ~1 KB raw
  // reply kept 16 KB alive (and not into Buffer's shared 8 KB pool, whose slabs a single survivor keeps).
  const own = Buffer.allocUnsafeSlow(z.length);
  z.copy(own);
  return own;
}

export function unpackRaw(packed: Buffer): string {
  return inflateRawSync(packed).toString('utf8');
}

/**
 * A copy of `sample` whose `raw` is inflated from `packed` when read (enumerable, so it is serialized like the
 * field it stands for); the copy shares everything else with `sample`.
 */
export function withPackedRaw(sample: Sample, packed: Buffer): Sample {
  const copy = { ...sample };
  Object.defineProperty(copy, 'raw', { enumerable: true, configurable: true, get: () => unpackRaw(packed) });
  return copy;
}

/** Words every sample uses, one copy each for the whole process. */
const WORDS = new Map<string, string>(
  [...RIG_STATES, ...FAMILIES, 'full', 'partial', 'unsupported', 'pdu', 'miner', 'estimate'].map((w) => [
    w,
    w,
  ]),
);
const word = <T extends string | null>(s: T): T => (s === null ? s : ((WORDS.get(s) as T) ?? s));

/** `next` if it differs from `prev`, else `prev` (the copy already held). */
const same = <T extends string | null>(next: T, prev: T | undefined): T =>
  next === prev ? (prev as T) : next;

function shareList(next: string[], prev: string[] | undefined): void {
  if (!prev) return;
  const n = Math.min(next.length, prev.length);
  for (let i = 0; i < n; i++) next[i] = same(next[i]!, prev[i]);
}

function shareIdentity(next: RigIdentity, prev: RigIdentity | undefined): void {
  next.family = word(next.family);
  if (!prev) return;
  next.make = same(next.make, prev.make);
  next.model = same(next.model, prev.model);
  next.firmware = same(next.firmware, prev.firmware);
  next.mac = same(next.mac, prev.mac);
  next.serial = same(next.serial, prev.serial);
  next.hostname = same(next.hostname, prev.hostname);
}

function sharePools(next: PoolReading[], prev: PoolReading[] | undefined): void {
  for (let i = 0; i < next.length; i++) {
    const p = next[i]!;
    const q = prev?.[i];
    p.url = same(p.url, q?.url);
    p.user = same(p.user, q?.user);
    p.status = same(p.status, q?.status);
  }
}

/**
 * Swap the strings of `next` equal to those of `prev` (the same rig's previous sample, or null) for `prev`'s,
 * and the common words (state, family, support, power source) for one process-wide copy. Nothing a reader can
 * see changes: only which copy of an equal string the sample holds.
 */
export function shareStrings(next: Sample, prev: Sample | null): void {
  next.state = word(next.state);
  next.support = word(next.support);
  next.power_source = word(next.power_source);
  shareIdentity(next.identity, prev?.identity);
  sharePools(next.pools, prev?.pools);
  shareList(next.notes, prev?.notes);
  shareList(next.repairs, prev?.repairs);
  if (prev) next.poll.error_message = same(next.poll.error_message, prev.poll.error_message);
}
