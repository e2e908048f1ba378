/**
 * Antminer driver (stock bmminer and its clones on port 4028): `stats` + `pools` (+ `version` every
 * IDENTITY_EVERY polls), joined in one request where the firmware takes joins, single commands where it refuses
 * them (remembered per rig: kit/refusals.ts); `stats` refused → `summary` still gives hashrate and shares
 * (docs/protocols.md, "## Antminer": stock api-groups allow exactly stats, pools, devs, summary, version).
 */
import {
  type CommandPlan,
  digestReplies,
  finishReading,
  IdentityCache,
  type MinerDriver,
  type PlanOutcome,
  RefusalMemory,
  runPlan,
  UNKNOWN_FIRMWARE,
} from '../kit/index.js';
import type { MinerReading } from '../sample.js';
import { parseAntminer } from './parse.js';
import { recognize } from './recognize.js';

export const ANTMINER_PLAN: CommandPlan = {
  commands: ['stats', 'pools'],
  essential: ['stats', 'summary'],
  // The stats header repeats the model and firmware; version is identity (every IDENTITY_EVERY polls).
  identity: ['version'],
  join: true,
  fallbacks: { stats: ['summary'] },
  recognize,
};

/** Pure: the reading for what a plan brought back (what the driver does after the network part). */
export function antminerReadingFrom(outcome: PlanOutcome): MinerReading {
  const b = outcome.bodies;
  const reading = parseAntminer({
    version: b['version'],
    stats: b['stats'],
    pools: b['pools'],
    summary: b['summary'],
  });
  // A reply with the Antminer shape but firmware rigtel does not know is read, but not trusted as stock.
  const id = recognize(digestReplies({ version: b['version'], stats: b['stats'] }));
  if (id?.unknown_firmware) {
    reading.notes.push(`${UNKNOWN_FIRMWARE} ${id.unknown_firmware}`);
    if (reading.support === 'full') reading.support = 'partial';
  }
  return finishReading(reading, outcome);
}

export function createAntminerDriver(): MinerDriver {
  const cache = new IdentityCache();
  const refusals = new RefusalMemory();
  return {
    family: 'antminer',
    async poll(target, signal) {
      return antminerReadingFrom(await runPlan(target, ANTMINER_PLAN, cache, signal, refusals));
    },
  };
}
