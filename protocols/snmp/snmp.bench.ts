/**
 * SNMP benchmark: one sweep = one poll of a 500-outlet APC rPDU2 table (power, energy, current, name, module,
 * number columns) over v2c GETBULK, against the emulated PDU in a child process so only the client's CPU is
 * counted here.
 *
 *   node --import tsx protocols/snmp/snmp.bench.ts
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Secret } from '../../lib/secret.js';
import { SnmpClient } from './client.js';
import { pollDevice } from './device.js';
import { PROFILES } from './profiles.js';

const OUTLETS = 500;
const SWEEPS = 10;

export async function runSnmpBench(
  opts: { outlets?: number; sweeps?: number; max_repetitions?: number } = {},
): Promise<{ outlets: number; sweep_ms: number; cpu_ms: number }> {
  const outlets = opts.outlets ?? OUTLETS;
  const sweeps = opts.sweeps ?? SWEEPS;
  const here = dirname(fileURLToPath(import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'emulator.ts'), '--outlets', String(outlets)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const lines = createInterface({ input: child.stdout! });
    const [first] = (await Promise.race([
      once(lines, 'line'),
      once(child, 'exit').then(() => {
        throw new Error('emulated PDU exited before it listened');
      }),
    ])) as [string];
    const { port } = JSON.parse(first) as { port: number };
    const client = new SnmpClient({
      host: '127.0.0.1',
      port,
      version: 'v2c',
      community: new Secret('public'),
      timeout_ms: 2000,
      retries: 1,
      max_repetitions: opts.max_repetitions ?? 20,
    });
    // Only the outlet table: the optional whole-PDU tables are absent on the emulator and cost one request each.
    const profile = { ...PROFILES['apc-rpdu2']!, tables: PROFILES['apc-rpdu2']!.tables.slice(0, 1) };
    try {
      const warm = await pollDevice(client, profile);
      if (warm.channels.length !== outlets)
        throw new Error(`expected ${outlets} outlets, got ${warm.channels.length}`);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < sweeps; i++) await pollDevice(client, profile);
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return {
        outlets,
        sweep_ms: Math.round((wall / sweeps) * 10) / 10,
        cpu_ms: Math.round(((cpu.user + cpu.system) / 1000 / sweeps) * 10) / 10,
      };
    } finally {
      client.close();
    }
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const r = await runSnmpBench();
  console.log(
    `snmp: ${r.outlets} outlets (6 columns, v2c GETBULK max-repetitions 20) per sweep: ${r.sweep_ms} ms wall, ${r.cpu_ms} ms client CPU`,
  );
  console.log(JSON.stringify(r));
}
