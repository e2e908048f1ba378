/**
 * docs/configuration.md, generated from the one schema (`npm run docs:config`), and the error table of
 * docs/errors.md. A test regenerates both and fails when they are stale, so the docs cannot drift from the code.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

type Json = Record<string, unknown>;

export interface SettingRow {
  path: string;
  type: string;
  default: string;
  description: string;
  secret: boolean;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Every setting, depth first, in schema order. */
export function settingRows(schema: z.ZodType = configSchema): SettingRow[] {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  const defs = (root['$defs'] ?? {}) as Record<string, Json>;
  const rows = new Map<string, SettingRow>();

  const resolve = (node: Json): Json => {
    const ref = node['$ref'];
    if (typeof ref === 'string' && ref.startsWith('#/$defs/')) {
      const target = defs[ref.slice('#/$defs/'.length)] ?? {};
      return { ...target, ...node, $ref: undefined };
    }
    return node;
  };

  const walk = (raw: Json, path: string, required: boolean) => {
    const node = resolve(raw);
    const variants = (node['anyOf'] ?? node['oneOf']) as Json[] | undefined;
    if (path) {
      const prev = rows.get(path);
      const row: SettingRow = {
        path,
        type: typeOf(node, resolve),
        default: defaultOf(node, required),
        description: String(node['description'] ?? prev?.description ?? ''),
        secret: node['secret'] === true || prev?.secret === true,
      };
      rows.set(path, prev ? mergeRows(prev, row) : row);
    }
    const props = node['properties'] as Record<string, Json> | undefined;
    if (props) {
      const req = new Set((node['required'] as string[] | undefined) ?? []);
      for (const [key, child] of Object.entries(props))
        walk(child, path ? `${path}.${key}` : key, req.has(key));
    }
    if (node['type'] === 'array' && node['items'] && typeof node['items'] === 'object') {
      const items = resolve(node['items'] as Json);
      if (items['properties'] || items['anyOf'] || items['oneOf']) walkChildren(items, `${path}[]`);
    }
    // Unions of objects (e.g. one shape per sink kind): document every variant's fields under the same path.
    if (variants) for (const v of variants) walkChildren(resolve(v), path);
  };
  const walkChildren = (node: Json, path: string) => {
    const props = node['properties'] as Record<string, Json> | undefined;
    if (props) {
      const req = new Set((node['required'] as string[] | undefined) ?? []);
      for (const [key, child] of Object.entries(props)) walk(child, `${path}.${key}`, req.has(key));
    }
    const variants = (node['anyOf'] ?? node['oneOf']) as Json[] | undefined;
    if (variants) for (const v of variants) walkChildren(resolve(v), path);
  };

  walk(root, '', true);
  return [...rows.values()];
}

function mergeRows(a: SettingRow, b: SettingRow): SettingRow {
  const types = new Set([...a.type.split(' or '), ...b.type.split(' or ')]);
  return {
    path: a.path,
    type: [...types].join(' or '),
    default: a.default === b.default ? a.default : a.default || b.default,
    description: a.description || b.description,
    secret: a.secret || b.secret,
  };
}

function typeOf(node: Json, resolve: (n: Json) => Json): string {
  const variants = (node['anyOf'] ?? node['oneOf']) as Json[] | undefined;
  if (variants) {
    const parts = variants.map((v) => typeOf(resolve(v), resolve)).filter((t) => t !== 'null');
    const nullable = variants.some((v) => v['type'] === 'null');
    return [...new Set(parts)].join(' or ') + (nullable ? ' or null' : '');
  }
  if (Array.isArray(node['enum']))
    return `one of ${(node['enum'] as unknown[]).map((v) => `\`${String(v)}\``).join(', ')}`;
  if ('const' in node) return `\`${String(node['const'])}\``;
  const type = node['type'];
  const bounds: string[] = [];
  if (typeof node['minimum'] === 'number' && node['minimum'] !== -MAX_SAFE)
    bounds.push(`≥ ${node['minimum']}`);
  if (typeof node['exclusiveMinimum'] === 'number') bounds.push(`> ${node['exclusiveMinimum']}`);
  if (typeof node['maximum'] === 'number' && node['maximum'] !== MAX_SAFE)
    bounds.push(`≤ ${node['maximum']}`);
  const range = bounds.length ? ` (${bounds.join(', ')})` : '';
  switch (type) {
    case 'integer':
      return `integer${range}`;
    case 'number':
      return `number${range}`;
    case 'string':
      return node['format'] ? `string (${String(node['format'])})` : 'string';
    case 'boolean':
      return 'boolean';
    case 'array': {
      const items = node['items'] as Json | undefined;
      if (!items) return 'list';
      const inner = resolve(items);
      return inner['properties'] ? 'list of objects' : `list of ${typeOf(inner, resolve)}`;
    }
    case 'object':
      if (
        !node['properties'] &&
        node['additionalProperties'] &&
        typeof node['additionalProperties'] === 'object'
      ) {
        return `map of ${typeOf(resolve(node['additionalProperties'] as Json), resolve)}`;
      }
      return 'object';
    default:
      return type === undefined ? 'any' : String(type);
  }
}

