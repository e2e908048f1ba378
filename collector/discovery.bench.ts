/**
 * Discovery benchmark: emulated rigs scattered over a loopback /22 (127.1.0.0/22), some silent (accept, never
 * answer), some slow; scans the /22 on the default ports and reports the time and rigs found vs expected.
 * Target: the /22 in ≤ 20 s with none missed.
 *   node --import tsx collector/discovery.bench.ts
 */
import { type FixtureRig, startFixtureRig } from '../testing/fixture-rig.js';
import { intToIp, scanRange } from './discovery.js';

export interface DiscoveryBench {
  range: string;
  ports: number[];
  concurrency: number;
  rigs_expected: number;
  rigs_identified: number;
  silent_expected: number;
  silent_listed: number;
  missed: string[];
  misidentified: string[];
  probes: number;
  /** Probes asked again (timeouts, or local overload such as running out of file descriptors). */
  retried: number;
  unanswered: number;
  duration_ms: number;
  target_ms: number;
}

const VERSIONS: [string, string][] = [
  ['antminer_s19pro_version.txt', 'antminer'],
  ['braiins_s9plus_version.txt', 'braiins'],
  ['luxos_s19kpro_version.txt', 'luxos'],
  ['vnish_s9_version.txt', 'vnish'],
  ['avalon_1166pro_version.txt', 'avalon'],
  ['antminer_s9hiveon_version.txt', 'antminer'],
  ['antminer_s17plus_version.txt', 'antminer'],
];

export async function runDiscoveryBench(
  opts: {
    rigs?: number;
    silent?: number;
    slow?: number;
    concurrency?: number;
    port?: number;
    /** Web port of the Bitaxe rigs (80 needs root; tests pass an unprivileged one). */
    webPort?: number;
    /** Loopback /22 to use, e.g. "127.1.0.0/22". */
    range?: string;
  } = {},
): Promise<DiscoveryBench> {
  const nRigs = opts.rigs ?? 60;
  const nSilent = opts.silent ?? 6;
  const nSlow = opts.slow ?? 6;
  const concurrency = opts.concurrency ?? 256;
  const apiPort = opts.port ?? 4028;
  const webPort = opts.webPort ?? 80;
  const range = opts.range ?? '127.1.0.0/22';
  const m = /^127\.(\d{1,3})\.0\.0\/22$/.exec(range);
  if (!m) throw new Error(`bench range must be a loopback 127.N.0.0/22, got ${range}`);
  const base = ((127 << 24) | (Number(m[1]) << 16)) >>> 0;
  // Scatter over the /22 with a fixed stride so runs are comparable: hosts 1..1022.
  const slots = Array.from({ length: nRigs + nSilent }, (_, i) => 1 + ((i * 397) % 1022));
  const started: FixtureRig[] = [];
  const expected = new Map<string, string>();
  const silentIps: string[] = [];
  try {
    for (let i = 0; i < slots.length; i++) {
      const ip = intToIp((base + slots[i]!) >>> 0);
      if (i >= nRigs) {
        started.push(await startFixtureRig({ host: ip, port: apiPort, mode: 'silent' }));
        silentIps.push(ip);
        continue;
      }
      if (i % 10 === 9) {
        started.push(
          await startFixtureRig({ host: ip, port: webPort, httpInfoFixture: 'bitaxe_supra_system-info.txt' }),
        );
        expected.set(ip, 'bitaxe');
        continue;
      }
      const [file, family] = VERSIONS[i % VERSIONS.length]!;
      const slow = i < nSlow;
      started.push(
        await startFixtureRig({
          host: ip,
          port: apiPort,
          replies: { version: file },
          ...(slow ? { mode: 'slow' as const, delayMs: 1500 } : {}),
        }),
      );
      expected.set(ip, family);
    }
    const ports = [apiPort, webPort, 4433];
    const t0 = performance.now();
    const report = await scanRange({
      cidrs: [range],
      ports,
      concurrency,
      connectTimeoutMs: 1000,
      deadlineMs: 3000,
      httpPort: webPort,
    });
    const duration = Math.round(performance.now() - t0);
    const byIp = new Map(report.results.map((r) => [r.ip, r]));
    const missed: string[] = [];
    const wrong: string[] = [];
    let identified = 0;
    for (const [ip, family] of expected) {
      const r = byIp.get(ip);
      if (r?.status !== 'identified') missed.push(ip);
      else if (r.family !== family) wrong.push(`${ip}: ${r.family} (expected ${family})`);
      else identified++;
    }
    return {
      range,
      ports,
      concurrency,
      rigs_expected: expected.size,
      rigs_identified: identified,
      silent_expected: silentIps.length,
      silent_listed: silentIps.filter((ip) => byIp.get(ip)?.status === 'unidentified').length,
      missed,
      misidentified: wrong,
      probes: report.probes,
      retried: report.retried,
      unanswered: report.unanswered,
      duration_ms: duration,
      target_ms: 20_000,
    };
  } finally {
    await Promise.all(started.map((r) => r.close()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runDiscoveryBench();
  console.log(JSON.stringify(r, null, 2));
}
