/**
 * `npm run docs:config` (node --import tsx scripts/config-reference.ts): writes the generated config reference
 * and error-code table into README.md between their markers. `--check` only reports staleness (exit 1).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configReference, renderErrorTable, replaceBetween } from '../config/reference.js';
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

/**
 * Each area documents itself in a `README-section.md` beside its code; they are stitched into README.md in a
 * fixed order: miner families, SNMP, then the rest (sinks…). Relative links are re-rooted at the repository.
 */
export function sectionFiles(root = repoRoot): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIP.has(entry.name) && !entry.name.startsWith('.')) walk(join(dir, entry.name));
      } else if (entry.name === 'README-section.md') found.push(relative(root, join(dir, entry.name)));
    }
  };
  walk(root);
  const rank = (f: string) => (isFamily(f) ? 0 : f.startsWith('protocols/') ? 1 : 2);
  return found.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function isFamily(file: string): boolean {
  return file.startsWith('protocols/') && !file.startsWith('protocols/snmp/');
}

export function readmeSections(root = repoRoot): string {
  const parts: string[] = [];
  let familiesHeading = false;
  for (const file of sectionFiles(root)) {
    if (isFamily(file) && !familiesHeading) {
      parts.push('## Miner families\n');
      familiesHeading = true;
    }
    const dir = dirname(file);
    const text = readFileSync(join(root, file), 'utf8')
      .trim()
      .replace(/\]\((?!https?:|#|\/|mailto:)([^)\s]+)\)/g, (_m, link: string) => `](${join(dir, link)})`);
    parts.push(`<!-- from ${file} -->\n${text}\n`);
  }
  return parts.join('\n');
}

export async function renderReadme(current: string): Promise<string> {
  let next = replaceBetween(current, 'sections', readmeSections());
  next = replaceBetween(next, 'config-reference', configReference());
  next = replaceBetween(next, 'error-codes', await errorTable());
  return next;
}

/**
 * biome formats Markdown (`npm test` runs `biome check .`): tables padded, `*` lists as `-`, YAML in fences.
 * Pass the generated README through it so what we write, and what we compare, is what biome would leave.
 */
export function biomeFormatMarkdown(text: string): string {
  const biome = join(repoRoot, 'node_modules', '.bin', 'biome');
  const r = spawnSync(biome, ['format', '--stdin-file-path=README.md'], {
    cwd: repoRoot,
    input: text,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  // biome prints nothing on stdout for content it cannot format; keep the unformatted text then.
  return r.status === 0 && r.stdout ? r.stdout : text;
}

/** The README as `npm run docs:config` would write it. */
export async function expectedReadme(current: string): Promise<string> {
  return biomeFormatMarkdown(await renderReadme(current));
}

async function cli(argv: string[]): Promise<number> {
  const current = readFileSync(readmePath, 'utf8');
  const next = await expectedReadme(current);
  const same = next === current;
  if (argv.includes('--check')) {
    if (same) return 0;
    console.error(`${relative(process.cwd(), readmePath)} is stale: run npm run docs:config`);
    return 1;
  }
  if (!same) writeFileSync(readmePath, next);
  console.log(same ? 'README.md is up to date' : 'README.md updated');
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  process.exitCode = await cli(process.argv.slice(2));
