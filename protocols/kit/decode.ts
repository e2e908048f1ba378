/**
 * Pure decoder for cgminer-style API replies (port 4028): JSON or the plain-text pipe/comma format.
 *
 * Strict first: the reply is parsed as JSON as sent (one exception: a `}{` between objects, the stock S9 defect,
 * is mended before the first parse, since such text never parses). Only when that fails are the named repairs
 * below tried, one at a time and cumulatively, re-parsing after each one that changed the text; the names of the repairs used are
 * returned so the sample can say its data was mended (and `truncated` marks it lossy). Never throws anything but
 * an RtError (ProtoErrors.decode / ProtoErrors.minerDown), whatever the bytes.
 */
import { RtError } from '../../lib/errors.js';
import { ProtoErrors } from '../errors.js';
import { excessiveNestingAt, MAX_NESTING_DEPTH } from './depth.js';

export type ReplyFormat = 'json' | 'text';

export interface DecodedReply {
  value: unknown;
  /** Names of the repairs that were needed, in the order applied. Empty for a clean reply. */
  repairs: string[];
  format: ReplyFormat;
}

/** The repair names, for callers and tests that want to match on them. */
export const REPAIR = {
  rawControlChars: 'raw-control-chars',
  invalidEscape: 'invalid-escape',
  leadingComma: 'leading-comma',
  missingCommaBetweenObjects: 'missing-comma-between-objects',
  newlineBetweenObjects: 'newline-between-objects',
  missingCommaBetweenStrings: 'missing-comma-between-strings',
  leadingCommaInArray: 'leading-comma-in-array',
  trailingComma: 'trailing-comma',
  bareNanInf: 'bare-nan-inf',
  trailingJunk: 'trailing-junk',
  truncated: 'truncated',
  quotedNanInf: 'quoted-nan-inf',
  numberOverflow: 'number-overflow',
} as const;

/** What an API proxy prints when the miner process behind it is down (docs/protocols.md, "## Antminer"). */
const MINER_DOWN = /^Socket connect failed: Connection refused/;

export function decodeReply(bytes: Buffer | string): DecodedReply {
  try {
    return decodeInner(bytes);
  } catch (err) {
    if (err instanceof RtError) throw err;
    // A RangeError from a pathological input (deep nesting, huge string) is still just an unreadable reply.
    throw ProtoErrors.decode.with({ cause: err }, `unexpected ${err instanceof Error ? err.name : 'error'}`);
  }
}

function decodeInner(bytes: Buffer | string): DecodedReply {
  let text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  // cgminer ends every reply with one NUL; anything after the first NUL is not part of the reply (docs/protocols.md, "## cgminer API framing").
  const nul = text.indexOf('\0');
  if (nul !== -1) text = text.slice(0, nul);
  text = text.trim();
  if (text === '') throw ProtoErrors.decode('empty reply');
  if (MINER_DOWN.test(text)) throw ProtoErrors.minerDown('api proxy');
  const first = text[0];
  if (first !== '{' && first !== '[' && first !== ',') {
    // Plain-text API format: the answer to a bare-word request (avalon_mini3_version.txt).
    if (/^(STATUS|CMD)=/.test(text)) return { value: parseTextFormat(text), repairs: [], format: 'text' };
    throw ProtoErrors.decode(
      `not JSON nor cgminer text format (starts with ${JSON.stringify(text.slice(0, 20))})`,
    );
  }
  // The known defect first: `}` directly followed by `{` is never valid JSON, so when the stock S9 / VNish `}{`
  // (repairMissingCommaBetweenObjects) is outside strings, a strict parse is known to fail: mend and parse once.
  const repairs: string[] = [];
  let current = text;
  const mended = text.indexOf('}{') === -1 ? null : repairMissingCommaBetweenObjects(text);
  if (mended !== null) {
    current = mended;
    repairs.push(REPAIR.missingCommaBetweenObjects);
    const parsed = tryParse(current);
    if (parsed.ok) return finish(parsed.value, repairs, current);
  } else {
    // JSON.parse is iterative in V8 (no stack to blow): hostile nesting of a reply that parses is caught by
    // the walk in `finish`, so clean replies are read once, not scanned first.
    const strict = tryParse(text);
    if (strict.ok) return finish(strict.value, repairs, text);
  }
  // Refuse hostile nesting before any repair touches it (the repairs recurse or backtrack on depth).
  refuseDeepNesting(text);
  for (const [name, repair] of REPAIRS) {
    const next = repair(current);
    if (next === null || next === current) continue;
    current = next;
    repairs.push(name);
    const parsed = tryParse(current);
    if (parsed.ok) return finish(parsed.value, repairs, current);
  }
  const strict = tryParse(text);
  throw ProtoErrors.decode.with(
    { details: { tried_repairs: repairs } },
    `${strict.ok ? 'invalid JSON' : strict.error}${repairs.length ? ` (still invalid after ${repairs.join(', ')})` : ''}`,
  );
}

