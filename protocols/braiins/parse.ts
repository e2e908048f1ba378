/**
 * Braiins OS / BOS+ (`BOSminer`, `BOSminer+`, later `BOSer`; and the 2018 bmminer-based bOS), cgminer-compatible
 * API on 4028 (docs/protocols.md, "## Braiins OS"). BOSminer sorts keys and sends full-precision floats (braiins_s9_summary.txt);
 * hashrates are MH/s; S9 chains are numbered 6–8 in devs and temps (braiins_s9_temps.txt) and are mapped to
 * 0-based positions; `Chip` 0.0 means "not reported".
 */

import {
  applySummaryCounters,
  capRaw,
  count,
  description,
  maxOf,
  num,
  parsePools,
  rpm,
  scale,
  section,
  settleState,
  str,
  sumOf,
  temp,
} from '../kit/index.js';
import { type BoardReading, emptyBoard, emptyReading, HS, type MinerReading } from '../sample.js';

export interface BraiinsReplies {
  version?: unknown;
  devdetails?: unknown;
  summary?: unknown;
  devs?: unknown;
  temps?: unknown;
  fans?: unknown;
  tunerstatus?: unknown;
  pools?: unknown;
}

/** Braiins board IDs → 0-based: 6/7/8 on S9, 1/2/3 elsewhere, 0-based already on some builds. */
export function boardOffset(ids: number[]): number {
  if (ids.length === 0) return 0;
  const min = Math.min(...ids);
  if (min >= 6 && Math.max(...ids) <= 8) return 6;
  return min >= 1 ? 1 : 0;
}

/** Platform code in a BOS build string (`bosminer-plus-am1-s9`, `bOS_am1-s9-…`, `braiins-am1-s9`). */
const PLATFORMS: Record<string, string> = {
  'am1-s9': 'Antminer S9',
  'am2-s17': 'Antminer S17',
  'am3-s19': 'Antminer S19',
};

export function modelFromBuild(text: string | null): string | null {
  if (!text) return null;
  const m = /(am\d)-(s\d+)/i.exec(text);
  if (!m) return null;
  return PLATFORMS[`${m[1]!.toLowerCase()}-${m[2]!.toLowerCase()}`] ?? null;
}

/** Firmware name and build from a `version` reply, or from any reply's STATUS Description. */
export function braiinsFirmware(version: unknown, anyDescription: string | null): string | null {
  const v = section(version, 'VERSION')[0];
  if (v) {
    for (const key of ['BOSer', 'BOSminer+', 'BOSminer']) {
      const build = str(v[key]);
      if (build) return `${key} ${build}`;
    }
    const bm = str(v['BMMiner']);
    if (bm && /bos/i.test(bm)) return `Braiins OS ${bm}`;
  }
  if (anyDescription && /bos(miner|er)/i.test(anyDescription)) return anyDescription;
  return null;
}

export function parseBraiins(rep: BraiinsReplies): MinerReading {
  const r = emptyReading('braiins');
  r.identity.make = 'Bitmain';
  const descriptions = Object.values(rep).map((b) => description(b));
  const anyDesc = descriptions.find((d) => d !== null) ?? null;
  r.identity.firmware = braiinsFirmware(rep.version, anyDesc);
  const detail = section(rep.devdetails, 'DEVDETAILS')[0];
  const detailModel = str(detail?.['Model']);
  const ver = section(rep.version, 'VERSION')[0];
  r.identity.model =
    (detailModel ? detailModel.replace(/^Bitmain\s+/i, '').replace(/S19XP/i, 'S19 XP') : null) ??
    modelFromBuild(str(ver?.['Type'])) ??
    modelFromBuild(str(ver?.['BMMiner'])) ??
    descriptions.map(modelFromBuild).find((m) => m !== null) ??
    null;
  if (r.identity.model && !/^antminer/i.test(r.identity.model))
    r.identity.model = `Antminer ${r.identity.model}`;

  const summary = section(rep.summary, 'SUMMARY')[0];
  if (summary) {
    applySummaryCounters(r, summary);
    r.hashrate_hs = scale(num(summary['MHS 5s']) ?? num(summary['MHS 1m']), HS.MH);
    r.hashrate_avg_hs = scale(num(summary['MHS av']), HS.MH);
  }

  const boards = new Map<number, BoardReading>();
  const board = (index: number) => {
    let b = boards.get(index);
    if (!b) {
      b = emptyBoard(index);
      boards.set(index, b);
    }
    return b;
  };
  const devs = section(rep.devs, 'DEVS');
  const devOffset = boardOffset(devs.map((d) => count(d['ID'])).filter((n): n is number => n !== null));
  for (const d of devs) {
    const id = count(d['ID']);
    if (id === null) continue;
    const b = board(id - devOffset);
    b.hashrate_hs = scale(num(d['MHS 5s']) ?? num(d['MHS 1m']), HS.MH);
    b.hashrate_nominal_hs = scale(num(d['Nominal MHS']), HS.MH);
    b.hw_errors = count(d['Hardware Errors']);
    b.temp_chip_c = temp(d['Temperature']);
  }
  if (devs.length) {
    r.hashrate_nominal_hs = sumOf(devs.map((d) => scale(num(d['Nominal MHS']), HS.MH)));
    if (!summary) r.hashrate_hs = sumOf([...boards.values()].map((b) => b.hashrate_hs));
  }
  const temps = section(rep.temps, 'TEMPS');
  const tempOffset = boardOffset(temps.map((t) => count(t['ID'])).filter((n): n is number => n !== null));
  for (const t of temps) {
    const id = count(t['ID']);
    if (id === null) continue;
    const b = board(id - tempOffset);
    b.temp_board_c = temp(t['Board']);
    b.temp_chip_c = temp(t['Chip']) ?? b.temp_chip_c;
  }
  const chips = section(rep.devdetails, 'DEVDETAILS');
  const chipOffset = boardOffset(chips.map((t) => count(t['ID'])).filter((n): n is number => n !== null));
  for (const c of chips) {
    const id = count(c['ID']);
    const n = count(c['Chips']);
    if (id !== null && n !== null) board(id - chipOffset).chips = n;
  }
  r.boards = [...boards.values()].sort((a, b) => a.index - b.index);
  r.temp_board_max_c = maxOf(r.boards.map((b) => b.temp_board_c));
  r.temp_chip_max_c = maxOf(r.boards.map((b) => b.temp_chip_c));

  const fans = section(rep.fans, 'FANS');
  fans.forEach((f, i) => {
    const v = rpm(f['RPM']);
    if (v !== null) r.fans.push({ index: count(f['ID']) ?? i, rpm: v });
  });

  const tuner = section(rep.tunerstatus, 'TUNERSTATUS')[0];
  if (tuner) {
    const watts = num(tuner['ApproximateMinerPowerConsumption']);
    if (watts !== null && watts > 0) {
      // Modelled by the autotuner, not metered (docs/protocols.md, "## Braiins OS").
      r.power_w = watts;
      r.power_source = 'estimate';
      r.notes.push('power is BOS ApproximateMinerPowerConsumption (autotuner model, not metered)');
    }
  }
  if (rep.pools !== undefined) r.pools = parsePools(rep.pools);
  settleState(r);
  if (r.support !== 'full') r.raw = capRaw(JSON.stringify(rep));
  return r;
}
