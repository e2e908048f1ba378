/**
 * Runs the market providers on their own timers and records what they return. A provider that fails keeps
 * its last recorded values (they expire by their own rules), shows in `/healthz` problems and `/metrics`, and
 * never blocks polling: fetches run apart from the scheduler, each with its own deadline.
 *
 * Price backfill: after a successful fetch, every local day (site zone) since the last recorded price, up to
 * `backfill_max_days` back, that still has no price is asked of the provider's price history (providers that
 * have one), at the day's last second; a close that falls inside the day is recorded, so the day stops being
 * incomplete. A close from before the day is not carried into it (the day stays without a price).
 */
import { daysBetween } from '../../economics/timezone.js';
import { errorCode, errorMessage } from '../../lib/errors.js';
import { type Logger, silentLogger } from '../journal.js';
import type { Provider } from './providers.js';
import type { MarketStore } from './store.js';

export interface ProviderStatus {
  name: string;
  kind: Provider['kind'];
  state: 'starting' | 'ok' | 'failing';
  last_attempt_ms: number | null;
  last_ok_ms: number | null;
  consecutive_failures: number;
  values_recorded: number;
  /** Past-day prices recorded from the provider's price history after an outage. */
  prices_backfilled: number;
  last_error: { code: string; message: string } | null;
}

const DAY = 86_400_000;
/** Days a backfill looks back at most. */
export const BACKFILL_MAX_DAYS = 31;

export class MarketService {
  readonly store: MarketStore;
  private readonly providers: Provider[];
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly tz: string;
  /** Days already asked of a provider's price history (provider/date), so a day it has no close for is asked once. */
  readonly #asked = new Set<string>();
  private readonly status = new Map<string, ProviderStatus>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    store: MarketStore,
    providers: Provider[],
    opts: { log?: Logger; now?: () => number /** Site zone: prices are per local day. */; tz?: string } = {},
  ) {
    this.store = store;
    this.providers = providers;
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.tz = opts.tz ?? 'UTC';
    for (const p of providers) {
      this.status.set(p.name, {
        name: p.name,
        kind: p.kind,
        state: 'starting',
        last_attempt_ms: null,
        last_ok_ms: null,
        consecutive_failures: 0,
        values_recorded: 0,
        prices_backfilled: 0,
        last_error: null,
      });
    }
  }

  /** Ask every provider now, then again every `refresh_ms` (timers unref'd: they never keep the process up). */
  start(): void {
    for (const p of this.providers) {
      const loop = async () => {
        await this.refresh(p);
        if (this.stopped) return;
        const t = setTimeout(() => {
          this.timers.delete(t);
          void loop();
        }, p.refresh_ms);
        t.unref();
        this.timers.add(t);
      };
      void loop();
    }
  }

  /** Ask every provider once (tests and `rigtel market` use this directly). */
  async refreshAll(): Promise<void> {
    await Promise.all(this.providers.map((p) => this.refresh(p)));
  }

  private async refresh(p: Provider): Promise<void> {
    const st = this.status.get(p.name)!;
    const now = this.now();
    st.last_attempt_ms = now;
    try {
      const values = await p.fetch(now);
      if (this.stopped) return;
      this.store.record(values);
      st.state = 'ok';
      st.last_ok_ms = now;
      st.consecutive_failures = 0;
      st.values_recorded += values.length;
      st.last_error = null;
    } catch (err) {
      this.#failed(p, st, err);
      return;
    }
    if (p.historicalPrice) await this.#backfill(p, st, now);
  }

  /** Prices for the ended local days since the first recorded price of the window that still have none. */
  async #backfill(p: Provider, st: ProviderStatus, now: number): Promise<void> {
    const windowFrom = now - BACKFILL_MAX_DAYS * DAY;
    const first = this.store.series('price_usd', windowFrom, now)[0];
    // Nothing recorded yet: a new install has no outage to fill.
    if (!first) return;
    for (const day of daysBetween(Math.max(first.at_ms, windowFrom), now, this.tz)) {
      if (day.end_ms > now) break;
      const key = `${p.name}/${day.date}`;
      if (this.#asked.has(key)) continue;
      if (this.store.series('price_usd', day.start_ms, day.end_ms).some((v) => v.at_ms >= day.start_ms))
        continue;
      try {
        const v = await p.historicalPrice!(day.end_ms - 1000, now);
        if (this.stopped) return;
        this.#asked.add(key);
        if (!v || v.at_ms < day.start_ms || v.at_ms >= day.end_ms) continue;
        this.store.record([v]);
        st.prices_backfilled += 1;
      } catch (err) {
        // The next successful fetch tries again; the provider's own state follows its regular fetch.
        this.log.warn(
          { provider: p.name, code: errorCode(err), err: errorMessage(err).slice(0, 300), date: day.date },
          'market price backfill failed',
        );
        return;
      }
    }
  }

  #failed(p: Provider, st: ProviderStatus, err: unknown): void {
    st.state = 'failing';
    st.consecutive_failures += 1;
    st.last_error = { code: errorCode(err), message: errorMessage(err).slice(0, 300) };
    this.log.warn(
      { provider: p.name, code: st.last_error.code, err: st.last_error.message },
      'market provider failed',
    );
  }

  statuses(): ProviderStatus[] {
    return [...this.status.values()].map((s) => ({ ...s }));
  }

  /** One line per failing provider, for `/healthz`. */
  problems(): string[] {
    return this.statuses()
      .filter((s) => s.state === 'failing')
      .map(
        (s) =>
          `market provider ${s.name} failing (${s.consecutive_failures} in a row): ${s.last_error?.code} ${s.last_error?.message}`,
      );
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
