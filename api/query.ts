/**
 * Request validation with zod, used directly in handlers (no type-provider package). A failure becomes one
 * RT_ERR_API_BAD_REQUEST naming the first bad field (`from: expected a time…`), never a 500.
 */
import { z } from 'zod';
import { formatPath } from '../config/issues.js';
import { ApiErrors } from './errors.js';

/** Parse `input` or throw a 400 naming the field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw ApiErrors.badRequest.with(
      { details: { field: issue.keys[0] } },
      issue.keys[0]!,
      'unknown parameter',
    );
  }
  const field = formatPath(issue.path);
  throw ApiErrors.badRequest.with({ details: { field } }, field, issue.message);
}

/** One value: repeated query keys (`?a=1&a=2`) arrive as arrays and are refused. */
const single = (what: string) =>
  z.string({ error: (iss) => (Array.isArray(iss.input) ? 'given more than once' : what) });

const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** ISO-8601 (`2026-11-25T10:00:00Z`) or ms since epoch (`1795600000000`). */
export const timeParam = single(
  'expected a time (ISO-8601 like 2026-11-25T10:00:00Z, or ms since epoch)',
).transform((text, ctx) => {
  const trimmed = text.trim();
  let ms = Number.NaN;
  if (/^\d{1,15}$/.test(trimmed)) ms = Number(trimmed);
  else if (ISO.test(trimmed)) ms = Date.parse(trimmed);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a time (ISO-8601 like 2026-11-25T10:00:00Z, or ms since epoch), got '${trimmed.slice(0, 40)}'`,
    });
    return z.NEVER;
  }
  return ms;
});

const STEP_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `5m`, `1h`, `1d`, `90s` or bare seconds (`300`) → seconds. */
export const stepParam = single('expected a step like 5m, 1h or seconds').transform((text, ctx) => {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!match) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a step like 5m, 1h, 1d or seconds, got '${text.slice(0, 40)}'`,
    });
    return z.NEVER;
  }
  return Number(match[1]) * STEP_UNITS[match[2] || 's']!;
});

/** A positive integer within bounds, given as text. */
export const intParam = (min: number, max: number) =>
  single(`expected a whole number from ${min} to ${max}`).transform((text, ctx) => {
    const n = /^\d{1,9}$/.test(text.trim()) ? Number(text) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });

/** A ratio 0 < x ≤ 1 given as text (`0.9`). */
export const ratioParam = single('expected a number between 0 and 1').transform((text, ctx) => {
  const n = /^\d*\.?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(n > 0 && n <= 1)) {
    ctx.addIssue({ code: 'custom', message: 'expected a number above 0 and at most 1 (e.g. 0.9)' });
    return z.NEVER;
  }
  return n;
});

/** Enum given as text, with the choices in the message. */
export const choiceParam = <const T extends readonly [string, ...string[]]>(choices: T) =>
  single(`expected one of ${choices.join(', ')}`).pipe(
    z.enum(choices, { error: () => `expected one of ${choices.join(', ')}` }),
  );