function defaultOf(node: Json, required: boolean): string {
  if ('default' in node) {
    const d = node['default'];
    // A section's default is the sum of its fields' defaults, documented on each field.
    if (d && typeof d === 'object' && !Array.isArray(d) && Object.keys(d).length > 0) return '';
    return `\`${JSON.stringify(d)}\``;
  }
  return required ? 'required' : '';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Markdown: one table per top-level section. */
export function configReference(schema: z.ZodType = configSchema): string {
  const rows = settingRows(schema);
  const sections = new Map<string, SettingRow[]>();
  for (const row of rows) {
    const top = row.path.split(/[.[]/)[0]!;
    if (!sections.has(top)) sections.set(top, []);
    sections.get(top)!.push(row);
  }
  const out: string[] = [
    'Generated from `config/schema.ts` by `npm run docs:config`; do not edit by hand.',
    'Settings marked **secret** are never printed or logged; `rigtel config check` shows them as `[redacted]`.',
    'Any setting can be overridden from the environment: `RIGTEL_<SECTION>__<KEY>` (e.g. `RIGTEL_API__LISTEN=0.0.0.0:8080`).',
    '',
  ];
  for (const [top, list] of sections) {
    const head = list[0]!;
    out.push(`#### \`${top}\``, '');
    if (head.path === top && head.description) out.push(cell(head.description), '');
    const shown = list.filter((row) => !(row.path === top && row.type === 'object'));
    if (shown.length === 0) {
      out.push('No settings yet.', '');
      continue;
    }
    out.push('| Setting | Type | Default | Description |', '|---|---|---|---|');
    for (const row of shown) {
      const type = row.secret ? `${row.type}, **secret**` : row.type;
      out.push(`| \`${row.path}\` | ${cell(type)} | ${cell(row.default)} | ${cell(row.description)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** Markdown table of every registered error code. */
export function renderErrorTable(
  registry: ReadonlyMap<string, { summary: string; httpStatus: number }>,
): string {
  const codes = [...registry.keys()].sort();
  const lines = ['| Code | Meaning |', '|---|---|'];
  for (const code of codes) lines.push(`| \`${code}\` | ${cell(registry.get(code)!.summary)} |`);
  return `${lines.join('\n')}\n`;
}

/** Parse the error table back out of docs/errors.md: code → meaning. */
export function parseErrorTable(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of markdown.matchAll(/^\|\s*`(RT_ERR_[A-Z0-9_]+)`\s*\|\s*(.*?)\s*\|\s*$/gm))
    out.set(m[1]!, m[2]!);
  return out;
}

/** Replace the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`; throws if the markers are missing. */
export function replaceBetween(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i === -1 || j === -1 || j < i) throw new Error(`the document has no ${start} … ${end} markers`);
  return `${text.slice(0, i + start.length)}\n${content.trimEnd()}\n${text.slice(j)}`;
}

export function extractBetween(text: string, name: string): string | null {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i === -1 || j === -1 || j < i) return null;
  return text.slice(i + start.length, j);
}

/**
 * Compare Markdown ignoring table padding: biome formats Markdown (`biome check .` in `npm test`) and pads
 * table cells, so a table is judged by its cells, not its spacing.
 */
export function normalizeMarkdown(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (!line.trimStart().startsWith('|')) return line.trimEnd();
      const cells = line
        .trim()
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim());
      return `| ${cells.map((c) => (/^:?-+:?$/.test(c) ? '---' : c)).join(' | ')} |`;
    })
    .join('\n')
    .trim();
}
