import { type CommandPlan, finishReading, IdentityCache, runPlan } from '../braiins/driver-support.js';
import type { MinerDriver, PollTarget } from '../driver.js';
import type { MinerReading } from '../sample.js';
import { parseLuxos } from './parse.js';

// protocols.md §7 (reads need no LuxOS session). `stats` adds per-chain figures the others lack.
const PLAN: CommandPlan = {
  commands: ['summary', 'stats', 'devs', 'temps', 'fans', 'power', 'pools'],
  essential: ['summary', 'stats'],
  identity: ['version', 'profiles'],
  join: true,
};
const cache = new IdentityCache();

export const luxosDriver: MinerDriver = {
  family: 'luxos',
  async poll(target: PollTarget, signal: AbortSignal): Promise<MinerReading> {
    const outcome = await runPlan(target, PLAN, cache, signal);
    return finishReading(parseLuxos(outcome.bodies), outcome);
  },
};
