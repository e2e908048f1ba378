/**
 * What "degraded" means, in one place (GET /healthz answers 503 and lists the problems):
 * - polling stalled: rigs are configured but no sweep finished within 3 poll intervals (after start, or since
 *   the last sweep);
 * - a sink cannot deliver: its state is `retrying` (its lag grows in the journal) or `closed`;
 * - the journal is past its warning mark (`will_drop`): undelivered samples will soon be dropped;
 * - the journal cannot write (disk full, I/O error): samples are being lost until an append succeeds again;
 * - the disk under the journal is below its free-space mark.
 * - a market provider is failing (economics go stale or incomplete; polling is untouched).
 * A sink still `starting` and a collector with no rigs are not degraded.
 */
import type { SinkStatus } from '../collector/views.js';
import type { ApiDeps } from './deps.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  /** One line per reason when degraded. */
  problems: string[];
  now_ms: number;
  started_ms: number;
  polling: {
    rigs: number;
    up: number;
    last_sweep_ms: number | null;
    last_sweep_age_ms: number | null;
    last_sweep_duration_ms: number | null;
    interval_ms: number;
  };
  sinks: SinkStatus[];
}

const STALL_INTERVALS = 3;

export function judgeHealth(deps: ApiDeps): HealthReport {
  const now = deps.now?.() ?? Date.now();
  const polling = deps.health.polling();
  const sinks = deps.health.sinks();
  const interval = deps.config.poll.interval_ms;
  const problems: string[] = [];
  const since = polling.last_sweep_ms ?? deps.health.started_ms;
  if (polling.rigs > 0 && now - since > STALL_INTERVALS * interval) {
    problems.push(
      polling.last_sweep_ms === null
        ? `polling stalled: no sweep finished in ${Math.round((now - since) / 1000)} s since start`
        : `polling stalled: last sweep finished ${Math.round((now - since) / 1000)} s ago (interval ${interval / 1000} s)`,
    );
  }
  for (const sink of sinks) {
    if (sink.state === 'retrying' || sink.state === 'closed') {
      const why = sink.last_error ? `: ${sink.last_error.code} ${sink.last_error.message}` : '';
      problems.push(`sink ${sink.name} is ${sink.state} with ${sink.lag_samples} samples waiting${why}`);
    }
  }
  const journal = deps.health.journal?.() ?? null;
  if (journal?.write_error) {
    const e = journal.write_error;
    problems.push(
      `journal cannot write since ${new Date(e.since_ms).toISOString()} (${e.code}: ${e.message}): ${journal.write_lost_samples} samples lost so far in ${journal.write_failures} failed writes; it retries on every poll`,
    );
  }
  if (journal?.fsync_error) {
    problems.push(
      `journal WAL fsync failing (${journal.fsync_error}): ${journal.unsynced_appends} appends are committed but not yet on disk (lost on power loss)`,
    );
  }
  if (journal?.disk_low) {
    problems.push(
      `disk nearly full under the journal: ${Math.round((journal.disk_free_bytes ?? 0) / 1048576)} MB free; acknowledged data is being shed`,
    );
  }
  if (journal?.will_drop) {
    problems.push(
      `journal nearly full (${Math.round(journal.used_bytes / 1048576)} of ${Math.round(journal.max_bytes / 1048576)} MB): the oldest undelivered samples will be dropped`,
    );
  }
  // A market provider outage: economics go stale or incomplete, polling is untouched.
  problems.push(...(deps.economics?.market.problems() ?? []));
  return {
    status: problems.length ? 'degraded' : 'ok',
    problems,
    now_ms: now,
    started_ms: deps.health.started_ms,
    polling: {
      rigs: polling.rigs,
      up: polling.up,
      last_sweep_ms: polling.last_sweep_ms,
      last_sweep_age_ms: polling.last_sweep_ms === null ? null : now - polling.last_sweep_ms,
      last_sweep_duration_ms: polling.last_sweep_duration_ms,
      interval_ms: interval,
    },
    sinks,
  };
}
