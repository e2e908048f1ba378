/**
 * `npm run bench -- sweep [--rigs 1000,5000,10000] [--workers 0,auto] [--concurrency 256] [--runs N]
 *   [--hang 0.05] [--emulator-processes N]`
 *
 * Full sweeps of an emulated mixed fleet (the demo's and the sustained bench's mix) served from separate
 * processes, through the collector's real poll path: the scheduler (`Scheduler.sweep`), `pollRig` and the
 * drivers, on the main thread (`--workers 0`) and through the poll worker pool (`auto`, the default path).
 * Targets and timeouts come from the config schema's defaults, as `rigtel run` builds them. The journal,
 * fleet state and API are not in this path (`npm run bench -- sustained` measures the whole collector).
 *
 * Per size and path, four scenarios on the same fleet:
 *   zero       no added latency (loopback speed)
 *   realistic  20–200 ms per command, seeded log-normal (protocols/emulator/latency.ts)
 *   hang       realistic, plus a fraction (5 %) of the rigs hanging: they accept, read, never answer, until
 *              the command timeout / poll deadline
 *   hang-again the same once more: the hung rigs' last poll failed, so they now wait in the scheduler's lane for
 *              failing rigs and no longer take healthy rigs' slots (the first encounter still does)
 * Each reports full-sweep wall time, TCP connections per rig-poll (as the emulated rigs accepted them), CPU µs
 * per rig-poll (this process, all threads; its main thread alone;
 * the emulator processes), answered / failed by code, and the completion time (from the sweep's start) of the
 * rigs that do not hang in the hang scenario, in all three, so "the healthy rigs are unchanged" can be read off.
 * Prints the figures and writes them as JSON (path printed). Nothing is asserted.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollRig, type RigTarget } from '../collector/poll.js';
import { defaultPollWorkers, PollWorkerPool } from '../collector/poll-workers.js';
import { targetsFromConfig } from '../collector/runtime.js';
import { Scheduler } from '../collector/scheduler.js';
import { configSchema } from '../config/schema.js';
import type { MinerDriver } from '../protocols/driver.js';
import { type ChildFleet, spawnEmulatorProcess } from '../protocols/emulator/child.js';
import { spreadHosts } from '../protocols/emulator/fleet.js';
import { hangsAt, REALISTIC_LATENCY } from '../protocols/emulator/latency.js';
import { driverFor } from '../protocols/registry.js';
import type { Family } from '../protocols/sample.js';
import { procCpuMs } from '../testing/proc.js';
import { percentile } from '../testing/stats.js';

export interface SweepOptions {
  sizes: number[];
  workers: (number | 'auto')[];
  concurrency: number;
  /** Measured sweeps of `zero` and `realistic`; null: 3 up to 2,000 rigs, else 1. `hang` runs once (it lasts the timeout). */
  runs: number | null;
  hangFraction: number;
  emulatorProcesses?: number;
}

const SEED = 7;

export function parseSweepArgs(args: string[]): SweepOptions {
  const o: SweepOptions = {
    sizes: [1000, 5000, 10_000],
    workers: [0, 'auto'],
    concurrency: configSchema.parse({}).poll.concurrency,
    runs: null,
    hangFraction: 0.05,
  };
  const list = (v: string) => v.split(',').filter(Boolean);
  for (let i = 0; i < args.length; i++) {
    const v = args[i + 1] ?? '';
    if (args[i] === '--rigs') o.sizes = list(v).map(Number);
    else if (args[i] === '--workers') o.workers = list(v).map((w) => (w === 'auto' ? 'auto' : Number(w)));
    else if (args[i] === '--concurrency') o.concurrency = Number(v);
    else if (args[i] === '--runs') o.runs = Number(v);
    else if (args[i] === '--hang') o.hangFraction = Number(v);
    else if (args[i] === '--emulator-processes') o.emulatorProcesses = Number(v);
    else throw new Error(`sweep: unknown option ${args[i]}`);
    i++;
  }
  for (const n of o.sizes) if (!Number.isInteger(n) || n < 1) throw new Error(`sweep: bad --rigs ${n}`);
  return o;
}

const round = (v: number | null, d = 1) => (v === null ? null : Math.round(v * 10 ** d) / 10 ** d);

