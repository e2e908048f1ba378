/**
 * Named errors. Every failure a user can meet carries a stable `RT_ERR_…` code and a message a site engineer
 * can act on. Each area declares its codes in its own `errors.ts` with `defineError`; the registry below lets
 * a test keep docs/errors.md (generated) in sync with the code.
 */

export interface RtErrorOptions {
  cause?: unknown;
  /** Extra facts for logs and API output. Never put secrets here. */
  details?: Record<string, unknown>;
}

export class RtError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, httpStatus = 500, options: RtErrorOptions = {}) {
    // No stack trace: an RtError is a verdict (a refused command, a dead rig), made on the poll path of thousands
    // of rigs, and capturing the stack was most of its cost. Its code names it; a wrapped `cause` keeps its own stack.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = limit;
    this.name = 'RtError';
    this.code = code;
    this.httpStatus = httpStatus;
    this.details = options.details;
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return this.details
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

export interface ErrorDefinition<A extends unknown[]> {
  readonly code: string;
  readonly summary: string;
  readonly httpStatus: number;
  (...args: A): RtError;
  /** Same as calling, with a cause and details attached. */
  with(options: RtErrorOptions, ...args: A): RtError;
  /** True when `err` is an RtError of this code. */
  is(err: unknown): err is RtError;
}

const registry = new Map<string, { summary: string; httpStatus: number }>();

/**
 * Declare an error code once. `summary` is its line in docs/errors.md; `message` builds the text from arguments.
 * Throws at import time on a duplicate code, so two areas cannot claim the same name.
 */
export function defineError<A extends unknown[] = []>(
  code: `RT_ERR_${string}`,
  summary: string,
  message: (...args: A) => string = () => summary,
  httpStatus = 500,
): ErrorDefinition<A> {
  if (registry.has(code)) throw new Error(`error code defined twice: ${code}`);
  registry.set(code, { summary, httpStatus });
  const make = ((...args: A) => new RtError(code, message(...args), httpStatus)) as ErrorDefinition<A>;
  make.with = (options, ...args) => new RtError(code, message(...args), httpStatus, options);
  make.is = (err: unknown): err is RtError => err instanceof RtError && err.code === code;
  Object.defineProperties(make, {
    code: { value: code },
    summary: { value: summary },
    httpStatus: { value: httpStatus },
  });
  return make;
}

/** Every code declared so far (import the areas' errors.ts files first). */
export function registeredErrors(): ReadonlyMap<string, { summary: string; httpStatus: number }> {
  return registry;
}

export function errorCode(err: unknown): string {
  return err instanceof RtError ? err.code : 'RT_ERR_INTERNAL';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
