/**
 * Pure parsers for Whatsminer API v1/v2 replies (port 4028) → `MinerReading`.
 *
 * Field names and units: docs/protocols.md, "## Whatsminer", checked against the real replies in
 * protocols/fixtures/real/whatsminer_*.txt. All btminer hashrates are MH/s (`HS RT` too, despite its name) except
 * `Factory GHS` (GH/s). Power comes from the PSU (`power_source: 'miner'`), `-1` meaning unknown.
 */
import { normMac, ProtoErrors } from '../kit/index.js';
import {
  type BoardReading,
  emptyBoard,
  emptyReading,
  type FanReading,
  HS,
  type MinerReading,
  type PoolReading,
} from '../sample.js';
import {
  bool,
  decodeWhatsminer,
  isObject,
  type Json,
  type JsonObject,
  nonNeg,
  num,
  replyError,
  type StatusInfo,
  statusOf,
  str,
  stripQuotes,
} from './decode.js';

/** The replies of one poll, by command; any may be missing. */
export interface WhatsminerParts {
  summary?: Json;
  devs?: Json;
  pools?: Json;
  stats?: Json;
  status?: Json;
  version?: Json;
  psu?: Json;
  devdetails?: Json;
  minerInfo?: Json;
  errorCode?: Json;
}

/** What `get_psu` says (docs/protocols.md, "## Whatsminer"). Not part of `MinerReading` (it has no PSU slot). */
export interface PsuInfo {
  name: string | null;
  model: string | null;
  hw_version: string | null;
  sw_version: string | null;
  fan_rpm: number | null;
}

/** State hints gathered while parsing; resolved into `reading.state` at the end. */
interface Hints {
  sleeping: boolean;
  ramping: boolean;
  curtailed: boolean;
  noDevices: boolean;
  errorCodes: string[];
  /** Build string from a `Firmware Version` / `fw_ver` field (preferred over the cgminer Description). */
  build: string | null;
  description: string | null;
}

// Whole H/s: the firmware prints 2 decimals of MH/s, so rounding only removes float noise (x.14 × 1e6).
const mhs = (v: unknown): number | null => {
  const n = nonNeg(v);
  return n === null ? null : Math.round(n * HS.MH);
};
const ghs = (v: unknown): number | null => {
  const n = nonNeg(v);
  return n === null ? null : Math.round(n * HS.GH);
};
/** Board/chip sensors: 0 or below is an absent sensor or empty slot (docs/protocols.md, "## Whatsminer"). */
const sensorTemp = (v: unknown): number | null => {
  const n = num(v);
  return n === null || n <= 0 ? null : n;
};
/** Intake air can be below 0 °C in winter; only absurd values are sentinels. */
const ambientTemp = (v: unknown): number | null => {
  const n = num(v);
  return n === null || n <= -60 ? null : n;
};
const maxOf = (...vals: (number | null)[]): number | null => {
  const xs = vals.filter((v): v is number => v !== null);
  return xs.length ? Math.max(...xs) : null;
};

/** Throws the named error for a failed reply; returns the STATUS for successful (incl. empty) ones. */
function ensureOk(cmd: string, body: Json): StatusInfo {
  const err = replyError(cmd, body, 'whatsminer');
  if (err) throw err;
  return statusOf(body);
}

/** First element of `body[section]` (cgminer shape). */
function rows(body: Json, section: string): JsonObject[] {
  if (!isObject(body)) return [];
  const s = body[section];
  return Array.isArray(s) ? s.filter(isObject) : [];
}

function noteDescription(h: Hints, st: StatusInfo): void {
  if (!h.description && st.description && st.description.trim() !== '') h.description = st.description.trim();
}

function addErrorCodes(h: Hints, codes: string[]): void {
  for (const c of codes) if (!h.errorCodes.includes(c)) h.errorCodes.push(c);
}

