/**
 * The collector's main-thread cost per sample, without sockets: everything `rigtel run` does with a reading once a
 * driver returned it (deadline wrapper, identity, power, journal group commit, live fleet, alerts, fan-out into
 * the embedded store). Readings are real ones, taken once from an emulated mixed fleet with the real drivers,
 * then replayed through a driver that hands back a copy made before the timing starts. Run twice: with the
 * embedded store's writes on the main thread (`storage.store_writes: inline`) and on the writer thread
 * (`thread`, what `rigtel run` does); process CPU then includes that thread, and the main thread's own share is
 * read from /proc (Linux; 10 ms ticks, so a round of 2,000 samples resolves 5 µs per sample).
 * `npm run bench -- pipeline` (BENCH_PIPELINE_RIGS, default 2000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../config/load.js';
import type { MinerDriver } from '../protocols/driver.js';
import { spawnEmulatorProcess } from '../protocols/emulator/child.js';
import { driverFor } from '../protocols/registry.js';
import type { MinerReading } from '../protocols/sample.js';
import { procCpuMs } from '../testing/proc.js';
import { median } from '../testing/stats.js';
import { silentLogger } from './journal.js';
import { startCollector, targetsFromConfig } from './runtime.js';

export interface PipelineBench {
  rigs: number;
  rounds: number;
  store_writes: 'inline' | 'thread';
  /** Median over rounds of process CPU per sample (user + system, every thread), µs. */
  cpu_us_per_sample: number;
  cpu_us_per_sample_all_rounds: number[];
  /** Median over rounds of the main thread's own CPU per sample, µs (null where /proc is not there). */
  main_thread_cpu_us_per_sample: number | null;
  /** Median wall time of one round (sweep, journal, fleet, store), ms. */
  round_wall_ms: number;
  /** Sample JSON bytes, mean over the distinct readings. */
  sample_json_bytes: number;
}

async function realReadings(): Promise<MinerReading[]> {
  const fleet = await spawnEmulatorProcess({ count: 48, mix: 'mixed', seed: 11 });
  try {
    const out: MinerReading[] = [];
    for (const rig of fleet.rigs) {
      const target = {
        host: rig.host,
        port: rig.port,
        family: rig.family,
        connectTimeoutMs: 3000,
        commandTimeoutMs: 8000,
        maxReplyBytes: 1 << 20,
      };
      out.push(await driverFor(rig.family).poll(target, AbortSignal.timeout(20_000)));
    }
    return out;
  } finally {
    await fleet.stop();
  }
}

export async function runPipelineBench(
  storeWrites: 'inline' | 'thread' = 'inline',
  rigs = Number(process.env.BENCH_PIPELINE_RIGS ?? 2000),
  rounds = 6,
  readingsIn?: MinerReading[],
): Promise<PipelineBench & { readings: MinerReading[] }> {
  const readings = readingsIn ?? (await realReadings());
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-pipeline-'));
  const config = validateConfig({
    site: { name: 'bench' },
    storage: { dir, store_writes: storeWrites },
    rigs: Array.from({ length: rigs }, (_, i) => ({
      name: `rig-${i}`,
      address: `127.1.${(i >> 8) & 255}.${i & 255}:4028`,
    })),
  });
  // Copies made before the clock starts: a real poll hands over a fresh reading each time.
  let queue: MinerReading[] = [];
  const fill = () => {
    queue = Array.from({ length: rigs }, (_, i) => structuredClone(readings[i % readings.length]!));
  };
  let next = 0;
  const replay: MinerDriver = { family: 'antminer', poll: async () => queue[next++ % rigs]! };
  const runtime = await startCollector(config, targetsFromConfig(config), {
    log: silentLogger,
    driverFor: () => replay,
    autoStart: false,
  });
  try {
    const cpu: number[] = [];
    const main: number[] = [];
    const wall: number[] = [];
    for (let r = 0; r < rounds; r++) {
      fill();
      next = 0;
      const c0 = process.cpuUsage();
      const m0 = mainThreadCpuUs();
      const t0 = performance.now();
      await runtime.sweepNow();
      await runtime.fanout.flush(60_000);
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / rigs);
      const m1 = mainThreadCpuUs();
      if (m0 !== null && m1 !== null) main.push((m1 - m0) / rigs);
    }
    // The first round binds every rig's identity and stores each shape once: not the steady state.
    const steady = cpu.slice(1);
    return {
      rigs,
      rounds,
      store_writes: storeWrites,
      cpu_us_per_sample: Math.round(median(steady)),
      cpu_us_per_sample_all_rounds: cpu.map((x) => Math.round(x)),
      main_thread_cpu_us_per_sample: main.length === rounds ? Math.round(median(main.slice(1))) : null,
      round_wall_ms: Math.round(median(wall.slice(1))),
      sample_json_bytes: Math.round(
        readings.reduce((a, r) => a + JSON.stringify(r).length, 0) / readings.length,
      ),
      readings,
    };
  } finally {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU of this process's main thread (user + system, µs); null where there is no /proc. */
function mainThreadCpuUs(): number | null {
  try {
    return procCpuMs('self', process.pid) * 1000;
  } catch {
    return null;
  }
}
