/**
 * What is this device? `identify` is pure: it takes whatever probe replies were collected and applies ONE fixed
 * precedence, aftermarket firmware before stock (protocols.md §5.2 recommendation), because aftermarket builds
 * keep the vendor's strings: VNish's Type says "Antminer S9 (vnish 3.8.6)", Hiveon's says "Antminer S9 Hiveon",
 * LuxOS's says "Antminer S19k Pro". Order:
 *   Braiins (BOSminer/BOSer/bOS) → LuxOS (LUXminer) → VNish → Hiveon (family antminer, firmware "Hiveon") →
 *   MSKminer (`rwglr` without Hiveon, antminer_s9promskminer_version.txt) → Whatsminer (btminer) → Avalon →
 *   Innosilicon → stock Antminer (BMMiner / Type "Antminer …" / antMiner digest realm) → Bitaxe (HTTP shape) →
 *   generic cgminer.
 * `detectFamily` is the thin network part: `version` + `devdetails` over the cgminer port, else an HTTP probe.
 */
import { RtError } from '../lib/errors.js';
import { avalonModelFromVer } from './avalon/parse.js';
import { isAxeOsInfo, parseBitaxe } from './bitaxe/parse.js';
import { braiinsFirmware, modelFromBuild } from './braiins/parse.js';
import { isObj, normMac, type Obj, section, str } from './cgminer/cgjson.js';
import { decodeReply } from './cgminer/decode.js';
import { httpRequest } from './http/client.js';
import type { Family } from './sample.js';
import { tcpRequest } from './tcp.js';
import { splitType } from './vnish/parse.js';

export type Confidence = 'high' | 'medium' | 'low';

export interface IdentifyInput {
  /** `version` reply: decoded object, or the raw text/bytes (decoded here, plain-text format included). */
  version?: unknown;
  devdetails?: unknown;
  /** `summary` reply, used only for its STATUS Description (btminer names itself there). */
  summary?: unknown;
  /** `stats` reply: its first object names Type/Cgminer on Bitmain-based firmware (VNish 2.0.3 says it only there). */
  stats?: unknown;
  /** Decoded JSON of HTTP `GET /api/system/info` (AxeOS). */
  httpInfo?: unknown;
  /** `WWW-Authenticate` of the web root (`Digest realm="antMiner Configuration"` on stock Antminer). */
  httpRealm?: string | null;
  /** First bytes of the web root page ("AxeOS", "Braiins OS", "AnthillOS", "Luxor Firmware"…). */
  httpBody?: string | null;
}

export interface Identification {
  family: Family;
  make: string | null;
  model: string | null;
  firmware: string | null;
  mac: string | null;
  confidence: Confidence;
  /** Why: each piece of evidence that decided or supported the answer. */
  evidence: string[];
}

function asBody(v: unknown): Obj | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    try {
      const d = decodeReply(v);
      return isObj(d.value) ? d.value : null;
    } catch {
      return null;
    }
  }
  return isObj(v) ? v : null;
}

function result(
  family: Family,
  confidence: Confidence,
  evidence: string[],
  fields: Partial<Pick<Identification, 'make' | 'model' | 'firmware' | 'mac'>> = {},
): Identification {
  return {
    family,
    make: fields.make ?? null,
    model: fields.model ?? null,
    firmware: fields.firmware ?? null,
    mac: fields.mac ?? null,
    confidence,
    evidence,
  };
}

/** The miner-software key of a VERSION object and its value: `BMMiner`, `CGMiner`, `Cgminer`. */
function minerKey(v: Obj | null): { key: string; value: string } | null {
  if (!v) return null;
  for (const key of ['BMMiner', 'CGMiner', 'Cgminer', 'cgminer', 'bmminer']) {
    const value = str(v[key]);
    if (value) return { key, value };
  }
  return null;
}

function descriptionOf(body: Obj | null): string | null {
  if (!body) return null;
  const s = body['STATUS'];
  const st = Array.isArray(s) ? s[0] : s;
  return isObj(st) ? str(st['Description']) : null;
}

