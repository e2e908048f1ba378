/**
 * Braiins OS driver: one joined read; the client falls back to single commands when the firmware refuses the
 * join (docs/protocols.md, "## Braiins OS").
 */
import {
  type CommandPlan,
  finishReading,
  IdentityCache,
  type MinerDriver,
  RefusalMemory,
  runPlan,
} from '../kit/index.js';
import { parseBraiins } from './parse.js';
import { recognize } from './recognize.js';

export const BRAIINS_PLAN: CommandPlan = {
  commands: ['summary', 'devs', 'temps', 'fans', 'tunerstatus', 'pools'],
  essential: ['summary', 'devs'],
  identity: ['version', 'devdetails'],
  join: true,
  recognize,
};

export function createBraiinsDriver(): MinerDriver {
  const cache = new IdentityCache();
  const refusals = new RefusalMemory();
  return {
    family: 'braiins',
    async poll(target, signal) {
      const outcome = await runPlan(target, BRAIINS_PLAN, cache, signal, refusals);
      return finishReading(parseBraiins(outcome.bodies), outcome);
    },
  };
}
