/**
 * Energy accounting for metered outlets, pure (no clock, no I/O).
 *
 * - Where the PDU counts energy itself, deltas of its counter are used: a drop is a wrap when the counter has a
 *   modulus (Counter32/Unsigned32, e.g. Eaton outletWh, Raritan Unsigned32) and the wrapped delta is plausible
 *   for the power drawn; otherwise it is a reset (APC and CyberPower counters are user resettable, Eaton's are
 *   writable to 0), and the interval's energy comes from watts instead, or is a gap.
 * - Without a counter, watts are integrated over time (trapezoid) between consecutive readings.
 * - Gaps stay gaps: no energy is invented across a missing reading or a pause longer than `max_gap_ms`.
 */

export interface EnergyObservation {
  at_ms: number;
  watts: number | null;
  /** The device's cumulative energy counter in Wh (already scaled), or null when it has none. */
  counter_wh: number | null;
  /** The agent restarted since the last reading (its sysUpTime went down): a counter drop is a reset, not a wrap. */
  agent_restarted?: boolean;
}

export interface EnergyOptions {
  /** Longer than this between readings, integrated watts are not trusted: the interval is a gap. */
  max_gap_ms: number;
  /** Counter modulus in Wh (wraps back to 0 past it), or null when the counter does not wrap. */
  wrap_wh?: number | null;
  /**
   * Upper bound of believable power for this channel (W), used to tell a wrap from a reset and to reject
   * absurd counter jumps. Default 50 kW (a whole rack PDU).
   */
  max_power_w?: number;
}

export interface EnergyState {
  at_ms: number;
  /** Energy accounted so far (Wh), monotonic. */
  total_wh: number;
  last_counter_wh: number | null;
  last_watts: number | null;
  /** Time covered by measured energy (ms); the rest were gaps. */
  covered_ms: number;
}

export type EnergyEvent =
  | 'start'
  | 'counter'
  | 'wrap'
  | 'reset'
  | 'integrated'
  | 'gap'
  /** same or older timestamp than the last reading: ignored */
  | 'stale';

export interface EnergyStep {
  state: EnergyState;
  event: EnergyEvent;
  /** Energy added by this step, or null for a gap. */
  delta_wh: number | null;
}

const WH_PER_WMS = 1 / 3_600_000;

/** Energy a power level could at most deliver over dt, with slack for meter rounding (Wh). */
function ceilingWh(maxPowerW: number, dtMs: number): number {
  return maxPowerW * dtMs * WH_PER_WMS + 1;
}

function trapezoidWh(w0: number, w1: number, dtMs: number): number {
  // One division at the end keeps whole-number cases exact (no 1499.9999999999998).
  return ((w0 + w1) * dtMs) / 7_200_000;
}

/**
 * Difference between two counter readings: the plain delta when it went up, the wrapped delta when a wrap is
 * plausible, or null for a reset.
 */
export function counterDelta(
  prev: number,
  next: number,
  opts: { wrap?: number | null; ceiling?: number } = {},
): { delta: number; wrapped: boolean } | null {
  if (next >= prev) {
    const delta = next - prev;
    if (opts.ceiling !== undefined && delta > opts.ceiling) return null;
    return { delta, wrapped: false };
  }
  if (opts.wrap) {
    const delta = next + opts.wrap - prev;
    if (delta >= 0 && (opts.ceiling === undefined || delta <= opts.ceiling)) return { delta, wrapped: true };
  }
  return null;
}

/** Advance the accounting with one observation. */
export function stepEnergy(
  prev: EnergyState | null,
  obs: EnergyObservation,
  opts: EnergyOptions,
): EnergyStep {
  const watts = obs.watts !== null && Number.isFinite(obs.watts) && obs.watts >= 0 ? obs.watts : null;
  const counter = obs.counter_wh !== null && Number.isFinite(obs.counter_wh) ? obs.counter_wh : null;
  if (!prev) {
    return {
      state: { at_ms: obs.at_ms, total_wh: 0, last_counter_wh: counter, last_watts: watts, covered_ms: 0 },
      event: 'start',
      delta_wh: null,
    };
  }
  const dt = obs.at_ms - prev.at_ms;
  if (dt <= 0) return { state: prev, event: 'stale', delta_wh: null };

  const maxPower = opts.max_power_w ?? 50_000;
  const integrable = watts !== null && prev.last_watts !== null && dt <= opts.max_gap_ms;
  let event: EnergyEvent = 'gap';
  let delta: number | null = null;

  if (counter !== null && prev.last_counter_wh !== null) {
    // The counter measured the whole interval, even a long one: trust it across gaps.
    const d = counterDelta(prev.last_counter_wh, counter, {
      wrap: obs.agent_restarted ? null : (opts.wrap_wh ?? null),
      ceiling: ceilingWh(maxPower, dt),
    });
    if (d) {
      delta = d.delta;
      event = d.wrapped ? 'wrap' : 'counter';
    } else {
      event = 'reset';
      if (integrable) delta = trapezoidWh(prev.last_watts!, watts!, dt);
    }
  } else if (integrable) {
    delta = trapezoidWh(prev.last_watts!, watts!, dt);
    event = 'integrated';
  }

  return {
    state: {
      at_ms: obs.at_ms,
      total_wh: prev.total_wh + (delta ?? 0),
      // A missing counter reading keeps the old baseline only when the next one can be compared: it cannot,
      // so a null breaks the chain (the next step integrates or is a gap).
      last_counter_wh: counter,
      last_watts: watts,
      covered_ms: prev.covered_ms + (delta === null ? 0 : dt),
    },
    event,
    delta_wh: delta,
  };
}

export interface IntegrationResult {
  wh: number;
  covered_ms: number;
  gaps: Array<{ from_ms: number; to_ms: number }>;
}

/** Integrate a series of power readings (sorted or not); missing readings and long pauses are gaps. */
export function integrateWatts(
  points: ReadonlyArray<{ at_ms: number; watts: number | null }>,
  maxGapMs: number,
): IntegrationResult {
  const sorted = [...points].sort((a, b) => a.at_ms - b.at_ms);
  let wh = 0;
  let covered = 0;
  const gaps: IntegrationResult['gaps'] = [];
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    const dt = b.at_ms - a.at_ms;
    if (dt <= 0) continue;
    if (a.watts === null || b.watts === null || dt > maxGapMs || a.watts < 0 || b.watts < 0) {
      const last = gaps[gaps.length - 1];
      if (last && last.to_ms === a.at_ms) last.to_ms = b.at_ms;
      else gaps.push({ from_ms: a.at_ms, to_ms: b.at_ms });
      continue;
    }
    wh += trapezoidWh(a.watts, b.watts, dt);
    covered += dt;
  }
  return { wh, covered_ms: covered, gaps };
}
