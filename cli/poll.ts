import { addressKey } from '../collector/address.js';
/** `rigtel poll HOST[:PORT]`: one poll of one miner, printed as a table or JSON. Reads only. */
import { rigSchema, splitAddress } from '../config/schema.js';
import { errorCode, errorMessage, RtError } from '../lib/errors.js';
import type { PollTarget } from '../protocols/driver.js';
import { estimatePowerW } from '../protocols/models.js';
import { checkPlausibility } from '../protocols/plausibility.js';
import { pollOnce } from '../protocols/registry.js';
import { type FlagSpecs, flagHelp, parseArgs } from './args.js';
import { CliErrors } from './errors.js';
import { formatReading } from './format.js';
import type { Io } from './io.js';
import { secretFlags, secretFromFlags } from './secret-input.js';

export const pollFlags: FlagSpecs = {
  family: { type: 'string', value: 'F', description: 'miner family (default auto: detect from the replies)' },
  json: { type: 'boolean', description: 'print the normalized reading as JSON' },
  timeout: { type: 'string', value: 'MS', description: 'deadline per command in ms (default 8000)' },
  user: { type: 'string', value: 'NAME', description: 'user for APIs that need one (Antminer web UI)' },
  ...secretFlags,
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export const pollUsage = `usage: rigtel poll HOST[:PORT] [--family F] [--json] [--timeout MS] [--password-env VAR | --password-file FILE]

Poll one miner once and print what rigtel reads from it: identity, state, hashrate, temperatures, fans,
power with its source, pools, boards, repairs applied to malformed replies, and notes. Port defaults to 4028.
Exits 1 with the error code when the poll fails.

${flagHelp(pollFlags)}
`;

export async function pollCommand(argv: readonly string[], io: Io): Promise<number> {
  const { positionals, flags } = parseArgs(argv, pollFlags);
  if (flags['help']) {
    io.out(pollUsage);
    return 0;
  }
  if (positionals.length !== 1) throw CliErrors.usage('poll needs exactly one HOST[:PORT]');
  const address = positionals[0]!;
  const checked = rigSchema.safeParse({
    address,
    ...(flags['family'] ? { family: flags['family'] } : {}),
  });
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw CliErrors.usage(`${issue.path.join('.') || 'address'}: ${issue.message}`);
  }
  const timeout = flags['timeout'] === undefined ? 8000 : Number(flags['timeout']);
  if (!Number.isInteger(timeout) || timeout < 100 || timeout > 600_000) {
    throw CliErrors.usage('--timeout: expected whole milliseconds from 100 to 600000');
  }
  const password = secretFromFlags(flags, io.env);
  const { host, port } = splitAddress(address);
  const target: PollTarget = {
    host,
    port,
    family: checked.data.family === 'auto' ? 'auto' : checked.data.family,
    username: typeof flags['user'] === 'string' ? flags['user'] : undefined,
    password,
    connectTimeoutMs: Math.min(3000, timeout),
    commandTimeoutMs: timeout,
    maxReplyBytes: 1024 * 1024,
  };
  // A poll may send several commands; give the whole poll a few command deadlines, and stop on Ctrl-C.
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  const started = Date.now();
  try {
    const reading = await pollOnce(
      target,
      AbortSignal.any([controller.signal, AbortSignal.timeout(timeout * 4)]),
    );
    // The same physical-bounds and unit check the collector applies: a verdict here matches the collector's.
    checkPlausibility(reading);
    // As the collector does: with no power figure from the miner, estimate it from the model table, labelled so.
    if (reading.power_w === null) {
      const estimate = estimatePowerW(reading);
      if (estimate !== null) {
        reading.power_w = estimate;
        reading.power_source = 'estimate';
      }
    }
    const shown = addressKey({ host, port });
    io.out(
      flags['json']
        ? `${JSON.stringify(reading, null, 2)}\n`
        : formatReading(shown, reading, Date.now() - started),
    );
    return 0;
  } catch (err) {
    if (!(err instanceof RtError)) throw err;
    io.err(`${errorCode(err)}: ${errorMessage(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
