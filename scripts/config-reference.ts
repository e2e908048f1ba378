/**
 * `npm run docs:config` (node --import tsx scripts/config-reference.ts): writes docs/configuration.md (every
 * setting of the schema) and docs/errors.md (every registered error code). `--check` only reports staleness
 * (exit 1).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configReference, renderErrorTable } from '../config/reference.js';
import { registeredErrors } from '../lib/errors.js';

export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Every area's `errors.ts`, found by walking the repo (Node 20 has no fs.glob); node_modules is skipped. */
export function errorModules(root = repoRoot): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIP.has(entry.name) && !entry.name.startsWith('.')) walk(join(dir, entry.name));
      } else if (entry.name === 'errors.ts') found.push(join(dir, entry.name));
    }
  };
  walk(root);
  return found.sort();
}

const SKIP = new Set(['node_modules', 'dist', 'data', 'testdata']);

/** Import every errors.ts so the registry holds every code, then render the table. */
export async function errorTable(): Promise<string> {
  for (const file of errorModules()) await import(pathToFileURL(file).href);
  return renderErrorTable(registeredErrors());
}

/** The generated documents: where they go and how each is built (the text between its markers is generated). */
export const GENERATED = [
  {
    path: join(repoRoot, 'docs', 'configuration.md'),
    marker: 'config-reference',
    head: [
      '# Configuration reference',
      '',
      'rigtel reads one YAML (or JSON) file, given with `--config FILE`, then applies `RIGTEL_*` environment',
      'overrides, then checks everything against one schema (`config/schema.ts` and `config/sections/`).',
      '`rigtel config check FILE` prints every problem with the setting it concerns and exits 2; nothing is',
      'contacted. `config/example.yaml` is a commented starting point.',
      '',
      'This page is generated from the schema by `npm run docs:config`; a test fails when it is stale.',
      '',
    ].join('\n'),
    body: async () => configReference(),
  },
  {
    path: join(repoRoot, 'docs', 'errors.md'),
    marker: 'error-codes',
    head: [
      '# Error codes',
      '',
      'Every failure a user can meet carries a stable code (`RT_ERR_*`): in log lines, in API error bodies',
      '(`{"error":{"code":…,"message":…}}`), in a sample\'s `poll.error`, and in CLI output. Each area defines its',
      'codes in its own `errors.ts` with `defineError` (`lib/errors.ts`).',
      '',
      'This table is generated from those files by `npm run docs:config`; a test fails when it is stale.',
      '',
    ].join('\n'),
    body: errorTable,
  },
] as const;

/** One generated document as `npm run docs:config` writes it (before formatting). */
export async function renderDoc(doc: (typeof GENERATED)[number]): Promise<string> {
  const body = await doc.body();
  return `${doc.head}\n<!-- ${doc.marker}:start -->\n${body.trim()}\n<!-- ${doc.marker}:end -->\n`;
}

/**
 * biome formats Markdown (`npm test` runs `biome check .`): tables padded, `*` lists as `-`, YAML in fences.
 * Pass each generated document through it so what we write, and what we compare, is what biome would leave.
 */
export function biomeFormatMarkdown(text: string): string {
  const biome = join(repoRoot, 'node_modules', '.bin', 'biome');
  const r = spawnSync(biome, ['format', '--stdin-file-path=doc.md'], {
    cwd: repoRoot,
    input: text,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  // biome prints nothing on stdout for content it cannot format; keep the unformatted text then.
  return r.status === 0 && r.stdout ? r.stdout : text;
}

/** A generated document as `npm run docs:config` would write it (formatted as biome leaves it). */
export async function expectedDoc(doc: (typeof GENERATED)[number]): Promise<string> {
  return biomeFormatMarkdown(await renderDoc(doc));
}

async function cli(argv: string[]): Promise<number> {
  let stale = 0;
  for (const doc of GENERATED) {
    const current = existsSync(doc.path) ? readFileSync(doc.path, 'utf8') : '';
    const next = await expectedDoc(doc);
    const rel = relative(process.cwd(), doc.path);
    if (next === current) {
      console.log(`${rel} is up to date`);
      continue;
    }
    if (argv.includes('--check')) {
      console.error(`${rel} is stale: run npm run docs:config`);
      stale++;
    } else {
      mkdirSync(dirname(doc.path), { recursive: true });
      writeFileSync(doc.path, next);
      console.log(`${rel} updated`);
    }
  }
  return stale ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  process.exitCode = await cli(process.argv.slice(2));
