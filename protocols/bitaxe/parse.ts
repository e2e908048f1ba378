/**
 * Bitaxe / AxeOS (ESP-Miner): `GET /api/system/info` on port 80, no auth (docs/protocols.md, "## Bitaxe").
 * Fixture bitaxe_supra_system-info.txt: hashRate GH/s, power W from the board's INA260 (a real measurement,
 * so `power_source: 'miner'`), vrTemp 0 = no reading, bestDiff a suffixed string ("483k"), booleans as 0/1.
 */
import { bool, capRaw, count, isObj, normMac, num, rpm, scale, str, temp } from '../kit/index.js';
import { emptyReading, HS, type MinerReading } from '../sample.js';

/** "483k" → 483000, "1.2M" → 1200000, "0" → 0; anything else → null. */
export function parseSuffixed(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  const s = str(v);
  if (!s) return null;
  const m = /^([\d.]+)\s*([kKMGTP]?)$/.exec(s);
  if (!m) return null;
  const mult: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };
  const n = Number(m[1]);
  return Number.isFinite(n) ? Math.round(n * mult[m[2]!]!) : null;
}

const ASIC_MODELS: Record<string, string> = {
  BM1397: 'Bitaxe Max',
  BM1366: 'Bitaxe Ultra',
  BM1368: 'Bitaxe Supra',
  BM1370: 'Bitaxe Gamma',
};

/** True when a JSON body has the `/api/system/info` shape. */
export function isAxeOsInfo(body: unknown): boolean {
  return isObj(body) && 'hashRate' in body && ('ASICModel' in body || 'asicCount' in body);
}

export function parseBitaxe(info: unknown): MinerReading {
  const r = emptyReading('bitaxe');
  if (!isAxeOsInfo(info) || !isObj(info)) {
    r.support = 'unsupported';
    r.state = 'error';
    r.notes.push('reply is not an AxeOS /api/system/info object');
    r.raw = capRaw(JSON.stringify(info) ?? 'undefined');
    return r;
  }
  const asic = str(info['ASICModel']);
  const deviceModel = str(info['deviceModel']);
  r.identity.make = 'Bitaxe';
  r.identity.model =
    (deviceModel ? `Bitaxe ${deviceModel}` : null) ??
    (asic && ASIC_MODELS[asic]
      ? (count(info['asicCount']) ?? 1) > 1 && asic === 'BM1370'
        ? 'Bitaxe GT'
        : ASIC_MODELS[asic]!
      : asic);
  const version = str(info['version']);
  r.identity.firmware = version ? `AxeOS ${version}` : null;
  r.identity.mac = normMac(info['macAddr']);
  r.identity.hostname = str(info['hostname']);

  r.hashrate_hs = scale(num(info['hashRate']), HS.GH);
  const expected = num(info['expectedHashrate']);
  r.hashrate_nominal_hs = expected ? scale(expected, HS.GH) : null;
  r.temp_chip_max_c = temp(info['temp']);
  // vrTemp is the voltage regulator, the hottest part of the board: reported as the board temperature.
  r.temp_board_max_c = temp(info['vrTemp']);
  const watts = num(info['power']);
  if (watts !== null && watts > 0) {
    r.power_w = Math.round(watts * 1000) / 1000;
    r.power_source = 'miner';
  }
  r.uptime_s = count(info['uptimeSeconds']);
  r.shares_accepted = count(info['sharesAccepted']);
  r.shares_rejected = count(info['sharesRejected']);
  const fan = rpm(info['fanrpm']);
  if (fan !== null) r.fans.push({ index: 0, rpm: fan });
  const fallback = bool(info['isUsingFallbackStratum']) === true;
  const url = (host: unknown, port: unknown) => {
    const h = str(host);
    if (!h) return null;
    const p = count(port);
    return p === null ? h : `${h}:${p}`;
  };
  r.pools.push({
    index: 0,
    url: url(info['stratumURL'], info['stratumPort']),
    user: str(info['stratumUser']),
    status: null,
    active: !fallback,
    accepted: null,
    rejected: null,
    stale: null,
  });
  if (str(info['fallbackStratumURL'])) {
    r.pools.push({
      index: 1,
      url: url(info['fallbackStratumURL'], info['fallbackStratumPort']),
      user: str(info['fallbackStratumUser']),
      status: null,
      active: fallback,
      accepted: null,
      rejected: null,
      stale: null,
    });
  }
  if (r.hashrate_hs === null) {
    r.state = 'error';
    r.notes.push('no hashRate in the reply');
  } else if (r.hashrate_hs > 0) r.state = 'mining';
  else if ((r.uptime_s ?? Number.POSITIVE_INFINITY) < 120) {
    // The fixture was taken 4 s after boot with hashRate 0: the ASIC is still starting, not failed.
    r.state = 'ramping';
  } else {
    r.state = 'error';
    r.notes.push('the miner reports a hashrate of 0');
  }
  return r;
}
