/**
 * Shared finishing steps for drivers built on cgminerCommands: fold the per-command outcomes into the reading
 * (repairs, notes, support level, raw), fill the nominal hashrate from the model table, and decide whether the
 * poll failed as a whole.
 */
import type { RtError } from '../../lib/errors.js';
import { ProtoErrors } from '../errors.js';
import { lookupModel } from '../models.js';
import type { MinerReading } from '../sample.js';
import type { CommandResults } from './client.js';
import { REPAIR } from './decode.js';

/** Raw replies kept on partial/unsupported samples are capped at this many characters. */
export const RAW_CAP_CHARS = 64 * 1024;

/**
 * The error to throw when no command that matters answered; null when the poll produced something.
 * `required` are the commands without which there is no reading at all.
 */
export function pollFailure(results: CommandResults, required: readonly string[]): RtError | null {
  const errors: RtError[] = [];
  for (const cmd of required) {
    const r = results[cmd];
    if (r?.ok) return null;
    if (r && !r.ok) errors.push(r.error);
  }
  // Prefer a transport error (it explains everything) over an access-denied on one command.
  return errors.find((e) => !ProtoErrors.accessDenied.is(e)) ?? errors[0] ?? null;
}

export function finishReading(
  reading: MinerReading,
  results: CommandResults,
  wanted: readonly string[],
  opts: { essential: readonly string[] },
): MinerReading {
  const repairs = new Set(reading.repairs);
  for (const cmd of wanted) {
    const r = results[cmd];
    if (!r) continue;
    if (r.ok) {
      for (const name of r.repairs) repairs.add(name);
      continue;
    }
    const err: RtError = r.error;
    const why =
      err.code === ProtoErrors.accessDenied.code
        ? `no ${cmd}: access denied (Code 45), the miner's api-groups do not allow it`
        : `no ${cmd}: ${err.code} ${err.message}`;
    reading.notes.push(why);
    if (opts.essential.includes(cmd)) reading.support = 'partial';
  }
  reading.repairs = [...repairs];
  if (repairs.has(REPAIR.truncated)) {
    reading.support = 'partial';
    reading.notes.push('a reply was cut off and mended by dropping its incomplete end (lossy)');
  }
  if (reading.hashrate_nominal_hs === null) {
    const spec = lookupModel(reading.identity.model);
    if (spec) {
      reading.hashrate_nominal_hs = spec.hashrate_hs;
      reading.notes.push(`nominal hashrate from the model table (${spec.source})`);
    }
  }
  if (reading.support !== 'full') reading.raw = rawOf(results, wanted);
  return reading;
}

export function rawOf(results: CommandResults, wanted: readonly string[]): string | null {
  const out: Record<string, unknown> = {};
  for (const cmd of wanted) {
    const r = results[cmd];
    if (r?.ok) out[cmd] = r.body;
    else if (r) out[cmd] = { error: r.error.code, message: r.error.message };
  }
  const text = JSON.stringify(out);
  return text.length > RAW_CAP_CHARS ? `${text.slice(0, RAW_CAP_CHARS)}…[cut]` : text;
}
