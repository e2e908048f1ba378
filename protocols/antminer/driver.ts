/**
 * Antminer driver (stock bmminer and its clones on port 4028): `version` + `stats` + `pools`, joined in one
 * request with a fallback to single commands (protocols.md §7; §1.5: stock api-groups allow exactly stats, pools,
 * devs, summary, version).
 */

import { finishReading, pollFailure } from '../cgminer/assemble.js';
import { bodyOf, type CommandResults, cgminerCommands } from '../cgminer/client.js';
import type { MinerDriver, PollTarget } from '../driver.js';
import { ProtoErrors } from '../errors.js';
import type { MinerReading } from '../sample.js';
import { parseAntminer } from './parse.js';

export const ANTMINER_COMMANDS = ['version', 'stats', 'pools'] as const;

/** Pure: the reading for a set of command outcomes (what the driver does after the network part). */
export function antminerReadingFrom(results: CommandResults): MinerReading {
  const reading = parseAntminer({
    version: bodyOf(results, 'version'),
    stats: bodyOf(results, 'stats'),
    pools: bodyOf(results, 'pools'),
    summary: bodyOf(results, 'summary'),
  });
  return finishReading(
    reading,
    results,
    [...ANTMINER_COMMANDS, 'summary'].filter((c) => c in results),
    {
      essential: ['stats'],
    },
  );
}

/** Polls and also hands back the command outcomes (the registry re-checks the family signature on them). */
export async function pollAntminer(
  target: PollTarget,
  signal: AbortSignal,
): Promise<{ reading: MinerReading; results: CommandResults }> {
  const results = await cgminerCommands(target, [...ANTMINER_COMMANDS], signal, { join: true });
  if (signal.aborted) throw ProtoErrors.aborted(`${target.host}:${target.port}`);
  const failure = pollFailure(results, ['stats', 'version']);
  if (failure) throw failure;
  return { reading: antminerReadingFrom(results), results };
}

export const antminerDriver: MinerDriver = {
  family: 'antminer',
  async poll(target, signal) {
    return (await pollAntminer(target, signal)).reading;
  },
};
