/** Innosilicon driver over the 4028 cgminer API, single commands (docs/protocols.md, "## Innosilicon"). */
import {
  type CommandPlan,
  finishReading,
  IdentityCache,
  type MinerDriver,
  RefusalMemory,
  runPlan,
} from '../kit/index.js';
import { parseInnosilicon } from './parse.js';
import { recognize } from './recognize.js';

export const INNOSILICON_PLAN: CommandPlan = {
  commands: ['summary', 'stats', 'pools'],
  essential: ['summary', 'stats'],
  identity: ['version'],
  join: false,
  recognize,
};

export function createInnosiliconDriver(): MinerDriver {
  const cache = new IdentityCache();
  const refusals = new RefusalMemory();
  return {
    family: 'innosilicon',
    async poll(target, signal) {
      const outcome = await runPlan(target, INNOSILICON_PLAN, cache, signal, refusals);
      return finishReading(parseInnosilicon(outcome.bodies), outcome);
    },
  };
}
