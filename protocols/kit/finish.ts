/**
 * The one finish step every reading passes, whatever the family or transport: decoder repairs and command
 * failures become notes and the `partial` level, the nominal hashrate is filled from the model table, the
 * plausibility checks run (docs/protocols.md, "## Units and plausibility"), and a reading that is not `full`
 * keeps its raw replies under one cap.
 */
import { ProtoErrors } from '../errors.js';
import { lookupModel } from '../models.js';
import { checkPlausibility } from '../plausibility.js';
import type { MinerReading } from '../sample.js';
import { REPAIR } from './decode.js';
import type { PlanOutcome } from './plan.js';
import { digestReplies, type Recognize } from './recognize.js';

/** Start of the note a reading gets when its `version` reply no longer carries its family's signature. */
export const SIGNATURE_LOST = 'family signature lost:';

/** Raw replies kept on partial/unsupported readings: at most this many bytes of UTF-8. */
export const RAW_CAP_BYTES = 64 * 1024;

const CUT_MARK = `…[cut at ${RAW_CAP_BYTES} bytes]`;

/** `text` cut to at most RAW_CAP_BYTES of UTF-8 (the cut marker included) without splitting a character. */
export function capRaw(text: string): string {
  // Most replies are far under the cap: measure without copying them into a buffer.
  if (text.length * 3 <= RAW_CAP_BYTES || Buffer.byteLength(text, 'utf8') <= RAW_CAP_BYTES) return text;
  const buf = Buffer.from(text, 'utf8');
  const cut = buf
    .subarray(0, RAW_CAP_BYTES - Buffer.byteLength(CUT_MARK))
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return `${cut}${CUT_MARK}`;
}

/**
 * The raw replies of a poll as one text: reply texts as received when the family kept them (one `== command`
 * line before each), else one JSON object of the decoded bodies; each failure as its error code.
 */
export function rawOf(outcome: Pick<PlanOutcome, 'bodies' | 'failures'>): string {
  const entries = Object.entries(outcome.bodies);
  if (entries.length > 0 && entries.every(([, v]) => typeof v === 'string')) {
    const lines = entries.map(([cmd, text]) => `== ${cmd}\n${text as string}`);
    for (const f of outcome.failures) lines.push(`== ${f.command}: ${f.error.code} ${f.error.message}`);
    return capRaw(lines.join('\n'));
  }
  const out: Record<string, unknown> = { ...outcome.bodies };
  for (const f of outcome.failures) {
    if (!(f.command in out)) out[f.command] = { error: f.error.code, message: f.error.message };
  }
  return capRaw(JSON.stringify(out));
}

function failureNote(command: string, code: string, message: string): string {
  return code === ProtoErrors.accessDenied.code
    ? `no ${command}: ${code} access denied (Code 45), the miner's api-groups do not allow it`
    : `no ${command}: ${code} ${message}`;
}

/** Start of the note on a reading whose replies have a family's shape but name firmware rigtel does not know. */
export const UNKNOWN_FIRMWARE = 'unknown firmware:';

/** What a family hands the finish step when it did not use `runPlan` (HTTP, Whatsminer's own API). */
export type FinishInput = Pick<PlanOutcome, 'bodies' | 'repairs' | 'failures' | 'covered'> & {
  essential?: readonly string[];
  recognize?: Recognize | undefined;
};

/**
 * Does the `version` reply of this poll still carry the family's signature? A rig re-flashed to other firmware
 * keeps answering the same commands, so the figures may parse while meaning something else.
 */
function signatureHolds(reading: MinerReading, outcome: FinishInput): boolean {
  const b = outcome.bodies;
  if (!outcome.recognize || b['version'] === undefined) return true;
  const id = outcome.recognize(
    digestReplies({
      version: b['version'],
      devdetails: b['devdetails'],
      summary: b['summary'],
      stats: b['stats'] ?? b['estats'],
    }),
  );
  return id !== null && id.family === reading.identity.family;
}

/**
 * Finish `reading` in place and return it. Every failed command is a note and makes the reading `partial`;
 * a reading none of whose essential commands answered says so; the plausibility checks run exactly here.
 */
export function finishReading(reading: MinerReading, outcome: FinishInput): MinerReading {
  const repairs = new Set([...reading.repairs, ...outcome.repairs]);
  reading.repairs = [...repairs];
  const seen = new Set<string>();
  for (const f of outcome.failures) {
    if (seen.has(f.command)) continue;
    seen.add(f.command);
    const alt = outcome.covered?.[f.command];
    if (alt) {
      // Refused, but its fallback answered: a note, not a hole in the reading.
      reading.notes.push(`${f.command} refused (${f.error.code}): ${alt} read in its place`);
      continue;
    }
    reading.notes.push(failureNote(f.command, f.error.code, f.error.message));
    if (reading.support === 'full') reading.support = 'partial';
  }
  if (!signatureHolds(reading, outcome)) {
    reading.notes.push(
      `${SIGNATURE_LOST} the version reply no longer looks like ${reading.identity.family} firmware: re-flashed? identify this rig again`,
    );
    if (reading.support === 'full') reading.support = 'partial';
  }
  const essential = outcome.essential ?? [];
  if (essential.length && !essential.some((c) => c in outcome.bodies)) {
    reading.notes.push(`none of the commands the figures come from (${essential.join(', ')}) answered`);
    if (reading.support === 'full') reading.support = 'partial';
  }
  if (repairs.has(REPAIR.truncated)) {
    if (reading.support === 'full') reading.support = 'partial';
    reading.notes.push('a reply was cut off and mended by dropping its incomplete end (lossy)');
  }
  if (reading.hashrate_nominal_hs === null) {
    const spec = lookupModel(reading.identity.model);
    if (spec) {
      reading.hashrate_nominal_hs = spec.hashrate_hs;
      reading.notes.push(`nominal hashrate from the model table (${spec.source})`);
    }
  }
  // Physical bounds, NaN/Infinity repairs, nameplate hashrate and power: the one plausibility check. The raw
  // reply is kept below, so the check leaves `raw` to this step.
  checkPlausibility(reading, { keepRawReply: true });
  if (reading.support !== 'full' && reading.raw === null) reading.raw = rawOf(outcome);
  else if (reading.raw !== null) reading.raw = capRaw(reading.raw);
  return reading;
}
