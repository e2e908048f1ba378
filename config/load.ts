import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigErrors } from './errors.js';
import { formatIssues } from './issues.js';
import { type Config, configSchema } from './schema.js';

export const ENV_PREFIX = 'RIGTEL_';

/**
 * Environment overrides: `RIGTEL_API__LISTEN=0.0.0.0:8080` sets `api.listen`; `__` separates levels and
 * names are lower-cased. Values that parse as JSON (numbers, booleans, arrays) are taken as such.
 */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  const root: Record<string, unknown> =
    raw && typeof raw === 'object' ? (structuredClone(raw as object) as Record<string, unknown>) : {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
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

function parseEnvValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Validate an already-parsed object. Throws RT_ERR_CONFIG_INVALID listing every problem. */
export function validateConfig(raw: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) throw ConfigErrors.invalid(source, formatIssues(result.error));
  return result.data;
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

/** Read, apply env overrides, validate. Never connects to anything. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  let raw: unknown = {};
  const source = file ?? 'built-in defaults';
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw ConfigErrors.unreadable(file, (err as NodeJS.ErrnoException).code ?? String(err));
    }
    raw = parseConfigText(text, file);
    // A bare word or a list parses as YAML too; taking it as "no settings" would start the demo fleet instead.
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      const got = Array.isArray(raw) ? 'a list' : `a ${typeof raw}`;
      throw ConfigErrors.invalid(file, [`(root): expected a mapping of settings (key: value), got ${got}`]);
    }
  }
  return validateConfig(applyEnvOverrides(raw, env), source);
}
