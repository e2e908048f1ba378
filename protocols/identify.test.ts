import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { fixtureIndex, readFixture, readFixtureText } from './fixtures.js';
import { detectFamily, identify } from './identify.js';

// [fixture, family, model, firmware] — read off each reply by hand. Precedence cases: VNish before stock
// (Type "Antminer S9 (vnish 3.8.6)"), Hiveon before stock, rwglr without Hiveon = MSKminer, LuxOS's Type
// "Antminer S19k Pro" still LuxOS, VNish 2.0.3 version (no Type) only a generic cgminer.
const EXPECT: [string, string, string | null, string | null][] = [
  ['avalon_1246_devdetails.txt', 'avalon', null, null],
  ['avalon_mini3_version.txt', 'avalon', 'Avalon Mini3', '25011701_3f53b19 (cgminer 4.11.1)'],
  [
    'avalon_1166pro_version.txt',
    'avalon',
    'AvalonMiner 1166Pro-75',
    '21022601_4ec6bb0_5f74eef (cgminer 4.11.1)',
  ],
  ['antminer_s19jprohiveon_version.txt', 'antminer', 'Antminer S19JPRO', 'Hiveon (BMMiner 4.11.1 rwglr)'],
  ['luxos_s19kpro_version.txt', 'luxos', 'Antminer S19k Pro', 'LUXminer 2025.4.8.220305-57b389c7'],
  ['antminer_s9_version.txt', 'antminer', 'Antminer S9', 'bmminer 2.0.0 (Miner 16.8.1.3)'],
  ['antminer_s9i_version.txt', 'antminer', 'Antminer S9i', 'bmminer 2.4.2-1.2.2-90ed (Miner 30.0.1.3)'],
  ['antminer_s9hiveon_version.txt', 'antminer', 'Antminer S9', 'Hiveon (BMMiner 2.0.0 rwglr)'],
  ['antminer_s9hiveon_version_2.txt', 'antminer', 'Antminer S9', 'Hiveon (BMMiner 2.0.0 rwglr)'],
  [
    'antminer_s9asicseer_version.txt',
    'antminer',
    'Antminer S9',
    'asicseer bmminer 2.4.0-asicseer-1.1.9-f7b7 (Miner 30.0.1.3)',
  ],
  ['antminer_s9_version_2.txt', 'antminer', 'Antminer S9', 'bmminer 2.0.0 (Miner 30.0.1.3)'],
  ['antminer_s9promskminer_version.txt', 'antminer', 'Antminer S9 Pro', 'MSKminer (BMMiner 2.0.0 rwglr)'],
  ['antminer_s9k_version.txt', 'antminer', 'Antminer S9k', 'cgminer 4.9.0 (Miner 13.10.1.3)'],
  ['antminer_s17pro_version.txt', 'antminer', 'Antminer S17 Pro', 'bmminer 1.0.0 (Miner 19.10.1.3)'],
  ['antminer_s17plus_version.txt', 'antminer', 'Antminer S17+', 'bmminer 1.0.0 (Miner 35.0.1.3)'],
  ['antminer_s17plus_version_2.txt', 'antminer', 'Antminer S17+', 'bmminer 1.0.0 (Miner 35.0.1.3)'],
  ['antminer_t17plus_version.txt', 'antminer', 'Antminer T17+', 'bmminer 1.0.0 (Miner b023.0.1.3)'],
  ['antminer_t15_version.txt', 'antminer', 'Antminer T15', 'cgminer 4.9.0 (Miner 27.10.1.3)'],
  ['antminer_s19pro_version.txt', 'antminer', 'Antminer S19 Pro', 'bmminer 1.0.0 (Miner 49.0.1.3)'],
  ['antminer_s19pro_version_2.txt', 'antminer', 'Antminer S19 Pro', 'bmminer 1.0.0 (Miner 49.0.1.3)'],
  ['antminer_s19pro_version_3.txt', 'antminer', 'Antminer S19 Pro', 'bmminer 1.0.0 (Miner 49.0.1.3)'],
  ['antminer_s19_version.txt', 'antminer', 'Antminer S19', 'bmminer 1.0.0 (Miner 49.0.1.3)'],
  ['antminer_s19_version_2.txt', 'antminer', 'Antminer S19', 'bmminer 1.0.0 (Miner 49.0.1.3)'],
  ['antminer_l3plus_version.txt', 'antminer', 'Antminer L3+', 'cgminer 4.9.0 (Miner 1.0.1.3)'],
  ['antminer_z11_version.txt', 'antminer', 'Antminer Z11', 'cgminer 4.9.0 (Miner 9.0.0.5)'],
  ['antminer_z11_version_2.txt', 'antminer', 'Antminer Z11', 'cgminer 4.9.0 (Miner 9.0.0.5)'],
  ['antminer_b3_version.txt', 'antminer', 'Antminer B3', 'cgminer 2.0.0 (Miner A.0.0.1)'],
  ['vnish_s9_version.txt', 'vnish', 'Antminer S9', 'VNish 3.8.6 (cgminer 4.11.1)'],
  ['vnish_s17plus_version.txt', 'cgminer', null, 'cgminer 4.11.1'],
  ['braiins_s9_version.txt', 'braiins', 'Antminer S9', 'Braiins OS bOS_am1-s9-20181127-0_c34516b0'],
  ['braiins_s9_version_2.txt', 'braiins', null, 'BOSminer 0.2.0-d360818'],
  ['braiins_s9plus_version.txt', 'braiins', null, 'BOSminer+ 0.2.0-36c56a9363'],
  ['braiins_s9plus_version_2.txt', 'braiins', null, 'BOSminer+ 0.2.0-36c56a9363'],
  ['whatsminer_m3_summary.txt', 'whatsminer', null, 'cgminer 4.9.2'],
  ['whatsminer_m20s_summary.txt', 'whatsminer', null, 'cgminer 4.9.2'],
  ['whatsminer_m20s_summary_2.txt', 'whatsminer', null, '20200917.22.REL'],
  ['whatsminer_m31s_summary.txt', 'whatsminer', null, 'btminer'],
  ['whatsminer_m30s_summary.txt', 'whatsminer', null, '20200512.13.REL'],
];

