/**
 * `GET /v1/rigs/:id` bodies kept as bytes per rig until what they show changes: the rig's summary, identity, tags
 * and full sample (~2.5 KB of JSON) were built, serialized and redacted on every request before.
 *
 * The body is a function of the rig's status and the config, except `age_s`, which moves every 100 ms. So a rig's
 * body is kept redacted, with the place of its age marked, and each request copies it out with the age of the
 * moment written in. Whether a kept body still holds is judged from the status the fleet gives now, field by field
 * (the sample by identity: samples are never changed once made), so any FleetView works and nothing can be served
 * stale. The bodies' bytes lie in one ring of fixed size (5 MiB), the oldest written over first, so what they
 * keep alive is bounded in bytes, not guessed from a count.
 */
import { randomBytes } from 'node:crypto';
import type { RigStatus } from '../collector/views.js';
import type { Config } from '../config/schema.js';
import { redactText } from '../lib/secret.js';
import { configuredRig, summarizeRig } from './rig-view.js';
import type { Rendered } from './snapshot.js';

/** The detail body of one rig, as `GET /v1/rigs/:id` serves it. */
export function rigDetailBody(config: Config, rig: RigStatus, nowMs: number) {
  const configured = configuredRig(config, rig);
  // The summary's own object, then the detail's keys set one by one: a spread followed by new keys took V8's
  // slow path (~20 µs a body).
  return Object.assign(summarizeRig(config, rig, nowMs), {
    make: rig.current?.identity.make ?? null,
    firmware: rig.current?.identity.firmware ?? null,
    serial: rig.current?.identity.serial ?? null,
    mac: rig.current?.identity.mac ?? null,
    tags: configured?.tags ?? {},
    last_poll_ms: rig.last_poll_ms,
    // The full normalized sample; Sample holds no credentials (protocols/sample.ts).
    current: rig.current,
  });
}

/** Seconds since the rig last answered, to 0.1 s, as `summarizeRig` gives it. */
export function ageS(lastSeenMs: number | null, nowMs: number): number | null {
  return lastSeenMs === null ? null : Math.max(0, Math.round((nowMs - lastSeenMs) / 100) / 10);
}

interface Kept {
  status: RigStatus;
  /** Where the body's bytes start in the ring (bytes written before them), their length, and where the age goes. */
  start: number;
  length: number;
  split: number;
  /** This build's tag: the entity tag is it plus the age. */
  tag: string;
}

/** The fields of a status that a body shows; a new field must be added here (rig-body.test.ts checks). */
export function sameStatus(a: RigStatus, b: RigStatus): boolean {
  return (
    a.current === b.current &&
    a.last_poll_ms === b.last_poll_ms &&
    a.last_seen_ms === b.last_seen_ms &&
    a.state === b.state &&
    a.rig_id === b.rig_id &&
    a.name === b.name &&
    a.address === b.address &&
    a.consecutive_failures === b.consecutive_failures &&
    a.next_poll_ms === b.next_poll_ms &&
    (a.stale ?? false) === (b.stale ?? false) &&
    a.last_error?.code === b.last_error?.code &&
    a.last_error?.message === b.last_error?.message
  );
}

const AGE_KEY = ',"age_s":';

/**
 * The detail body as text, in two pieces around the value of `age_s`: `JSON.stringify(rigDetailBody(…))` cut
 * there. `,"age_s":` in that text can only be the key (inside a JSON string every quote is escaped, so `,"` never
 * occurs in one), and its value, a number or null, ends at the next comma. (Writing the text field by field
 * from the status instead was measured no faster: `JSON.stringify` of the sample is most of the cost either way.)
 */
export function detailText(config: Config, rig: RigStatus, nowMs: number): { head: string; tail: string } {
  const text = JSON.stringify(rigDetailBody(config, rig, nowMs));
  const at = text.indexOf(AGE_KEY) + AGE_KEY.length;
  return { head: text.slice(0, at), tail: text.slice(text.indexOf(',', at)) };
}

/**
 * Bytes of kept bodies, one after another in one buffer of fixed size, the oldest overwritten first: a build
 * writes its text here instead of getting a buffer of its own (an ArrayBuffer a body, ~3.1 KB retained each, and
 * work for the collector), and the memory is the ring's size, whatever the bodies weigh.
 */