function applySummary(r: MinerReading, h: Hints, body: Json): void {
  const st = ensureOk('summary', body);
  noteDescription(h, st);
  const s = rows(body, 'SUMMARY')[0];
  if (!s) throw ProtoErrors.decode('summary reply has no SUMMARY row');
  r.hashrate_hs = summaryHashrate(s);
  r.hashrate_avg_hs = mhs(s['MHS av']);
  r.hashrate_nominal_hs = ghs(s['Factory GHS']);
  r.temp_board_max_c = maxOf(r.temp_board_max_c, sensorTemp(s.Temperature));
  r.temp_chip_max_c = maxOf(r.temp_chip_max_c, sensorTemp(s['Chip Temp Max']));
  r.temp_inlet_c = ambientTemp(s['Env Temp']);
  r.power_w = summaryPower(s);
  r.power_source = r.power_w === null ? null : 'miner';
  r.uptime_s = nonNeg(s.Elapsed);
  r.shares_accepted = nonNeg(s.Accepted);
  r.shares_rejected = nonNeg(s.Rejected);
  r.shares_stale = nonNeg(s.Stale);
  r.hw_errors = nonNeg(s['Hardware Errors']);
  r.difficulty_accepted = nonNeg(s['Difficulty Accepted']);
  const fans = fansFrom(s);
  if (fans.length) r.fans = fans;
  const mac = str(s.MAC);
  if (mac) r.identity.mac = normMac(mac) ?? mac;
  const fw = stripQuotes(s['Firmware Version']);
  if (fw) h.build = fw;
  if (bool(s['Hash Stable']) === false) h.ramping = true;
  const mode = str(s['Power Mode']);
  // "Low" is the deliberately reduced power profile (docs/protocols.md, "## Whatsminer": Normal/High/Low).
  if (mode && mode.toLowerCase() === 'low') h.curtailed = true;
  // Older builds list active error codes as `Error Code 0..N-1` (whatsminer_m30s_summary.txt, m31s).
  // The count is the firmware's word: a hostile or corrupt one (1e30) must not make this loop run forever.
  const count = Math.min(num(s['Error Code Count']) ?? 0, MAX_ERROR_CODES);
  const codes: string[] = [];
  for (let i = 0; i < count; i++) {
    const c = str(s[`Error Code ${i}`]);
    if (c) codes.push(c);
  }
  addErrorCodes(h, codes);
}

/**
 * `HS RT` is btminer's real-time figure (M31S: 76.69 TH/s next to a noisy `MHS 5s` of 92.77); older builds
 * (M3, M20S) lack it, so fall back to the cgminer 5 s window.
 */
function summaryHashrate(s: JsonObject): number | null {
  return mhs(s['HS RT']) ?? mhs(s['MHS 5s']) ?? mhs(s['MHS 1m']);
}

/** Power_RT is the instantaneous PSU input; Power the firmware's averaged figure. -1 = unavailable. */
function summaryPower(s: JsonObject): number | null {
  return nonNeg(s.Power_RT) ?? nonNeg(s.Power);
}

function fansFrom(o: JsonObject): FanReading[] {
  const fans: FanReading[] = [];
  if ('Fan Speed In' in o) fans.push({ index: 0, rpm: nonNeg(o['Fan Speed In']) });
  if ('Fan Speed Out' in o) fans.push({ index: 1, rpm: nonNeg(o['Fan Speed Out']) });
  return fans;
}

/** Physical position: `Slot`, else `ASC`, else `ID`, else row order (docs/protocols.md, "## Whatsminer"). */
function boardIndex(row: JsonObject, position: number): number {
  for (const k of ['Slot', 'ASC', 'ID']) {
    const n = num(row[k]);
    if (n !== null && Number.isInteger(n) && n >= 0) return n;
  }
  return position;
}

function upsertBoard(r: MinerReading, b: BoardReading): void {
  const existing = r.boards.find((x) => x.index === b.index);
  if (!existing) {
    r.boards.push(b);
    r.boards.sort((a, c) => a.index - c.index);
    return;
  }
  // Fill only what the earlier source (devs) did not know.
  for (const key of Object.keys(b) as (keyof BoardReading)[]) {
    if (existing[key] === null && b[key] !== null)
      (existing as unknown as Record<string, unknown>)[key] = b[key];
  }
}

