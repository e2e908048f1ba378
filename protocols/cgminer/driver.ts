/**
 * Plain cgminer / bfgminer driver (port 4028): `summary+devs+pools` joined (fallback to single commands) plus
 * `version` for identity.
 */
import type { MinerDriver, PollTarget } from '../driver.js';
import { ProtoErrors } from '../errors.js';
import type { MinerReading } from '../sample.js';
import { finishReading, pollFailure } from './assemble.js';
import { bodyOf, type CommandResults, cgminerCommands } from './client.js';
import { parseCgminer } from './parse.js';

export const CGMINER_COMMANDS = ['summary', 'devs', 'pools', 'version'] as const;

/** Pure: the reading for a set of command outcomes. */
export function cgminerReadingFrom(results: CommandResults): MinerReading {
  const devs = results['devs'];
  const reading = parseCgminer({
    version: bodyOf(results, 'version'),
    summary: bodyOf(results, 'summary'),
    // Code 10 "No ASCs" is an answer (zero devices), not a missing reply.
    devs: devs?.ok ? devs.body : undefined,
    pools: bodyOf(results, 'pools'),
  });
  return finishReading(reading, results, [...CGMINER_COMMANDS], { essential: ['summary', 'devs'] });
}

export async function pollCgminer(
  target: PollTarget,
  signal: AbortSignal,
): Promise<{ reading: MinerReading; results: CommandResults }> {
  const results = await cgminerCommands(target, [...CGMINER_COMMANDS], signal, { join: true });
  if (signal.aborted) throw ProtoErrors.aborted(`${target.host}:${target.port}`);
  const failure = pollFailure(results, ['summary', 'devs']);
  if (failure) throw failure;
  return { reading: cgminerReadingFrom(results), results };
}

export const cgminerDriver: MinerDriver = {
  family: 'cgminer',
  async poll(target, signal) {
    return (await pollCgminer(target, signal)).reading;
  },
};
