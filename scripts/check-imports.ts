/**
 * The import rules between the repo's folders (docs/ARCHITECTURE.md "Folders and the rules between them"),
 * checked on every `.ts` file. `npm test` runs it; `node --import tsx scripts/check-imports.ts [root]` prints the
 * violations and exits 1 when a rule that is in force is broken. Rules marked `pending` only warn.
 *
 * Test code (`*.test.ts`, `*.bench.ts`, `*.fixture.ts`) wires real components together across folders, so
 * the folder rules apply to the modules that ship; test code only may not be imported by them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The driver kit every miner family builds on. Family folders may import only this, `protocols/sample.ts` and lib/. */
export const KIT_DIR = 'protocols/kit/';

/** Folders under protocols/ that are not a miner family. */
export const NON_FAMILY_DIRS = ['emulator', 'snmp', 'fixtures', 'kit', 'http', 'antminer-web'];

/** The collector modules the API may read: its views (the types of what it serves). */
export const COLLECTOR_VIEWS = ['collector/views.ts'];

export interface ImportRef {
  /** Importing file, repo-relative with `/`. */
  from: string;
  line: number;
  /** The specifier as written. */
  spec: string;
  /** Repo-relative target for a relative import; null for a package or node: import. */
  target: string | null;
}

export interface Violation extends ImportRef {
  rule: string;
  pending: boolean;
}

interface Rule {
  name: string;
  pending?: boolean;
  /** True when `ref` breaks the rule. Only called for imports of project files. */
  breaks(ref: ImportRef & { target: string }): boolean;
}

const isTestCode = (file: string) => /(^|[./])(test|bench|fixture)\.ts$/.test(file);
const under = (file: string, dir: string) => file.startsWith(dir);
const familyOf = (file: string): string | null => {
  const m = /^protocols\/([^/]+)\//.exec(file);
  return m?.[1] && !NON_FAMILY_DIRS.includes(m[1]) ? m[1] : null;
};

export const RULES: Rule[] = [
  {
    name: 'protocols/ never imports collector/, config/, api/ or cli/',
    breaks: (r) =>
      under(r.from, 'protocols/') &&
      ['collector/', 'config/', 'api/', 'cli/'].some((d) => under(r.target, d)),
  },
  {
    name: `api/ imports from collector/ only its views (${COLLECTOR_VIEWS.join(', ')})`,
    breaks: (r) =>
      under(r.from, 'api/') && under(r.target, 'collector/') && !COLLECTOR_VIEWS.includes(r.target),
  },
  {
    name: 'sinks (collector/sinks/) never import the journal',
    breaks: (r) => under(r.from, 'collector/sinks/') && r.target === 'collector/journal.ts',
  },
  {
    name: 'lib/ imports nothing of the project outside lib/',
    breaks: (r) => under(r.from, 'lib/') && !under(r.target, 'lib/'),
  },
  {
    name: 'config/ never imports collector/ (the collector reads config, not the other way round)',
    breaks: (r) => under(r.from, 'config/') && under(r.target, 'collector/'),
  },
  {
    name: 'collector/ and config/ never import api/ or cli/',
    breaks: (r) =>
      (under(r.from, 'collector/') || under(r.from, 'config/')) &&
      (under(r.target, 'api/') || under(r.target, 'cli/')),
  },
  {
    name: 'code that ships never imports test code (testing/, *.test.ts, *.bench.ts, *.fixture.ts); scripts/ may',
    breaks: (r) =>
      !under(r.from, 'testing/') &&
      !under(r.from, 'scripts/') &&
      (under(r.target, 'testing/') || isTestCode(r.target)),
  },
  {
    name: `a family folder under protocols/ imports only the driver kit (${KIT_DIR}), protocols/sample.ts and lib/`,
    breaks: (r) => {
      const family = familyOf(r.from);
      if (!family) return false;
      return !(
        under(r.target, `protocols/${family}/`) ||
        under(r.target, KIT_DIR) ||
        r.target === 'protocols/sample.ts' ||
        under(r.target, 'lib/')
      );
    },
  },
];

/** Replace comments with blanks of the same line count, so imports shown in comments are not read as imports. */
function stripComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/^\s*\/\/.*$/gm, (c) => ' '.repeat(c.length));
}

const STATIC = /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s+)?['"]([^'"\n]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;

/** Every import (static, re-export, side-effect, dynamic with a literal) of one file. */
export function importsOf(root: string, file: string, text: string): ImportRef[] {
  const code = stripComments(text);
  const refs: ImportRef[] = [];
  for (const re of [STATIC, DYNAMIC]) {
    for (const m of code.matchAll(re)) {
      const spec = m[1] as string;
      const line = code.slice(0, (m.index ?? 0) + m[0].length).split('\n').length;
      let target: string | null = null;
      if (spec.startsWith('.')) {
        const abs = resolve(root, dirname(file), spec).replace(/\.js$/, '.ts');
        target = relative(root, abs).split(sep).join('/');
      }
      refs.push({ from: file, line, spec, target });
    }
  }
  return refs;
}

/** Repo-relative paths of every `.ts` file under root (node_modules and dot-folders left out). */
export function tsFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts')) out.push(rel);
    }
  };
  walk('');
  return out.sort();
}

export function checkImports(root: string): Violation[] {
  const found: Violation[] = [];
  for (const file of tsFiles(root)) {
    if (isTestCode(file)) continue;
    const refs = importsOf(root, file, readFileSync(join(root, file), 'utf8'));
    for (const ref of refs) {
      if (ref.target === null) continue;
      const r = { ...ref, target: ref.target };
      for (const rule of RULES) {
        if (rule.breaks(r)) found.push({ ...ref, rule: rule.name, pending: rule.pending === true });
      }
    }
  }
  return found;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const all = checkImports(root);
  const errors = all.filter((v) => !v.pending);
  const warnings = all.filter((v) => v.pending);
  const show = (v: Violation) => `  ${v.from}:${v.line} imports '${v.spec}'\n    rule: ${v.rule}`;
  if (warnings.length) {
    console.log(`[imports] ${warnings.length} warning(s) from pending rules (not enforced yet):`);
    const byRule = new Map<string, number>();
    for (const w of warnings) byRule.set(w.rule, (byRule.get(w.rule) ?? 0) + 1);
    for (const [rule, n] of byRule) console.log(`  ${n} × ${rule}`);
  }
  if (errors.length) {
    console.error(
      `[imports] ${errors.length} import(s) break the folder rules:\n${errors.map(show).join('\n')}`,
    );
    process.exit(1);
  }
  console.log(`[imports] ${tsFiles(root).length} files, folder rules kept`);
}
