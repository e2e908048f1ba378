/**
 * Test support for the family parser tests: every INDEX.md fixture of a family, decoded, with its expected
 * normalized output in `<family>/testdata/expected/<fixture>.json`. Set RIGTEL_WRITE_EXPECTED=1 to write missing
 * expected files (then check every number by hand against the raw reply before committing them).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureIndex, readFixtureText } from '../protocols/fixtures.js';
import { decodeReply, isObj, type Obj } from '../protocols/kit/index.js';

export interface FixtureCase {
  file: string;
  /** Command word from INDEX.md (`stats`, `version`, …); `joined` for multi-command replies. */
  command: string;
  body: Obj;
  repairs: string[];
}

export function familyCases(family: string): FixtureCase[] {
  return fixtureIndex()
    .filter((e) => e.family === family && !e.command.startsWith('GET '))
    .map((e) => {
      // The production decoder, repairs and all: the parsers are tested on exactly what a poll hands them.
      const decoded = decodeReply(readFixtureText(e.file));
      if (!isObj(decoded.value)) throw new Error(`fixture ${e.file} does not decode to an object`);
      const command = e.command.includes('+') ? 'joined' : e.command.trim();
      return { file: e.file, command, body: decoded.value as Obj, repairs: decoded.repairs };
    });
}

/** Deep-equal target for one fixture, or null when none is stored (written when RIGTEL_WRITE_EXPECTED=1). */
export function expected(dir: string, file: string, actual: unknown): unknown {
  const path = join(dir, 'testdata', 'expected', file.replace(/\.txt$/, '.json'));
  if (!existsSync(path)) {
    if (process.env.RIGTEL_WRITE_EXPECTED === '1') {
      writeFileSync(path, `${JSON.stringify(actual, null, 2)}\n`);
      return actual;
    }
    return null;
  }
  return JSON.parse(readFileSync(path, 'utf8'));
}
