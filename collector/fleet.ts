/**
 * Live fleet state: the latest sample per rig. `current` is set only while the rig is up; once a poll fails the
 * rig shows `current: null` (its last values are history, docs/ARCHITECTURE.md "Units, nulls and sources").
 */
import type { Sample } from '../protocols/sample.js';
import type { RigTarget } from './poll.js';
import type { FleetView, RigStatus } from './views.js';

interface Entry {
  status: RigStatus;
  target: RigTarget | null;
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
        // Until the first poll the id is what identity would give without a MAC.
        status: unpolled(t.name ?? t.address, t.name, t.address),
      };
      this.byAddress.set(t.address, e);
      this.byId.set(e.status.rig_id, e);
      if (t.name) this.byName.set(t.name, e);
    }
  }

  /** Record a sample (from the poll path, after it is journalled). */
  update(sample: Sample): void {
    this.changes += 1;
    let e = this.byAddress.get(sample.address);
    if (!e) {
      e = {
        target: null,
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
    st.last_poll_ms = sample.at_ms;
    st.state = sample.state;
    if (sample.poll.ok) {
      st.current = sample;
      st.last_seen_ms = sample.at_ms;
      st.consecutive_failures = 0;
    } else {
      st.current = null;
      st.consecutive_failures += 1;
    }
    st.last_error = sample.poll.error_code
      ? { code: sample.poll.error_code, message: sample.poll.error_message ?? '' }
      : null;
    this.up += (st.current !== null ? 1 : 0) - (wasUp ? 1 : 0);
  }

  list(): RigStatus[] {
    return [...this.byAddress.values()].map((e) => this.view(e));
  }

  get(idOrAddress: string): RigStatus | undefined {
    const e = this.byId.get(idOrAddress) ?? this.byName.get(idOrAddress) ?? this.byAddress.get(idOrAddress);
    return e ? this.view(e) : undefined;
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

  private view(e: Entry): RigStatus {
    return {
      ...e.status,
      last_error: e.status.last_error ? { ...e.status.last_error } : null,
      next_poll_ms: e.target && this.nextPoll ? this.nextPoll(e.target) : null,
    };
  }
}
