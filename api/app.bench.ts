/**
 * API figures over a large fleet (no assertion: it measures). `node --import tsx api/app.bench.ts`
 * Serves 10,000 rigs of realistic S19 Pro samples from memory through the real app (fastify inject, no socket).
 */
import { pathToFileURL } from 'node:url';
import type { FleetView, RigStatus } from '../collector/views.js';
import { validateConfig } from '../config/load.js';
import { makeSample } from '../testing/sample-factory.js';
import { buildApp } from './app.js';

export interface ApiBenchResult {
  rigs: number;
  fleet_ms: number;
  rigs_sorted_top50_ms: number;
  rigs_all_ms: number;
  rigs_all_bytes: number;
  rig_one_ms: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function runApiBench(count = 10_000): Promise<ApiBenchResult> {
  const now = Date.now();
  const list: RigStatus[] = [];
  for (let i = 0; i < count; i++) {
    const id = `rig-${i}`;
    const s = makeSample(id, now - 5000, {
      hashrate_hs: (90 + (i % 25)) * 1e12,
      temp_chip_max_c: 60 + (i % 40),
      power_source: i % 3 === 0 ? 'pdu' : i % 3 === 1 ? 'miner' : 'estimate',
    });
    const offline = i % 50 === 0;
    list.push({
      rig_id: id,
      name: `r${i}`,
      address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:4028`,
      state: offline ? 'offline' : 'mining',
      current: offline ? null : s,
      last_seen_ms: now - 5000,
      last_poll_ms: now - 5000,
      last_error: null,
      consecutive_failures: 0,
      next_poll_ms: now + 25_000,
    });
  }
  const byKey = new Map<string, RigStatus>();
  for (const r of list) {
    byKey.set(r.rig_id, r);
    byKey.set(r.address, r);
    if (r.name) byKey.set(r.name, r);
  }
  const fleet: FleetView = { list: () => list, get: (k) => byKey.get(k) };
  const app = buildApp({
    fleet,
    history: { history: () => [], rigIds: () => [] },
    health: {
      started_ms: now,
      sinks: () => [],
      polling: () => ({ rigs: count, up: count, last_sweep_ms: now, last_sweep_duration_ms: 1 }),
    },
    config: validateConfig({}),
  });
  await app.ready();
  const time = async (url: string, n: number) => {
    const samples: number[] = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      const res = await app.inject(url);
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
      bytes = res.body.length;
    }
    return { ms: median(samples), bytes };
  };
  await time('/v1/fleet', 3); // warm-up
  const result: ApiBenchResult = {
    rigs: count,
    fleet_ms: (await time('/v1/fleet', 30)).ms,
    rigs_sorted_top50_ms: (await time('/v1/rigs?sort=temp&limit=50', 30)).ms,
    ...(await (async () => {
      const all = await time('/v1/rigs', 10);
      return { rigs_all_ms: all.ms, rigs_all_bytes: all.bytes };
    })()),
    rig_one_ms: (await time(`/v1/rigs/r${count - 1}`, 200)).ms,
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
}
