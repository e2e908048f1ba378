/**
 * `npm run bench -- sustained --rigs 10000 --interval 15s --duration 180s [--api-load 10s] [--workers 0|N|auto]
 *  [--store-writes auto|thread|inline]`
 *
 * Runs the real `rigtel run` (a child process) against an emulated mixed fleet served from another process, and
 * reads what it reports: staleness per rig (`rigtel_rig_age_seconds`) sampled every 5 s after the first
 * interval, polls due/started/answered/late and skipped by reason, event-loop delay (over the whole run, and
 * over the measured window from two scrapes of the histogram: after the first interval, without the API-load
 * phase), CPU of the collector process (/proc/<pid>/stat) and of its main thread per settled poll, peak RSS
 * (VmHWM), bytes per stored sample (the store file after the run). With `--api-load`, a bounded loopback load
 * generator (testing/http-load.ts) holds 200 keep-alive connections on `/v1/fleet` and then `/v1/rigs/:id` for
 * that long, mid-run, and reports latency percentiles.
 * Prints the figures and writes them as JSON (path printed). Nothing is asserted.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { YOUNG_GENERATION_FLAG } from '../cli/heap.js';
import {
  type BucketCounts,
  bucketDelta,
  bucketMax,
  bucketQuantile,
  parseBuckets,
} from '../lib/loop-delay.js';
import { spawnEmulatorProcess } from '../protocols/emulator/child.js';
import { spreadHosts } from '../protocols/emulator/fleet.js';
import { httpLoad } from '../testing/http-load.js';
import { procCpuMs } from '../testing/proc.js';
import { percentile } from '../testing/stats.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function duration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new Error(`bad duration ${text}`);
  const v = Number(m[1]);
  return m[2] === 'ms' ? v : m[2] === 'm' ? v * 60_000 : v * 1000;
}

export interface SustainedOptions {
  rigs: number;
  intervalMs: number;
  durationMs: number;
  apiLoadMs: number;
  concurrency: number;
  /** storage.journal_fsync of the collector under test (default always, the config default). */
  fsync?: 'always' | 'off';
  /** collector.poll_workers of the collector under test (default 'auto', the config default). */
  workers?: number | 'auto';
  /** storage.store_writes of the collector under test (default 'auto', the config default). */
  storeWrites?: 'auto' | 'thread' | 'inline';
}

export function parseSustainedArgs(args: string[]): SustainedOptions {
  const o: SustainedOptions = {
    rigs: 10_000,
    intervalMs: 15_000,
    durationMs: 180_000,
    apiLoadMs: 0,
    concurrency: 512,
  };
  for (let i = 0; i < args.length; i++) {
    const v = args[i + 1] ?? '';
    if (args[i] === '--rigs') o.rigs = Number(v);
    else if (args[i] === '--interval') o.intervalMs = duration(v);
    else if (args[i] === '--duration') o.durationMs = duration(v);
    else if (args[i] === '--api-load') o.apiLoadMs = duration(v);
    else if (args[i] === '--concurrency') o.concurrency = Number(v);
    else if (args[i] === '--fsync') o.fsync = v === 'off' ? 'off' : 'always';
    else if (args[i] === '--workers') o.workers = v === 'auto' ? 'auto' : Number(v);
    else if (args[i] === '--store-writes') o.storeWrites = v as SustainedOptions['storeWrites'];
    else continue;
    i++;
  }
  return o;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function get(port: number, path: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: timeoutMs }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

export interface Scrape {
  ages: number[];
  counters: Record<string, number>;
  loop: Record<string, number>;
  /** The cumulative loop-delay histogram (`rigtel_event_loop_delay_seconds`), null from a build without it. */
  loopBuckets: BucketCounts | null;
  /** performance.now() when the scrape was answered. */
  at: number;
}

export function parseMetrics(text: string): Scrape {
  const ages: number[] = [];
  const counters: Record<string, number> = {};
  const loop: Record<string, number> = {};
  const loopLines: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line) continue;
    const sp = line.lastIndexOf(' ');
    const name = line.slice(0, sp);
    const value = Number(line.slice(sp + 1));
    if (name.startsWith('rigtel_rig_age_seconds')) ages.push(value);
    else if (name.startsWith('rigtel_polls_')) counters[name] = value;
    else if (name.startsWith('rigtel_event_loop_delay_')) {
      loop[name] = value;
      loopLines.push(line);
    }
  }
  return {
    ages,
    counters,
    loop,
    loopBuckets: parseBuckets(loopLines.join('\n'), 'rigtel_event_loop_delay_seconds'),
    at: performance.now(),
  };
}

