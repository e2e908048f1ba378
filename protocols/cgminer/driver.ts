/**
 * Plain cgminer / bfgminer driver (port 4028): `summary+devs+pools+version` joined (fallback to single commands).
 * `summary` refused → `stats` and `devdetails` are asked instead, and the devices' own rates stand in for the
 * total (docs/protocols.md, "## cgminer API framing").
 */
import {
  type CommandPlan,
  finishReading,
  type MinerDriver,
  type PlanOutcome,
  RefusalMemory,
  runPlan,
} from '../kit/index.js';
import type { MinerReading } from '../sample.js';
import { parseCgminer } from './parse.js';
import { recognize } from './recognize.js';

export const CGMINER_PLAN: CommandPlan = {
  commands: ['summary', 'devs', 'pools', 'version'],
  essential: ['summary', 'devs'],
  join: true,
  fallbacks: { summary: ['stats', 'devdetails'] },
  recognize,
};

/** Pure: the reading for what a plan brought back. */
export function cgminerReadingFrom(outcome: PlanOutcome): MinerReading {
  const b = outcome.bodies;
  const reading = parseCgminer({
    version: b['version'],
    summary: b['summary'],
    devs: b['devs'],
    pools: b['pools'],
  });
  return finishReading(reading, outcome);
}

export function createCgminerDriver(): MinerDriver {
  const refusals = new RefusalMemory();
  return {
    family: 'cgminer',
    async poll(target, signal) {
      return cgminerReadingFrom(await runPlan(target, CGMINER_PLAN, null, signal, refusals));
    },
  };
}
