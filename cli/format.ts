/** Human tables for the terminal. Missing readings print as `-`, never 0. */
import type { MinerReading } from '../protocols/sample.js';

const dash = '-';

export function ths(hs: number | null | undefined): string {
  return hs == null ? dash : `${(hs / 1e12).toFixed(2)} TH/s`;
}

function num(v: number | null | undefined, unit: string, digits = 0): string {
  return v == null ? dash : `${v.toFixed(digits)}${unit}`;
}

function table(rows: ReadonlyArray<readonly string[]>, header?: readonly string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const row of all) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return all.map((row) => `  ${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd()).join('\n');
}

function kv(pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/** The readable form of one poll: identity, state, hashrate, temps, fans, power and source, pools, boards. */
export function formatReading(address: string, r: MinerReading, durationMs?: number): string {
  const id = r.identity;
  const parts: string[] = [];
  parts.push(`${address}${durationMs === undefined ? '' : `  (${durationMs} ms)`}`);
  parts.push(
    kv([
      ['family', id.family],
      ['make / model', `${id.make ?? dash} / ${id.model ?? dash}`],
      ['firmware', id.firmware ?? dash],
      ['mac / serial', `${id.mac ?? dash} / ${id.serial ?? dash}`],
      ['hostname', id.hostname ?? dash],
      ['state', r.state],
      ['support', r.support],
      [
        'hashrate',
        `${ths(r.hashrate_hs)} (avg ${ths(r.hashrate_avg_hs)}, nameplate ${ths(r.hashrate_nominal_hs)})`,
      ],
      [
        'temps',
        `chip max ${num(r.temp_chip_max_c, ' °C', 1)}, board max ${num(r.temp_board_max_c, ' °C', 1)}, inlet ${num(r.temp_inlet_c, ' °C', 1)}, outlet ${num(r.temp_outlet_c, ' °C', 1)}`,
      ],
      ['fans', r.fans.length ? r.fans.map((f) => num(f.rpm, ' rpm')).join(', ') : dash],
      [
        'power',
        r.power_w == null ? dash : `${num(r.power_w, ' W')} (source: ${r.power_source ?? 'unknown'})`,
      ],
      ['uptime', num(r.uptime_s, ' s')],
      [
        'shares',
        `accepted ${num(r.shares_accepted, '')}, rejected ${num(r.shares_rejected, '')}, stale ${num(r.shares_stale, '')}`,
      ],
      ['hw errors', num(r.hw_errors, '')],
    ]),
  );
  if (r.boards.length) {
    parts.push('boards');
    parts.push(
      table(
        r.boards.map((b) => [
          String(b.index),
          ths(b.hashrate_hs),
          num(b.temp_chip_c, ' °C', 1),
          num(b.temp_board_c, ' °C', 1),
          b.chips == null ? dash : `${b.chips}/${b.chips_expected ?? '?'}`,
          num(b.frequency_mhz, ' MHz'),
          num(b.hw_errors, ''),
        ]),
        ['#', 'hashrate', 'chip', 'board', 'chips', 'freq', 'hw err'],
      ),
    );
  }
  if (r.pools.length) {
    parts.push('pools');
    parts.push(
      table(
        r.pools.map((p) => [
          String(p.index),
          p.active ? '*' : ' ',
          p.url ?? dash,
          p.user ?? dash,
          p.status ?? dash,
          num(p.accepted, ''),
          num(p.rejected, ''),
        ]),
        ['#', 'in use', 'url', 'user', 'status', 'accepted', 'rejected'],
      ),
    );
  }
  parts.push(`repairs applied: ${r.repairs.length ? r.repairs.join(', ') : 'none'}`);
  if (r.notes.length) parts.push(`notes:\n${r.notes.map((n) => `  - ${n}`).join('\n')}`);
  return `${parts.join('\n')}\n`;
}
