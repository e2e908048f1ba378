import { z } from 'zod';
import { Secret } from '../lib/secret.js';

/**
 * A secret setting: a string in the file, a `Secret` in the typed config. Marked in the schema metadata so
 * the reference generator and redaction know it.
 */
export function secretField(description: string) {
  return z
    .string()
    .min(1)
    .transform((value) => new Secret(value))
    .meta({ secret: true, description });
}
