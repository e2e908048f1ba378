import type { MinerDriver, PollTarget } from '../driver.js';
import type { MinerReading } from '../sample.js';
import { type CommandPlan, finishReading, IdentityCache, runPlan } from './driver-support.js';
import { parseBraiins } from './parse.js';

// protocols.md §7: one joined read; the client falls back to single commands when the firmware refuses the join.
const PLAN: CommandPlan = {
  commands: ['summary', 'devs', 'temps', 'fans', 'tunerstatus', 'pools'],
  essential: ['summary', 'devs'],
  identity: ['version', 'devdetails'],
  join: true,
};
const cache = new IdentityCache();

export const braiinsDriver: MinerDriver = {
  family: 'braiins',
  async poll(target: PollTarget, signal: AbortSignal): Promise<MinerReading> {
    const outcome = await runPlan(target, PLAN, cache, signal);
    return finishReading(parseBraiins(outcome.bodies), outcome);
  },
};
