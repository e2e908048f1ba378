/**
 * What one rig's firmware refused, remembered per connection target (`host:port`) so a refusal costs one
 * connection once, not on every poll: a joined request refused as a whole (cgminer builds without `+` joins
 * answer the whole string as one unknown command, Code 14: docs/protocols.md "## cgminer API framing"; pyasic
 * rpc/bmminer.py `multicommand` falls back to single commands for "S19"), and commands refused alone as well as
 * inside the join (Code 14 / 45), whose refusal is then taken from the join's own part or from memory.
 *
 * Retried rarely: every RETRY_EVERY polls of the target, and from scratch after the rig stopped answering (a rig
 * that went away may come back with other firmware). One per driver instance, like IdentityCache.
 */
import type { RtError } from '../../lib/errors.js';

/** Polls between retries of what was refused (at a 15 s interval: once an hour). */
export const RETRY_EVERY = 240;

interface Refused {
  polls: number;
  /** The firmware answered the joined request as one refused command. */
  join: boolean;
  /** Command → its refusal when asked alone. */
  alone: Map<string, RtError>;
}

export class RefusalMemory {
  readonly #byTarget = new Map<string, Refused>();

  /** Counts a poll of `key`; forgets what it knew once RETRY_EVERY polls have gone by. */
  tick(key: string): void {
    const r = this.#byTarget.get(key);
    if (r && ++r.polls >= RETRY_EVERY) this.#byTarget.delete(key);
  }
  joinRefused(key: string): boolean {
    return this.#byTarget.get(key)?.join === true;
  }
  refuseJoin(key: string): void {
    this.#entry(key).join = true;
  }
  /** The remembered refusal of `command` asked alone, if any. */
  aloneRefusal(key: string, command: string): RtError | undefined {
    return this.#byTarget.get(key)?.alone.get(command);
  }
  refuseAlone(key: string, command: string, error: RtError): void {
    this.#entry(key).alone.set(command, error);
  }
  forget(key: string): void {
    this.#byTarget.delete(key);
  }
  #entry(key: string): Refused {
    let r = this.#byTarget.get(key);
    if (!r) {
      r = { polls: 0, join: false, alone: new Map() };
      this.#byTarget.set(key, r);
    }
    return r;
  }
}
