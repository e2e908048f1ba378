#!/usr/bin/env node
// snmpd pass_persist helper for rigtel's SNMP tests (see protocols/snmp/testdata/snmpd.conf).
// Serves a metered-outlet table whose power and energy change over time.
//
//   pdu-pass-persist.mjs <style> <outlets> [served-log]
//
// style apc:   APC PowerNet rPDU2OutletMeteredStatusEntry (.1.3.6.1.4.1.318.1.1.26.9.4.3.1), columns
//              1 Index, 2 Module, 3 Name, 4 Number, 5 State, 6 Current (0.1 A), 7 Power (W), 8 PeakPower,
//              11 Energy (0.1 kWh)
// style site:  a made-up vendor table under .1.3.6.1.4.99999.7.1 (private test arc) for the generic-profile
//              test: 1 label, 2 power in deciwatts (Gauge32), 3 energy in Wh (Counter32), 4 inlet temp 0.1 °C
//
// When served-log is given, every power value handed out is appended as "<outlet> <watts>" so a test can
// check the collector reports exactly what the agent served.
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [style = 'apc', outletsArg = '8', servedLog] = process.argv.slice(2);
const N = Number(outletsArg);
const BASE = style === 'site' ? [1, 3, 6, 1, 4, 1, 99999, 7, 1] : [1, 3, 6, 1, 4, 1, 318, 1, 1, 26, 9, 4, 3, 1];
const T0 = Date.now();
let reads = 0;

function watts(i) {
  const t = (Date.now() - T0) / 1000;
  // Changes on every read so a stale or cached value would show.
  return Math.round(3250 + 150 * Math.sin(t / 7 + i) + (reads % 17));
}

/** value for column c of outlet i, as [type, value] */
function cell(c, i) {
  const t = (Date.now() - T0) / 1000;
  if (style === 'site') {
    if (c === 1) return ['string', `bay-${i}`];
    if (c === 2) return ['gauge', watts(i) * 10];
    if (c === 3) return ['counter', Math.floor(500_000 * i + (t * 3250) / 3600)];
    if (c === 4) return ['integer', 215 + i];
    return null;
  }
  switch (c) {
    case 1:
      return ['integer', i];
    case 2:
      return ['integer', 1];
    case 3:
      return ['string', `rig-${String(i).padStart(2, '0')}`];
    case 4:
      return ['integer', i];
    case 5:
      return ['integer', 2];
    case 6:
      return ['integer', Math.round(watts(i) / 23)];
    case 7:
      return ['integer', watts(i)];
    case 8:
      return ['integer', 3400];
    case 11:
      return ['integer', 1000 * i + Math.floor((t * 3250) / 360_000)];
    default:
      return null;
  }
}

const COLUMNS = style === 'site' ? [1, 2, 3, 4] : [1, 2, 3, 4, 5, 6, 7, 8, 11];
const POWER_COL = style === 'site' ? 2 : 7;

function parse(oid) {
  return oid
    .trim()
    .replace(/^\./, '')
    .split('.')
    .filter((x) => x !== '')
    .map(Number);
}

function cmp(a, b) {
  for (let k = 0; k < Math.min(a.length, b.length); k++) if (a[k] !== b[k]) return a[k] - b[k];
  return a.length - b.length;
}

/** [column, outlet] of the exact instance, or null */
function exact(oid) {
  if (oid.length !== BASE.length + 2 || cmp(oid.slice(0, BASE.length), BASE) !== 0) return null;
  const [c, i] = oid.slice(BASE.length);
  return COLUMNS.includes(c) && i >= 1 && i <= N ? [c, i] : null;
}

/** first instance strictly after oid, or null */
function next(oid) {
  for (const c of COLUMNS) {
    const first = [...BASE, c, 1];
    const last = [...BASE, c, N];
    if (cmp(last, oid) <= 0) continue;
    if (cmp(first, oid) > 0) return [c, 1];
    // oid is inside column c: next row
    const rest = oid.slice(BASE.length + 1);
    const i = rest.length === 0 ? 1 : rest.length === 1 ? rest[0] + 1 : rest[0] + 1;
    if (i <= N) return [c, Math.max(1, i)];
  }
  return null;
}

const out = [];
function answer(hit) {
  if (!hit) return void out.push('NONE');
  const [c, i] = hit;
  const v = cell(c, i);
  if (!v) return void out.push('NONE');
  reads++;
  if (c === POWER_COL && servedLog) appendFileSync(servedLog, `${i} ${style === 'site' ? v[1] / 10 : v[1]}\n`);
  out.push(`.${[...BASE, c, i].join('.')}`, v[0], String(v[1]));
}

const rl = createInterface({ input: process.stdin });
let pending = null;
rl.on('line', (line) => {
  const cmd = line.trim();
  if (pending) {
    const op = pending;
    pending = null;
    if (op === 'set') {
      pending = 'set-value';
      return;
    }
    if (op === 'set-value') {
      out.push('not-writable');
    } else {
      const oid = parse(cmd);
      answer(op === 'get' ? exact(oid) : next(oid));
    }
  } else if (cmd === 'PING') out.push('PONG');
  else if (cmd === 'get' || cmd === 'getnext' || cmd === 'set') pending = cmd;
  else if (cmd === '') process.exit(0);
  if (out.length) process.stdout.write(`${out.splice(0).join('\n')}\n`);
});
rl.on('close', () => process.exit(0));
