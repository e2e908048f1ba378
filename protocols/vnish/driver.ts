import { type CommandPlan, finishReading, IdentityCache, runPlan } from '../braiins/driver-support.js';
import type { MinerDriver, PollTarget } from '../driver.js';
import type { MinerReading } from '../sample.js';
import { parseVnish } from './parse.js';

// The 4028 cgminer API (VNish's HTTP API needs a password-unlocked token; not used yet).
const PLAN: CommandPlan = {
  commands: ['summary', 'stats', 'pools'],
  essential: ['summary', 'stats'],
  identity: ['version'],
  join: true,
};
const cache = new IdentityCache();

export const vnishDriver: MinerDriver = {
  family: 'vnish',
  async poll(target: PollTarget, signal: AbortSignal): Promise<MinerReading> {
    const outcome = await runPlan(target, PLAN, cache, signal);
    return finishReading(parseVnish(outcome.bodies), outcome);
  },
};
