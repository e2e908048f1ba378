/**
 * Energy prices. A tariff is a flat $/kWh or a time-of-use schedule of windows by weekday and local hour; a
 * window whose `to_hour` is not after its `from_hour` crosses midnight and belongs to the weekday it starts on
 * (a Friday 22→6 window covers Friday 22:00 to Saturday 06:00). Hours outside every window pay the base rate.
 */
import { invalidInput } from './errors.js';
import { decimal, MICRO_PER_USD, Ratio } from './exact.js';
import { localParts, WEEKDAYS, type Weekday } from './timezone.js';

export interface TouWindow {
  name?: string;
  days: readonly Weekday[];
  from_hour: number;
  to_hour: number;
  usd_per_kwh: number;
}

export interface TariffSpec {
  /** Base energy price, $/kWh (the whole price for a flat tariff). */
  usd_per_kwh: number;
  /** Time-of-use windows that override the base price. First match wins. */
  windows?: readonly TouWindow[];
  /** Demand charge, $ per kW of the month's peak hourly draw. */
  demand_usd_per_kw_month?: number;
}

export interface Rate {
  micro_usd_per_kwh: Ratio;
  /** `base` or the window's name (or `window N`). */
  period: string;
}

function prevDay(d: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(d) + 6) % 7]!;
}

function inWindow(w: TouWindow, weekday: Weekday, hour: number): boolean {
  if (w.from_hour < w.to_hour) return w.days.includes(weekday) && hour >= w.from_hour && hour < w.to_hour;
  // Crosses midnight: the evening part on a listed day, the morning part the day after a listed day.
  return (
    (w.days.includes(weekday) && hour >= w.from_hour) ||
    (w.days.includes(prevDay(weekday)) && hour < w.to_hour)
  );
}

export function validateTariff(t: TariffSpec): void {
  if (!(t.usd_per_kwh >= 0)) throw invalidInput('tariff.usd_per_kwh', 'must be >= 0');
  for (const [i, w] of (t.windows ?? []).entries()) {
    for (const k of ['from_hour', 'to_hour'] as const) {
      if (!Number.isInteger(w[k]) || w[k] < 0 || w[k] > 24) {
        throw invalidInput(`tariff.windows[${i}].${k}`, 'must be a whole hour 0..24');
      }
    }
    if (!(w.usd_per_kwh >= 0)) throw invalidInput(`tariff.windows[${i}].usd_per_kwh`, 'must be >= 0');
  }
}

/** The energy price in force at instant `ms` in the site zone. */
export function rateAt(t: TariffSpec, ms: number, tz: string): Rate {
  if (t.windows?.length) {
    const { weekday, hour } = localParts(ms, tz);
    for (const [i, w] of t.windows.entries()) {
      if (inWindow(w, weekday, hour)) {
        return {
          micro_usd_per_kwh: decimal(w.usd_per_kwh).mul(MICRO_PER_USD),
          period: w.name ?? `window ${i + 1}`,
        };
      }
    }
  }
  return { micro_usd_per_kwh: decimal(t.usd_per_kwh).mul(MICRO_PER_USD), period: 'base' };
}

export interface EnergyHour {
  /** Start of the hour (UTC ms; the rate is taken at this instant). */
  hour_ms: number;
  /** Energy in the hour, Wh (exact). */
  wh: Ratio;
}

export interface EnergyCost {
  micro_usd: Ratio;
  kwh: Ratio;
  by_period: Record<string, { kwh: Ratio; micro_usd: Ratio }>;
}

/** Energy cost of hourly energy under a tariff: Σ kWh · rate(hour). */
export function energyCost(hours: readonly EnergyHour[], t: TariffSpec, tz: string): EnergyCost {
  let total = Ratio.ZERO;
  let kwh = Ratio.ZERO;
  const by: EnergyCost['by_period'] = {};
  for (const h of hours) {
    const r = rateAt(t, h.hour_ms, tz);
    const k = h.wh.div(1000n);
    const c = k.mul(r.micro_usd_per_kwh);
    total = total.add(c);
    kwh = kwh.add(k);
    const b = by[r.period] ?? { kwh: Ratio.ZERO, micro_usd: Ratio.ZERO };
    by[r.period] = b;
    b.kwh = b.kwh.add(k);
    b.micro_usd = b.micro_usd.add(c);
  }
  return { micro_usd: total, kwh, by_period: by };
}
