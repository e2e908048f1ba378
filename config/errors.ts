import { defineError } from '../lib/errors.js';

export const ConfigErrors = {
  invalid: defineError<[string, string[]]>(
    'RT_ERR_CONFIG_INVALID',
    'the configuration has problems; each is listed with the field it concerns',
    (source, problems) =>
      `${source}: ${problems.length} problem(s) in the configuration:\n  ${problems.join('\n  ')}`,
  ),
  tooLarge: defineError<[string, number, number]>(
    'RT_ERR_CONFIG_TOO_LARGE',
    'the configuration file is larger than rigtel reads (1 MiB); a real site config is a few hundred KB at most',
    (source, size, max) =>
      `${source}: ${size} bytes is more than the ${max} bytes a configuration file may hold`,
  ),
  unreadable: defineError<[string, string]>(
    'RT_ERR_CONFIG_UNREADABLE',
    'the configuration file cannot be read or is not valid YAML/JSON',
    (source, why) => `${source}: cannot read the configuration: ${why}`,
  ),
} as const;
