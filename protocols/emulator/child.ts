/**
 * An emulated fleet in separate processes, for benchmarks: rigs served from other processes so the collector's
 * own CPU is measured alone. The parent forks this file with `--import tsx` and talks over IPC. With
 * `processes: n` each of n children serves a contiguous share of the fleet (same names, personalities, seeds
 * and addresses as one process would give them), so the emulator's work spreads over cores and each child
 * starts its share at the same time.
 *
 * File descriptors: each rig holds one listening socket, plus one per open client connection. 10,000 rigs per
 * process fit under the usual `ulimit -n` (20,000 on the build box) with room for their connections, hence
 * the default of one process per 10,000 rigs; a child reports its limit problem (EMFILE) as
 * RT_ERR_EMU_LISTEN instead of dying.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RtError } from '../../lib/errors.js';
import type { Family } from '../sample.js';
import { EmuErrors } from './errors.js';
import { type EmulatedFleet, type FleetOptions, fleetHosts, startEmulatedFleet } from './fleet.js';
import type { LatencyOptions } from './latency.js';
import type { FaultMode, FaultOptions } from './server.js';

export interface ChildFleetOptions extends FleetOptions {
  /** How long to wait for the children to start every rig (default 60 s). */
  startTimeoutMs?: number;
  /** Emulator processes sharing the fleet (default one per 10,000 rigs). */
  processes?: number;
}

export interface ChildRig {
  name: string;
  address: string;
  host: string;
  port: number;
  family: Family;
  personality: string;
  protocol: string;
}

export interface ChildFleet {
  rigs: ChildRig[];
  /** The first child's pid (`pids` lists them all). */
  pid: number;
  pids: number[];
  /** Set a fault mode on some rigs (by name) or, with no names, on all of them. */
  setFault(mode: FaultMode, names?: string[], options?: FaultOptions): Promise<void>;
  /** Set the added reply latency (null: none) on some rigs (by name) or, with no names, on all of them. */
  setLatency(latency: LatencyOptions | null, names?: string[]): Promise<void>;
  /** CPU and memory the emulator process has used so far (to keep it apart from the collector's own). */
  usage(): Promise<ChildUsage>;
  stop(): Promise<void>;
}

export interface ChildUsage {
  cpu_user_ms: number;
  cpu_system_ms: number;
  rss_bytes: number;
  /** Commands answered by all rigs. */
  commands: number;
  /** TCP connections accepted by all rigs. */
  connections: number;
}

type ToChild =
  | { type: 'start'; opts: ChildFleetOptions }
  | { type: 'fault'; id: number; mode: FaultMode; names?: string[]; options?: FaultOptions }
  | { type: 'latency'; id: number; latency: LatencyOptions | null; names?: string[] }
  | { type: 'usage'; id: number }
  | { type: 'stop' };

type FromChild =
  | { type: 'ready'; rigs: ChildRig[] }
  | { type: 'error'; code: string; message: string }
  | { type: 'fault-done'; id: number; error?: string }
  | { type: 'usage'; id: number; usage: ChildUsage }
  | { type: 'stopped' };

const here = fileURLToPath(import.meta.url);
const repoRoot = resolve(dirname(here), '..', '..');

/** Start the fleet in `processes` children (each a share of the rigs); any failure stops them all. */
export async function spawnEmulatorProcess(opts: ChildFleetOptions): Promise<ChildFleet> {
  const { count } = opts;
  if (!Number.isInteger(count) || count < 1 || count > 100_000) throw EmuErrors.badFleetSize(count);
  const n = Math.max(1, Math.min(count, Math.floor(opts.processes ?? Math.ceil(count / 10_000))));
  if (n === 1) return spawnOne(opts);
  // Addresses are resolved for the whole fleet, so a share spreads like the fleet would.
  const hosts = fleetHosts(opts);
  const first = opts.first ?? 0;
  const per = Math.ceil(count / n);
  const shares = Array.from({ length: n }, (_, k) => ({
    ...opts,
    hosts,
    first: first + k * per,
    count: Math.min(per, count - k * per),
  })).filter((o) => o.count > 0);
  const settled = await Promise.allSettled(shares.map((o) => spawnOne(o)));
  const children = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(children.map((c) => c.stop()));
    throw failed.reason;
  }
  return {
    rigs: children.flatMap((c) => c.rigs),
    pid: children[0]!.pid,
    pids: children.map((c) => c.pid),
    // Each child applies it to the named rigs it serves.
    setFault: async (mode, names, options) => {
      await Promise.all(children.map((c) => c.setFault(mode, names, options)));
    },
    setLatency: async (latency, names) => {
      await Promise.all(children.map((c) => c.setLatency(latency, names)));
    },
    usage: async () => {
      const all = await Promise.all(children.map((c) => c.usage()));
      return {
        cpu_user_ms: all.reduce((a, u) => a + u.cpu_user_ms, 0),
        cpu_system_ms: all.reduce((a, u) => a + u.cpu_system_ms, 0),
        rss_bytes: all.reduce((a, u) => a + u.rss_bytes, 0),
        commands: all.reduce((a, u) => a + u.commands, 0),
        connections: all.reduce((a, u) => a + u.connections, 0),
      };
    },
    stop: async () => {
      await Promise.all(children.map((c) => c.stop()));
    },
  };
}

