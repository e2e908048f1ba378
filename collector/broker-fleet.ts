/**
 * Live fleet state read back from the MQTT broker, for an API that polls nothing itself (`rigtel api`): every
 * collector publishes each rig's state retained on `<p>/<site>/<rig>/state` and its own availability on
 * `<p>/<site>/collector[/<shard>]/availability` (collector/sinks/mqtt.ts). The messages feed the same `Fleet` the
 * collector keeps, so the API's routes read it unchanged. A rig this process's config does not name takes the
 * name (and place) its collector's config gave it, from the message.
 *
 * A rig whose collector went away is first **stale** (its collector announced `offline`, by clean stop or MQTT
 * last will, or no state for `staleAfterMs`), then **offline** (no state for `offlineAfterMs`): its last values
 * become history and `last_error` names RT_ERR_BROKER_COLLECTOR_GONE.
 *
 * For the alert engine (`onOffline`), an offline rig is a rig that does not answer: its offline mark is emitted
 * when it is set, then again (re-dated) while no state comes, as a collector's poll of a dead rig fails every
 * interval, so the engine's `min_duration_s` can elapse and raise `rig_offline`.
 */
import { errorMessage } from '../lib/errors.js';
import {
  emptyIdentity,
  emptyReading,
  type Family,
  type PowerSource,
  type RigState,
  type Sample,
  type Support,
} from '../protocols/sample.js';
import type { RigPlace } from './alerts.js';
import { BrokerFleetErrors } from './errors.js';
import { Fleet } from './fleet.js';
import type { RigTarget } from './poll.js';
import type { FleetView, RigStatus } from './views.js';

export interface BrokerFleetOptions {
  /** No state for this long: the rig is marked stale. */
  staleAfterMs: number;
  /** No state for this long: the rig is marked offline. */
  offlineAfterMs: number;
  /** While a rig stays offline, its mark goes to `onOffline` listeners again at most this often (default 1000). */
  offlineRepeatMs?: number;
  now?: () => number;
}

interface Tracked {
  /** Collector key `<site>/<collector id or ->` that published the rig's latest state. */
  collector: string;
  at_ms: number;
  last: Sample;
  gone: boolean;
  /** The offline mark set when the rig went offline, while it is. */
  mark: Sample | null;
  /** When (this process's clock) the mark last went to `onOffline` listeners. */
  markSentMs: number;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * A Sample rebuilt from a state message (`statePayload`): the fields the message carries; what it leaves out
 * (per-board readings, pool users, raw replies) is empty or null. Throws RT_ERR_BROKER_BAD_STATE.
 */
export function sampleFromState(topic: string, payload: string): Sample {
  return sampleFromMessage(topic, parseState(topic, payload));
}

/** The state message as an object. Throws RT_ERR_BROKER_BAD_STATE. */
function parseState(topic: string, payload: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(payload);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw BrokerFleetErrors.badState(topic, errorMessage(err));
  }
}

/**
 * The rig's name and place as its collector's config gives them (`name`, `location` in the message), for a rig
 * this process's own config does not name. A malformed location is left out, never guessed.
 */
export function placeFromState(m: Record<string, unknown>): {
  name: string | null;
  location: RigPlace | null;
} {
  const name = str(m['name']);
  const l = m['location'];
  let location: RigPlace | null = null;
  if (l && typeof l === 'object' && !Array.isArray(l)) {
    const o = l as Record<string, unknown>;
    const site = str(o['site']);
    const row = str(o['row']);
    const rack = str(o['rack']);
    const slot = o['slot'] === null || o['slot'] === undefined ? null : num(o['slot']);
    if (site !== null && row !== null && rack !== null && (slot !== null || o['slot'] == null))
      location = { site, row, rack, slot };
  }
  return { name: name && name.length > 0 ? name : null, location };
}

