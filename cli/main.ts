/**
 * The `rigtel` command. `bin/rigtel.js` calls `main(argv)` and uses the result as the exit code:
 * 0 ok, 1 the work failed (poll error, run failure), 2 usage error or invalid config.
 */
import { readFileSync } from 'node:fs';
import { errorCode, errorMessage, RtError } from '../lib/errors.js';
import { redactText } from '../lib/secret.js';
import { type FlagSpecs, flagHelp, parseArgs } from './args.js';
import { CliErrors } from './errors.js';
import { type Io, processIo } from './io.js';

// Commands are imported when used, so `rigtel --help` and `--version` load almost nothing.

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const usage = `rigtel — telemetry collector for Bitcoin mining farms

usage: rigtel <command> [options]

commands:
  run [--config FILE]          collector + HTTP API in one process (no config: built-in emulated demo fleet)
  api --config FILE            the HTTP API alone: live state of every collector (shard) from the MQTT broker
  poll HOST[:PORT] [--json]    poll one miner once and print what rigtel reads
  config check FILE            validate a config file (exit 2 with one line per problem)
  scan RANGE…                  find miners on the network
  layout import FILE.csv       set rigs' row/rack/slot in a config from a rack layout CSV
  token create|list|revoke     API tokens (roles admin, engineer, lender)
  audit verify                 check the audit log's hash chain
  report verify FILE           check a signed loan report offline (signature, chain, which field changed)
  economics [--from --to]      revenue, costs, cost per BTC and break-even from the store (--json, --csv)
  market import FILE           record market values (difficulty, fees, price) from a CSV or JSON file
  help [COMMAND]               this text, or a command's help
  --version                    print the version

Run \`rigtel <command> --help\` for a command's options.
`;

