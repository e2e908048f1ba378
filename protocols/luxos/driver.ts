/**
 * LuxOS driver: reads need no LuxOS session; `stats` adds per-chain figures the others lack
 * (docs/protocols.md, "## LuxOS").
 */
import {
  type CommandPlan,
  finishReading,
  IdentityCache,
  type MinerDriver,
  RefusalMemory,
  runPlan,
} from '../kit/index.js';
import { parseLuxos } from './parse.js';
import { recognize } from './recognize.js';

export const LUXOS_PLAN: CommandPlan = {
  commands: ['summary', 'stats', 'devs', 'temps', 'fans', 'power', 'pools'],
  essential: ['summary', 'stats', 'devs'],
  identity: ['version', 'profiles'],
  // Joins: LUXminer API 3.7; pyasic rpc/luxminer.py keeps the base multicommand (join, split on error).
  join: true,
  recognize,
};

export function createLuxosDriver(): MinerDriver {
  const cache = new IdentityCache();
  const refusals = new RefusalMemory();
  return {
    family: 'luxos',
    async poll(target, signal) {
      const outcome = await runPlan(target, LUXOS_PLAN, cache, signal, refusals);
      return finishReading(parseLuxos(outcome.bodies), outcome);
    },
  };
}
