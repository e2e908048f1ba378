/**
 * `rigtel scan 10.0.0.0/22 [--ports 4028,80,4433] [--concurrency N] [--timeout MS] [--json] [--write-config FILE]`
 * Finds miners in IPv4 ranges (collector/discovery.ts) and prints a table, or JSON. `--write-config` adds the
 * identified rigs that are not in the file yet, keeping the file's comments, and refuses to write a file that
 * `rigtel config check` would reject.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Document, isMap, isSeq, parseDocument } from 'yaml';
import { addressKey, normalizeAddress } from '../collector/address.js';
import {
  checkScanTargets,
  DEFAULT_SCAN_PORTS,
  parsePorts,
  type ScanProgress,
  type ScanReport,
  type ScanResult,
  scanRange,
} from '../collector/discovery.js';
import { validateConfig } from '../config/load.js';
import { errorCode, errorMessage, RtError } from '../lib/errors.js';
import { type FlagSpecs, flagHelp, parseArgs } from './args.js';
import { CliErrors } from './errors.js';
import { type Io, processIo } from './io.js';
import { secretFlags, secretFromFlags } from './secret-input.js';

const flags: FlagSpecs = {
  ports: {
    type: 'string',
    short: 'p',
    value: 'LIST',
    description: `ports to probe (default ${DEFAULT_SCAN_PORTS.join(',')})`,
  },
  concurrency: { type: 'string', value: 'N', description: 'connect probes in flight at once (default 256)' },
  timeout: { type: 'string', value: 'MS', description: 'connect timeout per probe in ms (default 1000)' },
  json: { type: 'boolean', description: 'print the results as JSON' },
  'write-config': {
    type: 'string',
    value: 'FILE',
    description: 'add identified rigs that are not there yet to this config file (YAML)',
  },
  force: { type: 'boolean', description: 'allow ranges larger than a /16 (up to a /12)' },
  'allow-public': {
    type: 'boolean',
    description: 'allow public addresses (anything but RFC 1918, loopback, link-local and CGNAT 100.64/10)',
  },
  user: {
    type: 'string',
    value: 'NAME',
    description: 'web user for stock Antminer serial/MAC (default root)',
  },
  ...secretFlags,
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export const scanUsage = `usage: rigtel scan RANGE… [options]

Find miners in IPv4 ranges (CIDR blocks or single addresses), e.g. rigtel scan 10.0.0.0/22.
Stage 1 probes every address:port with a TCP connect (timeouts are retried at lower concurrency);
stage 2 identifies each host that accepted (cgminer version/devdetails, else HTTP). Hosts that
answer but cannot be identified are listed as "unidentified". With a password (--password-env VAR or
--password-file FILE, as in every command), stock Antminers with an open web port also get their serial
number and MAC (digest auth, user --user). Port ranges work: --ports 4028,47100-47123.

${flagHelp(flags)}
`;

function intFlag(
  v: string | boolean | undefined,
  name: string,
  def: number,
  min: number,
  max: number,
): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n < min || n > max) {
    throw CliErrors.usage(`--${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

function progressBar(io: Io): (p: ScanProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 100 && p.done !== p.total) return;
    last = now;
    const width = 30;
    const filled = p.total ? Math.round((p.done / p.total) * width) : width;
    const label = p.stage === 'identify' ? 'identifying' : p.stage === 'retry' ? 'retrying' : 'probing';
    io.err(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${label} ${p.done}/${p.total}, ${p.open} open  `,
    );
  };
}

const dash = (v: string | number | null) => (v === null || v === '' ? '-' : String(v));

/** Columns left out first when the table is wider than the terminal. */
const DROP_ORDER = ['SERIAL', 'FIRMWARE', 'MAKE', 'MAC', 'TH/S', 'FAMILY'];

/**
 * The results as a table no wider than `width` (the terminal's columns): low-priority columns are left out,
 * then the widest remaining cells are cut with `…`. IP, PORT, MODEL and STATUS always stay.
 */