export class ByteRing {
  readonly bytes: Buffer;
  /** Bytes written since the ring was made; a position in the ring is this modulo its size. */
  private written = 0;

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafeSlow(size);
  }

  /** Writes `length` bytes of `text` (its UTF-8 length); its start, or -1 when it cannot fit at all. */
  put(text: string, length: number): number {
    const size = this.bytes.length;
    if (length > size) return -1;
    let at = this.written % size;
    // Never split across the end: the rest of the ring is skipped, which retires what was there.
    if (at + length > size) {
      this.written += size - at;
      at = 0;
    }
    const start = this.written;
    this.bytes.write(text, at, length, length === text.length ? 'latin1' : 'utf8');
    this.written += length;
    return start;
  }

  /** Whether the bytes written at `start` are still there (nothing written over them since). */
  holds(start: number): boolean {
    return this.written - start <= this.bytes.length;
  }

  /** Copies `length` bytes from `start` + `from` into `to` at `at`. */
  copy(start: number, from: number, length: number, to: Buffer, at: number): void {
    const p = (start % this.bytes.length) + from;
    this.bytes.copy(to, at, p, p + length);
  }
}

/** Room for ~2,000 bodies of 2.6 KB (a rig of 3 boards); what the bodies kept before weighed at most. */
const RING_BYTES = 5 * 1024 * 1024;

export class RigBodies {
  /**
   * By address, in the order they were built, as their bytes lie in the ring: the first is the next overwritten.
   * Bounded by the ring's bytes and by `max` rigs (what each costs beside its bytes: the status, ~0.3 KB).
   */
  private readonly kept = new Map<string, Kept>();
  private readonly ring: ByteRing;
  /**
   * Tags are this instance's id and a build number, not a digest of ~2.5 KB per build: every build gets a new
   * one (a rebuild of the same bytes only costs a client a 200 instead of a 304), and a restart never reuses one.
   */
  private readonly instance = randomBytes(6).toString('base64url');
  private builds = 0;

  constructor(
    private readonly config: Config,
    readonly max = 4096,
    ringBytes = RING_BYTES,
  ) {
    this.ring = new ByteRing(ringBytes);
  }

  get size(): number {
    return this.kept.size;
  }

  /** The bytes the kept bodies may take (the ring's size: allocated once). */
  get ringBytes(): number {
    return this.ring.bytes.length;
  }

  body(rig: RigStatus, nowMs: number): Rendered {
    const last = rig.last_seen_ms;
    const age = last === null ? 'null' : `${Math.max(0, Math.round((nowMs - last) / 100) / 10)}`;
    let k = this.kept.get(rig.address);
    if (!k || !sameStatus(k.status, rig) || !this.ring.holds(k.start)) {
      const built = this.build(rig, nowMs);
      // Larger than the ring: served as built, not kept.
      if (built.kept === null)
        return { body: Buffer.from(built.head + age + built.tail), etag: `"${built.tag}-${age}"` };
      k = built.kept;
    }
    // The body in one buffer (from Node's pool when under 4 KB), the age written into its place.
    const split = k.split;
    const body = Buffer.allocUnsafe(k.length + age.length);
    this.ring.copy(k.start, 0, split, body, 0);
    body.write(age, split, 'latin1');
    this.ring.copy(k.start, split, k.length - split, body, split + age.length);
    return { body, etag: `"${k.tag}-${age}"` };
  }

  private build(
    rig: RigStatus,
    nowMs: number,
  ): { kept: Kept | null; head: string; tail: string; tag: string } {
    const pieces = detailText(this.config, rig, nowMs);
    const head = redactText(pieces.head);
    const tail = redactText(pieces.tail);
    this.builds += 1;
    const tag = `${this.instance}-${this.builds.toString(36)}`;
    this.kept.delete(rig.address);
    const whole = head + tail;
    const length = Buffer.byteLength(whole);
    const start = this.ring.put(whole, length);
    if (start < 0) return { kept: null, head, tail, tag };
    // What was written over goes, and the oldest beyond `max`: first in the map, first in the ring.
    for (const [address, old] of this.kept) {
      if (this.kept.size < this.max && this.ring.holds(old.start)) break;
      this.kept.delete(address);
    }
    // A copy of the status as it was: the fleet's own object may change under us.
    const status = { ...rig, last_error: rig.last_error ? { ...rig.last_error } : null };
    // All ASCII (as a rig's JSON nearly always is): the head's bytes are its characters.
    const split = length === whole.length ? head.length : Buffer.byteLength(head);
    const kept: Kept = { status, start, length, split, tag };
    this.kept.set(rig.address, kept);
    return { kept, head, tail, tag };
  }
}
