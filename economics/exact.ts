/**
 * Exact arithmetic for money. Bitcoin amounts are integer satoshis, dollar amounts integer micro-dollars
 * (1 USD = 1,000,000 µ$), both as BigInt. Intermediate results are exact fractions (`Ratio`); the only rounding
 * happens at the edge, when a figure is written out, and it is **round half to even** (banker's rounding) to
 * a whole satoshi or a whole micro-dollar. `ROUNDING` is the statement every output carries.
 */
import { invalidInput } from './errors.js';

export const ROUNDING =
  'exact fractions inside; rounded once at output, half to even, to whole satoshis and whole micro-dollars';

export const SATS_PER_BTC = 100_000_000n;
export const MICRO_PER_USD = 1_000_000n;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** Denominators past this size are reduced by their gcd; smaller ones are left as they are (still exact). */
const REDUCE_ABOVE = 1n << 96n;

/** An exact fraction num/den with den > 0 (reduced lazily: only once the denominator grows large). */
export class Ratio {
  readonly num: bigint;
  readonly den: bigint;

  constructor(num: bigint, den = 1n) {
    if (den === 0n) throw invalidInput('denominator', 'division by zero');
    if (den < 0n) {
      num = -num;
      den = -den;
    }
    if (den > REDUCE_ABOVE) {
      const g = gcd(num, den);
      if (g > 1n) {
        num /= g;
        den /= g;
      }
    }
    this.num = num;
    this.den = den;
  }

  static readonly ZERO = new Ratio(0n);
  static of(v: bigint | number | Ratio): Ratio {
    if (v instanceof Ratio) return v;
    if (typeof v === 'bigint') return new Ratio(v);
    return decimal(v);
  }

  add(o: Ratio | bigint): Ratio {
    const r = Ratio.of(o);
    if (r.den === this.den) return new Ratio(this.num + r.num, this.den);
    return new Ratio(this.num * r.den + r.num * this.den, this.den * r.den);
  }
  sub(o: Ratio | bigint): Ratio {
    const r = Ratio.of(o);
    return this.add(new Ratio(-r.num, r.den));
  }
  mul(o: Ratio | bigint): Ratio {
    const r = Ratio.of(o);
    return new Ratio(this.num * r.num, this.den * r.den);
  }
  div(o: Ratio | bigint): Ratio {
    const r = Ratio.of(o);
    return new Ratio(this.num * r.den, this.den * r.num);
  }
  /** The same value with numerator and denominator divided by their gcd. */
  reduced(): Ratio {
    const g = gcd(this.num, this.den);
    return g > 1n ? new Ratio(this.num / g, this.den / g) : this;
  }
  isZero(): boolean {
    return this.num === 0n;
  }
  sign(): number {
    return this.num === 0n ? 0 : this.num > 0n ? 1 : -1;
  }
  cmp(o: Ratio): number {
    return this.sub(o).sign();
  }
  /** Round half to even to an integer. */
  round(): bigint {
    return roundHalfEven(this.num, this.den);
  }
  /** Nearest double (for ratios, J/TH and other non-money figures only). */
  toNumber(): number {
    const neg = this.num < 0n;
    const n = neg ? -this.num : this.num;
    const int = n / this.den;
    const rem = n % this.den;
    // 17 significant decimal digits of the fraction part are enough for a double.
    const frac = Number((rem * 10n ** 17n) / this.den) / 1e17;
    const v = Number(int) + frac;
    return neg ? -v : v;
  }
}

/** num/den rounded half to even (den > 0). */
export function roundHalfEven(num: bigint, den: bigint): bigint {
  if (den <= 0n) throw invalidInput('denominator', 'must be positive');
  const neg = num < 0n;
  const n = neg ? -num : num;
  let q = n / den;
  const r2 = (n % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

/**
 * The exact value of a decimal number or decimal string (`0.05`, `1.02e14`, `"83148355189239.77"`).
 * A JS number is taken at its shortest round-trip decimal form, which is what a user typed or a JSON reply said.
 */
export function decimal(v: number | string, field = 'value'): Ratio {
  // Fast path for numbers (a /metrics scrape converts every rig's hashrate and power): a safe integer is itself,
  // and other finite numbers are read off their shortest round-trip string without the regex.
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (Number.isSafeInteger(v)) return new Ratio(BigInt(v));
    return decimalOfNumberString(String(v));
  }
  const s = typeof v === 'number' ? '' : v.trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw invalidInput(field, `not a number: ${String(v)}`);
  const digits = BigInt((m[2] || '0') + (m[3] ?? ''));
  const exp = Number(m[4] ?? 0) - (m[3] ?? '').length;
  const signed = m[1] === '-' ? -digits : digits;
  return exp >= 0 ? new Ratio(signed * 10n ** BigInt(exp)) : new Ratio(signed, 10n ** BigInt(-exp));
}

/** `String(n)` of a finite number: `[-]digits[.digits][e±digits]`, always well formed. */
function decimalOfNumberString(s: string): Ratio {
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  const dot = mantissa.indexOf('.');
  const fraction = dot < 0 ? 0 : mantissa.length - dot - 1;
  const digits = BigInt(dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1));
  const exp = (e < 0 ? 0 : Number(s.slice(e + 1))) - fraction;
  return exp >= 0 ? new Ratio(digits * 10n ** BigInt(exp)) : new Ratio(digits, 10n ** BigInt(-exp));
}

/** BTC (decimal) → exact satoshis as a Ratio. */
export function btcToSats(btc: number | string, field = 'btc'): Ratio {
  return decimal(btc, field).mul(SATS_PER_BTC);
}

/** USD (decimal) → exact micro-dollars as a Ratio. */
export function usdToMicro(usd: number | string, field = 'usd'): Ratio {
  return decimal(usd, field).mul(MICRO_PER_USD);
}

/** An integer of satoshis or micro-dollars as a JSON-safe number (throws past 2^53). */
export function safeInt(v: bigint, field = 'value'): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidInput(field, 'too large to write out exactly');
  }
  return Number(v);
}

/** Micro-dollars → a decimal string of dollars with 6 places, e.g. `64373000` → `"64.373000"`. */
export function microToUsdString(micro: bigint): string {
  const neg = micro < 0n;
  const m = neg ? -micro : micro;
  return `${neg ? '-' : ''}${m / MICRO_PER_USD}.${(m % MICRO_PER_USD).toString().padStart(6, '0')}`;
}

/** Satoshis → a decimal string of BTC with 8 places. */
export function satsToBtcString(sats: bigint): string {
  const neg = sats < 0n;
  const s = neg ? -sats : sats;
  return `${neg ? '-' : ''}${s / SATS_PER_BTC}.${(s % SATS_PER_BTC).toString().padStart(8, '0')}`;
}