export function formatTable(results: ScanResult[], width = Number.POSITIVE_INFINITY): string {
  const head = ['IP', 'PORT', 'MAC', 'MAKE', 'MODEL', 'FIRMWARE', 'SERIAL', 'TH/S', 'FAMILY', 'STATUS'];
  const rows = results.map((r) => [
    r.ip,
    String(r.port),
    dash(r.mac),
    dash(r.make),
    dash(r.model),
    dash(r.firmware),
    dash(r.serial),
    dash(r.nameplate_ths),
    r.family,
    r.status,
  ]);
  let keep = head.map((_, i) => i);
  const widthsOf = (cols: number[]) =>
    cols.map((i) => Math.max(head[i]!.length, ...rows.map((row) => row[i]!.length)));
  const total = (w: number[]) => w.reduce((a, b) => a + b, 0) + 2 * (w.length - 1);
  for (const name of DROP_ORDER) {
    if (total(widthsOf(keep)) <= width) break;
    keep = keep.filter((i) => head[i] !== name);
  }
  const widths = widthsOf(keep);
  // Still too wide: shrink the widest column, one character at a time, down to 8.
  while (total(widths) > width) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= 8) break;
    widths[widest]! -= 1;
  }
  const cut = (c: string, w: number) => (c.length > w ? `${c.slice(0, w - 1)}…` : c);
  const line = (cells: string[]) =>
    keep
      .map((i, k) => cut(cells[i]!, widths[k]!).padEnd(widths[k]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export function summaryLine(report: ScanReport): string {
  const identified = report.results.filter((r) => r.status === 'identified').length;
  const unidentified = report.results.length - identified;
  return `${report.addresses} addresses, ${report.probes} probes in ${(report.duration_ms / 1000).toFixed(1)} s: ${identified} identified, ${unidentified} unidentified`;
}

/**
 * Add identified rigs to a config file. Returns how many were added. Existing rigs are matched by address
 * (host:port, host alone = port 4028) and by host for web-only devices. The result must pass validateConfig.
 */
export function addRigsToConfig(file: string, results: ScanResult[]): { added: number; skipped: number } {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  // An empty file parses to a document without contents: start from an empty mapping.
  const doc = text.trim() === '' ? new Document({ rigs: [] }) : parseDocument(text);
  if (doc.errors.length)
    throw CliErrors.usage(`${file}: not valid YAML (${doc.errors[0]!.message.split('\n')[0]})`);
  if (!isMap(doc.contents)) throw CliErrors.usage(`${file}: the top level is not a mapping`);
  let rigs = doc.get('rigs', true);
  if (rigs === undefined || rigs === null) {
    doc.set('rigs', doc.createNode([]));
    rigs = doc.get('rigs', true);
  }
  if (!isSeq(rigs)) throw CliErrors.usage(`${file}: rigs is not a list`);
  // `rigs: []` would keep the new entries on one flow-style line.
  rigs.flow = false;
  const present = new Set<string>();
  for (const item of rigs.items) {
    const address = isMap(item) ? item.get('address') : undefined;
    if (typeof address !== 'string') continue;
    present.add(normalizeAddress(address));
  }
  let added = 0;
  let skipped = 0;
  for (const r of results) {
    if (r.status !== 'identified' || r.family === 'unknown') continue;
    const key = addressKey({ host: r.ip, port: r.port });
    if (present.has(key)) {
      skipped++;
      continue;
    }
    const rig: Record<string, unknown> = { address: key, family: r.family };
    if (r.nameplate_ths !== null) rig['nameplate_ths'] = r.nameplate_ths;
    const tags: Record<string, string> = { found_by: 'rigtel scan' };
    if (r.model) tags['model'] = r.model;
    if (r.mac) tags['mac'] = r.mac;
    rig['tags'] = tags;
    rigs.add(doc.createNode(rig));
    present.add(key);
    added++;
  }
  // Same check as `rigtel config check` (env overrides aside): never leave a file the collector refuses.
  validateConfig(doc.toJS(), file);
  if (added > 0) {
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, doc.toString());
    renameSync(tmp, file);
  }
  return { added, skipped };
}

export async function scanCommand(argv: string[], io: Io = processIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv, flags);
  } catch (err) {
    // The one usage-error style of every command (cli/main.ts): `RT_ERR_CLI_USAGE: why`, then the usage.
    io.err(`${CliErrors.usage.code}: ${errorMessage(err)}\n\n${scanUsage}`);
    return 2;
  }
  if (parsed.flags['help']) {
    io.out(scanUsage);
    return 0;
  }
  try {
    if (parsed.positionals.length === 0) throw CliErrors.usage('give at least one range, e.g. 10.0.0.0/22');
    // Ranges are judged before anything is allocated or any socket is opened.
    const allowPublic = Boolean(parsed.flags['allow-public']);
    const targets = checkScanTargets(parsed.positionals, {
      force: Boolean(parsed.flags['force']),
      allowPublic,
    });
    if (targets.publicRanges.length > 0) {
      io.err(
        `warning: scanning public addresses (${targets.publicRanges.join(' ')}): probes leave the site's networks\n`,
      );
    }
    const ports = parsed.flags['ports'] ? parsePorts(String(parsed.flags['ports'])) : [...DEFAULT_SCAN_PORTS];
    const concurrency = intFlag(parsed.flags['concurrency'], 'concurrency', 256, 1, 4096);
    const timeout = intFlag(parsed.flags['timeout'], 'timeout', 1000, 50, 60_000);
    const tty = Boolean(process.stderr.isTTY) && io === processIo;
    const password = secretFromFlags(parsed.flags, io.env);
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    let report: ScanReport;
    try {
      report = await scanRange({
        cidrs: parsed.positionals,
        ports,
        concurrency,
        connectTimeoutMs: timeout,
        deadlineMs: Math.max(2000, timeout * 3),
        force: Boolean(parsed.flags['force']),
        allowPublic,
        webAuth: password
          ? { username: typeof parsed.flags['user'] === 'string' ? parsed.flags['user'] : 'root', password }
          : undefined,
        signal: ac.signal,
        ...(tty ? { onProgress: progressBar(io) } : {}),
      });
    } finally {
      process.removeListener('SIGINT', onSigint);
      if (tty) io.err('\r\x1b[K');
    }
    if (parsed.flags['json']) io.out(`${JSON.stringify(report, null, 2)}\n`);
    else {
      // Cut to the terminal; a pipe or file gets every column.
      const columns =
        io === processIo && process.stdout.isTTY ? process.stdout.columns : Number(io.env['COLUMNS']);
      const width = Number.isFinite(columns) && columns > 0 ? columns : Number.POSITIVE_INFINITY;
      io.out(report.results.length ? `${formatTable(report.results, width)}\n` : 'no miners found\n');
      io.err(`${summaryLine(report)}\n`);
    }
    const file = parsed.flags['write-config'];
    if (typeof file === 'string') {
      const { added, skipped } = addRigsToConfig(file, report.results);
      io.err(`${file}: ${added} rig(s) added, ${skipped} already present\n`);
    }
    return 0;
  } catch (err) {
    if (CliErrors.usage.is(err)) {
      io.err(`${CliErrors.usage.code}: ${errorMessage(err)}\n\n${scanUsage}`);
      return 2;
    }
    io.err(`${errorCode(err)}: ${errorMessage(err)}\n`);
    if (
      err instanceof RtError &&
      (err.httpStatus === 400 || err.code === 'RT_ERR_CLI_USAGE' || /CONFIG/.test(err.code))
    ) {
      return 2;
    }
    return 1;
  }
}