function refuseDeepNesting(text: string): void {
  const deep = excessiveNestingAt(text);
  if (deep !== -1) {
    throw ProtoErrors.decode(`nested deeper than ${MAX_NESTING_DEPTH} levels (at offset ${deep})`);
  }
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message.slice(0, 120) : 'invalid JSON' };
  }
}

function finish(value: unknown, repairs: string[], text: string): DecodedReply {
  if (value === null || typeof value !== 'object') {
    throw ProtoErrors.decode(`top level is ${value === null ? 'null' : typeof value}, not an object`);
  }
  // Quoted "nan"/"inf" parse fine but are not readings: Avalon firmware sends them (pyasic rpc/base.py
  // _load_api_data; no capture in protocols/fixtures/real). A missing reading is null, never 0.
  const replaced = replaceNonReadings(value);
  if (replaced === DEEP) {
    refuseDeepNesting(text);
    throw ProtoErrors.decode(`nested deeper than ${MAX_NESTING_DEPTH} levels`);
  }
  if (replaced & QUOTED) repairs.push(REPAIR.quotedNanInf);
  // A literal too large for a double (`1e999`) parses to Infinity: not a reading either.
  if (replaced & OVERFLOW) repairs.push(REPAIR.numberOverflow);
  return { value, repairs, format: 'json' };
}

const NAN_INF = /^\s*[-+]?(nan|inf|infinity)\s*$/i;
const QUOTED = 1;
const OVERFLOW = 2;
const DEEP = 4;
const NESTED = 8;

/** Cheap first look before the regex: "nan", " -inf", "Infinity"… are 3–10 characters and start so. */
function maybeNanInf(v: string): boolean {
  const n = v.length;
  if (n < 3 || n > 10) return false;
  const c = v.charCodeAt(0);
  const lower = c | 32; // ASCII letters to lower case
  const plausible = lower === 110 /* n */ || lower === 105 /* i */ || c === 43 /* + */ || c === 45 /* - */;
  return (plausible || c <= 32 || c === 160) && NAN_INF.test(v);
}

/**
 * Replaces string values "nan"/"inf" and non-finite numbers (an overflowing literal such as `1e999`) by null in
 * place; iterative so hostile nesting cannot blow the stack, and stops at DEEP past MAX_NESTING_DEPTH levels.
 * Returns QUOTED | OVERFLOW bits, or DEEP.
 */
function replaceNonReadings(root: object): number {
  let out = 0;
  const nodes: object[] = [root];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop() as Record<string, unknown> | unknown[];
    const depth = depths.pop()!;
    // Arrays by index, objects by key: one loop each keeps V8's property access monomorphic.
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v = node[i];
        const j = judge(v);
        if (j === NESTED) {
          if (depth >= MAX_NESTING_DEPTH) return DEEP;
          nodes.push(v as object);
          depths.push(depth + 1);
        } else if (j !== 0) {
          out |= j;
          node[i] = null;
        }
      }
    } else {
      for (const key in node) {
        const v = node[key];
        const j = judge(v);
        if (j === NESTED) {
          if (depth >= MAX_NESTING_DEPTH) return DEEP;
          nodes.push(v as object);
          depths.push(depth + 1);
        } else if (j !== 0) {
          out |= j;
          node[key] = null;
        }
      }
    }
  }
  return out;
}

/** One value: QUOTED or OVERFLOW (to be nulled), NESTED (an object or array to walk), else 0. */
function judge(v: unknown): number {
  if (typeof v === 'string') return maybeNanInf(v) ? QUOTED : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? 0 : OVERFLOW;
  return v !== null && typeof v === 'object' ? NESTED : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Lexical helper: split the text into string literals and the structure between them, so repairs never touch the
// inside of a string unless they mean to. An unterminated string runs to the end (a truncated reply).

interface Segment {
  str: boolean;
  text: string;
}

function segments(text: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let start = 0;
  const n = text.length;
  while (i < n) {
    if (text.charCodeAt(i) === 34 /* " */) {
      if (i > start) out.push({ str: false, text: text.slice(start, i) });
      let j = i + 1;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === 92 /* \ */) j += 2;
        else if (c === 34) break;
        else j++;
      }
      const end = Math.min(j + 1, n);
      out.push({ str: true, text: text.slice(i, end) });
      i = end;
      start = i;
    } else i++;
  }
  if (start < n) out.push({ str: false, text: text.slice(start) });
  return out;
}

