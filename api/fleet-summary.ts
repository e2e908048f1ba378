/**
 * Pure fleet arithmetic over live rig status. Power and efficiency are computed only over rigs whose power is
 * known, and every total says how many rigs it covers and which power sources it used.
 */

import type { RigStatus } from '../collector/views.js';
import { lookupModel } from '../protocols/models.js';
import { type PowerSource, RIG_STATES, type RigState } from '../protocols/sample.js';

const STATES: readonly RigState[] = RIG_STATES;
/** Weakest first: a total is only as good as its weakest input (docs/ARCHITECTURE.md "Units, nulls and sources"). */
const SOURCE_STRENGTH: readonly PowerSource[] = ['estimate', 'miner', 'pdu'];

export interface FleetSummaryOptions {
  /** A rig hashing below this share of its nameplate is listed (0 < x ≤ 1). */
  belowShare: number;
  /** How many hottest rigs to list. */
  hottest: number;
  /** How many rigs below nameplate to list (lowest share first); all when absent. `count` has them all. */
  belowLimit?: number;
}

export interface FleetSummary {
  rigs: number;
  states: Record<RigState, number>;
  /** Sum over rigs that reported a hashrate; null when none did (an empty or all-offline fleet). */
  hashrate_hs: number | null;
  hashrate_ths: number | null;
  /** Rigs whose hashrate is in the total. */
  hashrate_rigs: number;
  /** Rigs left out of the hashrate and efficiency totals because they mine another algorithm (scrypt, Equihash…). */
  other_algorithm_rigs: number;
  /** Sum over rigs with known power; null when none is known. */
  power_w: number | null;
  power_kw: number | null;
  /** Rigs with a current sample, by where their power figure came from (`none`: no figure). */
  power_sources: Record<PowerSource | 'none', number>;
  /** `power_w` split by where each rig's figure came from (W; 0 when no rig used that source). */
  power_w_by_source: Record<PowerSource, number>;
  /** The weakest source in `power_w`. */
  power_source_weakest: PowerSource | null;
  /** J/TH over rigs with both known power and hashrate > 0; null when there are none. */
  efficiency_jth: number | null;
  efficiency_rigs: number;
  hottest: Array<{
    rig_id: string;
    name: string | null;
    temp_chip_max_c: number | null;
    temp_board_max_c: number | null;
  }>;
  below_nameplate: {
    share: number;
    /** Rigs with a current sample but no nameplate figure: they cannot be judged. */
    nameplate_unknown: number;
    /** Rigs below the share; `rigs` lists the lowest `belowLimit` of them. */
    count: number;
    rigs: Array<{
      rig_id: string;
      name: string | null;
      hashrate_hs: number | null;
      hashrate_nominal_hs: number;
      share: number;
    }>;
  };
}

/** `a.localeCompare(b)` with the default locale, without building a collator per call. */
const collator = new Intl.Collator();

/** Hash algorithm by model string: the model table's fuzzy lookup is a handful of regexes, once per model. */
const algorithms = new Map<string, string>();
function isSha256(model: string | null): boolean {
  if (model === null) return true;
  let algorithm = algorithms.get(model);
  if (algorithm === undefined) {
    algorithm = lookupModel(model)?.algorithm ?? 'sha256';
    if (algorithms.size > 10_000) algorithms.clear();
    algorithms.set(model, algorithm);
  }
  return algorithm === 'sha256';
}

/**
 * The first `limit` of `items` in `cmp` order, as `sort` then `slice` would give them (ties keep arrival
 * order), without sorting the whole fleet: a 10,000-rig fleet asks for its 5 hottest.
 */
class TopK<T> {
  readonly items: T[] = [];
  constructor(
    private readonly limit: number | undefined,
    private readonly cmp: (a: T, b: T) => number,
  ) {}
  add(item: T): void {
    const items = this.items;
    if (this.limit === undefined) {
      items.push(item);
      return;
    }
    if (this.limit === 0) return;
    if (items.length === this.limit && this.cmp(item, items[items.length - 1]!) >= 0) return;
    let at = items.length;
    while (at > 0 && this.cmp(item, items[at - 1]!) < 0) at--;
    items.splice(at, 0, item);
    if (items.length > this.limit) items.pop();
  }
  /** The item a newcomer must beat once the list is full (undefined until then): lets callers skip building one. */
  worst(): T | undefined {
    return this.limit !== undefined && this.items.length === this.limit
      ? this.items[this.limit - 1]
      : undefined;
  }
  sorted(): T[] {
    return this.limit === undefined ? this.items.sort(this.cmp) : this.items;
  }
}

