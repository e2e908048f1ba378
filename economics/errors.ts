import { defineError } from '../lib/errors.js';

/** Failures of the money core: an input it cannot compute with. */
export const EconomicsErrors = {
  invalidInput: defineError<[string, string]>(
    'RT_ERR_ECON_INVALID_INPUT',
    'an economics input is impossible (negative, zero where a divisor, not a number, or out of range)',
    (field, why) => `${field}: ${why}`,
    400,
  ),
  badTimezone: defineError<[string]>(
    'RT_ERR_ECON_TIMEZONE',
    'the site time zone is not a known IANA zone name (e.g. America/Chicago)',
    (tz) => `unknown IANA time zone: ${tz}`,
    400,
  ),
};

/** An impossible input, with the field named in the error details (the API shows it as `error.field`). */
export function invalidInput(field: string, why: string) {
  return EconomicsErrors.invalidInput.with({ details: { field } }, field, why);
}
