/**
 * Debt service. A facility gives an explicit schedule, or one is computed monthly from `start`:
 * - level: equal payments `P·r / (1 − (1 + r)^−n)` with r = rate_apr / 12, n = term_months;
 * - straight: P / n principal each month plus interest on the balance;
 * - interest_only: interest each month, all principal at maturity.
 * Due dates are the same day of each following month (clamped to the month's last day), at local midnight.
 *
 * Over a period, debt service is accrued pro rata: payment i covers (due_{i−1}, due_i] and counts in a period
 * by the share of that interval the period overlaps. The balance at t is the principal not yet due plus the
 * interest accrued on it since the last due date (actual/365).
 */

import type { Facility } from '../config/sections/loans.js';
import { dayStartMs } from '../economics/timezone.js';

export interface Payment {
  due: string;
  due_ms: number;
  principal_usd: number;
  interest_usd: number;
}

const YEAR_MS = 365 * 86_400_000;

export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const ny = Math.floor(total / 12);
  const nm = (total % 12) + 1;
  const last = new Date(Date.UTC(ny, nm, 0)).getUTCDate();
  return `${ny}-${String(nm).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

export function debtSchedule(
  f: Pick<Facility, 'principal_usd' | 'rate_apr' | 'start' | 'term_months' | 'amortization' | 'schedule'>,
  tz: string,
): Payment[] {
  if (f.schedule?.length)
    return f.schedule
      .map((p) => ({
        due: p.due,
        due_ms: dayStartMs(p.due, tz),
        principal_usd: p.principal_usd,
        interest_usd: p.interest_usd,
      }))
      .sort((a, b) => a.due_ms - b.due_ms);
  const r = f.rate_apr / 12;
  const n = f.term_months;
  const payment = r === 0 ? f.principal_usd / n : (f.principal_usd * r) / (1 - (1 + r) ** -n);
  let balance = f.principal_usd;
  const out: Payment[] = [];
  for (let i = 1; i <= n; i++) {
    const interest = balance * r;
    let principal: number;
    if (f.amortization === 'level') principal = i === n ? balance : payment - interest;
    else if (f.amortization === 'straight') principal = i === n ? balance : f.principal_usd / n;
    else principal = i === n ? balance : 0;
    balance -= principal;
    const due = addMonths(f.start, i);
    out.push({ due, due_ms: dayStartMs(due, tz), principal_usd: principal, interest_usd: interest });
  }
  return out;
}

/** Debt service accrued over [fromMs, toMs). */
export function debtServiceIn(
  schedule: readonly Payment[],
  startMs: number,
  fromMs: number,
  toMs: number,
): number {
  let total = 0;
  let prev = startMs;
  for (const p of schedule) {
    const len = p.due_ms - prev;
    const overlap = Math.min(toMs, p.due_ms) - Math.max(fromMs, prev);
    if (len > 0 && overlap > 0) total += ((p.principal_usd + p.interest_usd) * overlap) / len;
    prev = p.due_ms;
  }
  return total;
}

/** Outstanding principal plus interest accrued since the last due date, at `atMs`. */
export function balanceAt(
  f: Pick<Facility, 'principal_usd' | 'rate_apr'>,
  schedule: readonly Payment[],
  startMs: number,
  atMs: number,
): number {
  let principal = f.principal_usd;
  let lastDue = startMs;
  for (const p of schedule) {
    if (p.due_ms > atMs) break;
    principal -= p.principal_usd;
    lastDue = p.due_ms;
  }
  if (atMs < startMs) return f.principal_usd;
  return Math.max(0, principal) * (1 + (f.rate_apr * (atMs - lastDue)) / YEAR_MS);
}