function join(segs: Segment[]): string {
  let s = '';
  for (const seg of segs) s += seg.text;
  return s;
}

/** Applies `fn` to the structure between strings; returns null when nothing changed. */
function mapStructure(
  text: string,
  fn: (s: string, index: number, segs: Segment[]) => string,
): string | null {
  const segs = segments(text);
  let changed = false;
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k]!;
    if (seg.str) continue;
    const next = fn(seg.text, k, segs);
    if (next !== seg.text) {
      seg.text = next;
      changed = true;
    }
  }
  return changed ? join(segs) : null;
}

function mapStrings(text: string, fn: (s: string) => string): string | null {
  const segs = segments(text);
  let changed = false;
  for (const seg of segs) {
    if (!seg.str) continue;
    const next = fn(seg.text);
    if (next !== seg.text) {
      seg.text = next;
      changed = true;
    }
  }
  return changed ? join(segs) : null;
}

// ---------------------------------------------------------------------------------------------------------------
// The named repairs, in the order they are tried.

/**
 * Raw control characters (newline, tab…) inside a string: cgminer escapes only `"` and `\` (api.c, protocols.md
 * docs/protocols.md, "## cgminer API framing"), so a newline in a pool worker name or a Whatsminer v1 version string arrives raw. Escape them.
 */
function repairRawControlChars(text: string): string | null {
  return mapStrings(text, (s) =>
    s.replace(/[\u0000-\u001f]/g, (c) => {
      if (c === '\n') return '\\n';
      if (c === '\r') return '\\r';
      if (c === '\t') return '\\t';
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }),
  );
}

/**
 * `\'` and other escapes JSON does not know: Whatsminer M20S 2020-11 firmware sends
 * `"Firmware Version":"\'20200917.22.REL\'"` (whatsminer_m20s_summary_2.txt). Drop the backslash.
 */
function repairInvalidEscape(text: string): string | null {
  return mapStrings(text, (s) =>
    s.replace(/\\(u[0-9a-fA-F]{4}|[\s\S])/g, (m, c: string) =>
      c.length > 1 || '"\\/bfnrt'.includes(c) ? m : c,
    ),
  );
}

/** A reply that starts with `,` (`,"id":1}`): Avalon firmware per pyasic rpc/base.py; no capture here. */
function repairLeadingComma(text: string): string | null {
  if (!text.startsWith(',')) return null;
  return `{${text.slice(1)}`;
}

/** The combined regex per repair pattern (by source and flags: a literal is a new object each call), built once. */
const OUTSIDE_STRINGS = new Map<string, RegExp>();

/**
 * One regex pass that skips string literals and rewrites `pattern` matches between them. Much faster than
 * splitting into segments (the common `}{` repair runs on every poll of an old S9). An unterminated string at the
 * very end (a truncated reply) is not skipped; the truncation repair deals with that case.
 */
function replaceOutsideStrings(
  text: string,
  pattern: RegExp,
  replacer: (match: string) => string,
): string | null {
  const key = `${pattern.flags}/${pattern.source}`;
  let re = OUTSIDE_STRINGS.get(key);
  if (!re) {
    // Unrolled string-literal pattern ("[^"\\]*(?:\\.[^"\\]*)*"): one pass, no per-character alternation.
    re = new RegExp(
      `("[^"\\\\]*(?:\\\\[\\s\\S][^"\\\\]*)*")|${pattern.source}`,
      `g${pattern.flags.replace('g', '')}`,
    );
    OUTSIDE_STRINGS.set(key, re);
  }
  let changed = false;
  const out = text.replace(re, (m: string, str: string | undefined) => {
    if (str !== undefined) return m;
    const next = replacer(m);
    if (next !== m) changed = true;
    return next;
  });
  return changed ? out : null;
}

/**
 * `}{` with no comma between the STATS header and the driver object: bmminer/cgminer 4.x on stock S9, Hiveon S9
 * 2019-20, mskminer, VNish 3.8.6, L3+, D3 Blissz, Z11 (antminer_s9_stats.txt, antminer_l3plus_stats.txt…).
 */
function repairMissingCommaBetweenObjects(text: string): string | null {
  return replaceOutsideStrings(text, /\}\{/, () => '},{');
}

/** `}` newline `{` with no comma between two objects (a line-buffered firmware writing one object a line). */
function repairNewlineBetweenObjects(text: string): string | null {
  return replaceOutsideStrings(text, /\}\s+\{/, (m) => `},${m.slice(1)}`);
}

