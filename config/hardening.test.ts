/** Config that cannot lie: every address, port, file and combination is checked before anything starts. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkConfigFile } from '../cli/config-check.js';
import { withEmulatedRigs } from '../cli/run.js';
import { hostPortProblem } from './address.js';
import { loadConfig, MAX_CONFIG_BYTES, validateConfig } from './load.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rigtel-cfg-hard-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  const r = checkConfigFile(file('c.yaml', text), env);
  assert.equal(r.ok, false, `expected problems for:\n${text}`);
  return r.text.trimEnd().split('\n').slice(1);
}

describe('addresses and ports', () => {
  test('host:port rules', () => {
    for (const ok of [
      '10.0.0.1',
      '10.0.0.1:4028',
      'miner-7.site.lan:1',
      '[fd00::5]:4028',
      'localhost:65535',
    ]) {
      assert.equal(hostPortProblem(ok), null, ok);
    }
    for (const bad of [
      '10.0.0.300',
      '10.0.0.1:0',
      '10.0.0.1:70000',
      '1.2.3',
      '-bad-.lan',
      '[zz::1]:1',
      'a:b',
    ]) {
      assert.notEqual(hostPortProblem(bad), null, bad);
    }
  });

  test('rigs, api.listen, SNMP devices and sink URLs all refuse bad ports and hosts', () => {
    const lines = problems(
      [
        'rigs:',
        '  - { address: "10.0.0.1:0" }',
        '  - { address: "10.0.0.2:70000" }',
        '  - { address: "10.0.0.300" }',
        'api: { listen: nonsense }',
        'snmp: { devices: [ { name: p1, address: "10.0.9.1:99999", community: public } ] }',
        'sinks:',
        '  influx: { url: "http://10.0.0.256:8086" }',
        '  mqtt: { url: "mqtt://broker:0" }',
      ].join('\n'),
    );
    const text = lines.join('\n');
    assert.match(text, /rigs\[0\]\.address: port "0" is not a number from 1 to 65535/);
    assert.match(text, /rigs\[1\]\.address: port "70000"/);
    assert.match(text, /rigs\[2\]\.address: "10\.0\.0\.300" is not an IPv4 address/);
    assert.match(text, /api\.listen: .*no port|api\.listen: expected host:port/);
    assert.match(text, /snmp\.devices\[0\]\.address: /);
    assert.match(text, /sinks\.influx\.url: "10\.0\.0\.256" is not an IPv4 address/);
    assert.match(text, /sinks\.mqtt\.url: port "0"/);
    assert.match(problems('api: { listen: ":99999" }').join('\n'), /api\.listen: /);
  });
});

describe('TLS and files', () => {
  test('a missing CA file is an error, not a connect failure later', () => {
    const text = problems(
      'sinks: { mqtt: { url: "mqtts://127.0.0.1:8883", tls: { ca: /nonexistent/ca.pem } } }',
    );
    assert.match(text.join('\n'), /sinks\.mqtt\.tls\.ca: \/nonexistent\/ca\.pem does not exist/);
  });

  test('TLS settings on a plaintext mqtt:// URL are an error', () => {
    const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\n');
    const text = problems(
      `sinks: { mqtt: { url: "mqtt://127.0.0.1:1883", tls: { ca: ${JSON.stringify(ca)} } } }`,
    );
    assert.match(text.join('\n'), /sinks\.mqtt\.tls: TLS settings on a plaintext mqtt:\/\/ URL/);
    const ok = checkConfigFile(
      file(
        'ok.yaml',
        `sinks: { mqtt: { url: "mqtts://127.0.0.1:8883", tls: { ca: ${JSON.stringify(ca)} } } }`,
      ),
      {},
    );
    assert.equal(ok.ok, true, ok.text);
  });
});

describe('files', () => {
  test('a config file over the cap is refused before it is read', () => {
    const big = file('big.yaml', `# ${'x'.repeat(MAX_CONFIG_BYTES)}\nrigs: []\n`);
    const t0 = performance.now();
    const r = checkConfigFile(big, {});
    assert.equal(r.ok, false);
    assert.match(r.text, /^RT_ERR_CONFIG_TOO_LARGE: .*big\.yaml: \d+ bytes is more than the 1048576 bytes/);
    assert.ok(performance.now() - t0 < 500);
    assert.throws(() => loadConfig(big, {}), { code: 'RT_ERR_CONFIG_TOO_LARGE' });
  });

  test('an explicitly given empty or comment-only file is an error, not the demo', () => {
    for (const text of ['', '\n\n', '# just a comment\n']) {
      const r = checkConfigFile(file('empty.yaml', text), {});
      assert.equal(r.ok, false, JSON.stringify(text));
      assert.match(r.text, /\(root\): the file is empty/);
      assert.throws(() => loadConfig(file('empty.yaml', text), {}), { code: 'RT_ERR_CONFIG_INVALID' });
    }
    assert.equal(
      checkConfigFile(file('braces.yaml', '{}\n'), {}).ok,
      true,
      'an explicit {} asks for the defaults',
    );
  });
});

describe('emulator and real rigs', () => {
  test('mode on with rigs configured is an error unless alongside_rigs says both', () => {
    const text = problems('rigs: [ { address: "10.0.0.1" } ]\nemulator: { mode: on }');
    assert.match(text.join('\n'), /emulator\.mode: on, with 1 rig\(s\) configured/);
    const both = validateConfig({
      rigs: [{ address: '10.0.0.1' }],
      emulator: { mode: 'on', alongside_rigs: true },
    });
    const merged = withEmulatedRigs(both, [
      { name: 'emu-1', address: '127.0.0.1:14028', family: 'antminer' },
    ]);
    assert.deepEqual(
      merged.rigs.map((r) => [r.address, r.tags['emulated'] ?? null]),
      [
        ['10.0.0.1', null],
        ['127.0.0.1:14028', 'true'],
      ],
    );
  });
});

describe('environment', () => {
  test('a bad env value is blamed on the variable, not on built-in defaults', () => {
    assert.throws(
      () => loadConfig(undefined, { RIGTEL_API__LISTEN: 'nonsense:99999' }),
      (err: Error) =>
        /environment \(RIGTEL_\* variables\) over built-in defaults/.test(err.message) &&
        /api\.listen: .*\(set by environment variable RIGTEL_API__LISTEN\)/.test(err.message),
    );
    const r = checkConfigFile(file('env.yaml', 'rigs: []\n'), { RIGTEL_POLL__INTERVAL_MS: '5' });
    assert.match(r.text, /poll\.interval_ms: .*\(set by environment variable RIGTEL_POLL__INTERVAL_MS\)/);
  });

  test("the process's own variables (RIGTEL_DEBUG, RIGTEL_NO_DIST) are not read as settings", () => {
    const config = loadConfig(undefined, {
      RIGTEL_NO_DIST: '1',
      RIGTEL_DEBUG: '1',
      RIGTEL_POLL__INTERVAL_MS: '45000',
    });
    assert.equal(config.poll.interval_ms, 45_000);
    // Any other unknown name is still a typo worth an error.
    assert.throws(() => loadConfig(undefined, { RIGTEL_NO_SUCH_THING: '1' }), /no_such_thing/);
  });
});