export function summarizeFleet(rigs: readonly RigStatus[], opts: FleetSummaryOptions): FleetSummary {
  const states = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<RigState, number>;
  const sources: Record<PowerSource | 'none', number> = { pdu: 0, miner: 0, estimate: 0, none: 0 };
  const bySource: Record<PowerSource, number> = { pdu: 0, miner: 0, estimate: 0 };
  let hashrate = 0;
  let hashrateRigs = 0;
  let otherAlgorithm = 0;
  let power = 0;
  let powerRigs = 0;
  let weakest: PowerSource | null = null;
  let effPower = 0;
  let effHash = 0;
  let effRigs = 0;
  let nameplateUnknown = 0;
  const hottestTemp = (t: FleetSummary['hottest'][number]) =>
    t.temp_chip_max_c ?? t.temp_board_max_c ?? -Infinity;
  const temps = new TopK<FleetSummary['hottest'][number]>(
    opts.hottest,
    (a, b) => hottestTemp(b) - hottestTemp(a) || collator.compare(a.rig_id, b.rig_id),
  );
  const below = new TopK<FleetSummary['below_nameplate']['rigs'][number]>(
    opts.belowLimit,
    (a, b) => a.share - b.share || collator.compare(a.rig_id, b.rig_id),
  );
  let belowCount = 0;

  for (const rig of rigs) {
    states[rig.state] = (states[rig.state] ?? 0) + 1;
    const s = rig.current;
    if (!s) continue;
    // Only SHA-256 hashes add up to bitcoin hashrate: an L3+ (scrypt) or a Z11 (Equihash) has its own units.
    const sha256 = isSha256(s.identity.model);
    if (!sha256) otherAlgorithm++;
    if (s.hashrate_hs !== null && sha256) {
      hashrate += s.hashrate_hs;
      hashrateRigs++;
    }
    if (s.power_w !== null && s.power_source !== null) {
      sources[s.power_source]++;
      bySource[s.power_source] += s.power_w;
      power += s.power_w;
      powerRigs++;
      if (weakest === null || SOURCE_STRENGTH.indexOf(s.power_source) < SOURCE_STRENGTH.indexOf(weakest)) {
        weakest = s.power_source;
      }
      if (s.hashrate_hs !== null && s.hashrate_hs > 0 && sha256) {
        effPower += s.power_w;
        effHash += s.hashrate_hs;
        effRigs++;
      }
    } else sources.none++;
    const worstTemp = temps.worst();
    if (
      opts.hottest > 0 &&
      (s.temp_chip_max_c !== null || s.temp_board_max_c !== null) &&
      (worstTemp === undefined || (s.temp_chip_max_c ?? s.temp_board_max_c)! >= hottestTemp(worstTemp))
    ) {
      temps.add({
        rig_id: rig.rig_id,
        name: rig.name,
        temp_chip_max_c: s.temp_chip_max_c,
        temp_board_max_c: s.temp_board_max_c,
      });
    }
    if (s.hashrate_nominal_hs === null || s.hashrate_nominal_hs <= 0) nameplateUnknown++;
    else {
      const share = (s.hashrate_hs ?? 0) / s.hashrate_nominal_hs;
      if (share < opts.belowShare) {
        belowCount++;
        if (opts.belowLimit === 0) continue;
        const rounded = round(share, 3);
        const worstBelow = below.worst();
        if (worstBelow !== undefined && rounded > worstBelow.share) continue;
        below.add({
          rig_id: rig.rig_id,
          name: rig.name,
          hashrate_hs: s.hashrate_hs,
          hashrate_nominal_hs: s.hashrate_nominal_hs,
          share: rounded,
        });
      }
    }
  }

  return {
    rigs: rigs.length,
    states,
    hashrate_hs: hashrateRigs ? hashrate : null,
    hashrate_ths: hashrateRigs ? round(hashrate / 1e12, 3) : null,
    hashrate_rigs: hashrateRigs,
    other_algorithm_rigs: otherAlgorithm,
    power_w: powerRigs ? round(power, 1) : null,
    power_kw: powerRigs ? round(power / 1000, 3) : null,
    power_sources: sources,
    power_w_by_source: {
      pdu: round(bySource.pdu, 1),
      miner: round(bySource.miner, 1),
      estimate: round(bySource.estimate, 1),
    },
    power_source_weakest: weakest,
    efficiency_jth: effRigs && effHash > 0 ? round(effPower / (effHash / 1e12), 2) : null,
    efficiency_rigs: effRigs,
    hottest: temps.sorted(),
    below_nameplate: {
      share: opts.belowShare,
      nameplate_unknown: nameplateUnknown,
      count: belowCount,
      rigs: below.sorted(),
    },
  };
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
