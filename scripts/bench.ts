/**
 * `npm run bench`: prints the figures the issues ask for. Nothing here asserts a speed; it measures.
 *
 *   sweep      1,000 / 5,000 / 10,000 emulated rigs of mixed families served from separate processes, polled by
 *              the real scheduler + pollRig on the main thread and through the poll workers, with zero added
 *              latency, realistic latency, and 5 % of rigs hanging: sweep wall time, CPU µs per rig-poll,
 *              answered/failed, healthy rigs' completion times (`npm run bench -- sweep --rigs 1000,5000`;
 *              options in scripts/bench-sweep.ts)
 *   parser     decode+parse MB/s on the real Antminer stats replies vs JSON.parse on the same bytes
 *   journal    journal appends/s with fsync on and off
 *   pipeline   main-thread CPU per sample after the driver: journal, fleet, alerts, embedded store
 *   influx     samples/s the InfluxDB sink sustains into a local influxd
 *   snmp       one sweep of 500 PDU outlets: time and CPU
 *   discovery  scan of a loopback /22 with scattered, silent and slow rigs
 *   startup    `rigtel --version` / `--help` wall time from dist/ and through tsx
 *   history    history queries from InfluxDB (standalone `rigtel api`) beside the embedded store, same samples
 *
 *   sustained  the real `rigtel run` against an emulated mixed fleet for a while (not in the default set):
 *              `npm run bench -- sustained --rigs 10000 --interval 15s --duration 180s [--api-load 10s] [--workers 0|N|auto]`
 *
 * `npm run bench -- sweep parser` runs a subset; options after the names go to `sweep`.
 */

import { runStartupBench } from '../cli/startup.bench.js';
import { runDiscoveryBench } from '../collector/discovery.bench.js';
import { runHistoryBench } from '../collector/influx-history.bench.js';
import { runJournalBench } from '../collector/journal.bench.js';
import { runPipelineBench } from '../collector/pipeline.bench.js';
import { runInfluxBench } from '../collector/sinks/influx.bench.js';
import { runParserBench } from '../protocols/antminer/parse.bench.js';
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

async function journalBench(): Promise<void> {
  console.log('\njournal: SQLite WAL journal appends');
  const r = await runJournalBench();
  for (const [k, v] of Object.entries(r)) line(k, typeof v === 'number' ? v.toFixed(0) : String(v));
}

async function pipelineBench(): Promise<void> {
  console.log(
    '\npipeline: main-thread cost per sample after the driver (journal, fleet, alerts, embedded store)',
  );
  const r = await runPipelineBench();
  for (const [k, v] of Object.entries(r)) line(k, Array.isArray(v) ? v.join(' ') : String(v));
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
  journal: journalBench,
  pipeline: pipelineBench,
  influx: influxBench,
  snmp: snmpBench,
  discovery: discoveryBench,
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
