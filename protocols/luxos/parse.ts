/**
 * LuxOS (LUXminer on Antminer hardware), cgminer JSON on 4028 (docs/protocols.md, "## LuxOS").
 * Quirks: `version` carries a `LUXminer` key (luxos_s19kpro_version.txt); `stats` is Bitmain-like but its
 * `"total rate"` (with a space) holds one chain's rate, not the total, so it is never read
 * (luxos_s19kpro_stats.txt: 18972.63 vs GHS 5s 59756.06); an empty 4th slot sends chain_rate4 "0" and
 * temps "0-0-0-0"; `temps` labels its four sensors in METADATA (luxos_s19kpro_temps.txt).
 */
import {
  applyBitmainStats,
  applySummaryCounters,
  bool,
  capRaw,
  count,
  isObj,
  maxOf,
  num,
  type Obj,
  parsePools,
  poolsDifficultyAccepted,
  rpm,
  scale,
  section,
  settleState,
  splitStats,
  splitType,
  str,
  temp,
} from '../kit/index.js';
import { emptyBoard, emptyReading, HS, type MinerReading } from '../sample.js';

export interface LuxosReplies {
  version?: unknown;
  summary?: unknown;
  stats?: unknown;
  devs?: unknown;
  temps?: unknown;
  fans?: unknown;
  power?: unknown;
  pools?: unknown;
  profiles?: unknown;
}

/** Sensor name → 'inlet' | 'outlet', from METADATA labels ("Board Intake (top)"), else LuxOS's usual layout. */
function sensorRoles(temps: unknown): Map<string, 'inlet' | 'outlet'> {
  const roles = new Map<string, 'inlet' | 'outlet'>();
  const meta = section(temps, 'METADATA')[0];
  if (meta) {
    for (const [key, value] of Object.entries(meta)) {
      const label = isObj(value) ? str(value['Label']) : null;
      if (!label) continue;
      if (/intake|inlet/i.test(label)) roles.set(key, 'inlet');
      else if (/exhaust|outlet/i.test(label)) roles.set(key, 'outlet');
    }
  }
  if (roles.size === 0) {
    roles.set('TopLeft', 'outlet').set('BottomLeft', 'outlet');
    roles.set('TopRight', 'inlet').set('BottomRight', 'inlet');
  }
  return roles;
}

