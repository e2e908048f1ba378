/**
 * API figures over a large fleet (no assertion: it measures). `node --import tsx api/app.bench.ts`
 * Serves 10,000 rigs of realistic S19 Pro samples from a real Fleet in memory through the real app (fastify
 * inject, no socket; inject's own copying of a 20 MB /metrics body is in the figure).
 */
import { pathToFileURL } from 'node:url';
import { Fleet } from '../collector/fleet.js';
import { validateConfig } from '../config/load.js';
import { makeSample, offlineSample } from '../testing/sample-factory.js';
import { median } from '../testing/stats.js';
import { buildApp } from './app.js';

export interface ApiBenchResult {
  rigs: number;
  fleet_ms: number;
  /** /v1/fleet right after the fleet changed (a snapshot rebuild and a summary). */
  fleet_after_change_ms: number;
  rigs_sorted_top50_ms: number;
  rigs_all_ms: number;
  rigs_all_bytes: number;
  rig_one_ms: number;
  /** /metrics with no rig changed since the last scrape, and after every rig got a new sample. */
  metrics_ms: number;
  metrics_all_changed_ms: number;
  metrics_bytes: number;
}

export async function runApiBench(count = 10_000): Promise<ApiBenchResult> {
  const now = Date.now();
  const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:4028`;
  const fleet = new Fleet(
    Array.from({ length: count }, (_, i) => ({ name: `r${i}`, address: address(i), target: {} as never })),
  );
  const feed = (atMs: number) => {
    for (let i = 0; i < count; i++) {
      const id = `rig-${i}`;
      if (i % 50 === 0) {
        fleet.update({ ...offlineSample(id, atMs), address: address(i) });
        continue;
      }
      fleet.update(
        makeSample(id, atMs, {
          address: address(i),
          hashrate_hs: (90 + (i % 25) + Math.random()) * 1e12,
          temp_chip_max_c: 60 + (i % 40),
          power_source: i % 3 === 0 ? 'pdu' : i % 3 === 1 ? 'miner' : 'estimate',
        }),
      );
    }
  };
  feed(now - 5000);
  const app = buildApp({
    fleet,
    history: { history: () => [], rigIds: () => [] },
    health: {
      started_ms: now,
      sinks: () => [],
      polling: () => ({ rigs: count, up: count, last_sweep_ms: now, last_sweep_duration_ms: 1 }),
    },
    config: validateConfig({
      rigs: Array.from({ length: count }, (_, i) => ({ name: `r${i}`, address: address(i) })),
    }),
  });
  await app.ready();
  const time = async (url: string, n: number, before?: () => Promise<void> | void) => {
    const samples: number[] = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      await before?.();
      const t = process.hrtime.bigint();
      const res = await app.inject(url);
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
      bytes = res.rawPayload.length;
    }
    return { ms: median(samples), bytes };
  };
  await time('/v1/fleet', 3); // warm-up
  await time('/metrics', 1);
  const metrics = await time('/metrics', 5);
  const metricsChanged = await time('/metrics', 3, () => feed(Date.now()));
  // The snapshot of a large fleet is rebuilt at most once a second (api/snapshot.ts): wait that out.
  const changed = () => {
    feed(Date.now());
    return new Promise<void>((r) => setTimeout(r, 1100));
  };
  const result: ApiBenchResult = {
    rigs: count,
    fleet_ms: (await time('/v1/fleet', 30)).ms,
    fleet_after_change_ms: (await time('/v1/fleet', 3, changed)).ms,
    rigs_sorted_top50_ms: (await time('/v1/rigs?sort=temp&limit=50', 30)).ms,
    ...(await (async () => {
      const all = await time('/v1/rigs', 10);
      return { rigs_all_ms: all.ms, rigs_all_bytes: all.bytes };
    })()),
    rig_one_ms: (await time(`/v1/rigs/r${count - 1}`, 200)).ms,
    metrics_ms: metrics.ms,
    metrics_all_changed_ms: metricsChanged.ms,
    metrics_bytes: metrics.bytes,
  };
  await app.close();
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runApiBench(Number(process.env.BENCH_RIGS ?? 10_000));
  console.log(`api: ${r.rigs} rigs in memory, fastify inject (median)`);
  console.log(`  GET /v1/fleet                              ${r.fleet_ms.toFixed(2)} ms`);
  console.log(`  GET /v1/rigs?sort=temp&limit=50            ${r.rigs_sorted_top50_ms.toFixed(2)} ms`);
  console.log(
    `  GET /v1/rigs (all)                         ${r.rigs_all_ms.toFixed(2)} ms, ${(r.rigs_all_bytes / 1e6).toFixed(2)} MB`,
  );
  console.log(`  GET /v1/rigs/:id                           ${r.rig_one_ms.toFixed(3)} ms`);
  console.log(`  GET /v1/fleet after a change               ${r.fleet_after_change_ms.toFixed(2)} ms`);
  console.log(
    `  GET /metrics (no change / all changed)     ${r.metrics_ms.toFixed(1)} / ${r.metrics_all_changed_ms.toFixed(1)} ms, ${(r.metrics_bytes / 1e6).toFixed(2)} MB`,
  );
}
