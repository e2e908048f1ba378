/**
 * VNish driver over the 4028 cgminer API (VNish's HTTP API needs a password-unlocked token; not used)
 * (docs/protocols.md, "## VNish").
 */
import {
  type CommandPlan,
  finishReading,
  IdentityCache,
  type MinerDriver,
  RefusalMemory,
  runPlan,
} from '../kit/index.js';
import { parseVnish } from './parse.js';
import { recognize } from './recognize.js';

export const VNISH_PLAN: CommandPlan = {
  commands: ['summary', 'stats', 'pools'],
  essential: ['summary', 'stats'],
  identity: ['version'],
  // Joins: cgminer 4.11.1 / API 3.7 underneath (vnish_s9_version.txt); pyasic reads VNish the same way.
  join: true,
  recognize,
};

export function createVnishDriver(): MinerDriver {
  const cache = new IdentityCache();
  const refusals = new RefusalMemory();
  return {
    family: 'vnish',
    async poll(target, signal) {
      const outcome = await runPlan(target, VNISH_PLAN, cache, signal, refusals);
      return finishReading(parseVnish(outcome.bodies), outcome);
    },
  };
}
