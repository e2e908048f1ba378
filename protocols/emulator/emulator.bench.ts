/**
 * Figures for the emulated fleet (prints numbers, asserts nothing about speed):
 *
 *   node --import tsx protocols/emulator/emulator.bench.ts [rigs=1000]
 *
 * - start/stop of an in-process fleet, and its memory;
 * - start of the same fleet in a child process (the benchmark setup), then one poll round: every cgminer rig
 *   asked `summary`, `stats`, `pools` (one connection each, as the Antminer plan does) with 200 rigs in flight,
 *   from this process over raw sockets; the emulator's own CPU for the round comes from the child.
 */
import net from 'node:net';
import { spawnEmulatorProcess } from './child.js';
import { startEmulatedFleet } from './fleet.js';

const count = Number(process.argv[2] ?? 1000);

function ask(host: string, port: number, payload: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const s = net.connect({ host, port }, () => s.write(payload));
    s.on('data', (c: Buffer) => {
      n += c.length;
    });
    s.once('end', () => resolve(n));
    s.once('error', reject);
  });
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

{
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const fleet = await startEmulatedFleet({ count, mix: 'mixed' });
  const started = performance.now() - t0;
  const rss1 = process.memoryUsage().rss;
  const t1 = performance.now();
  await fleet.stop();
  console.log(
    `in-process fleet of ${count}: start ${started.toFixed(0)} ms, stop ${(performance.now() - t1).toFixed(0)} ms, ` +
      `RSS +${mb(rss1 - rss0)} MiB`,
  );
}

{
  const t0 = performance.now();
  const fleet = await spawnEmulatorProcess({ count, mix: 'mixed' });
  console.log(
    `child-process fleet of ${count}: ready in ${(performance.now() - t0).toFixed(0)} ms (pid ${fleet.pid})`,
  );
  try {
    const rigs = fleet.rigs.filter((r) => r.protocol === 'cgminer');
    const before = await fleet.usage();
    const cpu0 = process.cpuUsage();
    const t1 = performance.now();
    let bytes = 0;
    await pool(rigs, 200, async (r) => {
      for (const c of ['summary', 'stats', 'pools']) {
        const n = await ask(r.host, r.port, JSON.stringify({ command: c }));
        bytes += n;
      }
    });
    const ms = performance.now() - t1;
    const cpu = process.cpuUsage(cpu0);
    const after = await fleet.usage();
    const requests = rigs.length * 3;
    const emuCpu = after.cpu_user_ms + after.cpu_system_ms - before.cpu_user_ms - before.cpu_system_ms;
    console.log(
      `poll round: ${rigs.length} cgminer rigs × 3 commands = ${requests} requests in ${ms.toFixed(0)} ms ` +
        `(${((requests / ms) * 1000).toFixed(0)} req/s, ${mb(bytes)} MiB); ` +
        `client CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, emulator CPU ${emuCpu.toFixed(0)} ms, ` +
        `emulator RSS ${mb(after.rss_bytes)} MiB`,
    );
  } finally {
    const t2 = performance.now();
    await fleet.stop();
    console.log(`child-process fleet stopped in ${(performance.now() - t2).toFixed(0)} ms`);
  }
}
