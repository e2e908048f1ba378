/**
 * The API under load at fleet scale, isolated from polling: a child process serves the real app over a real
 * `Fleet` of N rigs (samples from testing/sample-factory.ts) on loopback, and keeps feeding it new samples at the
 * rate a 15 s poll interval would (N / 15 per second), so snapshots and /metrics text are rebuilt as in
 * production. This process measures /metrics scrapes, then 200 keep-alive connections on the floors (bare
 * node:http and bare fastify answering a constant body), `/healthz`, `/v1/fleet` and `/v1/rigs/:id` (any of N
 * rigs, then 100 of them), and reads the server's own event-loop delay and CPU for each phase. No assertion: it
 * measures.
 *
 *   node --import tsx api/load.bench.ts [rigs] [seconds per load phase] [--no-metrics]
 */
import { fork } from 'node:child_process';
import { createServer, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { Fleet } from '../collector/fleet.js';
import { validateConfig } from '../config/load.js';
import type { Sample } from '../protocols/sample.js';
import { httpLoad, type LoadResult } from '../testing/http-load.js';
import { makeSample, offlineSample } from '../testing/sample-factory.js';
import { type ApiDeps, buildApp } from './app.js';
import { judgeHealth } from './health.js';

const INTERVAL_MS = 15_000;
const rigName = (i: number) => `r${i}`;
const rigAddress = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:4028`;

/** A varied sample for rig i (temperatures, hashrate and power sources spread; every 50th rig offline). */
function sampleFor(i: number, atMs: number): Sample {
  const mac = `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  if (i % 50 === 0) return { ...offlineSample(mac, atMs), address: rigAddress(i) };
  const jitter = Math.random();
  return makeSample(mac, atMs, {
    address: rigAddress(i),
    hashrate_hs: (90 + (i % 25) + jitter) * 1e12,
    temp_chip_max_c: 60 + (i % 40) + Math.round(jitter * 4) / 4,
    power_w: 3000 + (i % 300) + jitter,
    power_source: i % 3 === 0 ? 'pdu' : i % 3 === 1 ? 'miner' : 'estimate',
  });
}

/** Child: serve N rigs and keep them changing; answer `stats` with loop delay and CPU since the last `reset`. */
async function serve(count: number): Promise<void> {
  const now = Date.now();
  const config = validateConfig({
    site: { name: 'bench' },
    rigs: Array.from({ length: count }, (_, i) => ({
      name: rigName(i),
      address: rigAddress(i),
      location: { row: `row-${i % 20}`, rack: `rack-${i % 400}`, slot: i % 25 },
    })),
  });
  const fleet = new Fleet(
    Array.from({ length: count }, (_, i) => ({
      name: rigName(i),
      address: rigAddress(i),
      target: {} as never,
    })),
  );
  for (let i = 0; i < count; i++) fleet.update(sampleFor(i, now - 5000));
  const deps: ApiDeps = {
    fleet,
    history: { history: () => [], rigIds: () => [] },
    health: {
      started_ms: now,
      sinks: () => [],
      polling: () => ({
        rigs: count,
        up: fleet.upCount(),
        last_sweep_ms: Date.now(),
        last_sweep_duration_ms: 1,
      }),
    },
    config,
  };
  const app = buildApp(deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  // The floors, in the same process beside the same fleet: bare node:http, and a bare fastify with no hook,
  // both answering a /healthz-sized constant body.
  const floorBody = JSON.stringify(judgeHealth(deps));
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(floorBody);
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareFastify = Fastify({ logger: false });
  bareFastify.get('/healthz', (_request, reply) => {
    reply.type('application/json; charset=utf-8').send(floorBody);
  });
  await bareFastify.listen({ host: '127.0.0.1', port: 0 });
  // Samples arrive as a 15 s interval spreads them: count / 15 per second, in 50 ms steps.
  let next = 0;
  const perStep = Math.max(1, Math.round((count * 50) / INTERVAL_MS));
  const feeder = setInterval(() => {
    const at = Date.now();
    for (let k = 0; k < perStep; k++) fleet.update(sampleFor(next++ % count, at));
  }, 50);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let cpu = process.cpuUsage();
  process.on('message', (m: string) => {
    if (m === 'reset') {
      loop.reset();
      cpu = process.cpuUsage();
      process.send!({ reset: true });
    } else if (m === 'stats') {
      const c = process.cpuUsage(cpu);
      process.send!({
        loop_p50_ms: loop.percentile(50) / 1e6,
        loop_p99_ms: loop.percentile(99) / 1e6,
        loop_max_ms: loop.max / 1e6,
        cpu_ms: (c.user + c.system) / 1000,
      });
    } else if (m === 'stop') {
      clearInterval(feeder);
      bare.close();
      void Promise.all([app.close(), bareFastify.close()]).then(() => process.exit(0));
    }
  });
  const portOf = (server: { address(): unknown }) => (server.address() as { port: number }).port;
  process.send!({ port: portOf(app.server), bare: portOf(bare), fastify: portOf(bareFastify.server) });
}

export interface LoadBenchResult {
  rigs: number;
  /** Server CPU per second of wall time with no request (feeding samples): subtracted for the net figures. */
  idle_cpu_ms_per_s: number;
  metrics: {
    scrapes: number;
    median_ms: number;
    max_ms: number;
    bytes: number;
    server: Record<string, number>;
  };
  /** A constant /healthz-sized body from bare node:http, then from a bare fastify (no hook), same process. */
  floor_http: LoadResult & { server: Record<string, number> };
  floor_fastify: LoadResult & { server: Record<string, number> };
  /** /healthz of the real app: its hooks and a tiny handler. */
  health: LoadResult & { server: Record<string, number> };
  fleet: LoadResult & { server: Record<string, number> };
  rig: LoadResult & { server: Record<string, number> };
  /** /v1/rigs/:id over 100 rigs only. */
  rig_hot: LoadResult & { server: Record<string, number> };
}

function getBody(port: number, path: string): Promise<number> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path }, (r) => {
      let n = 0;
      r.on('data', (c: Buffer) => {
        n += c.length;
      });
      r.on('end', () => res(n));
    });
    req.on('error', rej);
    req.end();
  });
}