const runFlags: FlagSpecs = {
  config: { type: 'string', short: 'c', value: 'FILE', description: 'config file (YAML or JSON)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export const runUsage = `usage: rigtel run [--config FILE]

Start the collector and the HTTP API in one process. Without a config file (or with no rigs and
emulator.mode auto) it starts the built-in emulated fleet on loopback, so \`npm start\` shows a live demo.
Settings can be overridden from the environment: RIGTEL_API__LISTEN=0.0.0.0:8080 sets api.listen.
Stop with Ctrl-C (SIGINT) or SIGTERM: in-flight polls are aborted and the store is closed.

${flagHelp(runFlags)}
`;

const apiFlags: FlagSpecs = {
  config: { type: 'string', short: 'c', value: 'FILE', description: 'config file (YAML or JSON)' },
  'all-sites': {
    type: 'boolean',
    description: 'serve every site under sinks.mqtt.topic_prefix, not only site.name',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export const apiUsage = `usage: rigtel api --config FILE [--all-sites]

Serve the HTTP API without polling: live state of every rig comes from the MQTT broker in sinks.mqtt, where
any number of collectors (\`rigtel run\` shards) publish each rig's state retained. A rig whose collector
announced offline (clean stop or MQTT last will) or sent nothing for 3 poll intervals is marked stale;
after 10 intervals it is offline. History (/v1/rigs/:id/history) is read from the InfluxDB in sinks.influx,
the one the collectors write to, and so are economics (hourly rollups from InfluxDB, market values recorded
here from the providers in config). Without sinks.influx both answer a named 501.

${flagHelp(apiFlags)}
`;

const checkFlags: FlagSpecs = {
  full: {
    type: 'boolean',
    description: 'print the whole effective config (defaults applied, secrets redacted)',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export const configCheckUsage = `usage: rigtel config check FILE [--full]

Validate a config file as \`rigtel run\` would (RIGTEL_* environment overrides included) without connecting
to anything. Prints \`ok\` and a summary, or one line per problem naming the field, and exits 2.

${flagHelp(checkFlags)}
`;

const helpFor: Record<string, () => Promise<string>> = {
  run: async () => runUsage,
  api: async () => apiUsage,
  poll: async () => (await import('./poll.js')).pollUsage,
  config: async () => configCheckUsage,
  scan: async () => (await import('./scan.js')).scanUsage,
  layout: async () => (await import('./layout.js')).layoutUsage,
  economics: async () => (await import('./economics.js')).economicsUsage,
  market: async () => (await import('./economics.js')).marketUsage,
  token: async () => (await import('./loans.js')).tokenUsage,
  audit: async () => (await import('./loans.js')).auditUsage,
  report: async () => (await import('./loans.js')).reportUsage,
};

/** package.json's version, read once. */
export function version(): string {
  return (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
}

export async function main(argv: string[], rawIo: Io = processIo): Promise<number> {
  // Everything a command prints passes the one redaction (URL userinfo, known secret values).
  const io: Io = {
    out: (text) => rawIo.out(redactText(text)),
    err: (text) => rawIo.err(redactText(text)),
    env: rawIo.env,
  };
  try {
    return await dispatch(argv, io);
  } catch (err) {
    if (CliErrors.usage.is(err)) {
      io.err(`${err.code}: ${err.message}\n\n${await usageFor(argv[0])}`);
      return EXIT_USAGE;
    }
    if (err instanceof RtError) {
      io.err(`${errorCode(err)}: ${errorMessage(err)}\n`);
      return err.code.startsWith('RT_ERR_CONFIG_') ? EXIT_USAGE : EXIT_FAILED;
    }
    // Not ours: say so plainly, without a stack unless asked for.
    io.err(`RT_ERR_INTERNAL: ${errorMessage(err)}\n`);
    if (io.env['RIGTEL_DEBUG']) io.err(`${(err as Error)?.stack ?? ''}\n`);
    return EXIT_FAILED;
  }
}

async function usageFor(command: string | undefined): Promise<string> {
  const help = command ? helpFor[command] : undefined;
  return help ? help() : usage;
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      io.err(usage);
      return EXIT_USAGE;
    case 'help':
    case '--help':
    case '-h':
      io.out(await usageFor(rest[0]));
      return EXIT_OK;
    case 'version':
    case '--version':
    case '-V':
      io.out(`rigtel ${version()}\n`);
      return EXIT_OK;
    case 'run': {
      const { positionals, flags } = parseArgs(rest, runFlags);
      if (flags['help']) {
        io.out(runUsage);
        return EXIT_OK;
      }
      if (positionals.length) throw CliErrors.usage(`run takes no arguments (got '${positionals[0]}')`);
      const { runCommand } = await import('./run.js');
      return runCommand({ configFile: flags['config'] as string | undefined, io });
    }
    case 'api': {
      const { positionals, flags } = parseArgs(rest, apiFlags);
      if (flags['help']) {
        io.out(apiUsage);
        return EXIT_OK;
      }
      if (positionals.length) throw CliErrors.usage(`api takes no arguments (got '${positionals[0]}')`);
      const { apiCommand } = await import('./api.js');
      return apiCommand({
        configFile: flags['config'] as string | undefined,
        io,
        allSites: flags['all-sites'] === true,
      });
    }
    case 'poll':
      return (await import('./poll.js')).pollCommand(rest, io);
    case 'config': {
      const [sub, ...args] = rest;
      if (sub === '--help' || sub === '-h' || sub === 'help') {
        io.out(configCheckUsage);
        return EXIT_OK;
      }
      if (sub !== 'check')
        throw CliErrors.usage(sub ? `unknown config command '${sub}'` : 'config needs a command: check');
      const { positionals, flags } = parseArgs(args, checkFlags);
      if (flags['help']) {
        io.out(configCheckUsage);
        return EXIT_OK;
      }
      if (positionals.length !== 1) throw CliErrors.usage('config check needs exactly one FILE');
      const { checkConfigFile } = await import('./config-check.js');
      const result = checkConfigFile(positionals[0]!, io.env, flags['full'] === true);
      if (result.ok) {
        io.out(result.text);
        return EXIT_OK;
      }
      io.err(result.text);
      return EXIT_USAGE;
    }
    case 'scan':
      return (await import('./scan.js')).scanCommand(rest, io);
    case 'layout': {
      const { layoutCommand } = await import('./layout.js');
      return layoutCommand(rest, io);
    }
    case 'token':
      return (await import('./loans.js')).tokenCommand(rest, io);
    case 'audit':
      return (await import('./loans.js')).auditCommand(rest, io);
    case 'report':
      return (await import('./loans.js')).reportCommand(rest, io);
    case 'economics':
      return (await import('./economics.js')).economicsCommand(rest, io);
    case 'market':
      return (await import('./economics.js')).marketCommand(rest, io);
    default:
      throw CliErrors.usage(`unknown command '${command}'`);
  }
}
