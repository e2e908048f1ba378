import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { splitUrlCredentials } from '../lib/secret.js';
import { ConfigErrors } from './errors.js';
import { formatIssues } from './issues.js';
import { type Config, configSchema } from './schema.js';

export const ENV_PREFIX = 'RIGTEL_';

/**
 * Variables of the rigtel process itself, not config settings: `RIGTEL_DEBUG` (print stack traces) and
 * `RIGTEL_NO_DIST` (run from the TypeScript sources even when a build exists). Read as overrides they made
 * `rigtel run` refuse its config (`no_dist` is no setting).
 */
export const PROCESS_ENV: ReadonlySet<string> = new Set(['RIGTEL_DEBUG', 'RIGTEL_NO_DIST']);

/**
 * Environment overrides: `RIGTEL_API__LISTEN=0.0.0.0:8080` sets `api.listen`; `__` separates levels and
 * names are lower-cased. Values that parse as JSON (numbers, booleans, arrays) are taken as such.
 */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  const root: Record<string, unknown> =
    raw && typeof raw === 'object' ? (structuredClone(raw as object) as Record<string, unknown>) : {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined || PROCESS_ENV.has(name)) continue;
    const path = name.slice(ENV_PREFIX.length).toLowerCase().split('__').filter(Boolean);
    if (path.length === 0) continue;
    let node = root;
    for (const key of path.slice(0, -1)) {
      if (!node[key] || typeof node[key] !== 'object') node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = parseEnvValue(value);
  }
  return root;
}

/** Sinks whose `url` may carry `user:password@`, and the fields the parts belong in. */
const URL_SINKS = ['influx', 'mqtt'] as const;

/**
 * Credentials written into a sink URL (`http://user:PASS@host:8086`, `mqtt://user:PASS@host`) are moved into the
 * sink's `username` and secret `password` fields, so the URL itself never holds a secret that could be printed.
 * Mutates `root`; returns problems (credentials given twice, differently) in the same form as field errors.
 */
export function liftUrlCredentials(root: unknown): string[] {
  const problems: string[] = [];
  if (!root || typeof root !== 'object') return problems;
  const sinks = (root as Record<string, unknown>)['sinks'];
  if (!sinks || typeof sinks !== 'object') return problems;
  for (const name of URL_SINKS) {
    const sink = (sinks as Record<string, unknown>)[name] as Record<string, unknown> | undefined;
    if (!sink || typeof sink !== 'object' || typeof sink['url'] !== 'string') continue;
    const split = splitUrlCredentials(sink['url']);
    if (split.username === null && split.password === null) continue;
    sink['url'] = split.url;
    for (const [key, value] of [
      ['username', split.username],
      ['password', split.password],
    ] as const) {
      if (value === null) continue;
      if (sink[key] === undefined) sink[key] = value;
      else if (sink[key] !== value) {
        problems.push(`sinks.${name}.${key}: also given in sinks.${name}.url, differently; give it once`);
      }
    }
  }
  return problems;
}

function parseEnvValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Validate an already-parsed object. Throws RT_ERR_CONFIG_INVALID listing every problem. */
export function validateConfig(raw: unknown, source = 'config'): Config {
  const checked = checkConfig(raw);
  if (!checked.ok) throw ConfigErrors.invalid(source, checked.problems);
  return checked.config;
}

/**
 * Lift URL credentials, then validate: every problem found is returned together (credential clashes beside
 * field errors), one line each naming the field.
 */
export function checkConfig(raw: unknown): { ok: true; config: Config } | { ok: false; problems: string[] } {
  const root = raw && typeof raw === 'object' ? structuredClone(raw as object) : (raw ?? {});
  const lifted = liftUrlCredentials(root);
  const result = configSchema.safeParse(root);
  const problems = [...lifted, ...(result.success ? [] : formatIssues(result.error))];
  if (problems.length > 0 || !result.success) return { ok: false, problems };
  return { ok: true, config: result.data };
}

/** Parse file text as YAML (a superset of JSON). */
export function parseConfigText(text: string, source: string): unknown {
  // JSON is YAML too, and JSON.parse reads a 10,000-rig file in milliseconds where the YAML parser takes
  // seconds: try it first for text that looks like JSON (on any error the YAML parser has the last word).
  if (/^\s*\{/.test(text)) {
    try {
      return JSON.parse(text) ?? {};
    } catch {
      // not strict JSON: read it as YAML below
    }
  }
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw ConfigErrors.unreadable(source, err instanceof Error ? err.message.split('\n')[0]! : String(err));
  }
}

/** Largest config file read: a site of 20,000 rigs is well under this; a bigger file is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Read and parse a config file: size capped before reading, and a file given explicitly must hold a mapping of
 * settings; an empty or non-mapping file is an error, never the built-in demo.
 */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES) throw ConfigErrors.tooLarge(file, size, MAX_CONFIG_BYTES);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (ConfigErrors.tooLarge.is(err)) throw err;
    throw ConfigErrors.unreadable(file, (err as NodeJS.ErrnoException).code ?? String(err));
  }
  // Past the stat a file may still grow (a log appended to): check what was read too.
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw ConfigErrors.tooLarge(file, Buffer.byteLength(text), MAX_CONFIG_BYTES);
  }
  const raw = parseConfigText(text, file);
  if (
    text.trim() === '' ||
    raw === null ||
    (typeof raw === 'object' && !Array.isArray(raw) && Object.keys(raw).length === 0 && !/\{\s*\}/.test(text))
  ) {
    const problems = [
      '(root): the file is empty (or only comments); to run the built-in demo, give no --config at all',
    ];
    throw ConfigErrors.invalid.with({ details: { problems } }, file, problems);
  }
  // A bare word or a list parses as YAML too; taking it as "no settings" would start the demo fleet instead.
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    const got = Array.isArray(raw) ? 'a list' : `a ${typeof raw}`;
    const problems = [`(root): expected a mapping of settings (key: value), got ${got}`];
    throw ConfigErrors.invalid.with({ details: { problems } }, file, problems);
  }
  return raw as Record<string, unknown>;
}

/** `RIGTEL_*` variables that set config paths: dotted path → variable name. */
export function envSettings(env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined || PROCESS_ENV.has(name)) continue;
    const path = name.slice(ENV_PREFIX.length).toLowerCase().split('__').filter(Boolean);
    if (path.length) out.set(path.join('.'), name);
  }
  return out;
}

/** Blame each problem on the environment variable that set its field, when one did. */
export function blameEnv(problems: string[], env: NodeJS.ProcessEnv): string[] {
  const set = envSettings(env);
  if (set.size === 0) return problems;
  return problems.map((p) => {
    const field = p
      .slice(0, p.indexOf(': ') === -1 ? p.length : p.indexOf(': '))
      .replace(/\[(\d+)\]/g, '.$1');
    for (const [path, name] of set) {
      if (field === path || field.startsWith(`${path}.`)) return `${p} (set by environment variable ${name})`;
    }
    return p;
  });
}

/** Read, apply env overrides, validate. Never connects to anything. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  const raw: unknown = file ? readConfigFile(file) : {};
  const fromEnv = envSettings(env).size > 0;
  const source =
    file ?? (fromEnv ? 'environment (RIGTEL_* variables) over built-in defaults' : 'built-in defaults');
  const checked = checkConfig(applyEnvOverrides(raw, env));
  if (!checked.ok) throw ConfigErrors.invalid(source, blameEnv(checked.problems, env));
  return checked.config;
}
