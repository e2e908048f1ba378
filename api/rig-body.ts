/**
 * `GET /v1/rigs/:id` bodies kept as bytes per rig until what they show changes: the rig's summary, identity, tags
 * and full sample (~2.5 KB of JSON) were built, serialized and redacted on every request before.
 *
 * The body is a function of the rig's status and the config, except `age_s`, which moves every 100 ms. So a rig's
 * body is kept as two redacted pieces around its age, and each request joins them with the age of the moment.
 * Whether a kept body still holds is judged from the status the fleet gives now, field by field (the sample by
 * identity: samples are never changed once made), so any FleetView works and nothing can be served stale.
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
  /** The body up to `"age_s":`, and from the `,` after it. */
  head: Buffer;
  tail: Buffer;
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

export class RigBodies {
  /** By address, oldest first; bounded so a client walking the fleet costs at most `max` bodies of memory. */
  private readonly kept = new Map<string, Kept>();
  /**
   * Tags are this instance's id and a build number, not a digest of ~2.5 KB per build: every build gets a new
   * one (a rebuild of the same bytes only costs a client a 200 instead of a 304), and a restart never reuses one.
   */
  private readonly instance = randomBytes(6).toString('base64url');
  private builds = 0;

  constructor(
    private readonly config: Config,
    private readonly max = 2048,
  ) {}

  get size(): number {
    return this.kept.size;
  }

  body(rig: RigStatus, nowMs: number): Rendered {
    let k = this.kept.get(rig.address);
    if (!k || !sameStatus(k.status, rig)) {
      k = this.build(rig, nowMs);
      this.kept.delete(rig.address);
      if (this.kept.size >= this.max) this.kept.delete(this.kept.keys().next().value!);
      this.kept.set(rig.address, k);
    }
    const age = String(ageS(rig.last_seen_ms, nowMs));
    const ageBytes = Buffer.from(age, 'latin1');
    return {
      body: Buffer.concat([k.head, ageBytes, k.tail], k.head.length + ageBytes.length + k.tail.length),
      etag: `"${k.tag}-${age}"`,
    };
  }

  private build(rig: RigStatus, nowMs: number): Kept {
    const detail = rigDetailBody(this.config, rig, nowMs) as unknown as Record<string, unknown>;
    // The keys before age_s and after it, in the body's order.
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    let into = before;
    for (const key of Object.keys(detail)) {
      if (key === 'age_s') {
        into = after;
        continue;
      }
      into[key] = detail[key];
    }
    const headText = `${redactText(JSON.stringify(before)).slice(0, -1)},"age_s":`;
    const text = `${headText},${redactText(JSON.stringify(after)).slice(1)}`;
    // One unpooled buffer of the exact size: a kept slice of Node's shared 8 KB pool would keep the whole pool
    // alive (5.8 KB retained a rig, measured, against 3.1 KB like this).
    const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
    bytes.write(text);
    const headBytes = Buffer.byteLength(headText);
    const head = bytes.subarray(0, headBytes);
    const tail = bytes.subarray(headBytes);
    this.builds += 1;
    const tag = `${this.instance}-${this.builds.toString(36)}`;
    // A copy of the status as it was: the fleet's own object may change under us.
    const status = { ...rig, last_error: rig.last_error ? { ...rig.last_error } : null };
    return { status, head, tail, tag };
  }
}