export async function runLoadBench(
  count = 10_000,
  phaseMs = 10_000,
  opts: { metrics?: boolean } = {},
): Promise<LoadBenchResult> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', String(count)], {
    // BENCH_PROFILE_DIR=<dir>: a CPU profile of the serving process.
    execArgv: [
      ...process.execArgv.filter((a) => !a.startsWith('--cpu-prof')),
      ...(process.env.BENCH_PROFILE_DIR
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR]
        : []),
      '--import',
      'tsx',
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = (m: string) =>
    new Promise<Record<string, number>>((res) => {
      child.once('message', (r) => res(r as Record<string, number>));
      child.send(m);
    });
  const ports = await new Promise<{ port: number; bare: number; fastify: number }>((res) =>
    child.once('message', (m) => res(m as { port: number; bare: number; fastify: number })),
  );
  const port = ports.port;
  try {
    // /metrics as Prometheus would scrape it, a few seconds apart (a third of the fleet changes in between).
    await getBody(port, '/metrics');
    // The server's CPU with no request at all (feeding samples, timers): what each phase's CPU includes anyway.
    await ask('reset');
    await new Promise((r) => setTimeout(r, 3000));
    const idle = await ask('stats');
    const idleCpuPerMs = idle.cpu_ms! / 3000;
    await ask('reset');
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < (opts.metrics === false ? 0 : 5); i++) {
      await new Promise((r) => setTimeout(r, 5000));
      const t = performance.now();
      bytes = await getBody(port, '/metrics');
      times.push(performance.now() - t);
    }
    const metricsServer = await ask('stats');
    times.sort((a, b) => a - b);
    const phase = async (path: () => string, to = port) => {
      await ask('reset');
      const t = performance.now();
      const client = await httpLoad(to, path, phaseMs);
      const server = await ask('stats');
      const net = server.cpu_ms! - idleCpuPerMs * (performance.now() - t);
      // CPU µs per request: all of the server's, and net of what it spends idle over the same time.
      server.cpu_us_per_request = (server.cpu_ms! * 1000) / Math.max(1, client.requests);
      server.net_cpu_us_per_request = (net * 1000) / Math.max(1, client.requests);
      return { ...client, server };
    };
    const floorHttp = await phase(() => '/healthz', ports.bare);
    const floorFastify = await phase(() => '/healthz', ports.fastify);
    const health = await phase(() => '/healthz');
    const fleet = await phase(() => '/v1/fleet');
    const rig = await phase(() => `/v1/rigs/${rigName(Math.floor(Math.random() * count))}`);
    // A dashboard's view: the same 100 rigs asked again and again (each still changes every 15 s).
    const rigHot = await phase(() => `/v1/rigs/${rigName(Math.floor(Math.random() * Math.min(100, count)))}`);
    return {
      rigs: count,
      idle_cpu_ms_per_s: idleCpuPerMs * 1000,
      metrics: {
        scrapes: times.length,
        median_ms: times[Math.floor(times.length / 2)] ?? 0,
        max_ms: times[times.length - 1] ?? 0,
        bytes,
        server: metricsServer,
      },
      floor_http: floorHttp,
      floor_fastify: floorFastify,
      health,
      fleet,
      rig,
      rig_hot: rigHot,
    };
  } finally {
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
  }
}

if (process.argv[2] === '--serve') {
  await serve(Number(process.argv[3]));
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runLoadBench(Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 10) * 1000, {
    metrics: !process.argv.includes('--no-metrics'),
  });
  console.log(JSON.stringify(r, null, 2));
}
