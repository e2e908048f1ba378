import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A secret value (miner password, SNMP key, API token). It prints as `[redacted]` in logs, JSON and
 * `util.inspect`; only `reveal()` gives the value, and only protocol code that sends it should call that.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

export const redacted = REDACTED;