function applyDevs(r: MinerReading, h: Hints, body: Json, cmd = 'devs'): void {
  const st = ensureOk(cmd, body);
  noteDescription(h, st);
  if (st.code === 10) {
    h.noDevices = true;
    return;
  }
  const devs = rows(body, 'DEVS');
  devs.forEach((d, i) => {
    const b = emptyBoard(boardIndex(d, i));
    b.hashrate_hs = mhs(d['MHS 5s']) ?? mhs(d['MHS 1m']);
    b.hashrate_nominal_hs = ghs(d['Factory GHS']);
    b.temp_board_c = sensorTemp(d.Temperature);
    b.temp_chip_c = sensorTemp(d['Chip Temp Max']);
    b.chips = nonNeg(d['Effective Chips']);
    b.hw_errors = nonNeg(d['Hardware Errors']);
    b.frequency_mhz = nonNeg(d['Chip Frequency']);
    upsertBoard(r, b);
    // 0 while the board is still raising its frequency (docs/protocols.md, "## Whatsminer").
    if (num(d['Upfreq Complete']) === 0) h.ramping = true;
  });
  // The fan figures repeat on every row: they are the machine's fans, not the board's.
  if (r.fans.length === 0 && devs[0]) r.fans = fansFrom(devs[0]);
}

function applyPools(r: MinerReading, h: Hints, body: Json): void {
  const st = ensureOk('pools', body);
  noteDescription(h, st);
  if (st.code === 8) {
    r.pools = [];
    return;
  }
  // btminer numbers POOL from 1 (whatsminer_m31s_pools.txt), cgminer 4.9.2 builds from 0: index by row order.
  r.pools = rows(body, 'POOLS').map(
    (p, i): PoolReading => ({
      index: i,
      url: str(p.URL),
      user: str(p.User),
      status: str(p.Status),
      active: bool(p['Stratum Active']),
      accepted: nonNeg(p.Accepted),
      rejected: nonNeg(p.Rejected),
      stale: nonNeg(p.Stale),
    }),
  );
}

/** Legacy `stats` (M3/M20S): one object per board `SM<n>` with per-chip keys, then one per pool. */
function applyStats(r: MinerReading, h: Hints, body: Json): void {
  const st = ensureOk('stats', body);
  noteDescription(h, st);
  rows(body, 'STATS').forEach((s, i) => {
    const id = str(s.ID) ?? '';
    const m = /^SM(\d+)$/.exec(id);
    if (!m) return;
    const slot = num(s.slot);
    const b = emptyBoard(slot !== null && slot >= 0 ? slot : Number(m[1] ?? i));
    const sensors = Object.keys(s)
      .filter((k) => /^temp_\d+$/.test(k))
      .map((k) => sensorTemp(s[k]));
    b.temp_board_c = sensorTemp(s.temp_now_max) ?? maxOf(...sensors);
    b.frequency_mhz = nonNeg(s.freqs_avg);
    b.chips = nonNeg(s.ok_chips);
    b.chips_expected = nonNeg(s.chip_num);
    upsertBoard(r, b);
    if (num(s.upfreq_complete) === 0) h.ramping = true;
  });
}

function msgOf(cmd: string, body: Json): JsonObject {
  const st = ensureOk(cmd, body);
  if (!st.msgObject) throw ProtoErrors.decode(`${cmd} reply has no Msg object`);
  return st.msgObject;
}

function applyStatus(_r: MinerReading, h: Hints, body: Json): void {
  const m = msgOf('status', body);
  // v1: btmineroff (whatsminer_m31s_status.txt); v2: mineroff. Both are strings "true"/"false".
  const off = bool(m.btmineroff) ?? bool(m.mineroff);
  if (off === true) h.sleeping = true;
  const fw = stripQuotes(m['Firmware Version']) ?? stripQuotes(m.FirmwareVersion);
  if (fw && !h.build) h.build = fw;
  const pct = num(m.hash_percent);
  if (pct !== null && pct > 0 && pct < 100) h.curtailed = true;
  const mode = str(m.power_mode);
  if (mode && mode.toLowerCase() === 'low') h.curtailed = true;
}

