/**
 * The Antminer and cgminer drivers and the auto-detecting registry against a real loopback server that replays
 * the real captured replies (protocols/fixtures/real).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readFixture } from '../fixtures.js';
import { type PollTarget, ProtoErrors } from '../kit/index.js';
import { createAutoDriver, pollOnce } from '../registry.js';
import { createAntminerDriver } from './driver.js';

// A fresh driver per test: each remembers per address what the rig refused and its identity replies.
let antminerDriver = createAntminerDriver();

type Replies = Record<string, Buffer | string>;

let server: net.Server;
let port = 0;
let replies: Replies = {};
let joins = true;
/** Accept and close without a byte (a rig rebooting, or an api-allow refusal). */
let silent = false;
const seen: string[] = [];

before(async () => {
  server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (chunk) => {
      if (silent) {
        socket.end();
        return;
      }
      const req = JSON.parse(chunk.toString('utf8')) as { command: string };
      seen.push(req.command);
      const parts = req.command.split('+');
      if (parts.length > 1) {
        if (!joins) {
          socket.end('{"STATUS":[{"STATUS":"E","When":1,"Code":14,"Msg":"Invalid command"}],"id":1}\0');
          return;
        }
        const body = parts
          .filter((p) => replies[p] !== undefined)
          .map((p) => `"${p}":[${String(replies[p]).replace(/\0$/, '')}]`)
          .join(',');
        socket.end(`{${body},"id":1}\0`);
        return;
      }
      const r = replies[req.command];
      socket.end(
        r ??
          `{"STATUS":[{"STATUS":"E","When":1,"Code":45,"Msg":"Access denied to '${req.command}' command"}],"id":1}\0`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const target = (family: PollTarget['family'] = 'antminer'): PollTarget => ({
  host: '127.0.0.1',
  port,
  family,
  connectTimeoutMs: 2000,
  commandTimeoutMs: 3000,
  maxReplyBytes: 1 << 20,
});

function serve(files: Record<string, string>, allowJoins = true) {
  replies = Object.fromEntries(Object.entries(files).map(([cmd, f]) => [cmd, readFixture(f)]));
  joins = allowJoins;
  seen.length = 0;
  antminerDriver = createAntminerDriver();
}

describe('antminer driver on loopback', () => {
  it('reads an S9 (stock, malformed stats) with joined commands', async () => {
    serve({
      version: 'antminer_s9_version_2.txt',
      stats: 'antminer_s9_stats.txt',
      pools: 'antminer_s9_pools.txt',
    });
    const r = await antminerDriver.poll(target(), new AbortController().signal);
    assert.deepEqual(seen, ['stats+pools+version']);
    assert.equal(r.identity.model, 'Antminer S9');
    assert.equal(r.hashrate_hs, 13883810000000);
    assert.equal(r.boards.length, 3);
    assert.equal(r.pools.length, 3);
    assert.deepEqual(r.repairs, ['missing-comma-between-objects']);
    assert.equal(r.support, 'full');
  });

  it('falls back to single commands when joins are refused', async () => {
    serve(
      {
        version: 'antminer_s19pro_version_2.txt',
        stats: 'antminer_s19pro_stats.txt',
        pools: 'antminer_s19pro_pools.txt',
      },
      false,
    );
    const r = await antminerDriver.poll(target(), new AbortController().signal);
    assert.deepEqual(seen, ['stats+pools+version', 'stats', 'pools', 'version']);
    assert.equal(r.identity.model, 'Antminer S19 Pro');
    assert.equal(r.hashrate_nominal_hs, 111859000000000);
    assert.equal(r.support, 'full');
    // The refusal is remembered: the next polls go straight to single commands, version only as identity.
    seen.length = 0;
    const again = await antminerDriver.poll(target(), new AbortController().signal);
    assert.deepEqual(seen, ['stats', 'pools']);
    assert.equal(again.identity.model, 'Antminer S19 Pro');
    assert.equal(again.support, 'full');
  });

  it('tries the join again after the rig stopped answering (it may come back re-flashed)', async () => {
    const files = {
      version: 'antminer_s19pro_version_2.txt',
      stats: 'antminer_s19pro_stats.txt',
      pools: 'antminer_s19pro_pools.txt',
    };
    serve(files, false);
    await antminerDriver.poll(target(), new AbortController().signal);
    // Rebooting: connections accepted and closed without a byte. Every command fails, so the poll does.
    silent = true;
    await assert.rejects(antminerDriver.poll(target(), new AbortController().signal), (e) =>
      ProtoErrors.emptyReply.is(e),
    );
    silent = false;
    joins = true;
    seen.length = 0;
    const r = await antminerDriver.poll(target(), new AbortController().signal);
    assert.deepEqual(seen, ['stats+pools+version']);
    assert.equal(r.support, 'full');
  });

  it('a denied stats gives a partial reading with a note and the raw replies', async () => {
    serve({ version: 'antminer_s19_version.txt', pools: 'antminer_s19_pools.txt' }, false);
    const r = await antminerDriver.poll(target(), new AbortController().signal);
    assert.equal(r.support, 'partial');
    assert.ok(r.notes.some((n) => /no stats: .*access denied/.test(n)));
    assert.ok(r.raw && r.raw.length > 0 && r.raw.length <= 64 * 1024 + 10);
    assert.equal(r.identity.model, 'Antminer S19');
    // Nominal from the model table when the miner does not report it.
    assert.equal(r.hashrate_nominal_hs, 95e12);
    // Next poll: stats and its fallback summary were refused alone, so neither costs a connection again;
    // the reading and its notes stay the same.
    seen.length = 0;
    const again = await antminerDriver.poll(target(), new AbortController().signal);
    assert.deepEqual(seen, ['pools']);
    assert.equal(again.support, 'partial');
    assert.deepEqual(again.notes, r.notes);
  });

  it('a fallback for a command the rig refuses rides in the same join from the next poll on', async () => {
    serve({ version: 'antminer_s19_version.txt', pools: 'antminer_s19_pools.txt' }, true);
    const r = await antminerDriver.poll(target(), new AbortController().signal);
    // The join leaves stats out, stats alone is denied, then the fallback summary is denied too.
    assert.deepEqual(seen, ['stats+pools+version', 'stats', 'summary']);
    seen.length = 0;
    const again = await antminerDriver.poll(target(), new AbortController().signal);
    assert.deepEqual(seen, ['stats+pools+summary']);
    assert.deepEqual(again.notes, r.notes);
  });

  it('no answer at all is an error, not a reading', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await assert.rejects(
      antminerDriver.poll({ ...target(), port: closed }, new AbortController().signal),
      (e) => ProtoErrors.connectRefused.is(e),
    );
  });
});

describe('auto driver (registry)', () => {
  it('detects an Antminer from version, caches it, and polls with the Antminer driver', async () => {
    serve({
      version: 'antminer_s17pro_version.txt',
      stats: 'antminer_s17pro_stats.txt',
      pools: 'antminer_s17pro_pools.txt',
    });
    const auto = createAutoDriver();
    const r = await auto.poll(target('auto'), new AbortController().signal);
    assert.equal(r.identity.family, 'antminer');
    assert.equal(r.identity.model, 'Antminer S17 Pro');
    assert.equal(auto.familyOf(`127.0.0.1:${port}`), 'antminer');
    // version probe (no devdetails needed: the Type settles it), then the poll.
    assert.deepEqual(seen, ['version', 'stats+pools+version']);
    seen.length = 0;
    // version is identity now (asked every IDENTITY_EVERY polls, and after the rig stopped answering).
    await auto.poll(target('auto'), new AbortController().signal);
    assert.deepEqual(seen, ['stats+pools']);
  });

  it('notices a firmware swap on the first poll after the re-flash, through the version signature', async () => {
    serve({
      version: 'antminer_s9_version.txt',
      stats: 'antminer_s9_stats.txt',
      pools: 'antminer_s9_pools.txt',
    });
    const auto = createAutoDriver();
    await auto.poll(target('auto'), new AbortController().signal);
    assert.equal(auto.familyOf(`127.0.0.1:${port}`), 'antminer');
    // A re-flash: the rig answers nothing for a while, then like LuxOS (its version has a LUXminer key).
    silent = true;
    await assert.rejects(auto.poll(target('auto'), new AbortController().signal));
    silent = false;
    serve({
      version: 'luxos_s19kpro_version.txt',
      stats: 'luxos_s19kpro_stats.txt',
      pools: 'antminer_s19pro_pools.txt',
    });
    const r = await auto.poll(target('auto'), new AbortController().signal);
    assert.ok(r.notes.some((n) => /family signature changed from antminer to luxos/.test(n)));
    assert.equal(auto.familyOf(`127.0.0.1:${port}`), 'luxos');
  });

  it('pollOnce uses the configured family', async () => {
    serve({
      version: 'antminer_t15_version.txt',
      stats: 'antminer_t15_stats.txt',
      pools: 'antminer_t15_pools.txt',
    });
    const r = await pollOnce(target('antminer'), new AbortController().signal);
    assert.equal(r.identity.model, 'Antminer T15');
  });
});
