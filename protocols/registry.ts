/**
 * Which driver reads which rig, built from the one ordered family list (`families.ts`). `driverFor(family)`
 * gives the configured family's driver; `driverFor('auto')` identifies each host:port through `detectFamily` —
 * the same path `rigtel scan` uses — caches the family, polls with that family's driver, and identifies again
 * every IDENTITY_EVERY polls so a firmware swap is noticed. A host that answers but that no family claims reads
 * as `unsupported` with its raw replies kept; only a host that answers nothing is an error.
 */
import type { MinerDriver, PollTarget } from './driver.js';
import { ProtoErrors } from './errors.js';
import { FAMILY_ORDER } from './families.js';
import { type Detection, detectFamily } from './identify.js';
import { finishReading, IDENTITY_EVERY, SIGNATURE_LOST, UNKNOWN_FIRMWARE } from './kit/index.js';
import { emptyReading, type Family, type MinerReading } from './sample.js';

/** One driver instance per family, in detection order. */
export function createDrivers(): Map<Family, MinerDriver> {
  return new Map(FAMILY_ORDER.map((f) => [f.family as Family, f.createDriver()]));
}

function addr(target: PollTarget): string {
  return `${target.host}:${target.port}`;
}

/** Identification of one poll target: the one path scan, poll and the collector's `auto` share. */
export function detectTarget(target: PollTarget, signal: AbortSignal): Promise<Detection> {
  return detectFamily(target.host, target.port, signal, {
    connectTimeoutMs: target.connectTimeoutMs,
    deadlineMs: target.commandTimeoutMs,
    maxBytes: target.maxReplyBytes,
    httpOnSamePort: true,
  });
}

/** The reading of a host that answered but that no family claims: `unsupported`, its replies kept. */
export function unsupportedReading(d: Detection): MinerReading {
  const r = emptyReading('unknown');
  r.support = 'unsupported';
  r.state = 'error';
  r.identity.make = d.make;
  r.identity.model = d.model;
  r.identity.firmware = d.firmware;
  r.identity.mac = d.mac;
  r.notes.push(`not identified: ${d.evidence.join('; ')}`);
  return finishReading(r, { bodies: d.replies, repairs: [], failures: [] });
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

export function createAutoDriver(drivers: Map<Family, MinerDriver> = createDrivers()): AutoDriver {
  /** Per address: the family, polls since it was cached, and whether a doubt was already checked. */
  const cache = new Map<string, { family: Family; polls: number; confirmed: boolean }>();

  async function detect(target: PollTarget, signal: AbortSignal): Promise<Detection> {
    const key = addr(target);
    const polls = cache.get(key)?.polls ?? 0;
    cache.delete(key);
    const d = await detectTarget(target, signal);
    if (d.family !== 'unknown' && drivers.has(d.family))
      cache.set(key, { family: d.family, polls, confirmed: false });
    return d;
  }

  return {
    family: 'unknown',
    familyOf: (address) => cache.get(address)?.family ?? null,
    forget: (address) => {
      cache.delete(address);
    },
    async poll(target, signal) {
      const key = addr(target);
      let entry = cache.get(key);
      let changedFrom: Family | null = null;
      let detectedNow = false;
      if (entry && entry.polls > 0 && entry.polls % IDENTITY_EVERY === 0) {
        // Identify again now and then: a rig re-flashed to another firmware is read by the right driver.
        const before = entry.family;
        const d = await detect(target, signal).catch(() => null);
        detectedNow = true;
        entry = cache.get(key);
        if (d && d.family !== 'unknown' && d.family !== before) changedFrom = before;
      }
      if (!entry) {
        const d = await detect(target, signal);
        detectedNow = true;
        entry = cache.get(key);
        if (!entry) {
          if (d.via === null)
            throw d.failure ?? ProtoErrors.unsupported(`${key}: no reply rigtel recognises`);
          return unsupportedReading(d);
        }
      }
      entry.polls++;
      let reading: MinerReading;
      try {
        reading = await drivers.get(entry.family)!.poll(target, signal);
      } catch (err) {
        if (suggestsWrongFamily(err)) cache.delete(key);
        throw err;
      }
      const doubt = reading.notes.some((n) => n.startsWith(SIGNATURE_LOST) || n.startsWith(UNKNOWN_FIRMWARE));
      if (doubt && !detectedNow && !entry.confirmed) {
        // This poll's replies no longer look like the cached family: identify now rather than at the next
        // scheduled check. A rig whose firmware stays unknown is then left to the schedule.
        const before = entry.family;
        const d = await detect(target, signal);
        const now = cache.get(key);
        if (!now) return d.via === null ? reading : unsupportedReading(d);
        now.confirmed = now.family === before;
        if (now.family !== before) {
          changedFrom = before;
          now.polls++;
          reading = await drivers.get(now.family)!.poll(target, signal);
          entry = now;
        }
      }
      if (changedFrom) {
        if (reading.support === 'full') reading.support = 'partial';
        reading.notes.push(
          `family signature changed from ${changedFrom} to ${entry.family}: read with the ${entry.family} driver`,
        );
      }
      return reading;
    },
  };
}

const drivers = createDrivers();
const autoDriver = createAutoDriver(drivers);

/** The driver for a configured family; 'auto' (and 'unknown') identify per address. */
export function driverFor(family: Family | 'auto'): MinerDriver {
  if (family === 'auto' || family === 'unknown') return autoDriver;
  const driver = drivers.get(family);
  if (!driver) throw ProtoErrors.unsupported(`no driver for family ${family}`);
  return driver;
}

/** One poll of one target with the driver its family calls for (the CLI's `rigtel poll`). */
export function pollOnce(target: PollTarget, signal: AbortSignal): Promise<MinerReading> {
  return driverFor(target.family).poll(target, signal);
}