/** A dash-list sensor string as sorted numbers ("47-34-34-47" → [34, 34, 47, 47]); null when not one. */
function sensorValues(v: unknown): number[] | null {
  const s = str(v);
  if (!s || !/^\d+(\.\d+)?(-\d+(\.\d+)?)*$/.test(s)) return null;
  return s
    .split('-')
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * LuxOS fills `temp_chipN` (and `temp2_N`) with the same four board sensors its `temps` reply labels as exhaust
 * and intake (luxos_s19kpro_stats.txt "47-34-34-47" against luxos_s19kpro_temps.txt TopLeft 47 / TopRight 34 /
 * BottomRight 34 / BottomLeft 47, labelled "Board Exhaust"/"Board Intake"): those are not chip temperatures.
 */
function dropRepeatedChipTemps(
  r: MinerReading,
  temps: Obj[],
  roles: Map<string, 'inlet' | 'outlet'>,
  stats: Obj | null,
): void {
  if (!stats) return;
  const repeated: number[] = [];
  for (const t of temps) {
    const index = count(t['ID']) ?? count(t['TEMP']) ?? 0;
    const chips = sensorValues(stats[`temp_chip${index + 1}`]);
    const sensors = [...roles.keys()]
      .map((k) => num(t[k]))
      .filter((v): v is number => v !== null)
      .sort((a, b) => a - b);
    if (!chips || chips.length !== sensors.length || chips.some((v, i) => v !== sensors[i])) continue;
    const b = r.boards.find((x) => x.index === index);
    if (b && b.temp_chip_c !== null) {
      b.temp_chip_c = null;
      repeated.push(index);
    }
  }
  if (repeated.length) {
    r.temp_chip_max_c = maxOf(r.boards.map((b) => b.temp_chip_c));
    r.notes.push(
      `temp_chipN of board ${repeated.join(', ')} repeats the board's exhaust/intake sensors of the temps reply: not a chip temperature`,
    );
  }
}

export function parseLuxos(rep: LuxosReplies): MinerReading {
  const r = emptyReading('luxos');
  r.identity.make = 'Bitmain';
  const ver = section(rep.version, 'VERSION')[0] ?? null;
  const { head, body } = splitStats(rep.stats);
  r.identity.model = splitType(str(ver?.['Type']) ?? str(head?.['Type'])).model;
  const lux = str(ver?.['LUXminer']) ?? str(head?.['Miner']);
  if (lux) r.identity.firmware = `LUXminer ${lux}`;

  let ramping = false;
  if (body) applyBitmainStats(r, body);

  const summary = section(rep.summary, 'SUMMARY')[0];
  if (summary) {
    applySummaryCounters(r, summary);
    // LuxOS summary is in GH/s like stock Bitmain (docs/protocols.md, "## LuxOS"), devs in MH/s.
    r.hashrate_hs = scale(num(summary['GHS 5s']), HS.GH) ?? r.hashrate_hs;
    r.hashrate_avg_hs = scale(num(summary['GHS av']), HS.GH) ?? r.hashrate_avg_hs;
  }

  const devs = section(rep.devs, 'DEVS');
  if (devs.length) {
    // DEVS may come out of order (2,0,1 on LuxOS): key boards by ID.
    const boards = devs
      .map((d) => {
        const b = emptyBoard(count(d['ID']) ?? count(d['ASC']) ?? 0);
        b.hashrate_hs = scale(num(d['MHS 5s']) ?? num(d['MHS 1m']), HS.MH);
        b.hashrate_nominal_hs = scale(num(d['Nominal MHS']), HS.MH);
        b.hw_errors = count(d['Hardware Errors']);
        if (bool(d['IsRamping']) === true) ramping = true;
        return b;
      })
      .sort((a, b) => a.index - b.index);
    for (const b of boards) {
      const known = r.boards.find((x) => x.index === b.index);
      if (known) {
        // devs `MHS 5s` is the window of the total (summary `GHS 5s`); stats `chain_rateN` sums to `GHS av`
        // (luxos_s19kpro_stats.txt: 18910.28 + 18939.95 + 19067.67 = 56917.90 = GHS av). Same window wins.
        known.hashrate_hs = b.hashrate_hs ?? known.hashrate_hs;
        known.hashrate_nominal_hs ??= b.hashrate_nominal_hs;
        known.hw_errors ??= b.hw_errors;
      } else r.boards.push(b);
    }
    r.boards.sort((a, b) => a.index - b.index);
    if (r.hashrate_nominal_hs === null) {
      const nominal = boards.reduce<number | null>(
        (t, b) => (b.hashrate_nominal_hs === null ? t : (t ?? 0) + b.hashrate_nominal_hs),
        null,
      );
      r.hashrate_nominal_hs = nominal;
    }
  }

  const temps = section(rep.temps, 'TEMPS');
  if (temps.length) {
    const roles = sensorRoles(rep.temps);
    const inlets: (number | null)[] = [];
    const outlets: (number | null)[] = [];
    for (const t of temps) {
      const index = count(t['ID']) ?? count(t['TEMP']) ?? 0;
      let b = r.boards.find((x) => x.index === index);
      if (!b) {
        b = emptyBoard(index);
        r.boards.push(b);
      }
      const bIn: (number | null)[] = [];
      const bOut: (number | null)[] = [];
      for (const [sensor, role] of roles) (role === 'inlet' ? bIn : bOut).push(temp(t[sensor]));
      b.temp_inlet_c = maxOf(bIn);
      b.temp_outlet_c = maxOf(bOut);
      inlets.push(...bIn);
      outlets.push(...bOut);
    }
    r.boards.sort((a, b) => a.index - b.index);
    dropRepeatedChipTemps(r, temps, roles, body);
    r.temp_inlet_c = maxOf(inlets);
    r.temp_outlet_c = maxOf(outlets);
    r.temp_board_max_c ??= maxOf([...inlets, ...outlets]);
  }

  const fans = section(rep.fans, 'FANS');
  if (fans.length) {
    r.fans = [];
    fans.forEach((f, i) => {
      const v = rpm(f['RPM']);
      if (v !== null) r.fans.push({ index: count(f['ID']) ?? i, rpm: v });
    });
  }

  const power = section(rep.power, 'POWER')[0];
  if (power) {
    const watts = num(power['Watts']);
    if (watts !== null && watts > 0) {
      r.power_w = watts;
      // PSU:false on an S19k Pro (no PMBus PSU) suggests a modelled figure (docs/protocols.md, "## LuxOS", inferred).
      r.power_source = bool(power['PSU']) === true ? 'miner' : 'estimate';
      if (r.power_source === 'estimate') r.notes.push('LuxOS power with PSU:false is modelled, not metered');
    }
  }

  const profile = section(rep.profiles, 'PROFILES').find((p: Obj) => bool(p['IsActive']) === true);
  if (profile && r.hashrate_nominal_hs === null) {
    // profiles.Hashrate is TH/s (docs/protocols.md, "## LuxOS").
    r.hashrate_nominal_hs = scale(num(profile['Hashrate']), HS.TH);
  }

  if (rep.pools !== undefined) {
    r.pools = parsePools(rep.pools);
    r.difficulty_accepted ??= poolsDifficultyAccepted(rep.pools);
  }
  settleState(r, { ramping });
  if (r.support !== 'full') r.raw = capRaw(JSON.stringify(rep));
  return r;
}
