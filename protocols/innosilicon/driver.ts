import { type CommandPlan, finishReading, IdentityCache, runPlan } from '../braiins/driver-support.js';
import type { MinerDriver, PollTarget } from '../driver.js';
import type { MinerReading } from '../sample.js';
import { parseInnosilicon } from './parse.js';

const PLAN: CommandPlan = {
  commands: ['summary', 'stats', 'pools'],
  essential: ['summary', 'stats'],
  identity: ['version'],
  join: false,
};
const cache = new IdentityCache();

export const innosiliconDriver: MinerDriver = {
  family: 'innosilicon',
  async poll(target: PollTarget, signal: AbortSignal): Promise<MinerReading> {
    const outcome = await runPlan(target, PLAN, cache, signal);
    return finishReading(parseInnosilicon(outcome.bodies), outcome);
  },
};
