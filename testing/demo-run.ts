/**
 * Run `node bin/rigtel.js run` (the demo: no rigs configured, so the emulated fleet starts) from a given tree,
 * wait until `/v1/fleet` shows live rigs, then SIGTERM it and report how it exited. Used by the bare-clone and
 * the Docker file-list tests, which both ask "does the demo start from exactly these files?".
 * Everything stays on loopback: the API on a free 127.0.0.1 port, the emulated rigs on free 127.0.0.1 ports.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { freePort } from './influxd.js';

export interface DemoResult {
  /** Exit code after SIGTERM (null when it died from a signal). */
  code: number | null;
  /** The first /v1/fleet body that showed live rigs. */
  fleet: { rigs: number; hashrate_hs: number | null; states: Record<string, number> };
  stdout: string;
  stderr: string;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A base port with `count` free ports after it (emulator.base_port takes no 0). */
async function freeRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} free consecutive loopback ports found`);
}

export interface DemoOptions {
  /** Temp dir for storage and HOME. */
  dataDir: string;
  rigs?: number;
  timeoutMs?: number;
  /** Arguments after `run` (e.g. `--config FILE`). */
  args?: string[];
  /** More environment (RIGTEL_* overrides). */
  env?: NodeJS.ProcessEnv;
  /** Called once rigs are live, before SIGTERM, with the environment the process runs with. */
  whileLive?: (api: string, env: NodeJS.ProcessEnv) => Promise<void>;
}

export async function runDemoUntilLive(cwd: string, opts: DemoOptions): Promise<DemoResult> {
  const rigs = opts.rigs ?? 4;
  const apiPort = await freePort();
  const basePort = await freeRange(rigs);
  mkdirSync(opts.dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: opts.dataDir,
    RIGTEL_API__LISTEN: `127.0.0.1:${apiPort}`,
    RIGTEL_STORAGE__DIR: join(opts.dataDir, 'storage'),
    RIGTEL_EMULATOR__RIGS: String(rigs),
    RIGTEL_EMULATOR__BASE_PORT: String(basePort),
    RIGTEL_LOG__LEVEL: 'warn',
    ...opts.env,
  };
  const child = spawn(process.execPath, ['bin/rigtel.js', 'run', ...(opts.args ?? [])], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const until = Date.now() + (opts.timeoutMs ?? 60_000);
  let fleet: DemoResult['fleet'] | null = null;
  try {
    while (!fleet) {
      if (done)
        throw new Error(`rigtel run exited before rigs were live\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      if (Date.now() > until)
        throw new Error(`no live rigs in /v1/fleet in time\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      try {
        const res = await fetch(`http://127.0.0.1:${apiPort}/v1/fleet`);
        if (res.ok) {
          const body = (await res.json()) as DemoResult['fleet'];
          const up = body.rigs - (body.states['offline'] ?? 0) - (body.states['error'] ?? 0);
          if ((body.hashrate_hs ?? 0) > 0 && up > 0) fleet = body;
        }
      } catch {
        // Not listening yet.
      }
      if (!fleet) await new Promise((r) => setTimeout(r, 250));
    }
    await opts.whileLive?.(`http://127.0.0.1:${apiPort}`, env);
  } finally {
    if (!done) child.kill('SIGTERM');
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await exited;
  clearTimeout(timer);
  return { code, fleet, stdout, stderr };
}