/**
 * Whether a summary shows the rig at work: hashing or drawing power (the same fields `applySummary` reads).
 * `status`'s sleep flag decides the state only when neither holds (`finish`), so the driver need not ask it
 * while the summary shows work. An unreadable summary counts as no work.
 */
export function summaryShowsWork(body: Json): boolean {
  const s = rows(body, 'SUMMARY')[0];
  if (!s) return false;
  const hs = summaryHashrate(s);
  const w = summaryPower(s);
  return (hs !== null && hs > 0) || (w !== null && w > 0);
}

/** Whether a `status` reply carries curtailment (`hash_percent`, `power_mode`): then it matters on every poll. */
export function statusReportsCurtailment(body: Json): boolean {
  const m = isObject(body) && isObject(body.Msg) ? body.Msg : null;
  return m !== null && ('hash_percent' in m || 'power_mode' in m);
}

function applyVersion(_r: MinerReading, h: Hints, body: Json): void {
  const m = msgOf('get_version', body);
  const fw = stripQuotes(m.fw_ver);
  // get_version is the authoritative build string: it wins over summary's copy.
  if (fw) h.build = fw;
}

function applyDevdetails(r: MinerReading, h: Hints, body: Json): void {
  const st = ensureOk('devdetails', body);
  noteDescription(h, st);
  for (const d of rows(body, 'DEVDETAILS')) {
    const model = str(d.Model);
    if (model && model.trim() !== '') {
      r.identity.model = whatsminerModelName(model);
      break;
    }
  }
}

function applyMinerInfo(r: MinerReading, _h: Hints, body: Json): void {
  const m = msgOf('get_miner_info', body);
  const mac = str(m.mac);
  if (mac) r.identity.mac = normMac(mac) ?? mac;
  const host = str(m.hostname);
  if (host && host.trim() !== '') r.identity.hostname = host.trim();
  const sn = str(m.minersn);
  if (sn && sn.trim() !== '') r.identity.serial = sn.trim();
}

/** `get_error_code` → codes; `error_code` is a list of {"<code>":"<time>"} (or bare strings on some builds). */
/** Most `Error Code N` fields read from one summary (firmware lists a handful). */
const MAX_ERROR_CODES = 64;

export function parseErrorCodes(body: Json): string[] {
  const m = msgOf('get_error_code', body);
  const list = m.error_code;
  const codes: string[] = [];
  const visit = (item: Json) => {
    if (isObject(item)) codes.push(...Object.keys(item));
    else {
      const s = str(item);
      if (s) codes.push(s);
    }
  };
  if (Array.isArray(list)) list.forEach(visit);
  else if (list !== undefined) visit(list);
  return codes;
}

/** `get_psu` → PSU identity and fan speed (strings on the wire). */
export function parsePsu(body: Json): PsuInfo {
  const m = msgOf('get_psu', body);
  const s = (v: Json | undefined) => {
    const t = str(v);
    return t && t.trim() !== '' ? t.trim() : null;
  };
  return {
    name: s(m.name),
    model: s(m.model),
    hw_version: s(m.hw_version),
    sw_version: s(m.sw_version),
    fan_rpm: nonNeg(m.fan_speed),
  };
}

/** `M30S+_VE40` → `Whatsminer M30S+ VE40` (the variant is kept: it names the chip bin). */
export function whatsminerModelName(model: string): string {
  const m = model.trim().replace(/^whatsminer\s*/i, '');
  return `Whatsminer ${m.toUpperCase().replace(/_/g, ' ')}`;
}

