/**
 * Facilities as the loan code uses them: the config's `loans.facilities`, plus one file per loan in
 * `loans.loans_dir`, plus each facility's `register_csv` (the lender's asset register) merged into its pledges.
 * Every file is validated by the same zod schema as the config, so an error names the file and field.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { normalizeMac } from '../collector/identity.js';
import { ConfigErrors } from '../config/errors.js';
import { formatIssues } from '../config/issues.js';
import {
  type Facility,
  facilitySchema,
  type LoansConfig,
  type Pledge,
  pledgeSchema,
} from '../config/sections/loans.js';
import { parseCsv } from '../lib/csv.js';
import { errorMessage } from '../lib/errors.js';
import { LoanErrors } from './errors.js';

/** A pledge with its identity normalized (MAC lower-case colon form, serial trimmed). */
export interface PledgedRig extends Pledge {
  /** Stable key within the loan: `serial:…` or `mac:…`. */
  key: string;
  mac_norm: string | null;
}

export interface LoanFacility extends Omit<Facility, 'pledges'> {
  pledges: PledgedRig[];
}

export function pledgeKey(p: Pledge): string {
  return p.serial ? `serial:${p.serial.trim()}` : `mac:${normalizeMac(p.mac) ?? p.mac}`;
}

export function normalizePledge(p: Pledge): PledgedRig {
  return { ...p, key: pledgeKey(p), mac_norm: normalizeMac(p.mac) };
}

/** Loads every facility; `baseDir` resolves relative paths (the config file's folder). */
export function loadFacilities(cfg: LoansConfig, baseDir = '.'): LoanFacility[] {
  const raw: Array<{ facility: Facility; dir: string }> = cfg.facilities.map((facility) => ({
    facility,
    dir: baseDir,
  }));
  if (cfg.loans_dir) {
    const dir = isAbsolute(cfg.loans_dir) ? cfg.loans_dir : join(baseDir, cfg.loans_dir);
    let names: string[];
    try {
      names = readdirSync(dir)
        .filter((n) => /\.(ya?ml|json)$/i.test(n))
        .sort();
    } catch (err) {
      throw ConfigErrors.unreadable(dir, (err as NodeJS.ErrnoException).code ?? errorMessage(err));
    }
    for (const name of names) {
      const file = join(dir, name);
      let parsed: unknown;
      try {
        parsed = parseYaml(readFileSync(file, 'utf8'));
      } catch (err) {
        throw ConfigErrors.unreadable(file, errorMessage(err).split('\n')[0]!);
      }
      const result = facilitySchema.safeParse(parsed);
      if (!result.success) throw ConfigErrors.invalid(file, formatIssues(result.error));
      raw.push({ facility: result.data, dir: dirname(file) });
    }
  }
  const seen = new Set<string>();
  return raw.map(({ facility, dir }) => {
    if (seen.has(facility.id))
      throw ConfigErrors.invalid('loans', [`facilities: duplicate loan id ${facility.id}`]);
    seen.add(facility.id);
    const fromCsv = facility.register_csv
      ? readRegister(
          isAbsolute(facility.register_csv) ? facility.register_csv : join(dir, facility.register_csv),
        )
      : [];
    const pledges = [...facility.pledges, ...fromCsv].map(normalizePledge);
    const keys = new Set<string>();
    for (const p of pledges) {
      if (keys.has(p.key))
        throw ConfigErrors.invalid(`loans.${facility.id}`, [`pledges: ${p.key} is pledged twice`]);
      keys.add(p.key);
    }
    return { ...facility, pledges };
  });
}

const NUMERIC = new Set(['nominal_ths', 'nominal_w', 'boards']);

/** The lender's asset register: CSV with a header row (RFC 4180 quoting). */
export function readRegister(file: string): Pledge[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw LoanErrors.register(file, 0, (err as NodeJS.ErrnoException).code ?? errorMessage(err));
  }
  return parseRegister(text, file);
}

export function parseRegister(text: string, file = 'register.csv'): Pledge[] {
  const rows = parseCsv(text.replace(/^\uFEFF/, ''));
  if (rows.length === 0) throw LoanErrors.register(file, 1, 'empty file: a header row is needed');
  const header = rows[0]!.map((h) => h.trim().toLowerCase());
  const known = new Set(Object.keys(pledgeSchema.shape ?? {}));
  for (const h of header) if (!known.has(h)) throw LoanErrors.register(file, 1, `unknown column '${h}'`);
  const out: Pledge[] = [];
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.every((c) => c.trim() === '')) continue;
    const obj: Record<string, unknown> = {};
    header.forEach((h, j) => {
      const cell = (row[j] ?? '').trim();
      if (cell === '') return;
      obj[h] = NUMERIC.has(h) ? Number(cell) : cell;
    });
    const result = pledgeSchema.safeParse(obj);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      throw LoanErrors.register(file, i + 1, `${issue.path.join('.') || '(row)'}: ${issue.message}`);
    }
    out.push(result.data);
  }
  return out;
}
