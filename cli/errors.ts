import { defineError } from '../lib/errors.js';

/** Command-line failures. Usage errors exit 2, like an invalid config. */
export const CliErrors = {
  usage: defineError<[string]>(
    'RT_ERR_CLI_USAGE',
    'unknown command, unknown flag or missing argument; the usage text follows',
    (why) => why,
  ),
  listen: defineError<[string, string]>(
    'RT_ERR_CLI_LISTEN',
    'the HTTP API cannot listen on api.listen (address in use, or not an address of this machine)',
    (addr, why) => `the API cannot listen on ${addr}: ${why} (change api.listen or stop what uses it)`,
  ),
  shardIndex: defineError<[string]>(
    'RT_ERR_CLI_SHARD_INDEX',
    "collector.shard.index is 'hostname' but the host name has no trailing number below collector.shard.count",
    (why) => `cannot tell this collector's shard: ${why} (set collector.shard.index to a number)`,
  ),
} as const;

/** `rigtel layout import`: the rack layout CSV and the config it updates. */
export const LayoutErrors = {
  csv: defineError<[string, number, string]>(
    'RT_ERR_LAYOUT_CSV',
    'a rack layout CSV row is malformed; the message names the file, line and column',
    (file, line, why) => `${file}:${line}: ${why}`,
  ),
  read: defineError<[string, string]>(
    'RT_ERR_LAYOUT_READ',
    'the layout CSV or the config file cannot be read or written',
    (file, why) => `${file}: ${why}`,
  ),
} as const;