test('the table covers every version and devdetails fixture in INDEX.md', () => {
  const listed = new Set(EXPECT.map((e) => e[0]));
  for (const e of fixtureIndex()) {
    if (e.command === 'version' || e.command === 'devdetails') assert.ok(listed.has(e.file), e.file);
  }
});

for (const [file, family, model, firmware] of EXPECT) {
  test(`identify ${file}`, () => {
    const command = fixtureIndex().find((e) => e.file === file)!.command as
      | 'version'
      | 'devdetails'
      | 'summary';
    const id = identify({ [command]: readFixture(file) });
    assert.deepEqual([id.family, id.model, id.firmware], [family, model, firmware]);
    assert.ok(id.evidence.length > 0);
  });
}

test('MAC comes out of Avalon version replies, normalized', () => {
  assert.equal(identify({ version: readFixture('avalon_1166pro_version.txt') }).mac, 'b4:a2:eb:34:53:e4');
});

test('Bitaxe by the shape of /api/system/info', () => {
  const id = identify({ httpInfo: JSON.parse(readFixtureText('bitaxe_supra_system-info.txt')) });
  assert.equal(id.family, 'bitaxe');
  assert.equal(id.model, 'Bitaxe Supra');
  assert.equal(id.confidence, 'high');
});

test('stock Antminer by the web realm alone; garbage gives unknown', () => {
  assert.equal(
    identify({ httpRealm: 'Digest realm="antMiner Configuration", nonce="1"' }).family,
    'antminer',
  );
  assert.equal(identify({ version: 'garbage \u0000\u0001' }).family, 'unknown');
  assert.equal(identify({}).family, 'unknown');
});