/**
 * Missing comma between a string value and the next key, `"…""temp0":…`: btminer build dated 2023-01-06 (pyasic
 * rpc/base.py; no capture here). Insert the comma when a string follows a string with only blanks between.
 */
function repairMissingCommaBetweenStrings(text: string): string | null {
  const segs = segments(text);
  let changed = false;
  for (let k = 1; k < segs.length; k++) {
    const prev = segs[k - 1]!;
    const cur = segs[k]!;
    if (prev.str && cur.str) {
      segs[k] = { str: cur.str, text: `,${cur.text}` };
      changed = true;
    } else if (!cur.str && /^\s+$/.test(cur.text) && prev.str && segs[k + 1]?.str) {
      cur.text = `,${cur.text}`;
      changed = true;
    }
  }
  return changed ? join(segs) : null;
}

/** `[,{`: bmminer (pyasic rpc/base.py); no capture here. */
function repairLeadingCommaInArray(text: string): string | null {
  return replaceOutsideStrings(text, /\[\s*,/, (m) => m.slice(0, -1));
}

/** `,}` / `,]` trailing commas: btminer (pyasic rpc/base.py; docs/protocols.md, "## Antminer"). */
function repairTrailingComma(text: string): string | null {
  return mapStructure(text, (s, k, segs) => {
    let out = s.replace(/,(\s*[}\]])/g, '$1');
    // A comma at the very end of this piece with the closer in the next structural piece cannot happen (no string
    // between them), so one regex per piece is enough.
    if (k === segs.length - 1) out = out.replace(/,\s*$/, '');
    return out;
  });
}

/**
 * Bare `nan` / `inf` / `-nan`: a cgminer fork printing NaN or ∞ with printf("%f") (docs/protocols.md, "## cgminer API framing"; foreman
 * CgMiner.java patches the same). A missing reading is null, not 0.
 */
function repairBareNanInf(text: string): string | null {
  return replaceOutsideStrings(text, /[:,[]\s*[-+]?(?:nan|inf(?:inity)?)\b/i, (m) =>
    m.replace(/[-+]?(?:nan|inf(?:inity)?)$/i, 'null'),
  );
}

/**
 * Bytes after the top-level object: antminer_s9k_version.txt ends `"id":1}"}`. Cut after the first complete
 * top-level value.
 */
function repairTrailingJunk(text: string): string | null {
  const segs = segments(text);
  let depth = 0;
  let pos = 0;
  for (const seg of segs) {
    if (!seg.str) {
      for (let i = 0; i < seg.text.length; i++) {
        const c = seg.text[i];
        if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') {
          depth--;
          if (depth <= 0) {
            const end = pos + i + 1;
            return end < text.length && text.slice(end).trim() !== '' ? text.slice(0, end) : null;
          }
        }
      }
    }
    pos += seg.text.length;
  }
  return null;
}

/**
 * A reply cut off (cgminer gives up sending to a slow client after one 50 ms window, api.c; btminer overflowing
 * its buffer, pyasic rpc/base.py). Cut back to the last complete element and close the open containers. Lossy.
 */
function repairTruncated(text: string): string | null {
  const segs = segments(text);
  const stack: string[] = [];
  // Candidate cut points: before each structural comma, else just after an opener (an empty container).
  const cuts: { at: number; closers: string }[] = [];
  const openers: { at: number; closers: string }[] = [];
  let pos = 0;
  for (const seg of segs) {
    if (!seg.str) {
      for (let i = 0; i < seg.text.length; i++) {
        const c = seg.text[i];
        if (c === '{' || c === '[') {
          stack.push(c === '{' ? '}' : ']');
          // Real replies nest a few levels; deeper is hostile and not worth mending (keeps this linear).
          if (stack.length > MAX_REPAIR_DEPTH) return null;
          openers.push({ at: pos + i + 1, closers: stack.slice().reverse().join('') });
        } else if (c === '}' || c === ']') {
          stack.pop();
        } else if (c === ',' && stack.length > 0) {
          cuts.push({ at: pos + i, closers: stack.slice().reverse().join('') });
        }
      }
    }
    pos += seg.text.length;
  }
  const lastSeg = segs[segs.length - 1];
  const openString = lastSeg?.str === true && (lastSeg.text.length < 2 || !isClosedString(lastSeg.text));
  if (stack.length === 0 && !openString) return null;
  // The text as it is, closed; then the latest commas (the damage is at the end, a handful of tries is enough);
  // then the latest empty container.
  const closeAll = stack.slice().reverse().join('');
  if (!openString) {
    const whole = text.replace(/[\s,:]+$/, '') + closeAll;
    if (tryParse(whole).ok) return whole;
  }
  for (const list of [cuts, openers]) {
    for (let k = list.length - 1, tries = 0; k >= 0 && tries < 32; k--, tries++) {
      const cut = list[k]!;
      const candidate = text.slice(0, cut.at) + cut.closers;
      if (tryParse(candidate).ok) return candidate;
    }
  }
  return null;
}

