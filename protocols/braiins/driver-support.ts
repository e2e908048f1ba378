/**
 * What the family drivers of this folder set share: run a list of cgminer commands through the cgminer client,
 * hand the bodies to a pure parser, and turn failures into notes (`partial`) or, when nothing essential came
 * back, into the first transport error. Identity commands (`version`, `devdetails`) are asked on the first poll
 * and then every IDENTITY_EVERY polls per address (protocols.md §7: "add every N polls").
 */
import type { RtError } from '../../lib/errors.js';
import { capRaw } from '../cgminer/cgjson.js';
import { type CommandResults, cgminerCommands } from '../cgminer/client.js';
import type { PollTarget } from '../driver.js';
import { identify } from '../identify.js';
import type { MinerReading } from '../sample.js';

export const IDENTITY_EVERY = 20;

export interface CommandPlan {
  /** Every-poll commands; the first ones are essential (a poll without any of them fails). */
  commands: string[];
  essential: string[];
  /** Identity commands, asked every IDENTITY_EVERY polls and cached in between. */
  identity: string[];
  join: boolean;
}

interface Cached {
  polls: number;
  bodies: Record<string, unknown>;
}

export class IdentityCache {
  readonly #byAddress = new Map<string, Cached>();
  due(key: string): boolean {
    const c = this.#byAddress.get(key);
    return !c || c.polls % IDENTITY_EVERY === 0;
  }
  tick(key: string): void {
    const c = this.#byAddress.get(key);
    if (c) c.polls++;
  }
  store(key: string, bodies: Record<string, unknown>): void {
    this.#byAddress.set(key, { polls: 1, bodies });
  }
  get(key: string): Record<string, unknown> {
    return this.#byAddress.get(key)?.bodies ?? {};
  }
}

export interface PlanOutcome {
  bodies: Record<string, unknown>;
  repairs: string[];
  failures: { command: string; error: RtError }[];
}

export async function runPlan(
  target: PollTarget,
  plan: CommandPlan,
  cache: IdentityCache,
  signal: AbortSignal,
): Promise<PlanOutcome> {
  const key = `${target.host}:${target.port}`;
  const wantIdentity = cache.due(key);
  const commands = wantIdentity ? [...plan.commands, ...plan.identity] : plan.commands;
  const results: CommandResults = await cgminerCommands(target, commands, signal, { join: plan.join });
  const bodies: Record<string, unknown> = {};
  const repairs = new Set<string>();
  const failures: PlanOutcome['failures'] = [];
  for (const command of commands) {
    const r = results[command];
    if (!r) continue;
    if (r.ok) {
      bodies[command] = r.body;
      for (const x of r.repairs) repairs.add(x);
    } else failures.push({ command, error: r.error });
  }
  if (plan.essential.every((c) => !(c in bodies))) {
    const first = failures.find((f) => plan.essential.includes(f.command)) ?? failures[0];
    if (first) throw first.error;
  }
  if (wantIdentity) {
    const id: Record<string, unknown> = {};
    for (const c of plan.identity) if (c in bodies) id[c] = bodies[c];
    if (Object.keys(id).length) cache.store(key, id);
  } else cache.tick(key);
  for (const [c, b] of Object.entries(cache.get(key))) if (!(c in bodies)) bodies[c] = b;
  return { bodies, repairs: [...repairs], failures };
}

/**
 * Apply decoder repairs and command failures to a parsed reading, and re-check the firmware signature of the
 * `version` reply: a rig flashed to another firmware is flagged, not silently misread (protocols.md §7).
 */
export function finishReading(reading: MinerReading, outcome: PlanOutcome): MinerReading {
  if (outcome.bodies['version'] !== undefined) {
    const id = identify({ version: outcome.bodies['version'] });
    const family = reading.identity.family;
    if (id.family !== family && id.family !== 'cgminer' && id.family !== 'unknown') {
      reading.notes.push(
        `version reply looks like ${id.family} (${id.evidence[0] ?? 'signature'}), not ${family}: firmware changed? re-detect this rig`,
      );
      reading.support = 'partial';
    }
  }
  reading.repairs = [...new Set([...reading.repairs, ...outcome.repairs])];
  for (const f of outcome.failures) {
    reading.notes.push(`no ${f.command}: ${f.error.code} ${f.error.message}`);
  }
  if (outcome.failures.length && reading.support === 'full') reading.support = 'partial';
  if (reading.support !== 'full' && reading.raw === null) reading.raw = capRaw(outcome.bodies);
  return reading;
}
