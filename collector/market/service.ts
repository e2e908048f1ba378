/**
 * Runs the market providers on their own timers and records what they return. A provider that fails keeps
 * its last recorded values (they expire by their own rules), shows in `/healthz` problems and `/metrics`, and
 * never blocks polling: fetches run apart from the scheduler, each with its own deadline.
 */
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
  last_error: { code: string; message: string } | null;
}

export class MarketService {
  readonly store: MarketStore;
  private readonly providers: Provider[];
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly status = new Map<string, ProviderStatus>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(store: MarketStore, providers: Provider[], opts: { log?: Logger; now?: () => number } = {}) {
    this.store = store;
    this.providers = providers;
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
    for (const p of providers) {
      this.status.set(p.name, {
        name: p.name,
        kind: p.kind,
        state: 'starting',
        last_attempt_ms: null,
        last_ok_ms: null,
        consecutive_failures: 0,
        values_recorded: 0,
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
      st.state = 'failing';
      st.consecutive_failures += 1;
      st.last_error = { code: errorCode(err), message: errorMessage(err).slice(0, 300) };
      this.log.warn(
        { provider: p.name, code: st.last_error.code, err: st.last_error.message },
        'market provider failed',
      );
    }
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
