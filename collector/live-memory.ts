/**
 * What the live fleet keeps of a rig's latest sample, kept small: at 10,000 rigs every byte per rig is 10 MB.
 *
 * - Raw replies (kept by partial and unsupported readings for diagnosis, up to 64 KB each, ~4 KB typically) are
 *   held deflated outside the V8 heap and inflated only when read: ~3.5× smaller, for ~30–50 µs of CPU per
 *   partial sample. At 10,000 emulated rigs they were 15 MB of the main thread's heap, read only by
 *   `/v1/rigs/:id`.
 * - A sample crosses from the poll worker as a structured clone, with its own copy of every string; the strings
 *   equal to those of the rig's previous sample (model, firmware, pool URLs, notes…) are swapped for the previous
 *   ones, so a rig's unchanged text is held once however often it is polled, and the short texts many rigs
 *   report alike (pool URLs and statuses, makes, firmware, notes) for one copy in a process-wide pool.
 * - A cloned object gets V8's generic layout (4 fields inline, the rest in a separate, over-allocated array):
 *   boards, pools and fans are copied into objects of their exact shape, ~240 bytes less for a rig of 3 boards,
 *   3 pools and 4 fans.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  type BoardReading,
  emptyBoard,
  FAMILIES,
  type FanReading,
  type PoolReading,
  RIG_STATES,
  type RigIdentity,
  type Sample,
} from '../protocols/sample.js';
import { StringPool } from './string-pool.js';

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

/** Texts that many rigs share: 4,096 strings a generation, none longer than a note usually is. */
const common = new StringPool(4096, 256);

/** `prev` when equal (the copy already held), else the pool's copy of `next`. */
const pooled = <T extends string | null>(next: T, prev: T | undefined): T =>
  next === prev ? (prev as T) : common.intern(next);

function shareList(next: string[], prev: string[] | undefined): void {
  for (let i = 0; i < next.length; i++) next[i] = pooled(next[i]!, prev?.[i]);
}

function shareIdentity(next: RigIdentity, prev: RigIdentity | undefined): void {
  next.family = word(next.family);
  next.make = pooled(next.make, prev?.make);
  next.model = pooled(next.model, prev?.model);
  next.firmware = pooled(next.firmware, prev?.firmware);
  if (!prev) return;
  // One rig's own: shared with its previous sample only.
  next.mac = same(next.mac, prev.mac);
  next.serial = same(next.serial, prev.serial);
  next.hostname = same(next.hostname, prev.hostname);
}

function sharePools(next: PoolReading[], prev: PoolReading[] | undefined): void {
  for (let i = 0; i < next.length; i++) {
    const p = next[i]!;
    const q = prev?.[i];
    p.url = pooled(p.url, q?.url);
    p.user = pooled(p.user, q?.user);
    p.status = pooled(p.status, q?.status);
  }
}

/**
 * Swap the strings of `next` equal to those of `prev` (the same rig's previous sample, or null) for `prev`'s,
 * the common words (state, family, support, power source) for one process-wide copy, and the texts many rigs
 * share for the pool's copy. Nothing a reader can see changes: only which copy of an equal string the sample
 * holds.
 */
export function shareStrings(next: Sample, prev: Sample | null): void {
  next.state = word(next.state);
  next.support = word(next.support);
  next.power_source = word(next.power_source);
  shareIdentity(next.identity, prev?.identity);
  sharePools(next.pools, prev?.pools);
  shareList(next.notes, prev?.notes);
  shareList(next.repairs, prev?.repairs);
  next.poll.error_code = pooled(next.poll.error_code, prev?.poll.error_code);
  if (prev) next.poll.error_message = same(next.poll.error_message, prev.poll.error_message);
}

const BOARD_KEYS = Object.keys(emptyBoard(0));
const POOL_KEYS = ['index', 'url', 'user', 'status', 'active', 'accepted', 'rejected', 'stale'];
const FAN_KEYS = ['index', 'rpm'];

/** Whether `o` has exactly these own keys, in this order (a copy then serializes the same). */
function hasKeys(o: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const k in o) {
    if (k !== keys[i]) return false;
    i += 1;
  }
  return i === keys.length;
}

const boardCopy = (b: BoardReading): BoardReading => ({
  index: b.index,
  hashrate_hs: b.hashrate_hs,
  hashrate_nominal_hs: b.hashrate_nominal_hs,
  temp_board_c: b.temp_board_c,
  temp_chip_c: b.temp_chip_c,
  temp_inlet_c: b.temp_inlet_c,
  temp_outlet_c: b.temp_outlet_c,
  chips: b.chips,
  chips_expected: b.chips_expected,
  hw_errors: b.hw_errors,
  frequency_mhz: b.frequency_mhz,
  power_w: b.power_w,
});

const poolCopy = (p: PoolReading): PoolReading => ({
  index: p.index,
  url: p.url,
  user: p.user,
  status: p.status,
  active: p.active,
  accepted: p.accepted,
  rejected: p.rejected,
  stale: p.stale,
});

const fanCopy = (f: FanReading): FanReading => ({ index: f.index, rpm: f.rpm });

/** Each element of `list` with exactly `keys` replaced by its copy (an element with other keys is kept as it is). */
function compactList<T extends object>(list: T[], keys: readonly string[], copy: (x: T) => T): void {
  for (let i = 0; i < list.length; i++) if (hasKeys(list[i]!, keys)) list[i] = copy(list[i]!);
}

/**
 * Swap the sample's boards, pools and fans for equal objects of their exact shape. Nothing a reader can see
 * changes: the same keys in the same order with the same values.
 */
export function compactReadings(sample: Sample): void {
  compactList(sample.boards, BOARD_KEYS, boardCopy);
  compactList(sample.pools, POOL_KEYS, poolCopy);
  compactList(sample.fans, FAN_KEYS, fanCopy);
}
