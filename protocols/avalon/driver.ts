/**
 * Avalon driver: `estats` (older builds refuse it: `stats` carries the same MM ID strings), `devs`, `pools`, and
 * `summary` for shares and uptime (docs/protocols.md, "## Avalon").
 */
import {
  type CommandPlan,
  finishReading,
  IdentityCache,
  type MinerDriver,
  RefusalMemory,
  runPlan,
} from '../kit/index.js';
import { parseAvalon } from './parse.js';
import { recognize } from './recognize.js';

export const AVALON_PLAN: CommandPlan = {
  commands: ['summary', 'estats', 'devs', 'pools'],
  essential: ['summary', 'estats', 'stats'],
  identity: ['version'],
  // Joins: a real joined reply was captured (protocols/fixtures/real/avalon_1047_summary-stats-pools.txt).
  join: true,
  fallbacks: { estats: ['stats'] },
  recognize,
};

export function createAvalonDriver(): MinerDriver {
  const cache = new IdentityCache();
  const refusals = new RefusalMemory();
  return {
    family: 'avalon',
    async poll(target, signal) {
      const outcome = await runPlan(target, AVALON_PLAN, cache, signal, refusals);
      const { estats, stats, ...rest } = outcome.bodies;
      return finishReading(parseAvalon({ ...rest, stats: estats ?? stats }), outcome);
    },
  };
}
