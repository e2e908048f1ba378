/**
 * Alert lines for the log that stay readable at fleet scale: one line per alert change (raised, cleared, event)
 * up to `maxLinesPerPeriod` in each digest period, then only counted; and every `periodMs` one digest line —
 * changes in the period by kind and type, lines held back, and alerts active now by kind. Never a line per rig
 * per poll: a fleet of 10,000 flapping rigs costs at most `maxLinesPerPeriod + 1` lines a period.
 */
import type { Alert, AlertEvent } from './alerts.js';
import type { Logger } from './journal.js';

export interface AlertLogOptions {
  /** Digest period (default 60 s). */
  periodMs?: number;
  /** Change lines per period before they are only counted (default 20). */
  maxLinesPerPeriod?: number;
  /** Alerts active now, for the digest. */
  active?: () => Alert[];
}

export class AlertLog {
  private readonly log: Logger;
  private readonly periodMs: number;
  private readonly maxLines: number;
  private readonly active: (() => Alert[]) | undefined;
  private lines = 0;
  private held = 0;
  private changes = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(log: Logger, opts: AlertLogOptions = {}) {
    this.log = log;
    this.periodMs = opts.periodMs ?? 60_000;
    this.maxLines = opts.maxLinesPerPeriod ?? 20;
    this.active = opts.active;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.digest(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One alert change: a line while the period's budget lasts, else counted for the digest. */
  event(e: AlertEvent): void {
    const key = `${e.alert.kind}:${e.type}`;
    this.changes.set(key, (this.changes.get(key) ?? 0) + 1);
    if (this.lines < this.maxLines) {
      this.lines += 1;
      const level = e.type === 'cleared' ? 'info' : 'warn';
      this.log[level]({ alert: e.alert, type: e.type }, `alert ${e.type}: ${e.alert.message}`);
    } else {
      this.held += 1;
    }
  }

  /** The period's digest line (only when something changed or alerts are active); starts a new period. */
  digest(): void {
    const active: Record<string, number> = {};
    let activeCount = 0;
    for (const a of this.active?.() ?? []) {
      active[a.kind] = (active[a.kind] ?? 0) + 1;
      activeCount += 1;
    }
    if (this.changes.size > 0 || activeCount > 0) {
      const level = this.held > 0 ? 'warn' : 'info';
      this.log[level](
        {
          period_s: this.periodMs / 1000,
          changes: Object.fromEntries(this.changes),
          lines_held_back: this.held,
          active: activeCount,
          active_by_kind: active,
        },
        `alerts: ${[...this.changes.values()].reduce((a, b) => a + b, 0)} changes in the last ${this.periodMs / 1000} s` +
          (this.held > 0 ? ` (${this.held} not logged one by one)` : '') +
          `, ${activeCount} active`,
      );
    }
    this.lines = 0;
    this.held = 0;
    this.changes = new Map();
  }
}
