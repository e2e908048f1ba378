import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { RigStatus } from '../../collector/views.js';
import { redactText } from '../../lib/secret.js';
import { RIG_STATES } from '../../protocols/sample.js';
import type { ApiDeps } from '../deps.js';
import { summarizeFleet } from '../fleet-summary.js';
import { configuredRig, rigLocation } from '../rig-view.js';
import { routeSchema, text } from '../schemas.js';
import { snapshotsFor } from '../snapshot.js';
import { economicsMetrics } from './economics.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Prometheus label values: backslash, quote and newline escaped (exposition format 0.0.4). */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Chunks of about this many characters leave at a time: a 10,000-rig exposition (~40 MB) is never one string. */
const CHUNK_CHARS = 64 * 1024;

type MetricLines = () => Iterable<string>;

/**
 * The exposition as a list of families, rendered lazily into chunks. Each family is its HELP and TYPE lines and
 * then its samples; per-rig families are generators over the fleet snapshot, so a scrape holds one chunk at a
 * time instead of every line, the joined body and its Buffer (hundreds of MB of garbage per scrape at 10,000 rigs).
 */
class Exposition {
  private readonly families: Array<{ head: string; lines: MetricLines }> = [];

  metric(
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    samples: Array<[Record<string, string>, number | null]>,
  ) {
    const lines: string[] = [];
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`);
      const line = sampleLine(name, l.join(','), value);
      if (line !== null) lines.push(line);
    }
    this.family(name, type, help, () => lines);
  }

  /** A family whose sample lines (already formatted) are produced when the body is written. */
  family(name: string, type: 'gauge' | 'counter', help: string, lines: MetricLines) {
    this.families.push({ head: `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`, lines });
  }

  /** The body in chunks of whole lines, each through the API's one redaction (api/app.ts does it for strings). */
  *chunks(): Generator<string> {
    let buf = '';
    for (const f of this.families) {
      buf += f.head;
      for (const line of f.lines()) {
        buf += `${line}\n`;
        if (buf.length >= CHUNK_CHARS) {
          yield redactText(buf);
          buf = '';
        }
      }
    }
    if (buf) yield redactText(buf);
  }
}

/** One sample line, or null for a missing figure (left out, never exported as 0). */
function sampleLine(name: string, labels: string, value: number | null): string | null {
  if (value === null || !Number.isFinite(value)) return null;
  return `${name}${labels ? `{${labels}}` : ''} ${value}`;
}

/**
 * Per-rig series in base units (Prometheus naming practice: `_hashes_per_second`, `_watts`, `_celsius`,
 * `_joules_total`), labelled with the rig id, its configured name, site, row, rack and model, so a dashboard
 * can group by rack without a join. A reading the rig did not give is left out, never exported as 0.
 */
function rigSeries(e: Exposition, deps: ApiDeps, rigs: readonly RigStatus[]): void {
  // Each rig's labels are rendered once per scrape; the families below add theirs after them.
  const labels = rigs.map((rig) => {
    const loc = rigLocation(deps.config, configuredRig(deps.config, rig));
    return [
      `rig="${label(rig.rig_id)}"`,
      `name="${label(rig.name ?? rig.rig_id)}"`,
      `site="${label(loc?.site ?? deps.config.site.name)}"`,
      `row="${label(loc?.row ?? '')}"`,
      `rack="${label(loc?.rack ?? '')}"`,
      `model="${label(rig.current?.identity.model ?? '')}"`,
    ].join(',');
  });
  /** A family over the rigs: `values` gives each rig's [extra labels, value] pairs. */
  const perRig = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    values: (rig: RigStatus) => Iterable<[string, number | null]>,
  ) =>
    e.family(name, type, help, function* () {
      for (let i = 0; i < rigs.length; i++) {
        for (const [extra, value] of values(rigs[i]!)) {
          const line = sampleLine(name, extra ? `${labels[i]},${extra}` : labels[i]!, value);
          if (line !== null) yield line;
        }
      }
    });
  const one = (value: number | null): Array<[string, number | null]> => [['', value]];
  const none: Array<[string, number | null]> = [];
  perRig('rigtel_rig_up', 'gauge', '1 when the rig answered its latest poll.', (r) => one(r.current ? 1 : 0));
  perRig('rigtel_rig_state', 'gauge', '1 for the state the rig is in, 0 for the others.', (r) =>
    RIG_STATES.map((st) => [`state="${st}"`, r.state === st ? 1 : 0]),
  );
  perRig('rigtel_rig_hashrate_hashes_per_second', 'gauge', 'Rig hashrate as the miner reports it.', (r) =>
    r.current ? one(r.current.hashrate_hs) : none,
  );
  perRig(
    'rigtel_rig_power_watts',
    'gauge',
    'Rig power by source: pdu (metered), miner (its own claim), estimate (model table).',
    (r) => {
      const s = r.current;
      if (!s) return none;
      const out: Array<[string, number | null]> = [];
      if (s.power_w !== null && s.power_source !== null) out.push([`source="${s.power_source}"`, s.power_w]);
      // The miner's own claim beside a metered or estimated figure.
      if (s.power_source !== 'miner' && s.power_miner_w !== null)
        out.push(['source="miner"', s.power_miner_w]);
      return out;
    },
  );
  perRig('rigtel_rig_chip_temperature_celsius', 'gauge', 'Hottest chip on the rig.', (r) =>
    r.current ? one(r.current.temp_chip_max_c) : none,
  );
  perRig('rigtel_rig_board_temperature_celsius', 'gauge', 'Hottest board sensor on the rig.', (r) =>
    r.current ? one(r.current.temp_board_max_c) : none,
  );
  perRig('rigtel_rig_fan_speed_rpm', 'gauge', 'Fan speed in revolutions per minute.', (r) =>
    r.current ? r.current.fans.map((f) => [`fan="${f.index}"`, f.rpm]) : none,
  );
  perRig(
    'rigtel_rig_energy_joules_total',
    'counter',
    'Energy metered by the PDU outlet feeding the rig (its own cumulative counter).',
    (r) => (r.current ? one(r.current.energy_wh === null ? null : r.current.energy_wh * 3600) : none),
  );
}

/**
 * `GET /metrics`: the collector's own health in Prometheus text format — rigs by state, fleet hashrate and
 * power, sink state and lag, journal use and drops — so an outage that threatens data is alertable.
 */
export const metricsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  // Event-loop delay of this process since the API started: what keeps polls and requests waiting.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  app.addHook('onClose', async () => loop.disable());
  const now = () => deps.now?.() ?? Date.now();
  // Scrapes share the fleet snapshot with the other routes (api/snapshot.ts): one pass over the fleet per change.
  const snapshots = snapshotsFor(deps.fleet, deps.config, now);
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
      e.metric(
        'rigtel_event_loop_delay_seconds',
        'gauge',
        'Event-loop delay since start, by quantile (and max), seconds.',
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
      rigSeries(e, deps, snap.rigs);
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
          'rigtel_polls_skipped_total',
          'counter',
          'Poll slots that did not happen, by reason (skipped_busy: previous poll still in flight; deadline: no free slot before the next one; backoff: dead rig sitting out).',
          Object.entries(polls.skipped).map(([reason, n]) => [{ reason }, n]),
        );
      }
      // Staleness per rig: seconds since it last answered (rigs that never answered are left out).
      const nowMs = now();
      e.family(
        'rigtel_rig_age_seconds',
        'gauge',
        'Seconds since the rig last answered a poll.',
        function* () {
          for (const rig of snap.rigs) {
            if (rig.last_seen_ms === null) continue;
            yield `rigtel_rig_age_seconds{rig_id="${label(rig.rig_id)}"} ${Math.max(0, (nowMs - rig.last_seen_ms) / 1000)}`;
          }
        },
      );
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
      if (deps.economics) economicsMetrics(deps, (...m) => e.metric(...m));
      e.metric('rigtel_build_info', 'gauge', 'Always 1; the labels say which rigtel and Node.js run.', [
        [{ version: VERSION, nodejs: process.versions.node }, 1],
      ]);
      // Streamed: written as the socket takes it, a chunk at a time (already redacted, see Exposition.chunks).
      reply
        .type('text/plain; version=0.0.4; charset=utf-8')
        .send(Readable.from(e.chunks(), { objectMode: false }));
      return reply;
    },
  );
};