test('detectFamily over loopback: cgminer version, then HTTP fallback, then a silent host', async () => {
  const cg = net.createServer((s) => {
    s.once('data', (d) => {
      const cmd = JSON.parse(d.toString()).command;
      s.end(
        Buffer.concat([
          readFixture(cmd === 'version' ? 'luxos_s19kpro_version.txt' : 'avalon_1246_devdetails.txt'),
          Buffer.from([0]),
        ]),
      );
    });
  });
  const web = http.createServer((req, res) => {
    if (req.url === '/api/system/info') res.end(readFixture('bitaxe_supra_system-info.txt'));
    else res.end('<html><title>AxeOS</title></html>');
  });
  const hung = new Set<net.Socket>();
  const silent = net.createServer((s) => hung.add(s));
  await Promise.all([
    new Promise<void>((r) => cg.listen(0, '127.0.0.1', r)),
    new Promise<void>((r) => web.listen(0, '127.0.0.1', r)),
    new Promise<void>((r) => silent.listen(0, '127.0.0.1', r)),
  ]);
  const port = (s: net.Server) => (s.address() as net.AddressInfo).port;
  try {
    const signal = new AbortController().signal;
    const lux = await detectFamily('127.0.0.1', port(cg), signal, { deadlineMs: 2000 });
    assert.equal(lux.family, 'luxos');
    assert.equal(lux.via, 'cgminer');
    const axe = await detectFamily('127.0.0.1', port(web), signal, { httpPort: port(web) });
    assert.equal(axe.family, 'bitaxe');
    assert.equal(axe.via, 'http');
    const none = await detectFamily('127.0.0.1', port(silent), signal, {
      deadlineMs: 200,
      connectTimeoutMs: 200,
      httpPort: port(silent),
    });
    assert.equal(none.family, 'unknown');
    assert.ok(none.errors.includes('RT_ERR_PROTO_TIMEOUT'));
  } finally {
    for (const s of hung) s.destroy();
    await Promise.all([cg, web, silent].map((s) => new Promise((r) => s.close(r))));
  }
});

test('VNish 2.0.3 (version without Type) is recognised once stats is added', () => {
  const id = identify({
    version: readFixture('vnish_s17plus_version.txt'),
    stats: readFixture('vnish_s17plus_stats.txt'),
  });
  assert.deepEqual(
    [id.family, id.model, id.firmware],
    ['vnish', 'Antminer S17+', 'VNish 2.0.3 (cgminer 4.11.1)'],
  );
});

test('detectFamily asks stats when version names only cgminer', async () => {
  const { startFixtureRig } = await import('../testing/fixture-rig.js');
  const rig = await startFixtureRig({
    host: '127.0.0.1',
    replies: { version: 'vnish_s17plus_version.txt', stats: 'vnish_s17plus_stats.txt' },
  });
  try {
    const d = await detectFamily('127.0.0.1', rig.port, new AbortController().signal, {
      httpFallback: false,
    });
    assert.equal(d.family, 'vnish');
    assert.equal(d.model, 'Antminer S17+');
  } finally {
    await rig.close();
  }
});

test('a port that answers garbage to everything is a decode failure, not an HTTP one', async (t) => {
  // Real sockets on loopback: the cgminer port and the web port both send the same junk.
  const junk = (s: net.Socket) => {
    s.on('data', () => s.end('\u0001\u0002not a reply at all\u0000'));
    s.on('error', () => {});
  };
  const cg = net.createServer(junk);
  const web = net.createServer(junk);
  await Promise.all([cg, web].map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))));
  t.after(() => Promise.all([cg, web].map((srv) => new Promise((r) => srv.close(r)))));
  const port = (srv: net.Server) => (srv.address() as net.AddressInfo).port;
  const d = await detectFamily('127.0.0.1', port(cg), AbortSignal.timeout(10_000), {
    httpPort: port(web),
    connectTimeoutMs: 1000,
    deadlineMs: 2000,
  });
  assert.equal(d.family, 'unknown');
  assert.equal(d.failure?.code, 'RT_ERR_PROTO_DECODE');
});
