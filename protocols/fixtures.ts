/**
 * Access to the real miner replies kept in protocols/fixtures/real (see its INDEX.md for the source of each file).
 * Used by parser tests and by the emulated fleet, so the demo and the tests replay the same bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Folder of the real replies: $RIGTEL_FIXTURES_DIR, else protocols/fixtures/real in the repo. */
export function fixturesDir(): string {
  return process.env.RIGTEL_FIXTURES_DIR ?? resolve(repoRoot, 'protocols', 'fixtures', 'real');
}

export function fixturesAvailable(): boolean {
  return existsSync(join(fixturesDir(), 'INDEX.md'));
}

export interface FixtureEntry {
  file: string;
  family: string;
  model: string;
  firmware: string;
  command: string;
  notes: string;
  /** Stored re-serialized by its source: use for values, not bytes. */
  normalized: boolean;
}

/** Rows of the INDEX.md table. */
export function fixtureIndex(): FixtureEntry[] {
  const text = readFileSync(join(fixturesDir(), 'INDEX.md'), 'utf8');
  const rows: FixtureEntry[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | file | family | model | firmware | command | source | notes |
    if (cells.length < 8 || !cells[1]?.endsWith('.txt')) continue;
    const notes = cells[7] ?? '';
    rows.push({
      file: cells[1],
      family: cells[2] ?? '',
      model: cells[3] ?? '',
      firmware: cells[4] ?? '',
      command: cells[5] ?? '',
      notes,
      normalized: /NORMALIZED BY SOURCE|REFORMATTED BY SOURCE/.test(notes),
    });
  }
  return rows;
}

/** The exact bytes of one reply. */
export function readFixture(file: string): Buffer {
  return readFileSync(join(fixturesDir(), file));
}

export function readFixtureText(file: string): string {
  return readFixture(file).toString('utf8');
}
