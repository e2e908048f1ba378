/**
 * InfluxDB sink throughput: S19-shaped samples (rig + 3 boards + 4 fans + 1 pool + poll = 10 points each) written
 * through InfluxSink into a private local influxd 1.x, in fan-out sized batches.
 * Run: node --import tsx collector/sinks/influx.bench.ts
 */
import { pathToFileURL } from 'node:url';
import { influxSinkSchema } from '../../config/sections/sinks.js';
import { startInfluxd } from '../../testing/influxd.js';
import { makeSample } from '../../testing/sample-factory.js';
import { InfluxSink } from './influx.js';
import type { JournalEntry } from './sink.js';

export interface InfluxBench {
  samples_per_s: number;
  points_per_s: number;
  samples: number;
  batch: number;
  seconds: number;
}

export async function runInfluxBench(opts: { samples?: number; batch?: number } = {}): Promise<InfluxBench> {
  const total = opts.samples ?? 20_000;
  const batch = opts.batch ?? 500;
  const influxd = await startInfluxd();
  try {
    const sink = new InfluxSink(
      influxSinkSchema.parse({ url: influxd.url, database: 'bench', flush_interval_ms: 0, batch_size: 5000 }),
    );
    await sink.open();
    const t0 = Date.UTC(2026, 10, 1);
    const entries: JournalEntry[] = [];
    // 1000 rigs polled every 30 s.
    for (let i = 0; i < total; i++) {
      entries.push({ seq: i + 1, sample: makeSample(`rig-${i % 1000}`, t0 + Math.floor(i / 1000) * 30_000) });
    }
    // Warm-up: series creation is a one-time cost per rig, not steady state.
    await sink.write(entries.slice(0, Math.min(1000, total)));
    const pointsBefore = sink.stats.points_written;
    const start = performance.now();
    for (let i = 0; i < total; i += batch) await sink.write(entries.slice(i, i + batch));
    const seconds = (performance.now() - start) / 1000;
    await sink.close();
    return {
      samples_per_s: Math.round(total / seconds),
      points_per_s: Math.round((sink.stats.points_written - pointsBefore) / seconds),
      samples: total,
      batch,
      seconds: Math.round(seconds * 100) / 100,
    };
  } finally {
    await influxd.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runInfluxBench();
  console.log(JSON.stringify(r));
}
