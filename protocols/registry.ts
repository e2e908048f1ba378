/**
 * Which driver reads which rig. `driverFor(family)` gives the configured family's driver; `driverFor('auto')`
 * gives a driver that detects the family once per host:port (`version`, and `devdetails` only when `version`
 * is not conclusive), caches it, and re-checks the family signature on every poll so a firmware swap is noticed
 * (protocols.md §5.2, §7).
 */
import { RtError } from '../lib/errors.js';
import { pollAntminer } from './antminer/driver.js';
import { avalonDriver } from './avalon/driver.js';
import { bitaxeDriver } from './bitaxe/driver.js';
import { braiinsDriver } from './braiins/driver.js';
import { cgminerRequest } from './cgminer/client.js';
import { pollCgminer } from './cgminer/driver.js';
import type { MinerDriver, PollTarget } from './driver.js';
import { ProtoErrors } from './errors.js';
import { detectFamily, type Identification, identify } from './identify.js';
import { innosiliconDriver } from './innosilicon/driver.js';
import { luxosDriver } from './luxos/driver.js';
import type { Family, MinerReading } from './sample.js';
import { vnishDriver } from './vnish/driver.js';
import { whatsminerDriver } from './whatsminer/driver.js';

type Polled = { reading: MinerReading; versionBody: unknown };

/** Antminer and plain cgminer drivers that also hand back their `version` reply for the signature re-check. */
const antminerDriver: MinerDriver & { pollFull(t: PollTarget, s: AbortSignal): Promise<Polled> } = {
  family: 'antminer',
  async pollFull(target, signal) {
    const { reading, results } = await pollAntminer(target, signal);
    const v = results['version'];
    return { reading, versionBody: v?.ok ? v.body : undefined };
  },
  async poll(target, signal) {
    return (await this.pollFull(target, signal)).reading;
  },
};

const cgminerDriver: MinerDriver & { pollFull(t: PollTarget, s: AbortSignal): Promise<Polled> } = {
  family: 'cgminer',
  async pollFull(target, signal) {
    const { reading, results } = await pollCgminer(target, signal);
    const v = results['version'];
    return { reading, versionBody: v?.ok ? v.body : undefined };
  },
  async poll(target, signal) {
    return (await this.pollFull(target, signal)).reading;
  },
};

/**
 * The family → driver list. Detection precedence (aftermarket firmware before stock) lives in identify.ts; this
 * table only says who reads a family once it is known. New families are added here (one line each).
 */
const DRIVERS: Partial<Record<Family, MinerDriver>> = {
  antminer: antminerDriver,
  cgminer: cgminerDriver,
  whatsminer: whatsminerDriver,
  avalon: avalonDriver,
  braiins: braiinsDriver,
  luxos: luxosDriver,
  vnish: vnishDriver,
  innosilicon: innosiliconDriver,
  bitaxe: bitaxeDriver,
};

const WEB_PORTS = new Set([80, 8080]);

function addr(target: PollTarget): string {
  return `${target.host}:${target.port}`;
}

/** Detection on one cgminer-style port: `version`, then `devdetails` only if `version` did not settle it. */
export async function detectCgminerFamily(target: PollTarget, signal: AbortSignal): Promise<Identification> {
  if (WEB_PORTS.has(target.port)) {
    return detectFamily(target.host, target.port, signal, {
      connectTimeoutMs: target.connectTimeoutMs,
      deadlineMs: target.commandTimeoutMs,
      maxBytes: target.maxReplyBytes,
    });
  }
  const version = (await cgminerRequest(target, { command: 'version' }, signal)).value;
  let id = identify({ version });
  if (id.family === 'unknown' || id.confidence === 'low') {
    try {
      const devdetails = (await cgminerRequest(target, { command: 'devdetails' }, signal)).value;
      id = identify({ version, devdetails });
    } catch (err) {
      if (!(err instanceof RtError)) throw err;
      // devdetails is denied on stock Antminer (Code 45, protocols.md §1.5): version alone decides.
    }
  }
  return id;
}

export interface AutoDriver extends MinerDriver {
  /** The family currently cached for an address, if detected. */
  familyOf(address: string): Family | null;
  /** Forget a detection (next poll detects again). */
  forget(address: string): void;
}

/** Errors after which the cached family may be wrong: the reply was not what that family's driver expects. */
function suggestsWrongFamily(err: unknown): boolean {
  return (
    ProtoErrors.decode.is(err) ||
    ProtoErrors.unsupported.is(err) ||
    ProtoErrors.status.is(err) ||
    ProtoErrors.accessDenied.is(err)
  );
}

export function createAutoDriver(): AutoDriver {
  const cache = new Map<string, Family>();

  async function detect(target: PollTarget, signal: AbortSignal): Promise<Family> {
    const id = await detectCgminerFamily(target, signal);
    if (id.family === 'unknown' || !DRIVERS[id.family]) {
      throw ProtoErrors.unsupported(`${addr(target)}: ${id.evidence.join('; ') || 'no recognisable reply'}`);
    }
    cache.set(addr(target), id.family);
    return id.family;
  }

  return {
    family: 'unknown',
    familyOf: (address) => cache.get(address) ?? null,
    forget: (address) => {
      cache.delete(address);
    },
    async poll(target, signal) {
      const key = addr(target);
      const family = cache.get(key) ?? (await detect(target, signal));
      const driver = DRIVERS[family]!;
      let reading: MinerReading;
      let versionBody: unknown;
      try {
        if (driver === antminerDriver || driver === cgminerDriver) {
          ({ reading, versionBody } = await (driver as typeof antminerDriver).pollFull(target, signal));
        } else reading = await driver.poll(target, signal);
      } catch (err) {
        if (suggestsWrongFamily(err)) cache.delete(key);
        throw err;
      }
      // Signature re-check: the version reply of this very poll (antminer/cgminer), or what the driver says.
      let seen: Family | null = null;
      if (versionBody !== undefined) {
        const id = identify({ version: versionBody });
        if (id.family !== 'unknown' && id.confidence !== 'low') seen = id.family;
      } else if (reading.identity.family !== 'unknown') seen = reading.identity.family;
      if (seen && seen !== family && DRIVERS[seen]) {
        cache.set(key, seen);
        reading.support = reading.support === 'full' ? 'partial' : reading.support;
        reading.notes.push(
          `family signature changed from ${family} to ${seen}; the next poll uses the ${seen} driver`,
        );
      }
      return reading;
    },
  };
}

const autoDriver = createAutoDriver();

/** The driver for a configured family; 'auto' (and 'unknown') detect per address. */
export function driverFor(family: Family | 'auto'): MinerDriver {
  if (family === 'auto' || family === 'unknown') return autoDriver;
  const driver = DRIVERS[family];
  if (!driver) throw ProtoErrors.unsupported(`no driver for family ${family}`);
  return driver;
}

/** One poll of one target with the driver its family calls for (the CLI's `rigtel poll`). */
export function pollOnce(target: PollTarget, signal: AbortSignal): Promise<MinerReading> {
  return driverFor(target.family).poll(target, signal);
}