/** Combine whatever replies one poll produced into one reading. Each reply must be a success (else it throws). */
export function parseWhatsminer(parts: WhatsminerParts): MinerReading {
  const r = emptyReading('whatsminer');
  r.identity.make = 'MicroBT';
  const h: Hints = {
    sleeping: false,
    ramping: false,
    curtailed: false,
    noDevices: false,
    errorCodes: [],
    build: null,
    description: null,
  };
  if (parts.summary !== undefined) applySummary(r, h, parts.summary);
  if (parts.devs !== undefined) applyDevs(r, h, parts.devs);
  if (parts.stats !== undefined) applyStats(r, h, parts.stats);
  if (parts.pools !== undefined) applyPools(r, h, parts.pools);
  if (parts.devdetails !== undefined) applyDevdetails(r, h, parts.devdetails);
  if (parts.status !== undefined) applyStatus(r, h, parts.status);
  if (parts.version !== undefined) applyVersion(r, h, parts.version);
  if (parts.minerInfo !== undefined) applyMinerInfo(r, h, parts.minerInfo);
  if (parts.errorCode !== undefined) addErrorCodes(h, parseErrorCodes(parts.errorCode));
  if (parts.psu !== undefined) parsePsu(parts.psu);
  return finish(r, h);
}

function finish(r: MinerReading, h: Hints): MinerReading {
  r.identity.firmware = h.build ?? h.description;
  // Roll board figures up where the summary did not give them (devs- or stats-only reads).
  r.temp_board_max_c = maxOf(r.temp_board_max_c, ...r.boards.map((b) => b.temp_board_c));
  r.temp_chip_max_c = maxOf(r.temp_chip_max_c, ...r.boards.map((b) => b.temp_chip_c));
  if (r.hashrate_hs === null && r.boards.length > 0 && r.boards.every((b) => b.hashrate_hs !== null)) {
    r.hashrate_hs = r.boards.reduce((a, b) => a + (b.hashrate_hs ?? 0), 0);
  }
  if (r.hw_errors === null && r.boards.length > 0 && r.boards.every((b) => b.hw_errors !== null)) {
    r.hw_errors = r.boards.reduce((a, b) => a + (b.hw_errors ?? 0), 0);
  }
  if (h.errorCodes.length) r.notes.push(`miner reports error codes: ${h.errorCodes.join(', ')}`);
  // `btmineroff`/`mineroff` (status) is the firmware's sleep signal; a summary hashing and drawing power at the
  // same time contradicts it (whatsminer_m31s_status.txt against whatsminer_m31s_summary.txt): the figures are
  // what was observed, so they decide, and the contradiction is noted (docs/protocols.md, "## Whatsminer").
  const hashing = r.hashrate_hs !== null && r.hashrate_hs > 0;
  const drawing = r.power_w !== null && r.power_w > 0;
  r.state_inferred = false;
  if (h.sleeping && (hashing || drawing)) {
    r.state_inferred = true;
    const what = [
      hashing ? `${(r.hashrate_hs! / 1e12).toFixed(2)} TH/s` : null,
      drawing ? `${r.power_w} W` : null,
    ].filter(Boolean);
    r.notes.push(
      `status says the miner is off (btmineroff/mineroff true) but the summary shows ${what.join(' and ')}: the replies contradict each other; state read from the figures`,
    );
  }
  if (h.sleeping && !hashing && !drawing) r.state = 'sleeping';
  else if (h.noDevices || r.hashrate_hs === 0) {
    r.state = 'error';
    r.state_inferred = !h.noDevices;
  } else if (h.ramping) r.state = 'ramping';
  else if (h.curtailed) r.state = 'curtailed';
  else r.state = 'mining';
  return r;
}

export const parseSummary = (body: Json): MinerReading => parseWhatsminer({ summary: body });
/** `devs` and `edevs` share the DEVS layout. */
export const parseDevs = (body: Json): MinerReading => parseWhatsminer({ devs: body });
export const parsePools = (body: Json): MinerReading => parseWhatsminer({ pools: body });
export const parseStats = (body: Json): MinerReading => parseWhatsminer({ stats: body });
export const parseStatus = (body: Json): MinerReading => parseWhatsminer({ status: body });
export const parseVersion = (body: Json): MinerReading => parseWhatsminer({ version: body });
export const parseDevdetails = (body: Json): MinerReading => parseWhatsminer({ devdetails: body });
export const parseMinerInfo = (body: Json): MinerReading => parseWhatsminer({ minerInfo: body });
export const parseErrorCode = (body: Json): MinerReading => parseWhatsminer({ errorCode: body });

