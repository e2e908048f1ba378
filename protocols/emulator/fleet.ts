/**
 * An emulated fleet on loopback: with no miners configured, `npm start` starts one so a newcomer sees live
 * figures at once; tests and benchmarks poll it to exercise the real client. Each rig is a real TCP server
 * replaying real miner replies (protocols/emulator).
 */
import { EmuErrors } from './errors.js';
import { type EmulatedRig, startEmulatedRig } from './server.js';

export type FleetMix = 'antminer' | 'mixed';

export interface FleetOptions {
  count: number;
  /** Loopback address (default 127.0.0.1). */
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

/** Start `count` rigs named emu-001…; on any failure the ones already started are closed before the error is thrown. */
export async function startEmulatedFleet(opts: FleetOptions): Promise<EmulatedFleet> {
  const { count } = opts;
  if (!Number.isInteger(count) || count < 1 || count > 20_000) throw EmuErrors.badFleetSize(count);
  const hosts = opts.hosts?.length ? opts.hosts : [opts.host ?? '127.0.0.1'];
  const basePort = opts.basePort ?? 0;
  const mix = opts.mix ?? 'mixed';
  const seed = opts.seed ?? 1;
  const rigs: EmulatedRig[] = [];
  const stop = async () => {
    await Promise.all(rigs.map((r) => r.close()));
  };
  // In batches, settling each whole batch so no rig is left listening when a sibling fails.
  const batch = 200;
  for (let start = 0; start < count; start += batch) {
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(batch, count - start) }, (_, k) => {
        const i = start + k;
        return startEmulatedRig({
          personality: fleetPersonality(mix, i),
          host: hosts[i % hosts.length] as string,
          port: basePort === 0 ? 0 : basePort + Math.floor(i / hosts.length),
          seed: (seed * 1_000_003 + i) >>> 0,
          name: rigName(i),
          ...(opts.rebootProbability !== undefined ? { rebootProbability: opts.rebootProbability } : {}),
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
