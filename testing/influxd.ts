/**
 * A private influxd 1.x for tests and benchmarks, bound to loopback only. The packaged /etc/influxdb config binds
 * HTTP on all interfaces (`bind-address = ":8086"` in the packaged influxdb.conf), so we always write our own config into a temp dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Influxd {
  url: string;
  port: number;
  /** Stop for good and delete the data dir. */
  stop(): Promise<void>;
  /** Graceful stop, keeping the data (an outage). */
  down(): Promise<void>;
  /** Start again on the same ports and data after down() or kill(). */
  up(): Promise<void>;
  /** down() + up(). */
  restart(): Promise<void>;
  /** SIGKILL, keeping the data (a crash). */
  kill(): Promise<void>;
  /** The tail of influxd's own log, for failure messages. */
  logTail(): string;
}

/** A port nothing listens on right now (the kernel picks it; a tiny race with other processes is accepted). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A failing test must not leave influxd running.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

async function waitPing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error('influxd exited during start-up');
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 204) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`influxd did not answer /ping within ${timeoutMs} ms`);
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startInfluxd(
  options: {
    port?: number;
    binary?: string /** Turn on HTTP auth (create the first admin with CREATE USER). */;
    auth?: boolean;
  } = {},
): Promise<Influxd> {
  installExitHook();
  const binary = options.binary ?? '/usr/bin/influxd';
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-influxd-'));
  const port = options.port ?? (await freePort());
  let rpcPort = await freePort();
  while (rpcPort === port) rpcPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dir, 'meta')}"`,
      '[data]',
      `  dir = "${join(dir, 'data')}"`,
      `  wal-dir = "${join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      '[http]',
      '  enabled = true',
      `  bind-address = "127.0.0.1:${port}"`,
      `  auth-enabled = ${options.auth ? 'true' : 'false'}`,
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'influxd.log');
  let child: ChildProcess | null = null;
  let removed = false;

  const up = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const fd = openSync(logFile, 'a');
    const proc = spawn(binary, ['run', '-config', conf], { stdio: ['ignore', fd, fd] });
    child = proc;
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    try {
      await waitPing(url, proc, 30_000);
    } catch (err) {
      proc.kill('SIGKILL');
      await waitExit(proc);
      throw new Error(`${(err as Error).message}; log tail:\n${tail()}`);
    }
  };
  const down = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (!proc) return;
    proc.kill(signal);
    await waitExit(proc);
    child = null;
  };
  const tail = (): string => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  };

  try {
    await up();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    up,
    down: () => down('SIGTERM'),
    kill: () => down('SIGKILL'),
    restart: async () => {
      await down('SIGTERM');
      await up();
    },
    stop: async () => {
      await down('SIGTERM');
      if (!removed) rmSync(dir, { recursive: true, force: true });
      removed = true;
    },
    logTail: tail,
  };
}