export interface WhatsminerIdentity {
  model: string | null;
  firmware: string | null;
  /** API version as the firmware states it: "2.0.5", "1.3" (from "whatsminer v1.3"), "3.0.2" (v3). */
  apiVersion: string | null;
}

/**
 * Detection: is this reply from a Whatsminer, and what does it say about itself? Accepts `get_version`,
 * `status`/`get_*` (Description "whatsminer vX"), `summary` (btminer-only keys), `devdetails` (Driver
 * "bitmicro") and the v3 `get.device.info` reply. Null when the body is not recognisably btminer.
 */
export function identifyWhatsminer(body: unknown): WhatsminerIdentity | null {
  if (!isObject(body)) return null;
  // API v3 get.device.info: {"code":0,"msg":{"miner":{"type":…},"system":{"api":…,"fwversion":…}}}
  if (isObject(body.msg) && (isObject(body.msg.miner) || isObject(body.msg.system))) {
    const miner = isObject(body.msg.miner) ? body.msg.miner : {};
    const system = isObject(body.msg.system) ? body.msg.system : {};
    const type = str(miner.type);
    return {
      model: type ? whatsminerModelName(type) : null,
      firmware: stripQuotes(system.fwversion),
      apiVersion: str(system.api),
    };
  }
  const st = statusOf(body as Json);
  const desc = st.description ?? '';
  const apiFromDesc = /^whatsminer\s+v?([\d.]+)/i.exec(desc)?.[1] ?? null;
  const msg = st.msgObject;
  if (msg && ('api_ver' in msg || 'fw_ver' in msg)) {
    const api = str(msg.api_ver);
    return {
      model: null,
      firmware: stripQuotes(msg.fw_ver),
      apiVersion: api ? (/([\d.]+)\s*$/.exec(api)?.[1] ?? api) : apiFromDesc,
    };
  }
  if (st.shape === 'string' && apiFromDesc) {
    const fw = msg ? (stripQuotes(msg['Firmware Version']) ?? stripQuotes(msg.FirmwareVersion)) : null;
    return { model: null, firmware: fw, apiVersion: apiFromDesc };
  }
  const details = rows(body as Json, 'DEVDETAILS');
  const bitmicro = details.find((d) => str(d.Driver) === 'bitmicro');
  if (bitmicro) {
    const model = str(bitmicro.Model);
    return { model: model ? whatsminerModelName(model) : null, firmware: null, apiVersion: null };
  }
  const s = rows(body as Json, 'SUMMARY')[0] ?? rows(body as Json, 'DEVS')[0];
  // Intake/outlet fan keys and the PSU/board extras are btminer additions to the cgminer layout; stock cgminer
  // and bmminer have none of them (compare cgminer_*/antminer_* fixtures).
  if (s && ('Fan Speed In' in s || 'Factory GHS' in s || 'Power Mode' in s || desc === 'btminer')) {
    return { model: null, firmware: stripQuotes(s['Firmware Version']), apiVersion: null };
  }
  return null;
}

/** Commands `parseReply` understands, by wire name. */
export const REPLY_SLOTS = {
  summary: 'summary',
  devs: 'devs',
  edevs: 'devs',
  pools: 'pools',
  stats: 'stats',
  status: 'status',
  get_version: 'version',
  get_psu: 'psu',
  devdetails: 'devdetails',
  get_miner_info: 'minerInfo',
  get_error_code: 'errorCode',
} as const satisfies Record<string, keyof WhatsminerParts>;

export type WhatsminerCommand = keyof typeof REPLY_SLOTS;

/** Decode one reply's bytes (with the named repairs) and parse it as `cmd`. */
export function parseReply(cmd: WhatsminerCommand, input: Buffer | string): MinerReading {
  const { value, repairs } = decodeWhatsminer(input);
  const reading = parseWhatsminer({ [REPLY_SLOTS[cmd]]: value });
  reading.repairs.push(...repairs.filter((r) => !reading.repairs.includes(r)));
  return reading;
}