function median(values: number[]): number | null {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

function spread(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return {
    p50: round(percentile(s, 50), 0),
    p90: round(percentile(s, 90), 0),
    p99: round(percentile(s, 99), 0),
    max: round(s.at(-1) ?? null, 0),
  };
}

/** CPU ms of this process's main thread (its task id is the pid). */
const mainThreadCpuMs = () => procCpuMs('self', process.pid);

function processCpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

async function emulatorCpuMs(fleet: ChildFleet): Promise<{ cpu: number; connections: number }> {
  const u = await fleet.usage();
  return { cpu: u.cpu_user_ms + u.cpu_system_ms, connections: u.connections };
}

interface SweepRun {
  wall_ms: number;
  cpu_ms: { process: number; main_thread: number; emulator: number };
  /** TCP connections the emulated rigs accepted during the sweep. */
  connections: number;
  answered: number;
  failed: Record<string, number>;
  /** ms from the sweep's start to each healthy rig's sample. */
  healthy_done_ms: number[];
  /** Poll durations (the sample's own timing) of the healthy rigs. */
  healthy_poll_ms: number[];
}

type Scenario = 'zero' | 'realistic' | 'hang' | 'hang-again';

export async function runSweep(o: SweepOptions): Promise<Record<string, unknown>> {
  const line = (label: string, value: string) => console.log(`  ${label.padEnd(34)} ${value}`);
  const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const defaults = configSchema.parse({}).poll;
  console.log(
    `\nsweep: emulated mixed fleets of ${o.sizes.join(' / ')} rigs in separate processes, scheduler + pollRig, ` +
      `concurrency ${o.concurrency}, poll deadline ${defaults.poll_deadline_ms} ms, command timeout ${defaults.command_timeout_ms} ms`,
  );
  const result: Record<string, unknown> = {
    options: o,
    node: process.version,
    at: new Date().toISOString(),
    loadavg_before: loadavg(),
    sizes: [] as unknown[],
  };
  for (const size of o.sizes) {
    const runs = o.runs ?? (size <= 2000 ? 3 : 1);
    const t0 = performance.now();
    const fleet = await spawnEmulatorProcess({
      count: size,
      // Spread at every size: bind(0) on one address slows with every port bound there, the box's other
      // processes' included (protocols/emulator/fleet.ts).
      hosts: spreadHosts(size),
      mix: 'mixed',
      seed: SEED,
      startTimeoutMs: 300_000,
      ...(o.emulatorProcesses ? { processes: o.emulatorProcesses } : {}),
    });
    const startS = (performance.now() - t0) / 1000;
    console.log(
      `\n  ${size} rigs: emulator ready in ${startS.toFixed(1)} s (${fleet.pids.length} processes)`,
    );
    const sizeResult: Record<string, unknown> = {
      rigs: size,
      emulator_processes: fleet.pids.length,
      emulator_start_s: round(startS, 2),
      runs_per_scenario: runs,
      paths: [] as unknown[],
    };
    (result.sizes as unknown[]).push(sizeResult);
    try {
      const config = configSchema.parse({
        rigs: fleet.rigs.map((r) => ({ name: r.name, address: r.address, family: r.family })),
      });
      const targets = targetsFromConfig(config);
      const hung = new Set(fleet.rigs.filter((_, i) => hangsAt(SEED, i, o.hangFraction)).map((r) => r.name));
      const hungNames = [...hung];
      for (const workers of o.workers) {
        const size_ = workers === 'auto' ? defaultPollWorkers() : workers;
        const pool =
          size_ > 0
            ? new PollWorkerPool({
                size: size_,
                deadlineMs: config.poll.poll_deadline_ms,
                familyOf: (f) => driverFor(f).family,
              })
            : null;
        await pool?.ready();
        const drivers = (f: Family | 'auto'): MinerDriver => (pool ? pool.driverFor(f) : driverFor(f));
        let current: SweepRun | null = null;
        let sweepStart = 0;
        const scheduler = new Scheduler(
          targets,
          (t: RigTarget, signal) =>
            pollRig(t, drivers(t.target.family), {
              deadlineMs: config.poll.poll_deadline_ms,
              now: Date.now,
              site: 'bench',
              signal,
            }),
          (sample, t) => {
            const run = current;
            if (!run) return;
            if (sample.poll.ok) run.answered += 1;
            else {
              const code = sample.poll.error_code ?? 'unknown';
              run.failed[code] = (run.failed[code] ?? 0) + 1;
            }
            if (!hung.has(t.name ?? '')) {
              run.healthy_done_ms.push(performance.now() - sweepStart);
              run.healthy_poll_ms.push(sample.poll.duration_ms);
            }
          },
          { intervalMs: 60_000, concurrency: o.concurrency, backoffMaxMs: config.poll.backoff_max_ms },
        );
        const sweep = async (): Promise<SweepRun> => {
          const run: SweepRun = {
            wall_ms: 0,
            cpu_ms: { process: 0, main_thread: 0, emulator: 0 },
            connections: 0,
            answered: 0,
            failed: {},
            healthy_done_ms: [],
            healthy_poll_ms: [],
          };
          const emu0 = await emulatorCpuMs(fleet);
          const p0 = processCpuMs();
          const m0 = mainThreadCpuMs();
          current = run;
          sweepStart = performance.now();
          await scheduler.sweep();
          run.wall_ms = performance.now() - sweepStart;
          current = null;
          const emu1 = await emulatorCpuMs(fleet);
          run.cpu_ms = {
            process: processCpuMs() - p0,
            main_thread: mainThreadCpuMs() - m0,
            emulator: emu1.cpu - emu0.cpu,
          };
          run.connections = emu1.connections - emu0.connections;
          return run;
        };
        const pathResult: Record<string, unknown> = {
          workers: size_,
          scenarios: {} as Record<string, unknown>,
        };
        (sizeResult.paths as unknown[]).push(pathResult);
        console.log(
          `  ${size} rigs, ${size_ === 0 ? 'main thread (--workers 0)' : `${size_} poll worker(s)`}:`,
        );
        try {
          await sweep(); // warm-up: JIT, identity commands, socket paths
          for (const scenario of ['zero', 'realistic', 'hang', 'hang-again'] as Scenario[]) {
            if (scenario === 'realistic') await fleet.setLatency(REALISTIC_LATENCY);
            if (scenario === 'hang') await fleet.setFault('hang', hungNames);
            const load0 = loadavg();
            const all: SweepRun[] = [];
            const n = scenario.startsWith('hang') ? 1 : runs;
            for (let i = 0; i < n; i++) all.push(await sweep());
            const polls = size;
            const failed: Record<string, number> = {};
            for (const r of all)
              for (const [k, v] of Object.entries(r.failed)) failed[k] = (failed[k] ?? 0) + v;
            const s = {
              loadavg: `${load0} → ${loadavg()}`,
              sweeps: n,
              wall_ms: {
                median: round(median(all.map((r) => r.wall_ms)), 0),
                all: all.map((r) => round(r.wall_ms, 0)),
              },
              cpu_us_per_rig_poll: {
                process_all_threads: round(median(all.map((r) => (r.cpu_ms.process * 1000) / polls)), 0),
                main_thread: round(median(all.map((r) => (r.cpu_ms.main_thread * 1000) / polls)), 0),
                emulator: round(median(all.map((r) => (r.cpu_ms.emulator * 1000) / polls)), 0),
              },
              connections_per_rig_poll: round(median(all.map((r) => r.connections / polls)), 2),
              answered: all.reduce((a, r) => a + r.answered, 0),
              failed,
              hung_rigs: scenario.startsWith('hang') ? hung.size : 0,
              healthy_rigs: size - hung.size,
              healthy_done_ms: spread(all.flatMap((r) => r.healthy_done_ms)),
              healthy_poll_ms: spread(all.flatMap((r) => r.healthy_poll_ms)),
            };
            (pathResult.scenarios as Record<string, unknown>)[scenario] = s;
            const nFailed = Object.values(failed).reduce((a, v) => a + v, 0);
            line(
              `${scenario}`,
              `sweep ${s.wall_ms.median} ms (${s.wall_ms.all.join(', ')}); CPU/poll ${s.cpu_us_per_rig_poll.process_all_threads} µs all threads, ` +
                `${s.cpu_us_per_rig_poll.main_thread} µs main, emulator ${s.cpu_us_per_rig_poll.emulator} µs; ` +
                `${s.connections_per_rig_poll} connections/poll; ` +
                `answered ${s.answered}/${polls * n}, failed ${nFailed} ${nFailed ? JSON.stringify(failed) : ''}`,
            );
            line(
              '',
              `healthy rigs (${s.healthy_rigs}) done after p50/p90/p99/max ${s.healthy_done_ms.p50}/${s.healthy_done_ms.p90}/` +
                `${s.healthy_done_ms.p99}/${s.healthy_done_ms.max} ms; their poll p50/p99 ${s.healthy_poll_ms.p50}/${s.healthy_poll_ms.p99} ms; load ${s.loadavg}`,
            );
          }
        } finally {
          await fleet.setFault('none', hungNames);
          await fleet.setLatency(null);
          await scheduler.stop();
          await pool?.close();
        }
      }
    } finally {
      await fleet.stop();
    }
  }
  result.loadavg_after = loadavg();
  const outDir = join(tmpdir(), 'rigtel-bench');
  mkdirSync(outDir, { recursive: true });
  const out = join(
    outDir,
    `sweep-${o.sizes.join('-')}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(`  JSON: ${out}`);
  return result;
}
