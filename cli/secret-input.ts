/**
 * The one way every command takes a secret: `--password-env VAR` (the value of an environment variable) or
 * `--password-file FILE` (the file's first line). Never the secret itself on the command line, where shell
 * history and `ps` would keep it.
 */
import { readFileSync } from 'node:fs';
import { Secret } from '../lib/secret.js';
import type { FlagSpecs, Parsed } from './args.js';
import { CliErrors } from './errors.js';

export const secretFlags: FlagSpecs = {
  'password-env': {
    type: 'string',
    value: 'VAR',
    description: 'read the password from this environment variable (never from the command line)',
  },
  'password-file': {
    type: 'string',
    value: 'FILE',
    description: 'read the password from the first line of this file',
  },
};

export function secretFromFlags(flags: Parsed['flags'], env: NodeJS.ProcessEnv): Secret | undefined {
  const envName = flags['password-env'];
  const file = flags['password-file'];
  if (typeof envName === 'string' && typeof file === 'string')
    throw CliErrors.usage('give --password-env or --password-file, not both');
  if (typeof envName === 'string') {
    const value = env[envName];
    if (!value) throw CliErrors.usage(`--password-env: environment variable ${envName} is not set`);
    return new Secret(value);
  }
  if (typeof file === 'string') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw CliErrors.usage(
        `--password-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    const value = text.split(/\r?\n/)[0] ?? '';
    if (!value) throw CliErrors.usage(`--password-file: ${file} is empty`);
    return new Secret(value);
  }
  return undefined;
}
