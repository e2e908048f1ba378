/**
 * An emulated fleet on loopback: with no miners configured, `npm start` starts one so a newcomer sees live
 * figures at once; tests and benchmarks poll it to exercise the real client. Each rig is a real TCP server
 * replaying real miner replies (protocols/emulator).
 */
import { EmuErrors } from './errors.js';
import { hangsAt, type LatencyOptions } from './latency.js';
import { type EmulatedRig, startEmulatedRig } from './server.js';

export type FleetMix = 'antminer' | 'mixed';

export interface FleetOptions {
  count: number;
  /**
   * Loopback address (default 127.0.0.1; with ephemeral ports and over `SPREAD_ABOVE` rigs, `spreadHosts(count)`:
   * Linux finds a free ephemeral port for the n-th listener on one address in time growing with n, so 10,000
   * listeners on 127.0.0.1 took 10–20 s of kernel time, and 40 per address take well under a second).
   */
  host?: string;
  /**
   * Several loopback addresses (e.g. 127.0.1.1 … 127.0.1.250; Linux routes all of 127/8 to lo): rig i listens on
   * hosts[i % n], so with `basePort` 4028 every rig can sit on 4028 like a real farm. Overrides `host`.
   */
  hosts?: string[];
  /** 0 = an ephemeral port per rig; otherwise rig i listens on basePort + i (basePort + ⌊i / hosts⌋ with `hosts`). */
  basePort?: number;
  mix?: FleetMix;
  seed?: number;
  /** Chance per reply that a rig reboots (default 0). */
  rebootProbability?: number;
  /**
   * Index of the first rig (default 0): a process serving rigs `first`…`first + count − 1` of a larger fleet
   * gives them the same names, personalities, seeds, addresses and hung set as one process serving them all.
   */
  first?: number;
  /** Added reply latency on every rig (none by default). */
  latency?: LatencyOptions;
  /** Fraction of the rigs (chosen by `hangsAt`, seeded) that start in fault mode `hang` (default 0). */
  hangFraction?: number;
}

export interface EmulatedFleet {
  rigs: EmulatedRig[];
  stop(): Promise<void>;
}

/** Stock Antminer personalities whose parsers come first: S19 Pro, S19, S9 (and a few siblings). */
const ANTMINER_CYCLE = [
  'antminer-s19pro-cold',
  'antminer-s19pro',
  'antminer-s9',
  'antminer-s19pro-hot',
  'antminer-s9asicseer',
  'antminer-s17pro',
  'antminer-s19',
  'antminer-s9k',
  'antminer-s21xphyd',
  'antminer-s9hiveon',
];

/**
 * Mostly Antminer S19 Pro / S19 / S9, then one of each other family. The real captures include odd states on
 * purpose (overheating S19 Pros with `GHS 5s` 0, a sleeping S19, an S9 with a -83 °C sensor), so a demo shows
 * what a real site shows. The Whatsminer v3 personality is left out: a v3 client looks for it on port 4433,
 * which a fleet of consecutive ports cannot give every rig.
 */
const MIXED_CYCLE = [
  'antminer-s19pro-cold',
  'antminer-s9',
  'antminer-s19pro',
  'antminer-s17pro',
  'whatsminer-m30s',
  'antminer-s9asicseer',
  'antminer-s19pro-cold',
  'antminer-s21xphyd',
  'braiins-s9plus',
  'antminer-s19',
  'whatsminer-m31s',
  'antminer-s9hiveon',
  'antminer-s19pro-cold',
  'avalon-1047',
  'antminer-s19pro-hot',
  'luxos-s19kpro',
  'antminer-s9k',
  'vnish-s17plus',
  'antminer-s19pro-cold',
  'whatsminer-m20s',
  'antminer-s17plus',
  'bitaxe-supra',
  'antminer-s9',
  'whatsminer-m30s',
];

export function fleetPersonality(mix: FleetMix, index: number): string {
  const cycle = mix === 'antminer' ? ANTMINER_CYCLE : MIXED_CYCLE;
  return cycle[index % cycle.length] as string;
}

export function rigName(index: number): string {
  return `emu-${String(index + 1).padStart(3, '0')}`;
}

/** Above this many rigs on ephemeral ports with no address given, a fleet spreads over `spreadHosts`. */
export const SPREAD_ABOVE = 1000;
const RIGS_PER_SPREAD_HOST = 40;

/**
 * Loopback addresses 127.0.1.1, 127.0.1.2, … 127.0.1.250, 127.0.2.1, … enough for ~40 rigs each: listeners
 * on ephemeral ports stay cheap to open, and many rigs on many addresses look more like a farm anyway.
 */
export function spreadHosts(count: number): string[] {
  const n = Math.max(1, Math.ceil(count / RIGS_PER_SPREAD_HOST));
  return Array.from({ length: n }, (_, k) => `127.0.${1 + Math.floor(k / 250)}.${1 + (k % 250)}`);
}

/** The addresses a fleet listens on: `hosts`, else `host`, else spread when large and on ephemeral ports. */
export function fleetHosts(opts: Pick<FleetOptions, 'count' | 'host' | 'hosts' | 'basePort'>): string[] {
  if (opts.hosts?.length) return opts.hosts;
  if (opts.host !== undefined) return [opts.host];
  if ((opts.basePort ?? 0) === 0 && opts.count > SPREAD_ABOVE) return spreadHosts(opts.count);
  return ['127.0.0.1'];
}

/** Start `count` rigs named emu-001…; on any failure the ones already started are closed before the error is thrown. */
export async function startEmulatedFleet(opts: FleetOptions): Promise<EmulatedFleet> {
  const { count } = opts;
  if (!Number.isInteger(count) || count < 1 || count > 20_000) throw EmuErrors.badFleetSize(count);
  const first = Math.max(0, Math.floor(opts.first ?? 0));
  const hosts = fleetHosts(opts);
  const basePort = opts.basePort ?? 0;
  const mix = opts.mix ?? 'mixed';
  const seed = opts.seed ?? 1;
  const hangFraction = opts.hangFraction ?? 0;
  const rigs: EmulatedRig[] = [];
  const stop = async () => {
    await Promise.all(rigs.map((r) => r.close()));
  };
  // In batches, settling each whole batch so no rig is left listening when a sibling fails.
  const batch = 200;
  for (let start = 0; start < count; start += batch) {
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(batch, count - start) }, (_, k) => {
        const i = first + start + k;
        return startEmulatedRig({
          personality: fleetPersonality(mix, i),
          host: hosts[i % hosts.length] as string,
          port: basePort === 0 ? 0 : basePort + Math.floor(i / hosts.length),
          seed: (seed * 1_000_003 + i) >>> 0,
          name: rigName(i),
          ...(opts.rebootProbability !== undefined ? { rebootProbability: opts.rebootProbability } : {}),
          ...(opts.latency ? { latency: opts.latency } : {}),
          ...(hangsAt(seed, i, hangFraction) ? { fault: 'hang' as const } : {}),
        });
      }),
    );
    let failure: unknown = null;
    // Settled in start order, so rigs[i] is emu-(i+1).
    for (const s of settled) {
      if (s.status === 'fulfilled') rigs.push(s.value);
      else failure ??= s.reason;
    }
    if (failure !== null) {
      await stop();
      throw failure;
    }
  }
  return { rigs, stop };
}