export function identify(input: IdentifyInput): Identification {
  const version = asBody(input.version);
  const devdetails = asBody(input.devdetails);
  const ver = section(version, 'VERSION')[0] ?? null;
  const dd = section(devdetails, 'DEVDETAILS')[0] ?? null;
  const desc = descriptionOf(version) ?? descriptionOf(devdetails) ?? descriptionOf(asBody(input.summary));
  const statsBody = asBody(input.stats);
  const statsRows = section(statsBody, 'STATS');
  const statsHead = statsRows.find((o) => 'Type' in o) ?? null;
  // Old Innosilicon firmware numbers its sections STATS0, STATS1… (innosilicon_a9_stats_2.txt).
  const numberedStats = isObj(statsBody) && 'STATS0' in statsBody;
  const type = str(ver?.['Type']) ?? str(statsHead?.['Type']);
  const mk = minerKey(ver) ?? minerKey(statsHead);
  const body = input.httpBody ?? '';
  const realm = input.httpRealm ?? '';
  const evidence: string[] = [];
  const all = `${JSON.stringify(version ?? {})} ${JSON.stringify(devdetails ?? {})} ${JSON.stringify(statsHead ?? {})}`;

  // 1. Braiins OS / BOS+: BOSminer, BOSminer+ or BOSer keys; the 2018 bmminer-based bOS names itself in Type.
  const bosKey = ver ? ['BOSer', 'BOSminer+', 'BOSminer'].find((k) => str(ver[k])) : undefined;
  if (
    bosKey ||
    /bos(miner|er)/i.test(desc ?? '') ||
    /^braiins/i.test(type ?? '') ||
    /\bbOS_/.test(mk?.value ?? '')
  ) {
    if (bosKey) evidence.push(`version has a ${bosKey} key`);
    if (desc && /bos(miner|er)/i.test(desc)) evidence.push(`Description "${desc}"`);
    if (type && /^braiins/i.test(type)) evidence.push(`Type "${type}"`);
    const ddModel = str(dd?.['Model']);
    const model =
      (ddModel ? `Antminer ${ddModel.replace(/^(Bitmain\s+)?(Antminer\s+)?/i, '')}` : null) ??
      modelFromBuild(type) ??
      modelFromBuild(mk?.value ?? null) ??
      modelFromBuild(desc);
    return result('braiins', bosKey || type ? 'high' : 'medium', evidence, {
      make: 'Bitmain',
      model,
      firmware: braiinsFirmware(version, desc),
    });
  }
  if (/Braiins OS/i.test(body)) {
    return result('braiins', 'medium', ['web page says "Braiins OS"'], { make: 'Bitmain' });
  }

  // 2. LuxOS.
  const lux = str(ver?.['LUXminer']);
  if (lux || /LUXminer/i.test(desc ?? '')) {
    evidence.push(lux ? 'version has a LUXminer key' : `Description "${desc}"`);
    return result('luxos', lux ? 'high' : 'medium', evidence, {
      make: 'Bitmain',
      model: splitType(type).model,
      firmware: `LUXminer ${lux ?? desc!.replace(/^LUXminer\s*/i, '')}`,
    });
  }
  if (/Luxor Firmware/i.test(body))
    return result('luxos', 'medium', ['web page says "Luxor Firmware"'], { make: 'Bitmain' });

  // 3. VNish: "(vnish x.y.z)" in Type. VNish 2.0.3 sends no Type (vnish_s17plus_version.txt): not detectable
  //    from version alone, it falls through to generic cgminer.
  const { model: typeModel, suffix } = splitType(type);
  if (/vnish/i.test(all) || /AnthillOS/i.test(body)) {
    const vv = suffix ? /vnish\s*([\w.]+)/i.exec(suffix)?.[1] : undefined;
    evidence.push(
      type && /vnish/i.test(type)
        ? `Type "${type}"`
        : /AnthillOS/i.test(body)
          ? 'web page says "AnthillOS"'
          : 'reply mentions VNish',
    );
    return result('vnish', type ? 'high' : 'medium', evidence, {
      make: 'Bitmain',
      model: typeModel,
      firmware: vv ? `VNish ${vv}${mk ? ` (cgminer ${mk.value})` : ''}` : 'VNish',
    });
  }

  // 4. Hiveon counts as antminer with a firmware note; its BMMiner value carries "rwglr" too.
  if (type && /hiveon/i.test(type)) {
    evidence.push(`Type "${type}"`);
    if (mk) evidence.push(`${mk.key} "${mk.value}"`);
    return result('antminer', 'high', evidence, {
      make: 'Bitmain',
      model: type.replace(/\s+hiveon\b/i, '').trim(),
      firmware: `Hiveon${mk ? ` (${mk.key} ${mk.value})` : ''}`,
    });
  }
  if (mk && /rwglr/i.test(mk.value)) {
    // pyasic: RWGLR → MSKminer (antminer_s9promskminer_version.txt).
    evidence.push(`${mk.key} "${mk.value}" (rwglr build without Hiveon in Type: MSKminer)`);
    return result('antminer', 'medium', evidence, {
      make: 'Bitmain',
      model: typeModel,
      firmware: `MSKminer (${mk.key} ${mk.value})`,
    });
  }

  // 5. Whatsminer.
  if (
    /btminer|bitmicro|whatsminer/i.test(desc ?? '') ||
    /bitmicro|btminer/i.test(str(dd?.['Driver']) ?? '')
  ) {
    evidence.push(desc ? `Description "${desc}"` : `devdetails Driver "${str(dd?.['Driver'])}"`);
    const m = str(dd?.['Model']);
    return result('whatsminer', 'high', evidence, {
      make: 'MicroBT',
      model: m ? `Whatsminer ${m.replace(/^Whatsminer\s*/i, '')}` : null,
      firmware: desc,
    });
  }

  // Older Whatsminer firmware says only "cgminer 4.9.2"; its summary carries `Fan Speed In`/`Fan Speed Out`,
  // which no other family sends (whatsminer_m3_summary.txt, whatsminer_m20s_summary.txt).
  const summary = section(asBody(input.summary), 'SUMMARY')[0];
  if (summary && 'Fan Speed In' in summary && 'Fan Speed Out' in summary) {
    const fw = str(summary['Firmware Version'])?.replace(/^\\?'|\\?'$/g, '') ?? null;
    return result(
      'whatsminer',
      'medium',
      ['summary has the Whatsminer keys "Fan Speed In"/"Fan Speed Out"'],
      {
        make: 'MicroBT',
        firmware: fw ?? desc,
        mac: normMac(summary['MAC']),
      },
    );
  }

  // 6. Avalon: PROD in version, avalon driver in devdetails, or MM ID strings.
  const prod = str(ver?.['PROD']);
  const driver = str(dd?.['Driver']);
  // Avalon stats carry per-module "MM ID<n>" strings and an AVA… driver ID (avalon_1047_summary-stats-pools.txt).
  const avalonStats = statsRows.some(
    (o) => /^AVA/i.test(str(o['ID']) ?? '') || Object.keys(o).some((k) => /^MM ID\d/.test(k)),
  );
  if (
    prod ||
    /^avalon/i.test(driver ?? '') ||
    /^AVA/i.test(str(dd?.['Name']) ?? '') ||
    /avalon/i.test(all) ||
    avalonStats
  ) {
    if (avalonStats && !prod) evidence.push('stats has Avalon MM ID / AVA rows');
    if (prod) evidence.push(`version PROD "${prod}"`);
    if (driver && /avalon/i.test(driver)) evidence.push(`devdetails Driver "${driver}"`);
    if (!evidence.length) evidence.push('reply mentions Avalon');
    const build = str(ver?.['VERSION']) ?? str(ver?.['LVERSION']) ?? str(ver?.['CGVERSION']);
    return result('avalon', prod ? 'high' : 'medium', evidence, {
      make: 'Canaan',
      model: prod ?? avalonModelFromVer(build),
      firmware: build ? `${build}${mk ? ` (cgminer ${mk.value})` : ''}` : null,
      mac: normMac(ver?.['MAC']),
    });
  }
  if (/\bAvalon/.test(body))
    return result('avalon', 'medium', ['web page says "Avalon"'], { make: 'Canaan' });

  // 7. Innosilicon.
  if (/innominer/i.test(all) || /innominer/i.test(desc ?? '') || /DragonMint/i.test(body) || numberedStats) {
    evidence.push(
      desc && /innominer/i.test(desc)
        ? `Description "${desc}"`
        : numberedStats
          ? 'stats in numbered STATS0… sections (old Innosilicon firmware)'
          : 'innominer / DragonMint signature',
    );
    const m = desc ? /innominer\s+([a-z]\d+\+?)/i.exec(desc)?.[1] : undefined;
    return result('innosilicon', desc ? 'high' : 'medium', evidence, {
      make: 'Innosilicon',
      model: m ? m.toUpperCase() : null,
      firmware: desc,
    });
  }

  // 8. Stock Antminer.
  if ((type && /^antminer/i.test(type)) || mk?.key === 'BMMiner' || /realm="antMiner/i.test(realm)) {
    if (type) evidence.push(`Type "${type}"`);
    if (mk) evidence.push(`${mk.key} "${mk.value}"`);
    if (/realm="antMiner/i.test(realm)) evidence.push('web root challenges with the antMiner digest realm');
    const minerVer = str(ver?.['Miner']);
    let firmware: string | null = null;
    if (mk) {
      const flavour = /asicseer/i.test(mk.value) ? 'asicseer ' : '';
      firmware = `${flavour}${mk.key.toLowerCase()} ${mk.value}${minerVer ? ` (Miner ${minerVer})` : ''}`;
    }
    return result('antminer', type ? 'high' : 'medium', evidence, {
      make: 'Bitmain',
      model: typeModel,
      firmware,
    });
  }

  // 9. Bitaxe by the shape of /api/system/info (or the AxeOS page).
  if (isAxeOsInfo(input.httpInfo)) {
    const r = parseBitaxe(input.httpInfo);
    return result('bitaxe', 'high', ['GET /api/system/info has the AxeOS shape (hashRate, ASICModel)'], {
      make: r.identity.make,
      model: r.identity.model,
      firmware: r.identity.firmware,
      mac: r.identity.mac,
    });
  }
  if (/AxeOS/i.test(body)) return result('bitaxe', 'medium', ['web page says "AxeOS"'], { make: 'Bitaxe' });

  // 10. Some cgminer that names nothing more.
  if (ver || desc) {
    if (mk) evidence.push(`${mk.key} "${mk.value}"`);
    if (desc) evidence.push(`Description "${desc}"`);
    if (!evidence.length) evidence.push('answers the cgminer version command');
    return result('cgminer', 'low', evidence, { firmware: mk ? `cgminer ${mk.value}` : desc });
  }
  return result('unknown', 'low', ['no reply rigtel recognises']);
}

export interface DetectOptions {
  connectTimeoutMs?: number;
  deadlineMs?: number;
  /** Web port for the HTTP fallback. */
  httpPort?: number;
  maxBytes?: number;
  /** Try HTTP when the cgminer probe gives nothing (default true; discovery turns it off and probes web ports itself). */
  httpFallback?: boolean;
}

export interface Detection extends Identification {
  /** The probe that answered: 'cgminer' (4028-style API), 'http', or null when nothing did. */
  via: 'cgminer' | 'http' | null;
  /** Errors met on the way (codes), for the scan report. */
  errors: string[];
}

async function cgProbe(
  host: string,
  port: number,
  command: string,
  o: { connectTimeoutMs: number; deadlineMs: number; maxBytes: number },
  signal: AbortSignal,
) {
  const reply = await tcpRequest({
    host,
    port,
    payload: JSON.stringify({ command }),
    connectTimeoutMs: o.connectTimeoutMs,
    deadlineMs: o.deadlineMs,
    maxBytes: o.maxBytes,
    signal,
  });
  return reply.bytes;
}

/**
 * Network part of detection. On a cgminer-style port: `version`, then `devdetails` (in sequence: cgminer serves
 * one connection at a time). When that port is not an API (or `port` is a web port), an HTTP probe: the web root
 * (realm, page text) and `/api/system/info`.
 */
export async function detectFamily(
  host: string,
  port: number,
  signal: AbortSignal,
  options: DetectOptions = {},
): Promise<Detection> {
  const { httpFallback = true } = options;
  const o: Required<Omit<DetectOptions, 'httpFallback'>> = {
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    deadlineMs: options.deadlineMs ?? 4000,
    httpPort: options.httpPort ?? 80,
    maxBytes: options.maxBytes ?? 512 * 1024,
  };
  const errors: string[] = [];
  const input: IdentifyInput = {};
  const webPorts = new Set([80, 8080, o.httpPort]);
  if (!webPorts.has(port)) {
    for (const command of ['version', 'devdetails'] as const) {
      try {
        input[command] = await cgProbe(host, port, command, o, signal);
      } catch (err) {
        errors.push(err instanceof RtError ? err.code : String(err));
        // No answer to version (refused, silent, api-allow refusal): devdetails would only spend another deadline.
        if (
          command === 'version' &&
          err instanceof RtError &&
          /CONNECT|UNREACHABLE|ABORTED|TIMEOUT|EMPTY_REPLY/.test(err.code)
        )
          break;
      }
    }
    const id = identify(input);
    let refined = id;
    // Something answered in cgminer style (a reply, or an error status such as Code 14 for a refused command):
    // when version/devdetails did not settle it, summary and stats may. Whatsminer builds that refuse version
    // name themselves by their summary keys (whatsminer_m30s_summary.txt); a bare cgminer version (VNish 2.0.3:
    // vnish_s17plus_version.txt), an Avalon (MM ID strings) or an old Innosilicon (STATS0 sections) by stats.
    const answered =
      input.version !== undefined ||
      input.devdetails !== undefined ||
      errors.some((c) => /STATUS|ACCESS_DENIED|DECODE/.test(c));
    for (const command of ['summary', 'stats'] as const) {
      if (!answered || (refined.family !== 'unknown' && refined.family !== 'cgminer')) break;
      try {
        input[command] = await cgProbe(host, port, command, o, signal);
        refined = identify(input);
      } catch (err) {
        errors.push(err instanceof RtError ? err.code : String(err));
      }
    }
    if (refined.family !== 'unknown') return { ...refined, via: 'cgminer', errors };
    if (!httpFallback) return { ...id, via: null, errors };
  }
  const httpPort = webPorts.has(port) ? port : o.httpPort;
  const base = {
    host,
    port: httpPort,
    connectTimeoutMs: o.connectTimeoutMs,
    deadlineMs: o.deadlineMs,
    maxBytes: o.maxBytes,
    signal,
  };
  try {
    const root = await httpRequest({ ...base, path: '/' });
    const www = root.headers['www-authenticate'];
    input.httpRealm = Array.isArray(www) ? www.join(', ') : (www ?? null);
    input.httpBody = root.body.toString('utf8').slice(0, 64 * 1024);
  } catch (err) {
    errors.push(err instanceof RtError ? err.code : String(err));
  }
  if (input.httpBody !== undefined || input.httpRealm !== undefined) {
    try {
      const info = await httpRequest({ ...base, path: '/api/system/info' });
      if (info.status === 200) input.httpInfo = JSON.parse(info.body.toString('utf8'));
    } catch (err) {
      errors.push(err instanceof RtError ? err.code : 'RT_ERR_PROTO_HTTP_BAD_REPLY');
    }
  }
  const id = identify(input);
  const answered = input.httpBody !== undefined || input.httpRealm !== undefined;
  return { ...id, via: id.family !== 'unknown' || answered ? 'http' : null, errors };
}
