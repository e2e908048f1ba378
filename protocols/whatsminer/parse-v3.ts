/**
 * Whatsminer API v3 (port 4433) reply parsers → `MinerReading`.
 *
 * There is NO real v3 reply in protocols/fixtures/real: these follow the field names documented in
 * docs/protocols.md, "## Whatsminer" (from pyasic BTMinerV3RPCAPI and asic-rs whatsminer v3) and are tested on replies
 * constructed from that description. v3 hashrates are TH/s (`hash-*`, `factory-hash`), power W, temps °C.
 */
import { normMac, ProtoErrors } from '../kit/index.js';
import { emptyBoard, emptyReading, HS, type MinerReading, type PoolReading } from '../sample.js';
import { bool, isObject, type Json, type JsonObject, nonNeg, num, str, stripQuotes } from './decode.js';
import { WhatsminerErrors } from './errors.js';
import { whatsminerModelName } from './parse.js';

export interface WhatsminerV3Parts {
  /** Reply to {"cmd":"get.miner.status","param":"summary"}. */
  summary?: Json;
  /** Reply to {"cmd":"get.miner.status","param":"edevs"}. */
  edevs?: Json;
  /** Reply to {"cmd":"get.miner.status","param":"pools"}. */
  pools?: Json;
  /** Reply to {"cmd":"get.device.info"}. */
  deviceInfo?: Json;
}

/** `{"code":0,"msg":{…},"desc":…,"when":…}` → msg; `code` ≠ 0 → RT_ERR_WHATSMINER_V3_ERROR with msg as text. */
export function v3Msg(cmd: string, body: Json): JsonObject {
  if (!isObject(body)) throw ProtoErrors.decode(`v3 reply to ${cmd} is not an object`);
  const code = num(body.code);
  if (code === null) throw ProtoErrors.decode(`v3 reply to ${cmd} has no numeric "code"`);
  if (code !== 0) {
    const msg = typeof body.msg === 'string' ? body.msg : JSON.stringify(body.msg ?? null);
    throw WhatsminerErrors.v3Error(cmd, code, msg);
  }
  if (!isObject(body.msg)) throw ProtoErrors.decode(`v3 reply to ${cmd} has no "msg" object`);
  return body.msg;
}

const ths = (v: unknown): number | null => {
  const n = nonNeg(v);
  return n === null ? null : Math.round(n * HS.TH);
};
const sensor = (v: unknown): number | null => {
  const n = num(v);
  return n === null || n <= 0 ? null : n;
};

function maxOf(...vals: (number | null)[]): number | null {
  const xs = vals.filter((v): v is number => v !== null);
  return xs.length ? Math.max(...xs) : null;
}

export function parseWhatsminerV3(parts: WhatsminerV3Parts): MinerReading {
  const r = emptyReading('whatsminer');
  r.identity.make = 'MicroBT';
  let ramping = false;

  if (parts.deviceInfo !== undefined) {
    const m = v3Msg('get.device.info', parts.deviceInfo);
    const miner = isObject(m.miner) ? m.miner : {};
    const network = isObject(m.network) ? m.network : {};
    const system = isObject(m.system) ? m.system : {};
    const type = str(miner.type);
    if (type) r.identity.model = whatsminerModelName(type);
    r.identity.serial = str(miner['miner-sn']);
    const mac = str(network.mac);
    r.identity.mac = mac ? (normMac(mac) ?? mac) : null;
    r.identity.hostname = str(network.hostname);
    r.identity.firmware = stripQuotes(system.fwversion);
  }

  if (parts.edevs !== undefined) {
    const m = v3Msg('get.miner.status edevs', parts.edevs);
    const list = Array.isArray(m.edevs) ? m.edevs.filter(isObject) : [];
    list.forEach((d, i) => {
      const id = num(d.id);
      const b = emptyBoard(id !== null && Number.isInteger(id) && id >= 0 ? id : i);
      b.hashrate_hs = ths(d['hash-realtime']) ?? ths(d['hash-average']);
      b.hashrate_nominal_hs = ths(d['factory-hash']);
      b.temp_chip_c = sensor(d['chip-temp-max']);
      b.chips = nonNeg(d['effective-chips']);
      b.frequency_mhz = nonNeg(d.freq);
      r.boards.push(b);
    });
    r.boards.sort((a, b) => a.index - b.index);
  }

  if (parts.summary !== undefined) {
    const m = v3Msg('get.miner.status summary', parts.summary);
    const s = isObject(m.summary) ? m.summary : null;
    if (!s) throw ProtoErrors.decode('v3 summary reply has no msg.summary');
    r.hashrate_hs = ths(s['hash-realtime']) ?? ths(s['hash-1min']);
    r.hashrate_avg_hs = ths(s['hash-average']);
    // pyasic: factory-hash == -0.001 × board count means "unknown"; any negative value is unknown here.
    r.hashrate_nominal_hs = ths(s['factory-hash']);
    r.power_w = nonNeg(s['power-realtime']) ?? nonNeg(s['power-5min']);
    r.power_source = r.power_w === null ? null : 'miner';
    r.temp_chip_max_c = sensor(s['chip-temp-max']);
    const boardTemps = Array.isArray(s['board-temperature']) ? s['board-temperature'].map(sensor) : [];
    r.temp_board_max_c = maxOf(...boardTemps);
    const env = num(s['environment-temperature']);
    r.temp_inlet_c = env === null || env <= -60 ? null : env;
    r.fans = [];
    if ('fan-speed-in' in s) r.fans.push({ index: 0, rpm: nonNeg(s['fan-speed-in']) });
    if ('fan-speed-out' in s) r.fans.push({ index: 1, rpm: nonNeg(s['fan-speed-out']) });
    r.uptime_s = nonNeg(s.elapsed);
    if (num(s['up-freq-finish']) === 0) ramping = true;
  }

  if (parts.pools !== undefined) {
    const m = v3Msg('get.miner.status pools', parts.pools);
    const list = Array.isArray(m.pools) ? m.pools.filter(isObject) : [];
    r.pools = list.map(
      (p, i): PoolReading => ({
        index: i,
        url: str(p.url),
        user: str(p.account),
        status: str(p.status),
        active: bool(p['stratum-active']),
        accepted: nonNeg(p.accepted),
        rejected: nonNeg(p.rejected),
        stale: nonNeg(p.stale),
      }),
    );
  }

  r.temp_chip_max_c = maxOf(r.temp_chip_max_c, ...r.boards.map((b) => b.temp_chip_c));
  if (r.hashrate_hs === null && r.boards.length > 0 && r.boards.every((b) => b.hashrate_hs !== null)) {
    r.hashrate_hs = r.boards.reduce((a, b) => a + (b.hashrate_hs ?? 0), 0);
  }
  if (r.hashrate_hs === 0) r.state = 'error';
  else r.state = ramping ? 'ramping' : 'mining';
  return r;
}
