/**
 * `rigtel layout import FILE.csv --config rigtel.yaml [--write]`: a rack layout from a spreadsheet into the
 * config's `location` per rig. Columns (header row, any order, case-insensitive): `name` and/or `address` to find
 * the rig, `row`, `rack`, optional `slot` and `site`. A row naming a rig the config does not list is added when it
 * gives an address. Comments and formatting of the YAML are kept (yaml's Document API). Without `--write` the
 * updated config is printed; with it the file is rewritten once every row checked out.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { validateConfig } from '../config/load.js';
import { parseCsv } from '../lib/csv.js';
import { errorMessage } from '../lib/errors.js';
import { type FlagSpecs, flagHelp, parseArgs } from './args.js';
import { CliErrors, LayoutErrors } from './errors.js';
import type { Io } from './io.js';

const flags: FlagSpecs = {
  config: { type: 'string', short: 'c', value: 'FILE', description: 'config file to update (YAML)' },
  write: { type: 'boolean', description: 'rewrite the config file in place (default: print it)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export const layoutUsage = `usage: rigtel layout import FILE.csv --config FILE [--write]

Set each rig's location (row, rack, slot, site) from a rack layout CSV. The header names the columns:
name and/or address (to find the rig), row, rack, and optionally slot and site. Example:

  name,address,row,rack,slot
  c1-r01-s19pro,10.0.0.11:4028,A,r01,1

${flagHelp(flags)}
`;

export interface LayoutRow {
  line: number;
  name: string | null;
  address: string | null;
  row: string;
  rack: string;
  slot: number | null;
  site: string | null;
}

export function layoutRows(file: string, text: string): LayoutRow[] {
  const rows = parseCsv(text.replace(/^\uFEFF/, ''));
  const header = (rows[0] ?? []).map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  for (const needed of ['row', 'rack']) {
    if (col(needed) === -1) throw LayoutErrors.csv(file, 1, `the header has no '${needed}' column`);
  }
  if (col('name') === -1 && col('address') === -1)
    throw LayoutErrors.csv(file, 1, "the header needs a 'name' or an 'address' column");
  const out: LayoutRow[] = [];
  rows.slice(1).forEach((cells, i) => {
    const line = i + 2;
    if (cells.every((c) => c.trim() === '')) return;
    const get = (name: string) => {
      const v = col(name) === -1 ? '' : (cells[col(name)] ?? '').trim();
      return v === '' ? null : v;
    };
    const name = get('name');
    const address = get('address');
    if (!name && !address) throw LayoutErrors.csv(file, line, 'neither name nor address is given');
    const row = get('row');
    const rack = get('rack');
    if (!row) throw LayoutErrors.csv(file, line, 'row is empty');
    if (!rack) throw LayoutErrors.csv(file, line, 'rack is empty');
    const slotText = get('slot');
    const slot = slotText === null ? null : Number(slotText);
    if (slot !== null && !(Number.isInteger(slot) && slot >= 0 && slot <= 10_000))
      throw LayoutErrors.csv(file, line, `slot '${slotText}' is not a whole number from 0 to 10000`);
    out.push({ line, name, address, row, rack, slot, site: get('site') });
  });
  return out;
}

/** The config text with each row's location set; returns the new text and what changed. */
export function applyLayout(
  configFile: string,
  configText: string,
  csvFile: string,
  rows: readonly LayoutRow[],
): { text: string; updated: number; added: number } {
  const doc = parseDocument(configText);
  if (doc.errors.length) throw LayoutErrors.read(configFile, doc.errors[0]!.message);
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  if (!isMap(doc.contents)) throw LayoutErrors.read(configFile, 'the config is not a mapping');
  let rigs = doc.get('rigs', true);
  if (rigs === undefined || rigs === null) {
    doc.set('rigs', doc.createNode([]));
    rigs = doc.get('rigs', true);
  }
  if (!isSeq(rigs)) throw LayoutErrors.read(configFile, 'rigs is not a list');
  const items = rigs.items as YAMLMap[];
  const bare = (a: string) => a.toLowerCase().replace(/:4028$/, '');
  let updated = 0;
  let added = 0;
  for (const r of rows) {
    let rig = items.find(
      (item) =>
        (r.name !== null && item.get('name') === r.name) ||
        (r.address !== null &&
          typeof item.get('address') === 'string' &&
          bare(String(item.get('address'))) === bare(r.address)),
    );
    if (!rig) {
      if (!r.address)
        throw LayoutErrors.csv(
          csvFile,
          r.line,
          `no rig named '${r.name}' in ${configFile}, and no address to add it`,
        );
      rig = doc.createNode({ ...(r.name ? { name: r.name } : {}), address: r.address }) as YAMLMap;
      rigs.items.push(rig);
      added++;
    } else updated++;
    const location: Record<string, string | number> = { row: r.row, rack: r.rack };
    if (r.slot !== null) location.slot = r.slot;
    if (r.site !== null) location.site = r.site;
    const node = doc.createNode(location);
    node.flow = true;
    rig.set('location', node);
  }
  const text = doc.toString();
  // The result must still be a valid config (a bad address in the CSV is caught here, before anything is written).
  try {
    validateConfig(doc.toJS());
  } catch (err) {
    throw LayoutErrors.read(configFile, `the updated config would be invalid: ${errorMessage(err)}`);
  }
  return { text, updated, added };
}

export async function layoutCommand(argv: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(layoutUsage);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'import') throw CliErrors.usage(`unknown layout command '${sub}'`);
  const { positionals, flags: f } = parseArgs(rest, flags);
  if (f['help']) {
    io.out(layoutUsage);
    return 0;
  }
  if (positionals.length !== 1) throw CliErrors.usage('layout import needs exactly one FILE.csv');
  const config = f['config'];
  if (typeof config !== 'string') throw CliErrors.usage('layout import needs --config FILE');
  const csvFile = positionals[0]!;
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw LayoutErrors.read(file, (err as NodeJS.ErrnoException).code ?? errorMessage(err));
    }
  };
  const rows = layoutRows(csvFile, read(csvFile));
  const result = applyLayout(config, read(config), csvFile, rows);
  if (f['write']) {
    try {
      writeFileSync(config, result.text);
    } catch (err) {
      throw LayoutErrors.read(config, (err as NodeJS.ErrnoException).code ?? errorMessage(err));
    }
    io.out(`${config}: ${result.updated} rigs located, ${result.added} added\n`);
  } else io.out(result.text);
  return 0;
}