function procHwmBytes(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

const round = (v: number | null, d = 1) => (v === null ? null : Math.round(v * 10 ** d) / 10 ** d);

/**
 * Loop delay over the steady window, from the cumulative histogram: the difference of the scrapes that open and
 * close the window, less the difference over the API-load phase when there was one. p50/p99 as PromQL's
 * histogram_quantile estimates them; the max only as the bucket it fell in (`[lower, upper]`, upper null for
 * +Inf); the mean exact (`_sum / _count`).
 */
export function steadyLoopDelay(first: Scrape, last: Scrape, load: { before: Scrape; after: Scrape } | null) {
  if (!first.loopBuckets || !last.loopBuckets) return null;
  let w = bucketDelta(last.loopBuckets, first.loopBuckets);
  let seconds = (last.at - first.at) / 1000;
  let removed = 0;
  // The phase is inside the window unless the window closed first (its last scrape came before the load).
  if (load?.before.loopBuckets && load.after.loopBuckets && load.after.at <= last.at) {
    w = bucketDelta(w, bucketDelta(load.after.loopBuckets, load.before.loopBuckets));
    removed = (load.after.at - load.before.at) / 1000;
    seconds -= removed;
  }
  const max = bucketMax(w);
  return {
    window_s: round(seconds, 0),
    // Seconds of API-load phase taken out of the window (0 without `--api-load`).
    api_load_removed_s: round(removed, 0),
    ticks: w.count,
    mean: round(w.count ? w.sum / w.count : null, 4),
    p50: round(bucketQuantile(w, 0.5), 4),
    p99: round(bucketQuantile(w, 0.99), 4),
    max_bucket: max && [max[0], Number.isFinite(max[1]) ? max[1] : null],
  };
}

export async function runSustained(o: SustainedOptions): Promise<Record<string, unknown>> {
  const line = (label: string, value: unknown) =>
    console.log(`  ${label.padEnd(44)} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  console.log(
    `\nsustained: rigtel run, ${o.rigs} emulated mixed rigs, interval ${o.intervalMs / 1000} s, ${o.durationMs / 1000} s`,
  );
  const t0 = performance.now();
  const fleet = await spawnEmulatorProcess({
    count: o.rigs,
    hosts: spreadHosts(o.rigs),
    mix: 'mixed',
    seed: 5,
    startTimeoutMs: 300_000,
  });
  const emulatorStartMs = performance.now() - t0;
  line('emulator start-up', `${(emulatorStartMs / 1000).toFixed(1)} s`);
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-sustained-'));
  const port = await freePort();
  const config = {
    site: { name: `bench-${process.pid}` },
    poll: {
      interval_ms: o.intervalMs,
      concurrency: o.concurrency,
      poll_deadline_ms: Math.min(o.intervalMs - 1000, 10_000),
      connect_timeout_ms: 2000,
      command_timeout_ms: 4000,
    },
    storage: {
      dir: join(dir, 'data'),
      journal_fsync: o.fsync ?? 'always',
      store_writes: o.storeWrites ?? 'auto',
    },
    collector: { poll_workers: o.workers ?? 'auto' },
    api: { listen: `127.0.0.1:${port}` },
    rigs: fleet.rigs.map((r) => ({ name: r.name, address: r.address, family: r.family })),
  };
  const configFile = join(dir, 'rigtel.json');
  writeFileSync(configFile, JSON.stringify(config));
  const emuCpu0 = await fleet.usage();
  const startAt = performance.now();
  // BENCH_PROFILE_DIR=<dir>: write a CPU profile of the collector there (node --cpu-prof).
  const prof = process.env.BENCH_PROFILE_DIR;
  // BENCH_NODE_ARGS="--flag …": extra node flags for the collector (e.g. a heap snapshot signal, V8 tuning).
  // The flags every launcher of `rigtel run` passes (the bin's shebang, npm start, the Docker entrypoint).
  const nodeArgs = [
    YOUNG_GENERATION_FLAG,
    ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []),
    ...(process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []),
  ];
  const child = spawn(
    process.execPath,
    [...nodeArgs, join(repoRoot, 'bin/rigtel.js'), 'run', '--config', configFile],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderrTail = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderrTail = (stderrTail + c.toString()).slice(-4000);
  });
  const pid = child.pid!;
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM')
      console.error(`rigtel run exited (${code ?? signal}):\n${stderrTail}`);
  });
  const result: Record<string, unknown> = { options: o, emulator_start_s: round(emulatorStartMs / 1000) };
  try {
    // Start-up: time until the API answers.
    let apiUpMs: number | null = null;
    while (performance.now() - startAt < 120_000) {
      try {
        if ((await get(port, '/healthz', 1000)).status > 0) {
          apiUpMs = performance.now() - startAt;
          break;
        }
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    result.api_answering_after_start_s = round(apiUpMs === null ? null : apiUpMs / 1000, 2);
    line('rigtel run: API answering after', `${result.api_answering_after_start_s} s`);
    // Warm-up: one interval plus a little, then measure.
    await new Promise((r) => setTimeout(r, o.intervalMs + 2000));
    const m0 = parseMetrics((await get(port, '/metrics', 30_000)).body);
    // Loop delay max since the API started: the longest stall of start-up and the first interval.
    result.startup_loop_max_s = round(
      m0.loop['rigtel_event_loop_delay_since_start_seconds{quantile="1"}'] ?? null,
      3,
    );
    line('longest loop stall, first interval', `${result.startup_loop_max_s} s`);
    const cpu0 = procCpuMs(pid);
    const mainCpu0 = procCpuMs(pid, pid);
    const emu0 = await fleet.usage();
    const measureStart = performance.now();
    const ages: number[] = [];
    let api: Record<string, unknown> | null = null;
    let loadScrapes: { before: Scrape; after: Scrape } | null = null;
    let lastScrape = m0;
    const loadAt = measureStart + Math.max(0, (o.durationMs - o.apiLoadMs * 2) / 2);
    while (performance.now() - measureStart < o.durationMs) {
      await new Promise((r) => setTimeout(r, 5000));
      lastScrape = parseMetrics((await get(port, '/metrics', 30_000)).body);
      // Rigs that never answered count as stale by the whole run.
      const never = o.rigs - lastScrape.ages.length;
      ages.push(...lastScrape.ages);
      for (let i = 0; i < never; i++) ages.push((performance.now() - startAt) / 1000);
      if (o.apiLoadMs > 0 && api === null && performance.now() >= loadAt) {
        const before = parseMetrics((await get(port, '/metrics', 30_000)).body);
        const names = fleet.rigs.map((r) => r.name);
        let k = 0;
        const fleetLoad = await httpLoad(port, () => '/v1/fleet', o.apiLoadMs);
        const rigLoad = await httpLoad(port, () => `/v1/rigs/${names[k++ % names.length]}`, o.apiLoadMs);
        const after = parseMetrics((await get(port, '/metrics', 30_000)).body);
        loadScrapes = { before, after };
        const d = (n: string) => (after.counters[n] ?? 0) - (before.counters[n] ?? 0);
        api = {
          fleet: fleetLoad,
          rig: rigLoad,
          polls_due_during_load: d('rigtel_polls_due_total'),
          polls_started_during_load: d('rigtel_polls_started_total'),
        };
      }
    }
    const cpuMs = procCpuMs(pid) - cpu0;
    const mainCpuMs = procCpuMs(pid, pid) - mainCpu0;
    const emu1 = await fleet.usage();
    const dc = (n: string) => (lastScrape.counters[n] ?? 0) - (m0.counters[n] ?? 0);
    const settled = dc('rigtel_polls_started_total');
    ages.sort((a, b) => a - b);
    const due = dc('rigtel_polls_due_total');
    const skipped = {
      skipped_busy: dc('rigtel_polls_skipped_total{reason="skipped_busy"}'),
      deadline: dc('rigtel_polls_skipped_total{reason="deadline"}'),
      backoff: dc('rigtel_polls_skipped_total{reason="backoff"}'),
    };
    // Slots owed (due, not started nor skipped) at a scrape: `due + owed at start = started + skipped + owed at
    // end` over the window, since slots owed when it opened start (or are skipped) inside it.
    const owedAt = (m: typeof lastScrape) =>
      m.counters['rigtel_polls_due_total']! -
      m.counters['rigtel_polls_started_total']! -
      Object.keys(skipped).reduce(
        (a, r) => a + (m.counters[`rigtel_polls_skipped_total{reason="${r}"}`] ?? 0),
        0,
      );
    const owedEnd = owedAt(lastScrape);
    Object.assign(result, {
      staleness_s: {
        p50: round(percentile(ages, 50)),
        p99: round(percentile(ages, 99)),
        max: round(ages[ages.length - 1] ?? null),
      },
      polls: {
        due,
        started: settled,
        answered: dc('rigtel_polls_answered_total'),
        late: dc('rigtel_polls_late_total'),
        skipped,
        // Slots owed when the window opened and when it closed (queued or waiting), never lost. Polls in flight
        // when it opened can make `answered` exceed `started` by as many.
        owed_at_start: owedAt(m0),
        owed_at_end: owedEnd,
      },
      cpu_us_per_rig_poll_all_in: round((cpuMs * 1000) / Math.max(1, settled), 0),
      // The event loop's own share: fleet state, journal, alerts, API, /metrics scrapes of this bench.
      main_thread_cpu_us_per_rig_poll: round((mainCpuMs * 1000) / Math.max(1, settled), 0),
      emulator_cpu_us_per_rig_poll: round(
        ((emu1.cpu_user_ms + emu1.cpu_system_ms - emu0.cpu_user_ms - emu0.cpu_system_ms) * 1000) /
          Math.max(1, settled),
        0,
      ),
      // The whole run since the API started (start-up, the first interval and any API load included), as
      // perf_hooks.monitorEventLoopDelay reports it: its 10 ms sampling period is in every figure.
      event_loop_delay_s: {
        p99: round(
          lastScrape.loop['rigtel_event_loop_delay_since_start_seconds{quantile="0.99"}'] ?? null,
          3,
        ),
        max: round(lastScrape.loop['rigtel_event_loop_delay_since_start_seconds{quantile="1"}'] ?? null, 3),
      },
      // The measured window only (after the first interval, without the API-load phase), from the histogram:
      // delay beyond the 10 ms tick.
      event_loop_delay_steady_s: steadyLoopDelay(m0, lastScrape, loadScrapes),
      peak_rss_mib: round(procHwmBytes(pid) / 1048576, 0),
      api_under_load: api,
    });
    void emuCpu0;
  } finally {
    child.kill('SIGTERM');
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        r();
      }, 20_000);
      child.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
    await fleet.stop();
    agent.destroy();
  }
  try {
    const file = join(dir, 'data', 'store.db');
    const db = new Database(file, { readonly: true });
    const rows = (db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
    const page = db.pragma('page_size', { simple: true }) as number;
    const used =
      ((db.pragma('page_count', { simple: true }) as number) -
        (db.pragma('freelist_count', { simple: true }) as number)) *
      page;
    db.close();
    result.store = {
      samples: rows,
      bytes: used,
      file_bytes: statSync(file).size,
      bytes_per_sample: round(used / Math.max(1, rows), 0),
    };
  } catch (err) {
    result.store = { error: String(err) };
  }
  if (stderrTail.includes('"level":50')) result.stderr_tail = stderrTail.slice(-1000);
  rmSync(dir, { recursive: true, force: true });
  for (const [k, v] of Object.entries(result)) if (k !== 'options') line(k, v);
  const outDir = join(tmpdir(), 'rigtel-bench');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `sustained-${o.rigs}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(`  JSON: ${out}`);
  return result;
}
