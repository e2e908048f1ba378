/**
 * Live fleet state: the latest sample per rig. `current` is set only while the rig is up; once a poll fails the
 * rig shows `current: null` (its last values are history, docs/ARCHITECTURE.md "Units, nulls and sources").
 * A sample's raw reply is held deflated beside it and inflated when a reader of `get()` reads `current.raw` (a
 * `list()` of 10,000 rigs leaves it out: copying the partial rigs' samples to carry it made every list 10–30 ms
 * dearer), its strings share the copies of the rig's previous sample, and its boards, pools and fans are held in
 * objects of their exact shape (collector/live-memory.ts).
 */
import type { Sample } from '../protocols/sample.js';
import { compactReadings, packRaw, shareStrings, withPackedRaw } from './live-memory.js';
import type { RigTarget } from './poll.js';
import type { FleetView, RigStatus } from './views.js';

interface Entry {
  /** `current` here has `raw: null`; the raw reply, if any, is `raw`. */
  status: RigStatus;
  target: RigTarget | null;
  /** The current sample's raw reply, deflated. */
  raw: Buffer | null;
  /**
   * `current` with its raw reply, made on the first `get` after an update: one object per sample, so a reader
   * can tell an unchanged sample by identity (api/rig-body.ts does).
   */
  withRaw: Sample | null;
}

export interface FleetOptions {
  /** When a target will next be polled (from the scheduler). */
  nextPoll?: (t: RigTarget) => number | null;
}

/** A rig known but not (successfully) polled yet. */
function unpolled(rigId: string, name: string | null, address: string): RigStatus {
  return {
    rig_id: rigId,
    name,
    address,
    state: 'offline',
    current: null,
    last_seen_ms: null,
    last_poll_ms: null,
    last_error: null,
    consecutive_failures: 0,
    next_poll_ms: null,
  };
}

export class Fleet implements FleetView {
  private readonly byAddress = new Map<string, Entry>();
  private readonly byId = new Map<string, Entry>();
  private readonly byName = new Map<string, Entry>();
  private readonly nextPoll: ((t: RigTarget) => number | null) | undefined;
  private changes = 0;
  /** Rigs with a current sample, kept as samples arrive: /healthz asks on every request. */
  private up = 0;

  constructor(targets: readonly RigTarget[], opts: FleetOptions = {}) {
    this.nextPoll = opts.nextPoll;
    this.add(targets);
  }

  version(): number {
    return this.changes;
  }

  /** Track more rigs (found by a rescan); addresses already known are left as they are. */
  add(targets: readonly RigTarget[]): void {
    this.changes += 1;
    for (const t of targets) {
      if (this.byAddress.has(t.address)) continue;
      const e: Entry = {
        target: t,
        raw: null,
        withRaw: null,
        // Until the first poll the id is what identity would give without a MAC.
        status: unpolled(t.name ?? t.address, t.name, t.address),
      };
      this.byAddress.set(t.address, e);
      this.byId.set(e.status.rig_id, e);
      if (t.name) this.byName.set(t.name, e);
    }
  }

  /**
   * A name for a rig this fleet's config does not list (a standalone API names rigs as their collectors do):
   * a configured name always wins, and the name lookup follows a rename.
   */
  nameUnlisted(address: string, name: string): void {
    const e = this.byAddress.get(address);
    if (!e || (e.target?.name ?? null) !== null || e.status.name === name) return;
    if (e.status.name !== null && this.byName.get(e.status.name) === e) this.byName.delete(e.status.name);
    e.status.name = name;
    if (!this.byName.has(name)) this.byName.set(name, e);
    this.changes += 1;
  }

  /** Record a sample (from the poll path, after it is journalled). */
  update(sample: Sample): void {
    this.changes += 1;
    let e = this.byAddress.get(sample.address);
    if (!e) {
      e = {
        target: null,
        raw: null,
        withRaw: null,
        status: unpolled(sample.rig_id, null, sample.address),
      };
      this.byAddress.set(sample.address, e);
    }
    const st = e.status;
    // Never let an older sample (a late poll) overwrite a newer one.
    if (st.last_poll_ms !== null && sample.at_ms < st.last_poll_ms) return;
    const wasUp = st.current !== null;
    if (st.rig_id !== sample.rig_id) {
      if (this.byId.get(st.rig_id) === e) this.byId.delete(st.rig_id);
      st.rig_id = sample.rig_id;
    }
    this.byId.set(sample.rig_id, e);
    shareStrings(sample, sample.poll.ok ? st.current : null);
    compactReadings(sample);
    e.withRaw = null;
    st.last_poll_ms = sample.at_ms;
    st.state = sample.state;
    if (sample.poll.ok) {
      if (sample.raw === null) {
        st.current = sample;
        e.raw = null;
      } else {
        // The journal, the sinks and the alert engine had the sample as it came; the fleet keeps it without the
        // raw text, which goes out of the V8 heap deflated.
        e.raw = packRaw(sample.raw);
        st.current = { ...sample, raw: null };
      }
      st.last_seen_ms = sample.at_ms;
      st.consecutive_failures = 0;
    } else {
      st.current = null;
      e.raw = null;
      st.consecutive_failures += 1;
    }
    st.last_error = sample.poll.error_code
      ? { code: sample.poll.error_code, message: sample.poll.error_message ?? '' }
      : null;
    this.up += (st.current !== null ? 1 : 0) - (wasUp ? 1 : 0);
  }

  /** Every rig, `current.raw` left null (raw replies are read one rig at a time, with `get`). */
  list(): RigStatus[] {
    return [...this.byAddress.values()].map((e) => this.view(e, e.status.current));
  }

  get(idOrAddress: string): RigStatus | undefined {
    const e = this.byId.get(idOrAddress) ?? this.byName.get(idOrAddress) ?? this.byAddress.get(idOrAddress);
    if (!e) return undefined;
    const current = e.status.current;
    if (current && e.raw) e.withRaw ??= withPackedRaw(current, e.raw);
    return this.view(e, current && e.raw ? e.withRaw : current);
  }

  /** Rigs whose latest poll answered. */
  upCount(): number {
    return this.up;
  }

  /** Whether the rig at this address has a current sample (no copy of its status). */
  isUp(address: string): boolean {
    return (this.byAddress.get(address)?.status.current ?? null) !== null;
  }

  size(): number {
    return this.byAddress.size;
  }

  private view(e: Entry, current: Sample | null): RigStatus {
    return {
      ...e.status,
      current,
      last_error: e.status.last_error ? { ...e.status.last_error } : null,
      next_poll_ms: e.target && this.nextPoll ? this.nextPoll(e.target) : null,
    };
  }
}
