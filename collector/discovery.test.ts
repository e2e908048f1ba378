import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type FixtureRig, startFixtureRig } from '../testing/fixture-rig.js';
import { expandRanges, parseCidr, parsePorts, scanRange } from './discovery.js';

test('CIDR parsing and validation', () => {
  assert.deepEqual(expandRanges(['10.0.0.0/30']), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(expandRanges(['10.0.0.7']), ['10.0.0.7']);
  assert.deepEqual(expandRanges(['10.0.0.0/31']), ['10.0.0.0', '10.0.0.1']);
  assert.equal(expandRanges(['10.0.0.0/22']).length, 1022);
  assert.deepEqual(expandRanges(['10.0.0.1', '10.0.0.0/30']), ['10.0.0.1', '10.0.0.2']);
  for (const bad of ['10.0.0.5/24', '10.0.0.256', '10.0.0.0/33', 'ten.0.0.0/8', '10.0.0/24', '']) {
    assert.throws(() => parseCidr(bad), { code: 'RT_ERR_DISCOVERY_BAD_RANGE' }, bad);
  }
  assert.throws(() => expandRanges(['10.0.0.0/15']), { code: 'RT_ERR_DISCOVERY_RANGE_TOO_LARGE' });
  assert.equal(expandRanges(['10.0.0.0/16']).length, 65_534);
  assert.deepEqual(parsePorts('4028, 80,4028'), [4028, 80]);
  assert.throws(() => parsePorts('80,http'), { code: 'RT_ERR_DISCOVERY_BAD_PORT' });
  assert.throws(() => parsePorts('70000'), { code: 'RT_ERR_DISCOVERY_BAD_PORT' });
});

// One loopback rig per family on 127.77.0.0/28 (all of 127/8 is loopback on Linux), replaying real replies.
// Innosilicon and Whatsminer have no `version` capture: their rigs answer `version` with a reply of the same
// firmware (summary), whose STATUS Description names it just as a version reply's would.
const API = 4028;
const WEB = 28080;
const rigs: FixtureRig[] = [];
const EXPECT: Record<string, { family: string; model: string | null }> = {
  '127.77.0.1': { family: 'braiins', model: null },
  '127.77.0.2': { family: 'luxos', model: 'Antminer S19k Pro' },
  '127.77.0.3': { family: 'vnish', model: 'Antminer S9' },
  '127.77.0.4': { family: 'avalon', model: 'AvalonMiner 1166Pro-75' },
  '127.77.0.5': { family: 'innosilicon', model: 'A9' },
  '127.77.0.6': { family: 'antminer', model: 'Antminer S19 Pro' },
  '127.77.0.7': { family: 'whatsminer', model: null },
  '127.77.0.8': { family: 'bitaxe', model: 'Bitaxe Supra' },
  '127.77.0.9': { family: 'antminer', model: 'Antminer S9' },
};

before(async () => {
  const api = (host: string, version: string, extra: Record<string, string> = {}) =>
    startFixtureRig({ host, port: API, replies: { version, ...extra } });
  rigs.push(
    await api('127.77.0.1', 'braiins_s9plus_version.txt'),
    await api('127.77.0.2', 'luxos_s19kpro_version.txt'),
    await api('127.77.0.3', 'vnish_s9_version.txt'),
    await api('127.77.0.4', 'avalon_1166pro_version.txt', { devdetails: 'avalon_1246_devdetails.txt' }),
    await api('127.77.0.5', 'innosilicon_a9_summary.txt'),
    await api('127.77.0.6', 'antminer_s19pro_version.txt'),
    await api('127.77.0.7', 'whatsminer_m31s_summary.txt'),
    await startFixtureRig({ host: '127.77.0.8', port: WEB, httpInfoFixture: 'bitaxe_supra_system-info.txt' }),
    // Hiveon S9 that answers slowly: must still be identified.
    await startFixtureRig({
      host: '127.77.0.9',
      port: API,
      replies: { version: 'antminer_s9hiveon_version.txt' },
      mode: 'slow',
      delayMs: 400,
    }),
    // Listening but never answering: listed as unidentified, not dropped.
    await startFixtureRig({ host: '127.77.0.10', port: API, mode: 'silent' }),
  );
});

after(async () => {
  await Promise.all(rigs.map((r) => r.close()));
});

test('scan of a loopback /28: every rig identified, the silent host listed as unidentified', async () => {
  const seen: string[] = [];
  const report = await scanRange({
    cidrs: ['127.77.0.0/28'],
    ports: [API, WEB],
    concurrency: 32,
    connectTimeoutMs: 500,
    deadlineMs: 800,
    httpPort: WEB,
    onProgress: (p) => seen.push(p.stage),
  });
  assert.equal(report.addresses, 14);
  assert.equal(report.probes, 28);
  const byIp = new Map(report.results.map((r) => [r.ip, r]));
  for (const [ip, want] of Object.entries(EXPECT)) {
    const got = byIp.get(ip);
    assert.ok(got, `${ip} missing from the scan`);
    assert.equal(got.status, 'identified', `${ip}: ${JSON.stringify(got)}`);
    assert.equal(got.family, want.family, ip);
    assert.equal(got.model, want.model, ip);
  }
  assert.equal(byIp.get('127.77.0.9')?.firmware, 'Hiveon (BMMiner 2.0.0 rwglr)');
  // Nameplate from protocols/models.ts.
  assert.equal(byIp.get('127.77.0.6')?.nameplate_ths, 110);
  assert.equal(byIp.get('127.77.0.4')?.mac, 'b4:a2:eb:34:53:e4');
  assert.equal(byIp.get('127.77.0.8')?.port, WEB);
  const silent = byIp.get('127.77.0.10');
  assert.ok(silent, 'the silent host must be listed');
  assert.equal(silent.status, 'unidentified');
  assert.ok(silent.errors.includes('RT_ERR_PROTO_TIMEOUT'));
  assert.equal(report.results.length, 10);
  assert.ok(seen.includes('probe') && seen.includes('identify'));
});

test('concurrency 1 finds the same rigs as concurrency 256', async () => {
  const run = (concurrency: number) =>
    scanRange({
      cidrs: ['127.77.0.0/29'],
      ports: [API],
      concurrency,
      connectTimeoutMs: 500,
      deadlineMs: 800,
      httpPort: WEB,
    });
  const [a, b] = await Promise.all([run(1), run(256)]);
  assert.deepEqual(
    a.results.map((r) => [r.ip, r.family]),
    b.results.map((r) => [r.ip, r.family]),
  );
  assert.equal(a.results.length, 6);
});

test('scheduled rescans: first round reports, stop() ends the schedule; bad ranges reach onError', async () => {
  const { scheduleRescans } = await import('./discovery.js');
  const settings = {
    enabled: true,
    ranges: ['127.77.0.6'],
    ports: [API],
    interval_ms: 60_000,
    concurrency: 4,
    connect_timeout_ms: 500,
    identify_timeout_ms: 800,
  };
  const report = await new Promise<import('./discovery.js').ScanReport>((resolve, reject) => {
    const h = scheduleRescans(settings, {
      onReport: (r) => {
        void h.stop().then(() => resolve(r));
      },
      onError: reject,
    });
  });
  assert.equal(report.results[0]?.model, 'Antminer S19 Pro');
  const err = await new Promise<unknown>((resolve) => {
    const h = scheduleRescans(
      { ...settings, ranges: ['10.0.0.5/24'] },
      {
        onReport: () => {},
        onError: (e) => {
          void h.stop().then(() => resolve(e));
        },
      },
    );
  });
  assert.equal((err as { code?: string }).code, 'RT_ERR_DISCOVERY_BAD_RANGE');
  await scheduleRescans({ ...settings, enabled: false }, { onReport: () => assert.fail('disabled') }).stop();
});

test('with web credentials, a stock Antminer gets its serial and MAC from get_system_info (digest)', async () => {
  const { createHash, randomBytes } = await import('node:crypto');
  const http = await import('node:http');
  const { Secret } = await import('../lib/secret.js');
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const web = http.createServer((req, res) => {
    const f = new Map<string, string>();
    for (const m of (req.headers.authorization ?? '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) {
      f.set(m[1]!, m[2] ?? m[3] ?? '');
    }
    const ha1 = md5('root:antMiner Configuration:s3cret');
    const ha2 = md5(`GET:${f.get('uri')}`);
    if (f.get('response') !== md5(`${ha1}:${f.get('nonce')}:${f.get('nc')}:${f.get('cnonce')}:auth:${ha2}`)) {
      res.writeHead(401, {
        'www-authenticate': `Digest realm="antMiner Configuration", nonce="${randomBytes(4).toString('hex')}", qop="auth"`,
      });
      res.end();
      return;
    }
    // Field names from docs/protocols.md "Antminer"; values made up for this test.
    res.end(
      JSON.stringify({
        minertype: 'Antminer S19 Pro',
        serinum: 'SN-TEST-0001',
        macaddr: '02:00:00:AA:BB:01',
      }),
    );
  });
  await new Promise<void>((r) => web.listen(WEB, '127.77.1.1', r));
  const api = await startFixtureRig({
    host: '127.77.1.1',
    port: API,
    replies: { version: 'antminer_s19pro_version.txt' },
  });
  try {
    const report = await scanRange({
      cidrs: ['127.77.1.1'],
      ports: [API, WEB],
      concurrency: 4,
      connectTimeoutMs: 500,
      deadlineMs: 800,
      httpPort: WEB,
      webAuth: { username: 'root', password: new Secret('s3cret') },
    });
    const r = report.results[0]!;
    assert.deepEqual(
      [r.family, r.model, r.serial, r.mac],
      ['antminer', 'Antminer S19 Pro', 'SN-TEST-0001', '02:00:00:aa:bb:01'],
    );
    assert.ok(!JSON.stringify(report).includes('s3cret'));
  } finally {
    await api.close();
    await new Promise((r) => web.close(r));
  }
});

test('overload never hides a rig: concurrency far above the fd limit, every rig still found', async () => {
  const { spawnSync } = await import('node:child_process');
  // A child with only 120 file descriptors scanning at concurrency 2048: connects fail locally with EMFILE
  // ('overload') and must be retried at lower concurrency, not reported absent.
  const script =
    "import('./collector/discovery.bench.ts').then(async (m) => { const r = await m.runDiscoveryBench({ rigs: 30, silent: 0, slow: 0, concurrency: 2048, webPort: 28080, range: '127.81.0.0/22' }); console.log(JSON.stringify(r)); })";
  const child = spawnSync(
    'sh',
    ['-c', `ulimit -n 120 && exec "${process.execPath}" --import tsx -e "${script}"`],
    {
      cwd: new URL('..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(child.status, 0, child.stderr);
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!);
  assert.equal(r.rigs_identified, r.rigs_expected);
  assert.deepEqual(r.missed, []);
  assert.ok(r.retried > 0, 'the fd limit should have forced retries');
});
