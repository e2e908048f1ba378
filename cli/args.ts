/**
 * Arguments through `node:util.parseArgs` (strict): `--flag value`, `--flag=value`, `-f value`, boolean `--flag`,
 * `--` ends flags. Unknown flags and missing values are usage errors (exit 2), never silently ignored.
 */
import { parseArgs as utilParseArgs } from 'node:util';
import { CliErrors } from './errors.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** One-letter alias, e.g. `c` for `-c`. */
  short?: string;
  description: string;
  /** Shown in help as `--config FILE`. */
  value?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface Parsed {
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
}

export function parseArgs(argv: readonly string[], specs: FlagSpecs): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs))
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
  const byShort = new Map(Object.entries(specs).flatMap(([name, s]) => (s.short ? [[s.short, name]] : [])));
  let parsed: ReturnType<typeof utilParseArgs>;
  try {
    parsed = utilParseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (err) {
    throw CliErrors.usage(usageMessage(err as NodeJS.ErrnoException & { message: string }, byShort));
  }
  const flags: Parsed['flags'] = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    // A repeated string flag keeps its last value, as the previous parser did.
    flags[name] = Array.isArray(value) ? value[value.length - 1] : (value as string | boolean | undefined);
  }
  return { positionals: parsed.positionals, flags };
}

/** node:util's messages, reworded to rigtel's one style (`--config needs a value (FILE)`). */
function usageMessage(
  err: NodeJS.ErrnoException & { message: string },
  byShort: Map<string, string>,
): string {
  // Messages quote the option as '--name', '-n' or '-n, --name <value>'.
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  const flag = /--[^\s,<]+/.exec(quoted)?.[0] ?? /^-[^\s,]+/.exec(quoted)?.[0] ?? quoted;
  const long = flag.startsWith('--') ? flag.slice(2) : (byShort.get(flag.slice(1)) ?? flag.slice(1));
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument (missing|is ambiguous)/.test(err.message)
        ? `--${long} needs a value`
        : `--${long} takes no value`;
    default:
      return err.message;
  }
}

/** The flag lines of a help text. */
export function flagHelp(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.value ? ` ${s.value}` : ''}`;
    return [left, s.description] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, d]) => `  ${l.padEnd(width)}  ${d}`).join('\n');
}
