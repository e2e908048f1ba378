/**
 * `npm run docs:config` (node --import tsx scripts/config-reference.ts): writes the generated config reference
 * and error-code table into README.md between their markers. `--check` only reports staleness (exit 1).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configReference, normalizeMarkdown, renderErrorTable, replaceBetween } from '../config/reference.js';
import { registeredErrors } from '../lib/errors.js';

export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const readmePath = join(repoRoot, 'README.md');

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

export async function renderReadme(current: string): Promise<string> {
  let next = replaceBetween(current, 'config-reference', configReference());
  next = replaceBetween(next, 'error-codes', await errorTable());
  return next;
}

async function cli(argv: string[]): Promise<number> {
  const current = readFileSync(readmePath, 'utf8');
  const next = await renderReadme(current);
  const same = normalizeMarkdown(next) === normalizeMarkdown(current);
  if (argv.includes('--check')) {
    if (same) return 0;
    console.error(`${relative(process.cwd(), readmePath)} is stale: run npm run docs:config`);
    return 1;
  }
  if (!same) {
    writeFileSync(readmePath, next);
    // biome pads Markdown tables and `npm test` runs `biome check .`: leave the file as biome wants it.
    const biome = join(repoRoot, 'node_modules', '.bin', 'biome');
    spawnSync(biome, ['format', '--write', readmePath], { stdio: 'ignore' });
  }
  console.log(same ? 'README.md is up to date' : 'README.md updated');
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  process.exitCode = await cli(process.argv.slice(2));
