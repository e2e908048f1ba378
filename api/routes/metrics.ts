import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { LoopDelayHistogram, sampleLoopDelay } from '../../lib/loop-delay.js';
import { redactText } from '../../lib/secret.js';
import type { ApiDeps } from '../deps.js';
import { summarizeFleet } from '../fleet-summary.js';
import { label, RigMetrics } from '../rig-metrics.js';
import { routeSchema, text } from '../schemas.js';
import { snapshotsFor } from '../snapshot.js';
import { economicsMetrics } from './economics.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The exposition as text chunks, each ending in a newline. Every chunk is redacted as it is added (the per-rig
 * text comes from RigMetrics already redacted), so the body goes out as bytes without a second pass over
 * megabytes of text in the onSend hook.
 */
class Exposition {
  readonly chunks: Array<string | AsyncIterable<Buffer>> = [];
  metric(
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    samples: Array<[Record<string, string>, number | null]>,
  ) {
    let text = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
    for (const [labels, value] of samples) {
      // A missing figure is left out, never exported as 0.
      if (value === null || !Number.isFinite(value)) continue;
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`);
      text += `${name}${l.length ? `{${l.join(',')}}` : ''} ${value}\n`;
    }
    this.chunks.push(redactText(text));
  }
  /** A histogram without labels: cumulative `_bucket{le}` lines (then +Inf), `_sum` and `_count`. */
  histogram(name: string, help: string, h: LoopDelayHistogram) {
    let text = `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`;
    const cumulative = h.cumulative();
    h.bounds.forEach((le, i) => {
      text += `${name}_bucket{le="${le}"} ${cumulative[i]}\n`;
    });
    text += `${name}_bucket{le="+Inf"} ${h.count}\n${name}_sum ${h.sum}\n${name}_count ${h.count}\n`;
    this.chunks.push(redactText(text));
  }
  /** Text already redacted, ending in a newline, made as the body is sent. */
  redacted(text: AsyncIterable<Buffer>) {
    this.chunks.push(text);
  }

  /** The body in order: the parts made at the request, and the per-rig parts made as the stream pulls them. */
  async *body(): AsyncGenerator<string | Buffer> {
    for (const c of this.chunks) {
      if (typeof c === 'string') yield c;
      else yield* c;
    }
  }
}

/**
 * `GET /metrics`: the collector's own health in Prometheus text format — rigs by state, fleet hashrate and
 * power, sink state and lag, journal use and drops — so an outage that threatens data is alertable.
 */
export const metricsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  // Event-loop delay of this process: what keeps polls and requests waiting. Both start once the app is ready,
  // so the one-off work of building the API itself is not counted as a stall. The histogram (lib/loop-delay.ts)
  // is what Prometheus can window (`rate(…_bucket[5m])`); the monitor gives the quantiles since start, as
  // before (its figures include its 10 ms sampling period, the histogram's do not).
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const loopHistogram = new LoopDelayHistogram();
  let stopSampling: (() => void) | null = null;
  app.addHook('onReady', async () => {
    loop.enable();
    stopSampling = sampleLoopDelay(loopHistogram);
  });
  app.addHook('onClose', async () => {
    loop.disable();
    stopSampling?.();
  });
  const now = () => deps.now?.() ?? Date.now();
  // Scrapes share the fleet snapshot with the other routes (api/snapshot.ts): one pass over the fleet per change;
  // per-rig lines are rendered as the body is sent, from label sets kept per rig (api/rig-metrics.ts).
  const snapshots = snapshotsFor(deps.fleet, deps.config, now);
  const rigMetrics = new RigMetrics(deps.config);
  app.get(
    '/metrics',
    {
      schema: routeSchema('collector', 'Prometheus text exposition (format 0.0.4)', {
        ok: text('Prometheus text'),
        errors: [],
      }),
    },
    async (_request, reply) => {
      const e = new Exposition();
      e.histogram(
        'rigtel_event_loop_delay_seconds',
        'How late the event loop ran a 10 ms timer, beyond its period: cumulative since start, for rate() over any window.',
        loopHistogram,
      );
      e.metric(
        'rigtel_event_loop_delay_since_start_seconds',
        'gauge',
        'Event-loop delay since start by quantile (1: max), seconds, as perf_hooks.monitorEventLoopDelay reports it (its 10 ms sampling period included).',
        [
          [{ quantile: '0.5' }, loop.percentile(50) / 1e9],
          [{ quantile: '0.99' }, loop.percentile(99) / 1e9],
          [{ quantile: '1' }, loop.max / 1e9],
        ],
      );
      const snap = snapshots.get();
      const fleet = snapshots.memo('metrics:summary', (sn) =>
        summarizeFleet(sn.rigs, { belowShare: 0.9, hottest: 0, belowLimit: 0 }),
      );
      e.metric(
        'rigtel_rigs',
        'gauge',
        'Rigs by state.',
        Object.entries(fleet.states).map(([state, n]) => [{ state }, n]),
      );
      e.metric(
        'rigtel_fleet_hashrate_hashes_per_second',
        'gauge',
        'Fleet hashrate over rigs that answered (SHA-256 rigs only).',
        [[{}, fleet.hashrate_hs]],
      );
      e.metric(
        'rigtel_fleet_power_watts',
        'gauge',
        'Fleet power by where each rig figure came from (pdu, miner, estimate).',
        (['pdu', 'miner', 'estimate'] as const)
          .filter((src) => fleet.power_sources[src] > 0)
          .map((src) => [{ source: src }, fleet.power_w_by_source[src]]),
      );
      const nowMs = now();
      const perRig = rigMetrics.render(snap.rigs, nowMs);
      e.redacted(perRig.series);
      const polling = deps.health.polling();
      e.metric('rigtel_last_sweep_duration_seconds', 'gauge', 'Duration of the last poll sweep.', [
        [{}, polling.last_sweep_duration_ms === null ? null : polling.last_sweep_duration_ms / 1000],
      ]);
      const polls = polling.polls;
      if (polls) {
        e.metric(
          'rigtel_polls_due_total',
          'counter',
          'Poll slots that came due (one per rig per interval).',
          [[{}, polls.due]],
        );
        e.metric('rigtel_polls_started_total', 'counter', 'Polls started.', [[{}, polls.started]]);
        e.metric('rigtel_polls_answered_total', 'counter', 'Polls the rig answered.', [[{}, polls.answered]]);
        e.metric(
          'rigtel_polls_late_total',
          'counter',
          'Polls started after their slot because the previous poll of the rig was still in flight.',
          [[{}, polls.late]],
        );
        e.metric(
          'rigtel_polls_overdue_total',
          'counter',
          'Polls still in flight after 2 s that gave their slot to the next rig: slow or hung rigs.',
          [[{}, polls.overdue]],
        );
        e.metric(
          'rigtel_polls_skipped_total',
          'counter',
          'Poll slots that did not happen, by reason (skipped_busy: previous poll still in flight; deadline: no free slot before the next one; backoff: dead rig sitting out).',
          Object.entries(polls.skipped).map(([reason, n]) => [{ reason }, n]),
        );
      }
      // Staleness per rig: seconds since it last answered (rigs that never answered are left out).
      e.redacted(perRig.ages);
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
        e.metric(
          'rigtel_journal_unsynced_appends',
          'gauge',
          'Appends committed to the journal whose WAL fsync (storage.journal_fsync: always) has not completed yet.',
          [[{}, journal.unsynced_appends ?? 0]],
        );
        if (journal.disk_free_bytes != null) {
          e.metric('rigtel_storage_free_bytes', 'gauge', 'Free bytes on the storage file system.', [
            [{}, journal.disk_free_bytes],
          ]);
        }
      }
      if (deps.economics) economicsMetrics(deps, (...m) => e.metric(...m));
      e.metric('rigtel_build_info', 'gauge', 'Always 1; the labels say which rigtel and Node.js run.', [
        [{ version: VERSION, nodejs: process.versions.node }, 1],
      ]);
      // Streamed chunk by chunk rather than concatenated, the per-rig lines rendered as the stream pulls them: at
      // 10,000 rigs the body is ~20 MB, and holding it whole (or every rig's lines) was the largest part of the
      // collector's peak RSS (docs/scaling.md, "Memory").
      reply
        .type('text/plain; version=0.0.4; charset=utf-8')
        .send(Readable.from(e.body(), { objectMode: false }));
      return reply;
    },
  );
};
