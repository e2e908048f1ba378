/**
 * The emulated fleet never writes to a database configured for real rigs unless `emulator.write_sinks` says so:
 * a real `rigtel run` in-process with an InfluxDB sink configured keeps only its embedded store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { testBasePort } from '../testing/ports.js';
import type { Io } from './io.js';
import { runCommand } from './run.js';

test('the demo leaves configured InfluxDB sinks alone unless emulator.write_sinks is set', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-demo-sinks-'));
  try {
    const config = join(dir, 'rigtel.yaml');
    const write = () =>
      writeFileSync(
        config,
        [
          `storage: { dir: ${JSON.stringify(join(dir, 'data'))}, journal_fsync: off }`,
          'api: { listen: "127.0.0.1:0" }',
          `emulator: { mode: on, rigs: 2, host: 127.0.0.1, base_port: ${testBasePort()} }`,
          // A database for real rigs (nothing listens on port 9: a write would fail and show as a sink error).
          'sinks: { influx: { url: "http://127.0.0.1:9", database: production } }',
          'log: { level: silent }',
          '',
        ].join('\n'),
      );
    let out = '';
    const add = (t: string) => {
      out += t;
    };
    const io: Io = { env: {}, out: add, err: add };
    const stop = new AbortController();
    // Other tests on this machine take ports too: a clash on the random block tries another.
    let running: Promise<number> | undefined;
    for (let attempt = 0; !running; attempt++) {
      write();
      const run = runCommand({ configFile: config, io, signal: stop.signal, liveEveryMs: 0 });
      let failed: unknown = null;
      run.catch((err) => {
        failed = err;
      });
      while (!/API\s+http/.test(out) && failed === null) await new Promise((r) => setTimeout(r, 50));
      if (failed === null) running = run;
      else if (attempt >= 4 || !/EADDRINUSE/.test(String(failed))) throw failed;
    }
    const base = /API\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)![1];
    const status = (await (await fetch(`${base}/v1/status`)).json()) as { sinks: Array<{ name: string }> };
    stop.abort();
    assert.equal(await running, 0);
    assert.match(out, /not writing to the configured influx sink/);
    assert.deepEqual(
      status.sinks.map((s) => s.name),
      ['embedded'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
