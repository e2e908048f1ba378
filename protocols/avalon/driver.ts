import { type CommandPlan, finishReading, IdentityCache, runPlan } from '../braiins/driver-support.js';
import type { MinerDriver, PollTarget } from '../driver.js';
import type { MinerReading } from '../sample.js';
import { parseAvalon } from './parse.js';

// protocols.md §7: estats (stats on builds without it), devs, pools; summary for shares and uptime.
const PLAN: CommandPlan = {
  commands: ['summary', 'estats', 'devs', 'pools'],
  essential: ['summary', 'estats'],
  identity: ['version'],
  join: true,
};
const STATS_PLAN: CommandPlan = { ...PLAN, commands: ['stats'], essential: ['stats'], identity: [] };
const cache = new IdentityCache();
const statsCache = new IdentityCache();

export const avalonDriver: MinerDriver = {
  family: 'avalon',
  async poll(target: PollTarget, signal: AbortSignal): Promise<MinerReading> {
    const outcome = await runPlan(target, PLAN, cache, signal);
    if (!('estats' in outcome.bodies)) {
      // Older builds refuse estats; stats carries the same MM ID strings.
      try {
        const more = await runPlan(target, STATS_PLAN, statsCache, signal);
        if ('stats' in more.bodies) {
          outcome.bodies['estats'] = more.bodies['stats'];
          outcome.failures = outcome.failures.filter((f) => f.command !== 'estats');
        }
      } catch {
        // keep the estats failure as the note
      }
    }
    const { estats, ...rest } = outcome.bodies;
    return finishReading(parseAvalon({ ...rest, stats: estats }), outcome);
  },
};
