import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { summarizeFleet } from '../fleet-summary.js';

/** Prometheus label values: backslash, quote and newline escaped (exposition format 0.0.4). */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

class Exposition {
  readonly lines: string[] = [];
  metric(
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    samples: Array<[Record<string, string>, number | null]>,
  ) {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      // A missing figure is left out, never exported as 0.
      if (value === null || !Number.isFinite(value)) continue;
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`);
      this.lines.push(`${name}${l.length ? `{${l.join(',')}}` : ''} ${value}`);
    }
  }
}

/**
 * `GET /metrics`: the collector's own health in Prometheus text format — rigs by state, fleet hashrate and
 * power, sink state and lag, journal use and drops — so an outage that threatens data is alertable.
 */
export const metricsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get('/metrics', async (_request, reply) => {
    const e = new Exposition();
    const fleet = summarizeFleet(deps.fleet.list(), { belowShare: 0.9, hottest: 0 });
    e.metric(
      'rigtel_rigs',
      'gauge',
      'Rigs by state.',
      Object.entries(fleet.states).map(([state, n]) => [{ state }, n]),
    );
    e.metric('rigtel_fleet_hashrate_hs', 'gauge', 'Fleet hashrate, H/s, over rigs that answered.', [
      [{}, fleet.hashrate_hs],
    ]);
    e.metric('rigtel_fleet_power_w', 'gauge', 'Fleet power, W, over rigs with a known figure (any source).', [
      [{}, fleet.power_w],
    ]);
    const polling = deps.health.polling();
    e.metric('rigtel_last_sweep_duration_seconds', 'gauge', 'Duration of the last poll sweep.', [
      [{}, polling.last_sweep_duration_ms === null ? null : polling.last_sweep_duration_ms / 1000],
    ]);
    const sinks = deps.health.sinks();
    e.metric(
      'rigtel_sink_up',
      'gauge',
      '1 while the sink accepts writes, 0 while it is retrying or closed.',
      sinks.map((s) => [{ sink: s.name }, s.state === 'ok' ? 1 : 0]),
    );
    e.metric(
      'rigtel_sink_lag_samples',
      'gauge',
      'Journalled samples the sink has not acknowledged yet.',
      sinks.map((s) => [{ sink: s.name }, s.lag_samples]),
    );
    const journal = deps.health.journal?.() ?? null;
    if (journal) {
      e.metric('rigtel_journal_used_bytes', 'gauge', 'Bytes of samples the journal holds.', [
        [{}, journal.used_bytes],
      ]);
      e.metric('rigtel_journal_max_bytes', 'gauge', 'Journal bound (storage.journal_max_mb).', [
        [{}, journal.max_bytes],
      ]);
      e.metric(
        'rigtel_journal_will_drop',
        'gauge',
        '1 once the journal is past its warning mark: undelivered samples will be dropped if sinks stay down.',
        [[{}, journal.will_drop ? 1 : 0]],
      );
      e.metric(
        'rigtel_journal_dropped_entries_total',
        'counter',
        'Samples dropped from the journal before every sink had them.',
        [[{}, journal.dropped_entries]],
      );
      e.metric(
        'rigtel_journal_write_failures_total',
        'counter',
        'Journal appends that failed (disk full, I/O error).',
        [[{}, journal.write_failures ?? 0]],
      );
      e.metric(
        'rigtel_journal_lost_samples_total',
        'counter',
        'Samples that could not be journalled (in failed appends): never delivered to any sink.',
        [[{}, journal.write_lost_samples ?? 0]],
      );
      e.metric('rigtel_journal_write_failing', 'gauge', '1 while the last journal append failed.', [
        [{}, journal.write_error ? 1 : 0],
      ]);
      if (journal.disk_free_bytes != null) {
        e.metric('rigtel_storage_free_bytes', 'gauge', 'Free bytes on the storage file system.', [
          [{}, journal.disk_free_bytes],
        ]);
      }
    }
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(`${e.lines.join('\n')}\n`);
  });
};
