/**
 * A small argument parser: `--flag value`, `--flag=value`, boolean `--flag`, `--` ends flags. Unknown flags and
 * missing values are usage errors (exit 2), never silently ignored.
 */
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
  const positionals: string[] = [];
  const flags: Parsed['flags'] = {};
  const byShort = new Map(Object.entries(specs).flatMap(([name, s]) => (s.short ? [[s.short, name]] : [])));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      name = byShort.get(arg.slice(1));
      if (!name) throw CliErrors.usage(`unknown flag ${arg}`);
    } else {
      positionals.push(arg);
      continue;
    }
    const spec = specs[name];
    if (!spec) throw CliErrors.usage(`unknown flag --${name}`);
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw CliErrors.usage(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('-') && value.length > 1)) {
      throw CliErrors.usage(`--${name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
    }
    flags[name] = value;
  }
  return { positionals, flags };
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
