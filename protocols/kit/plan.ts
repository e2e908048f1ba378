/**
 * The kit's command runner: a family states its command plan (which commands, which are essential, joined or
 * single, what to ask instead when one is refused) and `runPlan` carries it out over the cgminer-style API
 * (docs/protocols.md, "## cgminer API framing"). Identity commands (`version`, `devdetails`…) are asked on the
 * first poll and then every IDENTITY_EVERY polls per address, their last answer reused in between.
 *
 * One rule for failure: only a rig that answers nothing at all fails the poll (a refusal is an answer); anything
 * less is a reading that `finishReading` marks `partial`, with one note per command that failed.
 */
import type { RtError } from '../../lib/errors.js';
import type { PollTarget } from '../driver.js';
import { ProtoErrors } from '../errors.js';
import { type CommandResults, cgminerCommands } from './cgminer-client.js';
import type { Recognize } from './recognize.js';
import type { RefusalMemory } from './refusals.js';

export const IDENTITY_EVERY = 20;

export interface CommandPlan {
  /** Asked on every poll. */
  commands: readonly string[];
  /**
   * The commands the figures come from: a reading where none of them (nor their fallbacks) answered is still
   * returned when something else did, but it is `partial` with a note saying the figures are missing.
   */
  essential: readonly string[];
  /** Asked on the first poll and every IDENTITY_EVERY polls; the last answer is reused in between. */
  identity?: readonly string[];
  /** Send the commands joined (`summary+stats+pools`); the client falls back to single commands on refusal. */
  join: boolean;
  /** When a command fails, ask these (single) instead: e.g. `summary` refused → `stats`, `devdetails`. */
  fallbacks?: Readonly<Record<string, readonly string[]>>;
  /** The family's own signature: when a `version` reply no longer carries it, the reading says so. */
  recognize?: Recognize;
}

export interface CommandFailure {
  command: string;
  error: RtError;
}

/** What a plan brought back: the decoded body per command that answered, and what went wrong. */
export interface PlanOutcome {
  bodies: Record<string, unknown>;
  repairs: string[];
  failures: CommandFailure[];
  /** Essential commands of the plan (copied here so the finish step needs only the outcome). */
  essential: readonly string[];
  /** Failed command → the fallback that answered in its place (a refusal that left no hole in the reading). */
  covered?: Record<string, string>;
  recognize?: Recognize;
}

interface Cached {
  polls: number;
  bodies: Record<string, unknown>;
}

/** Identity replies per address. One per driver instance (no module-level state: drivers stay worker-safe). */
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
  forget(key: string): void {
    this.#byAddress.delete(key);
  }
}

/** A transport error explains every other failure of the same poll; prefer it over a per-command refusal. */
export function worstError(failures: readonly CommandFailure[]): RtError | null {
  return (
    failures.find((f) => !ProtoErrors.accessDenied.is(f.error) && !ProtoErrors.status.is(f.error))?.error ??
    failures[0]?.error ??
    null
  );
}

function absorb(
  results: CommandResults,
  commands: readonly string[],
  bodies: Record<string, unknown>,
  repairs: Set<string>,
  failures: CommandFailure[],
): void {
  for (const command of commands) {
    const r = results[command];
    if (!r) continue;
    if (r.ok) {
      bodies[command] = r.body;
      for (const x of r.repairs) repairs.add(x);
    } else failures.push({ command, error: r.error });
  }
}

/**
 * Run `plan` against one rig; with `refusals`, what the rig refused before (a join, a command) is not paid for
 * again on every poll. Throws only when no command answered at all (the most telling error of the
 * poll); otherwise returns every body that came back and every failure, for `finishReading`.
 */
export async function runPlan(
  target: PollTarget,
  plan: CommandPlan,
  cache: IdentityCache | null,
  signal: AbortSignal,
  refusals: RefusalMemory | null = null,
): Promise<PlanOutcome> {
  const key = `${target.host}:${target.port}`;
  refusals?.tick(key);
  const identity = plan.identity ?? [];
  const wantIdentity = cache === null || cache.due(key);
  const wanted = wantIdentity ? [...plan.commands, ...identity] : [...plan.commands];
  // A command this rig is known to refuse: its fallbacks ride in the same request instead of one more after it.
  if (refusals && plan.fallbacks) {
    for (const c of plan.commands) {
      if (refusals.aloneRefusal(key, c)) wanted.push(...(plan.fallbacks[c] ?? []));
    }
  }
  const asked = [...new Set(wanted)];
  const results = await cgminerCommands(target, asked, signal, { join: plan.join, refusals });
  if (signal.aborted) throw ProtoErrors.aborted(key);
  const bodies: Record<string, unknown> = {};
  const repairs = new Set<string>();
  const failures: CommandFailure[] = [];
  absorb(results, asked, bodies, repairs, failures);

  // Fallbacks for refused commands, unless every command failed the same transport way.
  const covered: Record<string, string> = {};
  const transportDown = failures.length === asked.length && worstError(failures) !== null;
  if (!transportDown || Object.keys(bodies).length > 0) {
    const extra: string[] = [];
    for (const f of failures) {
      for (const alt of plan.fallbacks?.[f.command] ?? []) {
        if (!asked.includes(alt) && !extra.includes(alt)) extra.push(alt);
      }
    }
    if (extra.length) {
      const more = await cgminerCommands(target, extra, signal, { join: false, refusals });
      if (signal.aborted) throw ProtoErrors.aborted(key);
      const moreFailures: CommandFailure[] = [];
      absorb(more, extra, bodies, repairs, moreFailures);
      // A fallback that also fails is noted too: its refusal says something about the rig.
      failures.push(...moreFailures);
    }
    for (const f of failures) {
      const alt = (plan.fallbacks?.[f.command] ?? []).find((a) => a in bodies);
      if (alt) covered[f.command] = alt;
    }
  }

  // A refusal (STATUS E, Code 14/45) is an answer: the rig is there and says what it will not do. Only a rig
  // that answered nothing at all — every command a transport or decode failure — fails the poll.
  const refused = failures.some(
    (f) => ProtoErrors.status.is(f.error) || ProtoErrors.accessDenied.is(f.error),
  );
  if (Object.keys(bodies).length === 0 && !refused) {
    const err = worstError(failures);
    if (err) {
      // A rig that answers nothing may come back re-flashed: ask its identity and its refusals afresh.
      cache?.forget(key);
      refusals?.forget(key);
      throw err;
    }
  }
  if (cache) {
    if (wantIdentity) {
      const id: Record<string, unknown> = {};
      for (const c of identity) if (c in bodies) id[c] = bodies[c];
      if (Object.keys(id).length) cache.store(key, id);
    } else cache.tick(key);
    for (const [c, b] of Object.entries(cache.get(key))) if (!(c in bodies)) bodies[c] = b;
  }
  const outcome: PlanOutcome = { bodies, repairs: [...repairs], failures, essential: plan.essential };
  if (plan.recognize) outcome.recognize = plan.recognize;
  if (Object.keys(covered).length) outcome.covered = covered;
  return outcome;
}