function sampleFromMessage(topic: string, m: Record<string, unknown>): Sample {
  const rigId = str(m['rig_id']);
  const atMs = num(m['at_ms']);
  if (m['v'] !== 1 || !rigId || atMs === null)
    throw BrokerFleetErrors.badState(topic, 'needs v 1, rig_id and at_ms');
  const poll = (m['poll'] && typeof m['poll'] === 'object' ? m['poll'] : {}) as Record<string, unknown>;
  const fans = Array.isArray(m['fan_rpm']) ? (m['fan_rpm'] as unknown[]) : [];
  const poolUrl = str(m['pool_url']);
  const family = (str(m['family']) ?? 'unknown') as Family;
  // The state message carries the summary figures only: everything else stays missing (null), as in any reading.
  return {
    ...emptyReading(family),
    v: 1,
    rig_id: rigId,
    site: str(m['site']) ?? '',
    // Collectors before the address was published: the rig id stands in for it.
    address: str(m['address']) ?? rigId,
    at_ms: atMs,
    identity: {
      ...emptyIdentity(family),
      make: str(m['make']),
      model: str(m['model']),
      firmware: str(m['firmware']),
      mac: str(m['mac']),
    },
    state: (str(m['state']) ?? 'error') as RigState,
    hashrate_hs: num(m['hashrate_hs']),
    hashrate_avg_hs: num(m['hashrate_avg_hs']),
    hashrate_nominal_hs: num(m['hashrate_nominal_hs']),
    temp_board_max_c: num(m['temp_board_max_c']),
    temp_chip_max_c: num(m['temp_chip_max_c']),
    power_w: num(m['power_w']),
    power_source: (str(m['power_source']) as PowerSource | null) ?? null,
    power_miner_w: num(m['power_miner_w']),
    energy_wh: num(m['energy_wh']),
    uptime_s: num(m['uptime_s']),
    fans: fans.map((rpm, index) => ({ index, rpm: num(rpm) })),
    pools: poolUrl
      ? [
          {
            index: 0,
            url: poolUrl,
            user: null,
            status: null,
            active: true,
            accepted: null,
            rejected: null,
            stale: null,
          },
        ]
      : [],
    support: (str(m['support']) ?? 'partial') as Support,
    poll: {
      ok: poll['ok'] === true,
      duration_ms: num(poll['duration_ms']) ?? 0,
      error_code: str(poll['error_code']),
      error_message: null,
    },
  };
}

export class BrokerFleet implements FleetView {
  readonly #fleet: Fleet;
  readonly #opts: BrokerFleetOptions;
  readonly #now: () => number;
  /** By address (the Fleet's key). */
  readonly #rigs = new Map<string, Tracked>();
  readonly #collectorsDown = new Set<string>();
  #stale = new Set<string>();
  #changes = 0;
  #newest: number | null = null;
  readonly #listeners = new Set<(sample: Sample) => void>();
  /** Name and place from each rig's newest state message, where its collector's config gave them. */
  readonly #places = new Map<string, { name: string | null; location: RigPlace | null }>();
  readonly #offlineListeners = new Set<(sample: Sample) => void>();

