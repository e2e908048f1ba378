// The repo stands alone: nothing reads or cites files outside it, the docs that code comments cite exist with
// the headings they cite, and every relative link in the Markdown docs resolves.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tracked = execFileSync('git', ['-C', root, 'ls-files'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && existsSync(join(root, f)));
const code = tracked.filter((f) => /\.(ts|mjs|js|yaml|yml|conf|html|css)$|Dockerfile$/.test(f));
const markdown = tracked.filter((f) => f.endsWith('.md') && !f.startsWith('protocols/fixtures/real/'));

const OUTSIDE = /\.\.\/shared|\/work\/shared|shared\/(docs|fixtures)/;

/** Split a source file into comment lines and code lines (`//` and block comments; `#` outside TypeScript). */
function split(file: string, text: string): { comments: string[]; code: string[] } {
  const hashComments = !file.endsWith('.ts');
  const comments: string[] = [];
  const codeLines: string[] = [];
  let inBlock = false;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (inBlock) {
      comments.push(line);
      if (t.includes('*/')) inBlock = false;
    } else if (t.startsWith('/*')) {
      comments.push(line);
      inBlock = !t.slice(2).includes('*/');
    } else if (t.startsWith('//') || (hashComments && t.startsWith('#'))) comments.push(line);
    else codeLines.push(line);
  }
  return { comments, code: codeLines };
}

describe('self-contained repository', () => {
  test('no code anywhere reads a path outside the repo (a sibling shared folder)', () => {
    const hits: string[] = [];
    for (const f of code) {
      const { code: lines } = split(f, readFileSync(join(root, f), 'utf8'));
      for (const l of lines) if (OUTSIDE.test(l)) hits.push(`${f}: ${l.trim()}`);
    }
    assert.deepEqual(hits, []);
  });

  test('no comment cites notes outside the repo', () => {
    const hits: string[] = [];
    for (const f of code) {
      const { comments } = split(f, readFileSync(join(root, f), 'utf8'));
      for (const l of comments) if (OUTSIDE.test(l)) hits.push(`${f}: ${l.trim()}`);
    }
    assert.deepEqual(hits, []);
  });

  test('docs/protocols.md has the section every comment cites, under these exact headings', () => {
    const headings = new Set(
      readFileSync(join(root, 'docs', 'protocols.md'), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('## '))
        .map((l) => l.slice(3).trim()),
    );
    for (const h of [
      'cgminer API framing',
      'Antminer',
      'Whatsminer',
      'Avalon',
      'Braiins OS',
      'LuxOS',
      'VNish',
      'Innosilicon',
      'Bitaxe',
      'SNMP',
      'Units and plausibility',
    ])
      assert.ok(headings.has(h), `docs/protocols.md lacks "## ${h}"`);
    const arch = new Set(
      readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('## '))
        .map((l) => l.slice(3).trim()),
    );
    // A citation names the document and then quoted headings: docs/protocols.md "Antminer", "Whatsminer".
    const cite = /docs\/(protocols|ARCHITECTURE)\.md((?:,? ?"(?:## )?[^"]+")+)/g;
    const missing: string[] = [];
    for (const f of code) {
      for (const m of readFileSync(join(root, f), 'utf8').matchAll(cite)) {
        const known = m[1] === 'protocols' ? headings : arch;
        for (const q of m[2]!.matchAll(/"(?:## )?([^"]+)"/g)) {
          // A heading cited across a comment line break: `"cgminer API` / ` * framing"`.
          const heading = q[1]!.replace(/\s*\n\s*(\*|\/\/)?\s*/g, ' ');
          if (!known.has(heading)) missing.push(`${f}: docs/${m[1]}.md "${heading}"`);
        }
      }
    }
    assert.deepEqual(missing, []);
  });

  test('every relative link in the Markdown docs resolves to a file in the repo', () => {
    const broken: string[] = [];
    for (const f of markdown) {
      const text = readFileSync(join(root, f), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) {
        const link = m[1]!;
        if (/^[a-z]+:/.test(link)) continue;
        const target = normalize(join(dirname(f), link));
        if (target.startsWith('..') || !existsSync(join(root, target))) broken.push(`${f}: ${link}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
