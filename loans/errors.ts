import { defineError } from '../lib/errors.js';

/** Loans, signing, audit and tokens. */
export const LoanErrors = {
  keyFile: defineError<[string, string]>(
    'RT_ERR_LOAN_KEY_FILE',
    'the signing key in the storage dir cannot be read or created (permissions, corrupt file)',
    (file, why) => `signing key ${file}: ${why}`,
  ),
  notFound: defineError<[string]>(
    'RT_ERR_LOAN_NOT_FOUND',
    'no loan with that id is configured (or the token may not read it)',
    (id) => `no loan '${id}'`,
    404,
  ),
  unavailable: defineError(
    'RT_ERR_LOAN_UNAVAILABLE',
    'a standalone `rigtel api` serves loans, reports and keys only with sinks.influx (the figures come from InfluxDB)',
    () =>
      'loans are not served by this standalone API: configure sinks.influx (the InfluxDB the collectors write to), or ask a collector (rigtel run)',
    501,
  ),
  badPeriod: defineError<[string]>(
    'RT_ERR_LOAN_BAD_PERIOD',
    'a report period is malformed: from and to must be ISO dates or ms, from before to, at most 400 days',
    (why) => why,
    400,
  ),
  register: defineError<[string, number, string]>(
    'RT_ERR_LOAN_REGISTER',
    'the lender asset register (CSV) cannot be read: the message names the file, line and column',
    (file, line, why) => `${file}:${line}: ${why}`,
  ),
  reportFile: defineError<[string, string]>(
    'RT_ERR_LOAN_REPORT_FILE',
    'a report file to verify is not a signed rigtel report',
    (file, why) => `${file}: ${why}`,
  ),
  auditFile: defineError<[string, string]>(
    'RT_ERR_LOAN_AUDIT_FILE',
    'the audit log cannot be read or appended',
    (file, why) => `audit log ${file}: ${why}`,
  ),
  tokenFile: defineError<[string, string]>(
    'RT_ERR_LOAN_TOKEN_FILE',
    'the API token store cannot be read or written',
    (file, why) => `token store ${file}: ${why}`,
  ),
  tokenNotFound: defineError<[string]>(
    'RT_ERR_LOAN_TOKEN_NOT_FOUND',
    'no API token with that id',
    (id) => `no token with id '${id}'`,
    404,
  ),
  notFinite: defineError<[string]>(
    'RT_ERR_LOAN_NOT_FINITE',
    'a value to be signed is NaN or infinite (a missing figure must be null)',
    (path) => `${path}: NaN or infinite number cannot be canonicalized`,
  ),
  busy: defineError<[number]>(
    'RT_ERR_LOAN_BUSY',
    'too many loan reports are being built or waiting (each replays hours of polls); try again shortly',
    (max) =>
      `${max} loan reports are already being built or waiting: try again in a few seconds (a report replays the last hours of every rig's polls, one at a time)`,
    503,
  ),
  unsupported: defineError<[string, string]>(
    'RT_ERR_LOAN_NOT_JSON',
    'a value to be signed is not plain JSON (function, bigint, symbol)',
    (path, type) => `${path}: a ${type} cannot be canonicalized`,
  ),
} as const;
