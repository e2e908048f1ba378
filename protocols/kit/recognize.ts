/**
 * What every family's `recognize(replies)` reads: the probe replies a host gave (`version`, `devdetails`,
 * `summary`, `stats` over the cgminer-style API; the web root and `/api/system/info` over HTTP), digested once
 * into the fields the signatures look at (docs/protocols.md, "## cgminer API framing").
 *
 * An identity is never taken from a generic error text: a STATUS Description counts only when the reply that
 * carries it succeeded (STATUS S or I); a refusal says only that something cgminer-like answered.
 */
import type { Family } from '../sample.js';
import { decodeReply } from './decode.js';
import { isObj, type Obj, section, splitType, str } from './values.js';

export type Confidence = 'high' | 'medium' | 'low';

/** The replies a host gave to the identification probes (each optional: what was refused is simply absent). */
export interface ProbeReplies {
  /** `version` reply: decoded object, or the raw text/bytes (decoded here, plain-text format included). */
  version?: unknown;
  devdetails?: unknown;
  summary?: unknown;
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
  /**
   * Set when the replies have a family's shape but name firmware rigtel does not know (e.g. a stock Antminer
   * reply whose miner-software name was changed): the reading is then `partial` with this note.
   */
  unknown_firmware?: string;
}

/** The probe replies, decoded, with the fields the signatures look at pulled out once. */
export interface ReplyDigest {
  version: Obj | null;
  devdetails: Obj | null;
  summaryBody: Obj | null;
  statsBody: Obj | null;
  /** `VERSION[0]`, `DEVDETAILS[0]`, `SUMMARY[0]`. */
  ver: Obj | null;
  dd: Obj | null;
  summary: Obj | null;
  statsRows: Obj[];
  /** The first STATS object with a `Type` (Bitmain-based firmware names itself there). */
  statsHead: Obj | null;
  /** STATUS Description of a successful reply ("btminer", "cgminer 4.9.2", "innominer a9-1.1.0"). */
  desc: string | null;
  /** `Type` from version, else from stats. */
  type: string | null;
  /** `Type` split into model and its parenthesised suffix ("Antminer S9 (vnish 3.8.6)"). */
  typeModel: string | null;
  typeSuffix: string | null;
  /** The miner-software key of the VERSION (or stats head) object and its value: `BMMiner`, `CGMiner`… */
  minerKey: { key: string; value: string } | null;
  /** Every decoded identity reply as one string, for free-text signatures. */
  all: string;
  httpInfo: unknown;
  httpRealm: string;
  httpBody: string;
  /** Something answered in cgminer style (a reply, even a refusal). */
  answeredCgminer: boolean;
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

function statusRow(body: Obj | null): Obj | null {
  if (!body) return null;
  const s = body['STATUS'];
  const st = Array.isArray(s) ? s[0] : s;
  return isObj(st) ? st : null;
}

/** Description of a reply whose STATUS says success; an error reply's text names no firmware. */
function successDescription(body: Obj | null): string | null {
  const st = statusRow(body);
  if (!st) return null;
  const letter = str(st['STATUS']);
  if (letter !== 'S' && letter !== 'I') return null;
  return str(st['Description']);
}

const MINER_KEYS = ['BMMiner', 'CGMiner', 'Cgminer', 'cgminer', 'bmminer', 'BFGMiner', 'SGMiner'];

function minerKeyOf(v: Obj | null): { key: string; value: string } | null {
  if (!v) return null;
  for (const key of MINER_KEYS) {
    const value = str(v[key]);
    if (value) return { key, value };
  }
  return null;
}

export function digestReplies(input: ProbeReplies): ReplyDigest {
  const version = asBody(input.version);
  const devdetails = asBody(input.devdetails);
  const summaryBody = asBody(input.summary);
  const statsBody = asBody(input.stats);
  const ver = section(version, 'VERSION')[0] ?? null;
  const dd = section(devdetails, 'DEVDETAILS')[0] ?? null;
  const summary = section(summaryBody, 'SUMMARY')[0] ?? null;
  const statsRows = section(statsBody, 'STATS');
  const statsHead = statsRows.find((o) => 'Type' in o) ?? null;
  const type = str(ver?.['Type']) ?? str(statsHead?.['Type']);
  const { model, suffix } = splitType(type);
  const desc =
    successDescription(version) ??
    successDescription(devdetails) ??
    successDescription(summaryBody) ??
    successDescription(statsBody);
  return {
    version,
    devdetails,
    summaryBody,
    statsBody,
    ver,
    dd,
    summary,
    statsRows,
    statsHead,
    desc,
    type,
    typeModel: model,
    typeSuffix: suffix,
    minerKey: minerKeyOf(ver) ?? minerKeyOf(statsHead),
    all: `${JSON.stringify(ver ?? {})} ${JSON.stringify(dd ?? {})} ${JSON.stringify(statsHead ?? {})}`,
    httpInfo: input.httpInfo,
    httpRealm: input.httpRealm ?? '',
    httpBody: input.httpBody ?? '',
    answeredCgminer: [version, devdetails, summaryBody, statsBody].some((b) => statusRow(b) !== null),
  };
}

/** An Identification with the fields not given set to null. */
export function identified(
  family: Family,
  confidence: Confidence,
  evidence: string[],
  fields: Partial<Pick<Identification, 'make' | 'model' | 'firmware' | 'mac' | 'unknown_firmware'>> = {},
): Identification {
  const out: Identification = {
    family,
    make: fields.make ?? null,
    model: fields.model ?? null,
    firmware: fields.firmware ?? null,
    mac: fields.mac ?? null,
    confidence,
    evidence,
  };
  if (fields.unknown_firmware) out.unknown_firmware = fields.unknown_firmware;
  return out;
}

/** What a family folder exports for identification: its signature test over the digested probe replies. */
export type Recognize = (d: ReplyDigest) => Identification | null;