function spawnOne(opts: ChildFleetOptions): Promise<ChildFleet> {
  const child: ChildProcess = fork(here, [], {
    cwd: repoRoot,
    // BENCH_PROFILE_DIR=<dir>: each emulator process writes a CPU profile there too (the benches profile theirs).
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_PROFILE_DIR
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((res) => {
    if (child.exitCode !== null || child.signalCode !== null) res();
    else child.once('exit', () => res());
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v?: unknown) => void; reject: (e: Error) => void }>();
  const call = <T>(build: (id: number) => ToChild): Promise<T> =>
    new Promise<T>((res, rej) => {
      if (!child.connected) {
        rej(EmuErrors.child('not running'));
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve: res as (v?: unknown) => void, reject: rej });
      child.send(build(id));
    });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      if (child.connected) child.send({ type: 'stop' } satisfies ToChild);
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    for (const p of pending.values()) p.reject(EmuErrors.child('stopped'));
    pending.clear();
  };

  return new Promise<ChildFleet>((resolveStart, rejectStart) => {
    let started = false;
    const fail = (err: Error) => {
      if (started) return;
      started = true;
      clearTimeout(startTimer);
      void stop().then(() => rejectStart(err));
    };
    const startTimer = setTimeout(
      () =>
        fail(
          EmuErrors.child(`fleet of ${opts.count} did not start within ${opts.startTimeoutMs ?? 60_000} ms`),
        ),
      opts.startTimeoutMs ?? 60_000,
    );
    child.on('message', (raw) => {
      const msg = raw as FromChild;
      if (msg.type === 'ready' && !started) {
        started = true;
        clearTimeout(startTimer);
        resolveStart({
          rigs: msg.rigs,
          pid: child.pid ?? -1,
          pids: [child.pid ?? -1],
          stop,
          setFault: (mode, names, options) =>
            call<void>((id) => ({
              type: 'fault',
              id,
              mode,
              ...(names ? { names } : {}),
              ...(options ? { options } : {}),
            })),
          setLatency: (latency, names) =>
            call<void>((id) => ({ type: 'latency', id, latency, ...(names ? { names } : {}) })),
          usage: () => call<ChildUsage>((id) => ({ type: 'usage', id })),
        });
      } else if (msg.type === 'error') {
        fail(new RtError(msg.code, msg.message));
      } else if (msg.type === 'fault-done') {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(EmuErrors.child(msg.error));
        else p?.resolve();
      } else if (msg.type === 'usage') {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        p?.resolve(msg.usage);
      }
    });
    child.once('error', (err) => fail(EmuErrors.child.with({ cause: err }, err.message)));
    child.once('exit', (code, signal) => {
      fail(
        EmuErrors.child(
          `exited before the fleet was ready (code ${code ?? 'none'}, signal ${signal ?? 'none'})`,
        ),
      );
      for (const p of pending.values()) p.reject(EmuErrors.child('exited'));
      pending.clear();
    });
    child.send({ type: 'start', opts } satisfies ToChild);
  });
}

/** Child side: runs when this file is the forked process's entry point. */
function runChild(): void {
  let fleet: EmulatedFleet | null = null;
  let stopping = false;
  const send = (m: FromChild) => {
    if (process.connected) process.send?.(m);
  };
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await fleet?.stop();
    send({ type: 'stopped' });
    process.exit(0);
  };
  process.on('message', (raw) => {
    const msg = raw as ToChild;
    if (msg.type === 'start') {
      const { startTimeoutMs: _ignored, processes: _one, ...fleetOpts } = msg.opts;
      startEmulatedFleet(fleetOpts).then(
        (f) => {
          fleet = f;
          if (stopping) return void f.stop();
          send({
            type: 'ready',
            rigs: f.rigs.map((r) => ({
              name: r.name,
              address: r.address,
              host: r.host,
              port: r.port,
              family: r.family,
              personality: r.personality,
              protocol: r.protocol,
            })),
          });
        },
        (err: unknown) => {
          send({
            type: 'error',
            code: err instanceof RtError ? err.code : 'RT_ERR_EMU_CHILD',
            message: err instanceof Error ? err.message : String(err),
          });
        },
      );
    } else if (msg.type === 'fault') {
      const wanted = msg.names ? new Set(msg.names) : null;
      const rigs = (fleet?.rigs ?? []).filter((r) => !wanted || wanted.has(r.name));
      Promise.all(rigs.map((r) => r.setFault(msg.mode, msg.options))).then(
        () => send({ type: 'fault-done', id: msg.id }),
        (err: unknown) =>
          send({ type: 'fault-done', id: msg.id, error: err instanceof Error ? err.message : String(err) }),
      );
    } else if (msg.type === 'latency') {
      const wanted = msg.names ? new Set(msg.names) : null;
      for (const r of fleet?.rigs ?? []) if (!wanted || wanted.has(r.name)) r.setLatency(msg.latency);
      send({ type: 'fault-done', id: msg.id });
    } else if (msg.type === 'usage') {
      const cpu = process.cpuUsage();
      let commands = 0;
      let connections = 0;
      for (const r of fleet?.rigs ?? []) {
        const st = r.stats();
        commands += st.commands;
        connections += st.connections;
      }
      send({
        type: 'usage',
        id: msg.id,
        usage: {
          cpu_user_ms: cpu.user / 1000,
          cpu_system_ms: cpu.system / 1000,
          rss_bytes: process.memoryUsage().rss,
          commands,
          connections,
        },
      });
    } else if (msg.type === 'stop') {
      void shutdown();
    }
  });
  // The parent went away (crash, test runner killed): do not outlive it.
  process.on('disconnect', () => void shutdown());
}

if (process.send && process.argv[1] && resolve(process.argv[1]) === here) runChild();
