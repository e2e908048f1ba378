/**
 * History queries: InfluxDB (standalone `rigtel api`) beside the embedded store (`rigtel run`) for the same
 * samples. One rig, three days at 15 s (17,280 polls) written through the real sinks into a private influxd;
 * then each query 15 times: median wall ms and median CPU ms of this process (the API's side of the work;
 * influxd's own CPU is not counted). Measures; asserts nothing. `npm run bench -- history`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { influxSinkSchema } from '../config/sections/sinks.js';
import { startInfluxd } from '../testing/influxd.js';
import { makeSample } from '../testing/sample-factory.js';
import { median } from '../testing/stats.js';
import { InfluxHistory } from './influx-history.js';
import { EmbeddedStore } from './sinks/embedded.js';
import { InfluxSink } from './sinks/influx.js';
import type { HistoryQuery } from './views.js';

const INTERVAL = 15_000;
const DAYS = 3;
const RUNS = 15;

async function measure(fn: () => unknown): Promise<{ wall_ms: number; cpu_ms: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall_ms: median(wall), cpu_ms: median(cpu) };
}

export async function runHistoryBench(): Promise<Record<string, number>> {
  const influxd = await startInfluxd();
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-history-bench-'));
  const end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const start = end - DAYS * 86_400_000;
  const store = EmbeddedStore.open(dir, {
    rawRetentionHours: 24 * 30,
    rollupRetentionDays: 400,
    intervalMs: INTERVAL,
    backoffMaxMs: 60_000,
  });
  try {
    const cfg = influxSinkSchema.parse({ url: influxd.url, database: 'bench_history', flush_interval_ms: 0 });
    const sink = new InfluxSink(cfg);
    await sink.open();
    const polls = (end - start) / INTERVAL;
    for (let i = 0; i < polls; i += 2000) {
      const batch = [];
      for (let j = i; j < Math.min(polls, i + 2000); j++)
        batch.push({ seq: j + 1, sample: makeSample('bench-rig', start + j * INTERVAL + 123) });
      await sink.write(batch);
      await store.write(batch);
    }
    const influx = new InfluxHistory({ influx: cfg, caps: { intervalMs: INTERVAL, backoffMaxMs: 60_000 } });
    const cases: Record<string, HistoryQuery> = {
      day_5m_raw: { rigId: 'bench-rig', fromMs: end - 86_400_000, toMs: end, stepS: 300 },
      three_days_1h_raw: { rigId: 'bench-rig', fromMs: start, toMs: end, stepS: 3600 },
      week_1h_aggregated: { rigId: 'bench-rig', fromMs: end - 7 * 86_400_000, toMs: end, stepS: 3600 },
    };
    const out: Record<string, number> = { polls };
    for (const [name, q] of Object.entries(cases)) {
      const i = await measure(() => influx.history(q));
      const e = await measure(() => store.history(q));
      out[`${name}_influx_wall_ms`] = i.wall_ms;
      out[`${name}_influx_cpu_ms`] = i.cpu_ms;
      out[`${name}_embedded_wall_ms`] = e.wall_ms;
      out[`${name}_embedded_cpu_ms`] = e.cpu_ms;
    }
    return out;
  } finally {
    store.close();
    await influxd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