const MAX_REPAIR_DEPTH = 32;

function isClosedString(s: string): boolean {
  if (!s.endsWith('"')) return false;
  // Count the backslashes before the final quote: an odd number means it is escaped.
  let n = 0;
  for (let i = s.length - 2; i > 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 0;
}

const REPAIRS: ReadonlyArray<readonly [string, (text: string) => string | null]> = [
  // The common one first: it is on every poll of an old S9, the rest are rare.
  [REPAIR.missingCommaBetweenObjects, repairMissingCommaBetweenObjects],
  [REPAIR.rawControlChars, repairRawControlChars],
  [REPAIR.invalidEscape, repairInvalidEscape],
  [REPAIR.leadingComma, repairLeadingComma],
  [REPAIR.newlineBetweenObjects, repairNewlineBetweenObjects],
  [REPAIR.missingCommaBetweenStrings, repairMissingCommaBetweenStrings],
  [REPAIR.leadingCommaInArray, repairLeadingCommaInArray],
  [REPAIR.trailingComma, repairTrailingComma],
  [REPAIR.bareNanInf, repairBareNanInf],
  [REPAIR.trailingJunk, repairTrailingJunk],
  [REPAIR.truncated, repairTruncated],
];

// ---------------------------------------------------------------------------------------------------------------
// Plain-text API format (docs/protocols.md, "## cgminer API framing"): records end with `|`, fields are `Name=Value` joined by `,`, and
// `|`, `,`, `=`, `\` are escaped with `\`. A section record starts with its bare name (`VERSION,CGMiner=…`);
// device and pool rows start with their index field (`POOL=0,…`). A joined reply prefixes each part with
// `CMD=<name>|`. The result has the JSON shape: {STATUS:[{…}], VERSION:[{…}]}, or {summary:[{…}], …} when joined.

/** Row-index field → the JSON section name cgminer uses for the same rows. */
const ROW_SECTIONS: Record<string, string> = {
  POOL: 'POOLS',
  ASC: 'DEVS',
  PGA: 'DEVS',
  GPU: 'DEVS',
  STATS: 'STATS',
  DEVDETAILS: 'DEVDETAILS',
};

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unescapeText(s: string): string {
  return s.replace(/\\([\s\S])/g, '$1');
}

function textValue(raw: string): unknown {
  const v = unescapeText(raw);
  if (v === 'true') return true;
  if (v === 'false') return false;
  // Numbers only when they survive the round trip: "3.10", "007" or a 20-digit id stay strings (the parsers
  // accept numeric strings anyway).
  if (/^-?\d+(\.\d+)?$/.test(v) && String(Number(v)) === v) return Number(v);
  return v;
}

function parseTextFormat(text: string): Record<string, unknown> {
  const records = splitUnescaped(text, '|').filter((r) => r.trim() !== '');
  const root: Record<string, unknown> = {};
  let target: Record<string, unknown[]> = root as Record<string, unknown[]>;
  for (const record of records) {
    const fields = splitUnescaped(record, ',');
    const head = fields[0] ?? '';
    if (head.startsWith('CMD=')) {
      const part: Record<string, unknown[]> = {};
      root[unescapeText(head.slice(4))] = [part];
      target = part;
      continue;
    }
    const obj: Record<string, unknown> = {};
    let section: string;
    let rest = fields;
    const eq = head.indexOf('=');
    if (eq === -1) {
      section = unescapeText(head);
      rest = fields.slice(1);
    } else {
      const key = unescapeText(head.slice(0, eq));
      section = ROW_SECTIONS[key] ?? (key === 'STATUS' ? 'STATUS' : `${key}S`);
    }
    for (const field of rest) {
      const parts = splitUnescaped(field, '=');
      if (parts.length < 2) {
        if (field.trim() !== '') obj[unescapeText(field)] = null;
        continue;
      }
      const key = unescapeText(parts[0]!);
      obj[key] = textValue(parts.slice(1).join('='));
    }
    if (section === '') throw ProtoErrors.decode('text-format record without a section name');
    const list = target[section] ?? [];
    list.push(obj);
    target[section] = list;
  }
  if (Object.keys(root).length === 0) throw ProtoErrors.decode('empty text-format reply');
  return root;
}
