/**
 * Market values from a file, for sites without internet (`rigtel market import FILE`).
 *
 * CSV with a header row `time,kind,value[,basis][,source]`, or JSON: an array of `{time, kind, value, basis?,
 * source?}` (or `{ "values": [...] }`). `time` is ISO-8601 or ms since the epoch; `kind` is one of difficulty,
 * height, fees_btc_per_block, fee_share, price_usd (btc_price_usd is accepted for price_usd); `value` is a plain
 * decimal. Every row is checked before any is recorded: one bad row and nothing is imported.
 */

import { basename } from 'node:path';
import { csvLineFields } from '../../lib/csv.js';
import { MarketErrors } from './errors.js';
import { MARKET_KINDS, type MarketKind, type MarketValue } from './store.js';

const DECIMAL = /^\d+(\.\d+)?([eE][+-]?\d+)?$/;
const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

interface Row {
  time: unknown;
  kind: unknown;
  value: unknown;
  basis?: unknown;
  source?: unknown;
}

function parseTime(v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  const t = String(v ?? '').trim();
  if (/^\d{1,15}$/.test(t)) return Number(t);
  if (ISO.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  return Number.NaN;
}

function checkRow(row: Row, where: string, fileSource: string, now: number): MarketValue {
  const bad = (why: string) => MarketErrors.importFile(where, why);
  const at = parseTime(row.time);
  if (!Number.isFinite(at))
    throw bad(`time: expected ISO-8601 or ms since epoch, got '${String(row.time).slice(0, 40)}'`);
  const k = String(row.kind ?? '').trim();
  const kind = (k === 'btc_price_usd' ? 'price_usd' : k) as MarketKind;
  if (!MARKET_KINDS.includes(kind))
    throw bad(`kind: expected one of ${MARKET_KINDS.join(', ')}, got '${k.slice(0, 40)}'`);
  const value = typeof row.value === 'number' ? String(row.value) : String(row.value ?? '').trim();
  if (!DECIMAL.test(value))
    throw bad(`value: expected a plain non-negative number, got '${value.slice(0, 40)}'`);
  const n = Number(value);
  if ((kind === 'difficulty' || kind === 'price_usd') && !(n > 0))
    throw bad(`value: ${kind} must be above 0`);
  if (kind === 'height' && !Number.isSafeInteger(n)) throw bad('value: height must be a whole number');
  if (kind === 'fee_share' && !(n < 1)) throw bad('value: fee_share must be below 1');
  const basis = String(row.basis ?? '').trim() || 'imported';
  const source = String(row.source ?? '').trim() || fileSource;
  return { kind, at_ms: at, value, source, basis, recorded_ms: now };
}

export function parseMarketImport(file: string, text: string, now: number): MarketValue[] {
  const source = `import:${basename(file)}`;
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(trimmed);
    } catch (err) {
      throw MarketErrors.importFile(file, `not valid JSON: ${(err as Error).message}`);
    }
    const rows = Array.isArray(data) ? data : (data as { values?: unknown })?.values;
    if (!Array.isArray(rows))
      throw MarketErrors.importFile(file, 'expected an array of values or {"values": [...]}');
    return rows.map((r, i) => checkRow((r ?? {}) as Row, `${file}: values[${i}]`, source, now));
  }
  const lines = text.split(/\r?\n/);
  const header = csvLineFields(lines[0] ?? '').map((h) => h.toLowerCase());
  for (const need of ['time', 'kind', 'value']) {
    if (!header.includes(need))
      throw MarketErrors.importFile(`${file}:1`, `header must name time, kind and value (missing ${need})`);
  }
  const out: MarketValue[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const f = csvLineFields(line);
    const row: Record<string, string> = {};
    header.forEach((h, j) => {
      row[h] = f[j] ?? '';
    });
    out.push(checkRow(row as unknown as Row, `${file}:${i + 1}`, source, now));
  }
  if (!out.length) throw MarketErrors.importFile(file, 'no values in the file');
  return out;
}