  constructor(targets: readonly RigTarget[], opts: BrokerFleetOptions) {
    this.#fleet = new Fleet(targets);
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** A message on `<p>/<site>/<rig>/state`. Throws RT_ERR_BROKER_BAD_STATE (the caller logs and goes on). */
  state(topic: string, site: string, payload: string): void {
    if (payload.length === 0) return; // a cleared retained message
    const message = parseState(topic, payload);
    const sample = sampleFromMessage(topic, message);
    const collectorId = str(message['collector']);
    const prev = this.#rigs.get(sample.address);
    if (prev && sample.at_ms <= prev.at_ms) return;
    const place = placeFromState(message);
    if (place.name !== null || place.location !== null) this.#places.set(sample.address, place);
    else this.#places.delete(sample.address);

    this.#rigs.set(sample.address, {
      collector: `${site}/${collectorId ?? '-'}`,
      at_ms: sample.at_ms,
      last: sample,
      gone: false,
      mark: null,
      markSentMs: 0,
    });
    this.#fleet.update(sample);
    if (place.name !== null) this.#fleet.nameUnlisted(sample.address, place.name);
    if (this.#newest === null || sample.at_ms > this.#newest) this.#newest = sample.at_ms;
    this.#changes += 1;
    this.tick();
    for (const fn of this.#listeners) fn(sample);
  }

  /** The name and place a rig's collector gave it in its newest state message (none: both null). */
  placeOf(address: string): { name: string | null; location: RigPlace | null } {
    return this.#places.get(address) ?? { name: null, location: null };
  }

  /**
   * Every new state as the Sample the fleet got (not a retained or late one older than the rig's last, nor the
   * offline mark `tick` sets when a collector went away). Returns the unsubscribe function.
   */
  onSample(fn: (sample: Sample) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Rigs marked offline because their collector went away, as samples that say the rig does not answer
   * (`poll.ok` false, state `offline`, RT_ERR_BROKER_COLLECTOR_GONE): the mark itself when `tick` sets it (dated
   * just after the rig's last state), then, while no new state comes, the mark again at most every
   * `offlineRepeatMs`, dated `staleAfterMs` before now. That date is never before the mark (a rig is marked only
   * after `offlineAfterMs`), and never after the first state of a collector that comes back (its poll started
   * less than `staleAfterMs` ago), so the alert engine, which ignores samples older than the last it saw, takes
   * that state. Returns the unsubscribe function.
   */
  onOffline(fn: (sample: Sample) => void): () => void {
    this.#offlineListeners.add(fn);
    return () => this.#offlineListeners.delete(fn);
  }

  /** A message on a collector's availability topic (`online` / `offline`, the latter also its last will). */
  collector(site: string, collectorId: string | null, payload: string): void {
    const key = `${site}/${collectorId ?? '-'}`;
    const down = payload === 'offline';
    if (down === this.#collectorsDown.has(key)) return;
    if (down) this.#collectorsDown.add(key);
    else this.#collectorsDown.delete(key);
    this.#changes += 1;
    this.tick();
  }

  /** Re-judge staleness and offline bounds; call it periodically (and it runs on every message). */
  tick(): void {
    const now = this.#now();
    const stale = new Set<string>();
    for (const [address, t] of this.#rigs) {
      const age = now - t.at_ms;
      if (age > this.#opts.staleAfterMs || this.#collectorsDown.has(t.collector)) stale.add(address);
      if (age > this.#opts.offlineAfterMs && !t.gone) {
        t.gone = true;
        const err = BrokerFleetErrors.collectorGone(
          `no state for ${Math.round(age / 1000)} s from the collector that polls this rig`,
        );
        // Dated just after the last real state, so any newer state from the collector (its clock, not ours)
        // replaces it.
        const mark: Sample = {
          ...t.last,
          at_ms: t.at_ms + 1,
          state: 'offline',
          poll: { ok: false, duration_ms: 0, error_code: err.code, error_message: err.message },
        };
        t.mark = mark;
        t.markSentMs = now;
        this.#fleet.update(mark);
        this.#changes += 1;
        for (const fn of this.#offlineListeners) fn(mark);
      } else if (
        t.mark &&
        this.#offlineListeners.size > 0 &&
        now - t.markSentMs >= (this.#opts.offlineRepeatMs ?? 1000)
      ) {
        t.markSentMs = now;
        const again = { ...t.mark, at_ms: Math.max(t.mark.at_ms, now - this.#opts.staleAfterMs) };
        for (const fn of this.#offlineListeners) fn(again);
      }
    }
    if (stale.size !== this.#stale.size || [...stale].some((a) => !this.#stale.has(a))) {
      this.#stale = stale;
      this.#changes += 1;
    }
  }

  version(): number {
    return this.#changes;
  }

  list(): RigStatus[] {
    return this.#fleet.list().map((r) => this.#mark(r));
  }

  get(idOrAddress: string): RigStatus | undefined {
    const r = this.#fleet.get(idOrAddress);
    return r ? this.#mark(r) : undefined;
  }

  #mark(r: RigStatus): RigStatus {
    return { ...r, stale: this.#stale.has(r.address) };
  }

  size(): number {
    return this.#fleet.size();
  }

  /** Rigs up and fresh. */
  upCount(): number {
    // O(stale rigs), not a copy of the fleet: /healthz asks on every request.
    let n = this.#fleet.upCount();
    for (const address of this.#stale) if (this.#fleet.isUp(address)) n -= 1;
    return n;
  }

  /** Time of the newest state received, ms. */
  newestMs(): number | null {
    return this.#newest;
  }
}
