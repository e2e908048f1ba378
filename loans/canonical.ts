/**
 * Canonical JSON: one byte sequence per value, so a hash or signature over it can be recomputed by anyone.
 *
 * Rules (the same as RFC 8785 "JSON Canonicalization Scheme" for the values rigtel emits):
 * - object keys sorted by UTF-16 code units (JavaScript's default string order); keys whose value is
 *   `undefined` are left out, like JSON.stringify;
 * - no whitespace anywhere;
 * - strings as JSON.stringify writes them (ECMAScript escaping);
 * - numbers in ECMAScript shortest round-trip form (`Number.prototype.toString`): 1, 0.5, 1e+21, -0 as 0;
 *   NaN and ±Infinity are refused (a figure that is not a number is `null`, never a special value);
 * - arrays keep their order; `null`, `true`, `false` as written.
 * Figures are rounded by the code that builds a report (see loans/report.ts) before they get here, so two
 * machines never disagree on the last digit of a float.
 */
import { createHash } from 'node:crypto';
import { LoanErrors } from './errors.js';

export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw LoanErrors.notFinite(path);
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      if (Array.isArray(value))
        return `[${value.map((v, i) => write(v ?? null, `${path}[${i}]`)).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k], `${path}.${k}`)}`).join(',')}}`;
    }
    default:
      throw LoanErrors.unsupported(path, typeof value);
  }
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** SHA-256 of the canonical form. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
