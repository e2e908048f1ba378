/**
 * `npm run bench`: prints the figures the issues ask for. Nothing here asserts a speed; it measures.
 *
 *   sweep      1,000 / 5,000 / 10,000 emulated rigs of mixed families served from separate processes, polled by
 *              the real scheduler + pollRig on the main thread and through the poll workers, with zero added
 *              latency, realistic latency, and 5 % of rigs hanging: sweep wall time, CPU µs per rig-poll,
 *              answered/failed, healthy rigs' completion times (`npm run bench -- sweep --rigs 1000,5000`;
 *              options in scripts/bench-sweep.ts)
 *   parser     decode+parse MB/s on the real Antminer stats replies vs JSON.parse on the same bytes
 *   decode     CPU µs per decodeReply over the real JSON replies, clean vs repaired (protocols/kit/decode.bench.ts)
 *   journal    journal appends/s with fsync on and off
 *   pipeline   main-thread CPU per sample after the driver: journal, fleet, alerts, embedded store
 *   influx     samples/s the InfluxDB sink sustains into a local influxd
 *   snmp       one sweep of 500 PDU outlets: time and CPU
 *   discovery  scan of a loopback /22 with scattered, silent and slow rigs
 *   startup    `rigtel --version` / `--help` wall time from dist/ and through tsx
 *   api        /v1/fleet, /v1/rigs, /metrics per request at 1,000 and 10,000 rigs (fastify inject), then the API
 *              of a 10,000-rig fleet under 200 keep-alive connections (api/load.bench.ts); JSON in
 *              $TMPDIR/rigtel-bench
 *   history    history queries from InfluxDB (standalone `rigtel api`) beside the embedded store, same samples
 *
 *   sustained  the real `rigtel run` against an emulated mixed fleet for a while (not in the default set):
 *              `npm run bench -- sustained --rigs 10000 --interval 15s --duration 180s [--api-load 10s] [--workers 0|N|auto]`
 *
 * `npm run bench -- sweep parser` runs a subset; options after the names go to `sweep`.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runApiBench } from '../api/app.bench.js';
import { runLoadBench } from '../api/load.bench.js';
import { runStartupBench } from '../cli/startup.bench.js';
import { runDiscoveryBench } from '../collector/discovery.bench.js';
import { runHistoryBench } from '../collector/influx-history.bench.js';
import { runJournalBench } from '../collector/journal.bench.js';
import { runPipelineBench } from '../collector/pipeline.bench.js';
import { runInfluxBench } from '../collector/sinks/influx.bench.js';
import { runParserBench } from '../protocols/antminer/parse.bench.js';
import { runDecodeBench } from '../protocols/kit/decode.bench.js';
import { runSnmpBench } from '../protocols/snmp/snmp.bench.js';
import { parseSustainedArgs, runSustained } from './bench-sustained.js';
import { parseSweepArgs, runSweep, type SweepOptions } from './bench-sweep.js';

function line(label: string, value: string): void {
  console.log(`  ${label.padEnd(44)} ${value}`);
}

async function parserBench(): Promise<void> {
  console.log('\nparser: real Antminer stats replies');
  const r = await runParserBench();
  line(
    'rigtel decodeReply + parseAntminer',
    `${r.mb_per_s_rigtel.toFixed(1)} MB/s over ${r.bytes} B per pass`,
  );
  line('JSON.parse (strictly valid replies only)', `${r.mb_per_s_json_parse.toFixed(1)} MB/s`);
}

async function decodeBench(): Promise<void> {
  console.log('\ndecode: CPU µs per decodeReply over the real JSON replies (median of rounds)');
  const r = runDecodeBench();
  for (const [k, v] of Object.entries(r)) line(k, Number.isInteger(v) ? String(v) : v.toFixed(1));
}

async function journalBench(): Promise<void> {
  console.log('\njournal: SQLite WAL journal appends');
  const r = await runJournalBench();
  for (const [k, v] of Object.entries(r)) line(k, typeof v === 'number' ? v.toFixed(0) : String(v));
}

async function pipelineBench(): Promise<void> {
  console.log(
    '\npipeline: main-thread cost per sample after the driver (journal, fleet, alerts, embedded store)',
  );
  // Both store modes in one run, from the same readings, so their ratio is measured under the same load.
  const inline = await runPipelineBench('inline');
  const thread = await runPipelineBench('thread', undefined, undefined, inline.readings);
  for (const { readings: _r, ...r } of [inline, thread]) {
    for (const [k, v] of Object.entries(r)) line(k, Array.isArray(v) ? v.join(' ') : String(v));
  }
}

async function influxBench(): Promise<void> {
  console.log('\ninflux: InfluxDB sink into a local influxd 1.x');
  const r = await runInfluxBench();
  for (const [k, v] of Object.entries(r)) line(k, typeof v === 'number' ? v.toFixed(0) : String(v));
}

async function snmpBench(): Promise<void> {
  console.log('\nsnmp: one sweep of PDU outlets (emulated APC PDU in a child process)');
  const r = await runSnmpBench();
  for (const [k, v] of Object.entries(r)) line(k, typeof v === 'number' ? v.toFixed(1) : String(v));
}

async function discoveryBench(): Promise<void> {
  console.log('\ndiscovery: scan of a loopback /22');
  const r = await runDiscoveryBench();
  for (const [k, v] of Object.entries(r))
    line(k, typeof v === 'number' ? String(Math.round(v * 10) / 10) : JSON.stringify(v));
}

async function startupBench(): Promise<void> {
  console.log('\nstartup: rigtel --version / --help wall time, median of 7 (dist/ vs tsx, beside bare node)');
  const r = runStartupBench();
  for (const [k, v] of Object.entries(r)) line(k, typeof v === 'number' ? v.toFixed(0) : v);
}

async function apiBench(): Promise<void> {
  const results: Record<string, unknown> = { loadavg_before: readLoadavg() };
  for (const rigs of [1000, 10_000]) {
    console.log(`\napi: ${rigs} rigs from a real Fleet in memory, fastify inject (median)`);
    const r = await runApiBench(rigs);
    results[`inject_${rigs}`] = r;
    for (const [k, v] of Object.entries(r)) if (k !== 'rigs') line(k, v.toFixed(k.endsWith('bytes') ? 0 : 2));
  }
  console.log(
    '\napi: 10,000 rigs served by the real app in a child process, 200 keep-alive connections, 10 s each',
  );
  const load = await runLoadBench(10_000, 10_000);
  results.load_10000 = load;
  const m = load.metrics;
  line('server CPU with no request (feeding samples)', `${load.idle_cpu_ms_per_s.toFixed(0)} ms/s`);
  line(
    '/metrics scrape (5, 5 s apart) median / max',
    `${m.median_ms.toFixed(0)} / ${m.max_ms.toFixed(0)} ms, ${(m.bytes / 1e6).toFixed(1)} MB`,
  );
  line(
    '  server loop delay p99 / max',
    `${m.server.loop_p99_ms!.toFixed(0)} / ${m.server.loop_max_ms!.toFixed(0)} ms`,
  );
  for (const [name, p] of [
    ['floor: bare node:http', load.floor_http],
    ['floor: bare fastify', load.floor_fastify],
    ['/healthz', load.health],
    ['/v1/fleet', load.fleet],
    ['/v1/rigs/:id', load.rig],
    ['/v1/rigs/:id, 100 rigs', load.rig_hot],
  ] as const) {
    line(
      `${name} req/s, p50 / p99 / max`,
      `${p.req_per_s}, ${p.p50_ms} / ${p.p99_ms} / ${p.max_ms} ms (${p.errors} errors)`,
    );
    line(
      '  server loop delay p99 / max',
      `${p.server.loop_p99_ms!.toFixed(0)} / ${p.server.loop_max_ms!.toFixed(0)} ms`,
    );
    line(
      '  server CPU per request, all / net of idle',
      `${p.server.cpu_us_per_request!.toFixed(0)} / ${p.server.net_cpu_us_per_request!.toFixed(0)} µs`,
    );
  }
  results.loadavg_after = readLoadavg();
  line('load average before → after', `${results.loadavg_before} → ${results.loadavg_after}`);
  const dir = join(tmpdir(), 'rigtel-bench');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `api-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify(results, null, 2));
  line('JSON', out);
}

function readLoadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}

async function historyBench(): Promise<void> {
  console.log("\nhistory: one rig, 3 days at 15 s; median of 15 per query (wall and this process's CPU)");
  const r = await runHistoryBench();
  for (const [k, v] of Object.entries(r)) line(k, v.toFixed(1));
}

let sweepOptions: SweepOptions = parseSweepArgs([]);

async function sweepBench(): Promise<void> {
  await runSweep(sweepOptions);
}

const BENCHES: Record<string, () => Promise<void>> = {
  startup: startupBench,
  sweep: sweepBench,
  parser: parserBench,
  decode: decodeBench,
  journal: journalBench,
  pipeline: pipelineBench,
  influx: influxBench,
  snmp: snmpBench,
  discovery: discoveryBench,
  api: apiBench,
  history: historyBench,
};

const argv = process.argv.slice(2).filter((a) => a !== '--');
if (argv[0] === 'sustained') {
  await runSustained(parseSustainedArgs(argv.slice(1)));
  process.exit(0);
}
// Bench names first, then the sweep's options (`sweep --rigs 1000,5000`).
const firstOption = argv.findIndex((a) => a.startsWith('--'));
const wanted = firstOption < 0 ? argv : argv.slice(0, firstOption);
if (firstOption >= 0) sweepOptions = parseSweepArgs(argv.slice(firstOption));
const unknown = wanted.filter((w) => !(w in BENCHES));
if (unknown.length) {
  console.error(
    `unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`,
  );
  process.exit(2);
}
console.log(`rigtel benchmarks — node ${process.version}, ${new Date().toISOString()}`);
for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
  try {
    await BENCHES[name]!();
  } catch (err) {
    console.error(`  ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
