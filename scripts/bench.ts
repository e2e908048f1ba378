/**
 * `npm run bench`: prints the figures the issues ask for. Nothing here asserts a speed; it measures.
 *
 *   sweep      1,000 emulated rigs served from a separate process, polled by the real scheduler + driver:
 *              full-sweep wall time, collector CPU µs per rig-poll, peak RSS
 *   parser     decode+parse MB/s on the real Antminer stats replies vs JSON.parse on the same bytes
 *   journal    journal appends/s with fsync on and off
 *   influx     samples/s the InfluxDB sink sustains into a local influxd
 *   snmp       one sweep of 500 PDU outlets: time and CPU
 *   discovery  scan of a loopback /22 with scattered, silent and slow rigs
 *   startup    `rigtel --version` / `--help` wall time from dist/ and through tsx
 *   api        /v1/fleet, /v1/rigs, /metrics per request at 1,000 and 10,000 rigs (fastify inject), then the API
 *              of a 10,000-rig fleet under 200 keep-alive connections (api/load.bench.ts); JSON in
 *              $TMPDIR/rigtel-bench
 *
 *   sustained  the real `rigtel run` against an emulated mixed fleet for a while (not in the default set):
 *              `npm run bench -- sustained --rigs 10000 --interval 15s --duration 180s [--api-load 10s] [--workers 0|N|auto]`
 *
 * `npm run bench -- sweep parser` runs a subset.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runApiBench } from '../api/app.bench.js';
import { runLoadBench } from '../api/load.bench.js';
import { runStartupBench } from '../cli/startup.bench.js';
import { runDiscoveryBench } from '../collector/discovery.bench.js';
import { runJournalBench } from '../collector/journal.bench.js';
import { pollRig, type RigTarget } from '../collector/poll.js';
import { Scheduler } from '../collector/scheduler.js';
import { runInfluxBench } from '../collector/sinks/influx.bench.js';
import { runParserBench } from '../protocols/antminer/parse.bench.js';
import { spawnEmulatorProcess } from '../protocols/emulator/child.js';
import { driverFor } from '../protocols/registry.js';
import { runSnmpBench } from '../protocols/snmp/snmp.bench.js';
import { parseSustainedArgs, runSustained } from './bench-sustained.js';

const RIGS = Number(process.env.BENCH_RIGS ?? 1000);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function line(label: string, value: string): void {
  console.log(`  ${label.padEnd(44)} ${value}`);
}

async function sweepBench(): Promise<void> {
  console.log(
    `\nsweep: ${RIGS} emulated Antminers (version+stats+pools per rig) served from a child process`,
  );
  const fleet = await spawnEmulatorProcess({ count: RIGS, mix: 'antminer', seed: 7 });
  try {
    const targets: RigTarget[] = fleet.rigs.map((rig) => ({
      name: rig.name,
      address: rig.address,
      target: {
        host: rig.host,
        port: rig.port,
        family: 'antminer',
        connectTimeoutMs: 3000,
        commandTimeoutMs: 8000,
        maxReplyBytes: 1024 * 1024,
      },
    }));
    for (const concurrency of [256, 1000]) {
      let answered = 0;
      const scheduler = new Scheduler(
        targets,
        (target, signal) =>
          pollRig(target, driverFor('antminer'), {
            deadlineMs: 20_000,
            now: Date.now,
            site: 'bench',
            signal,
          }),
        (sample) => {
          if (sample.poll.ok) answered += 1;
        },
        { intervalMs: 60_000, concurrency, backoffMaxMs: 60_000 },
      );
      await scheduler.sweep(); // warm-up: JIT, socket paths
      const times: number[] = [];
      const cpuPerPoll: number[] = [];
      answered = 0;
      const runs = 5;
      for (let i = 0; i < runs; i++) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await scheduler.sweep();
        times.push(performance.now() - t0);
        const cpu = process.cpuUsage(cpu0);
        cpuPerPoll.push((cpu.user + cpu.system) / targets.length);
      }
      await scheduler.stop();
      line(`full sweep, concurrency ${concurrency} (median of ${runs})`, `${median(times).toFixed(0)} ms`);
      line('  collector CPU per rig-poll (median)', `${median(cpuPerPoll).toFixed(0)} µs`);
      line('  polls answered', `${answered} / ${targets.length * runs}`);
    }
    line('collector peak RSS', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  } finally {
    await fleet.stop();
  }
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
  line(
    '/metrics scrape (5, 5 s apart) median / max',
    `${m.median_ms.toFixed(0)} / ${m.max_ms.toFixed(0)} ms, ${(m.bytes / 1e6).toFixed(1)} MB`,
  );
  line(
    '  server loop delay p99 / max',
    `${m.server.loop_p99_ms!.toFixed(0)} / ${m.server.loop_max_ms!.toFixed(0)} ms`,
  );
  for (const [name, p] of [
    ['/v1/fleet', load.fleet],
    ['/v1/rigs/:id', load.rig],
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
      '  server CPU per request',
      `${((p.server.cpu_ms! * 1000) / Math.max(1, p.requests)).toFixed(0)} µs`,
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

const BENCHES: Record<string, () => Promise<void>> = {
  startup: startupBench,
  sweep: sweepBench,
  parser: parserBench,
  journal: journalBench,
  influx: influxBench,
  snmp: snmpBench,
  discovery: discoveryBench,
  api: apiBench,
};

const argv = process.argv.slice(2).filter((a) => a !== '--');
if (argv[0] === 'sustained') {
  await runSustained(parseSustainedArgs(argv.slice(1)));
  process.exit(0);
}
const wanted = argv;
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
