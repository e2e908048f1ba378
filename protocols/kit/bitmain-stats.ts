/**
 * Bitmain legacy `stats` (the second STATS object: `chain_rateN`, `temp2_N`, `fanN` …) as VNish and LuxOS
 * send it on Antminer hardware. Stock Antminer has its own parser in protocols/antminer; this one covers only
 * the keys seen in the vnish_* and luxos_* fixtures.
 */

import { type BoardReading, emptyBoard, HS, type MinerReading } from '../sample.js';
import {
  count,
  deadChips,
  maxOf,
  maxOfDashList,
  num,
  type Obj,
  rpm,
  scale,
  section,
  str,
  sumOf,
  temp,
} from './values.js';

export interface BitmainStats {
  /** STATS[0]: Type / Miner / CompileTime, plus `Cgminer` (VNish) — identity only. */
  head: Obj | null;
  /** The object carrying the figures (has `GHS 5s` or `chain_rateN`). */
  body: Obj | null;
}

export function splitStats(reply: unknown): BitmainStats {
  const list = section(reply, 'STATS');
  const body = list.find(
    (o) => 'GHS 5s' in o || 'GHS av' in o || Object.keys(o).some((k) => /^chain_rate\d+$/.test(k)),
  );
  const head = list.find((o) => o !== body && ('Type' in o || 'Miner' in o)) ?? null;
  return { head, body: body ?? null };
}

/** Slots 1..16 that hold a board: chips or a rate or a chip temperature. */
function presentSlots(s: Obj): number[] {
  const slots: number[] = [];
  for (let i = 1; i <= 16; i++) {
    const has =
      (count(s[`chain_acn${i}`]) ?? 0) > 0 ||
      (num(s[`chain_rate${i}`]) ?? 0) > 0 ||
      maxOfDashList(s[`temp_chip${i}`]) !== null;
    if (has) slots.push(i);
  }
  return slots;
}

/** Fill hashrate, nominal, temps, fans, boards and per-chain power from a legacy stats body. */
export function applyBitmainStats(r: MinerReading, s: Obj): { chainPowerW: number | null } {
  r.hashrate_hs = scale(num(s['GHS 5s']), HS.GH) ?? r.hashrate_hs;
  r.hashrate_avg_hs = scale(num(s['GHS av']), HS.GH) ?? r.hashrate_avg_hs;
  // rate_unit is "GH" on every capture seen; anything else is refused rather than mis-scaled.
  const unit = str(s['rate_unit']);
  const ideal = num(s['total_rateideal']);
  if (ideal !== null && ideal > 0) {
    if (unit === null || /^GH/i.test(unit)) r.hashrate_nominal_hs = scale(ideal, HS.GH);
    else r.notes.push(`unknown rate_unit "${unit}": nominal hashrate not read`);
  }
  r.uptime_s = count(s['Elapsed']) ?? r.uptime_s;
  const slots = presentSlots(s);
  // S9-era firmware numbers chains 6–8 (vnish_s9_stats.txt); S17+/S19 use 1–3. Map to 0-based positions.
  const offset = slots.length && slots[0]! >= 6 ? 6 : 1;
  const boards: BoardReading[] = slots.map((i) => {
    const b = emptyBoard(i - offset);
    b.hashrate_hs = scale(num(s[`chain_rate${i}`]), HS.GH);
    const idealN = num(s[`chain_rateideal${i}`]);
    b.hashrate_nominal_hs = idealN ? scale(idealN, HS.GH) : null;
    b.temp_board_c = maxOfDashList(s[`temp_pcb${i}`]) ?? temp(s[`temp${i}`]);
    b.temp_chip_c = maxOfDashList(s[`temp_chip${i}`]) ?? temp(s[`temp2_${i}`]);
    // Chips found less those marked dead (`x`) in chain_acsN (vnish_s17plus_stats.txt has 5).
    const found = count(s[`chain_acn${i}`]);
    b.chips = found === null ? null : Math.max(0, found - deadChips(s[`chain_acs${i}`]));
    b.hw_errors = count(s[`chain_hw${i}`]);
    const f = num(s[`freq_avg${i}`]) ?? num(s[`freq${i}`]);
    b.frequency_mhz = f ? f : null;
    const p = num(s[`chain_consumption${i}`]) ?? num(s[`chain_power${i}`]);
    b.power_w = p && p > 0 ? p : null;
    return b;
  });
  r.boards = boards;
  r.temp_board_max_c = maxOf(boards.map((b) => b.temp_board_c));
  r.temp_chip_max_c = maxOf(boards.map((b) => b.temp_chip_c));
  r.fans = [];
  for (let i = 1; i <= 16; i++) {
    const v = rpm(s[`fan${i}`]);
    if (v !== null) r.fans.push({ index: i - 1, rpm: v });
  }
  r.hw_errors = sumOf(boards.map((b) => b.hw_errors)) ?? r.hw_errors;
  return { chainPowerW: sumOf(boards.map((b) => b.power_w)) };
}
