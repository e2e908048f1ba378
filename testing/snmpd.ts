/**
 * Runs net-snmp's real `snmpd` (Debian package snmpd) for tests: loopback only, a high UDP port, the config
 * kept in protocols/snmp/testdata/snmpd.conf, its own pid file and persistent dir in a temp folder, so it never
 * touches /etc/snmp or /var/lib/snmp. `stop()` kills it and removes the temp folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import snmp from 'net-snmp';
import { SnmpErrors } from '../protocols/snmp/errors.js';

export const SNMPD_BIN = '/usr/sbin/snmpd';
export const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), '..', 'protocols', 'snmp', 'testdata');

/** Credentials configured in testdata/snmpd.conf. */
export const TEST_SNMP = {
  community: 'rigtel-test',
  v3User: 'rigv3',
  v3UserSha256: 'rigv3s256',
  v3UserNoPriv: 'rigv3nopriv',
  authKey: 'rigtel-auth-pass',
  privKey: 'rigtel-priv-pass',
  /** APC rPDU2 metered outlet entry served by the pass_persist helper. */
  apcOutletEntry: '1.3.6.1.4.1.318.1.1.26.9.4.3.1',
  /** The made-up vendor table for the generic profile test. */
  siteEntry: '1.3.6.1.4.1.99999.7.1',
} as const;

export interface RunningSnmpd {
  port: number;
  /** Temp folder with the config, log and persistent state. */
  lab: string;
  /** File where the helper appends "<outlet> <watts>" for every power value it served (APC table). */
  servedLog: string;
  /** Same for the generic test table. */
  siteServedLog: string;
  /** Last watts served per outlet, read from the served log. */
  lastServed(outlet: number, log?: string): number | null;
  /** Position in a served log, to ask later what was served after it. */
  servedMark(log?: string): number;
  /**
   * Watts served for an outlet after a mark. snmpd answers GETBULK repetitions by asking the helper for the
   * next instance, so one walk may read an outlet's power twice (once via the column before it).
   */
  servedSince(mark: number, outlet: number, log?: string): number[];
  stop(): Promise<void>;
}

/** A free UDP port on 127.0.0.1 (bound then released: snmpd binds it right after). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const session = snmp.createSession('127.0.0.1', TEST_SNMP.community, {
      port,
      version: snmp.Version2c,
      timeout: 300,
      retries: 0,
    });
    session.on('error', () => {});
    session.get([`${TEST_SNMP.apcOutletEntry}.7.1`], (err, vbs) => {
      session.close();
      resolve(!err && Array.isArray(vbs) && vbs.length === 1 && !snmp.isVarbindError(vbs[0]!));
    });
  });
}

async function startOnce(port: number, outlets: number): Promise<RunningSnmpd> {
  const lab = mkdtempSync(join(tmpdir(), 'rigtel-snmpd-'));
  mkdirSync(join(lab, 'persist'));
  const servedLog = join(lab, 'served.log');
  const conf = readFileSync(join(TESTDATA, 'snmpd.conf'), 'utf8')
    .replaceAll('@PORT@', String(port))
    .replaceAll('@LAB@', lab)
    .replaceAll('@NODE@', process.execPath)
    .replaceAll('@TESTDATA@', TESTDATA)
    .replaceAll('@OUTLETS@', String(outlets))
    .replaceAll('@SERVED_LOG@', servedLog);
  const confFile = join(lab, 'snmpd.conf');
  writeFileSync(confFile, conf);
  const logFile = join(lab, 'snmpd.log');
  const child: ChildProcess = spawn(
    SNMPD_BIN,
    ['-f', '-C', '-c', confFile, '-I', '-smux', '-Lf', logFile, '-p', join(lab, 'snmpd.pid')],
    // MIBS= : Debian ships no IETF MIBs; this avoids hundreds of "Cannot find module" lines.
    { env: { ...process.env, MIBS: '', SNMP_PERSISTENT_DIR: join(lab, 'persist') }, stdio: 'ignore' },
  );
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(t);
    }
    rmSync(lab, { recursive: true, force: true });
  };
  const readLast = (outlet: number, log = servedLog): number | null => {
    if (!existsSync(log)) return null;
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const [o, w] = lines[i]!.split(' ');
      if (Number(o) === outlet) return Number(w);
    }
    return null;
  };
  const lines = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n') : []);
  const servedMark = (log = servedLog) => lines(log).length;
  const servedSince = (mark: number, outlet: number, log = servedLog) =>
    lines(log)
      .slice(mark)
      .map((l) => l.split(' ').map(Number))
      .filter(([o]) => o === outlet)
      .map(([, w]) => w!);
  for (let i = 0; i < 100; i++) {
    if (exited) break;
    if (await answers(port)) {
      return {
        port,
        lab,
        servedLog,
        siteServedLog: `${servedLog}.site`,
        lastServed: readLast,
        servedMark,
        servedSince,
        stop,
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-8).join(' | ') : '';
  await stop();
  throw SnmpErrors.snmpd(`did not answer on udp:127.0.0.1:${port}${exited ? ' (exited)' : ''}: ${log}`);
}

/** Start snmpd on 127.0.0.1 and wait until it answers a v2c GET on the outlet table. */
export async function startSnmpd(opts: { port?: number; outlets?: number } = {}): Promise<RunningSnmpd> {
  const outlets = opts.outlets ?? 8;
  let lastErr: unknown;
  // A picked free port can be taken between release and bind; try a few.
  for (let attempt = 0; attempt < (opts.port ? 1 : 3); attempt++) {
    try {
      return await startOnce(opts.port ?? (await freeUdpPort()), outlets);
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}
