/**
 * Nothing secret gets out: a collector configured with a password in every place a user can put one (URL
 * userinfo of both sinks, secret fields, an environment variable) runs with both sinks failing (nothing
 * listens on their ports) and its rigs unreachable; every output is then searched for the secret strings.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'rigtel.js');
const run = promisify(execFile);

/** A loopback port with nothing listening: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const SECRETS = {
  influxUrl: 'InfluxUrlPass-7f3a9',
  mqttUrl: 'MqttUrl%Pass-2b8c1',
  rigField: 'RigFieldPass-5d6e2',
  snmpCommunity: 'SnmpCommunity-9a1b4',
  envPassword: 'EnvVarPass-3c7f8',
} as const;

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

function assertClean(where: string, text: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      assert.ok(!text.includes(form), `${where} leaks the ${name} secret`);
    }
  }
}

describe('secrets never leave', () => {
  let dir: string;
  let proc: ChildProcess | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rigtel-secrets-'));
  });
  after(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('logs, API bodies, /metrics, config check --full and error texts hold none of them', async () => {
    const [influxPort, mqttPort, rigPort, snmpPort] = await Promise.all([
      closedPort(),
      closedPort(),
      closedPort(),
      closedPort(),
    ]);
    const config = join(dir, 'rigtel.yaml');
    const yaml = [
      'site: { name: secrets-test }',
      `storage: { dir: ${JSON.stringify(join(dir, 'data'))}, journal_fsync: off }`,
      'api: { listen: "127.0.0.1:0" }',
      'poll: { interval_ms: 1000, poll_deadline_ms: 800, command_timeout_ms: 500, connect_timeout_ms: 300 }',
      'log: { level: debug }',
      'rigs:',
      `  - { name: r1, address: "127.0.0.1:${rigPort}", family: antminer, username: root, password: ${SECRETS.rigField} }`,
      'snmp:',
      '  devices:',
      `    - { name: pdu-1, address: "127.0.0.1:${snmpPort}", community: ${SECRETS.snmpCommunity}, interval_ms: 1000 }`,
      'sinks:',
      `  influx: { url: "http://admin:${SECRETS.influxUrl}@127.0.0.1:${influxPort}", timeout_ms: 300, flush_interval_ms: 100 }`,
      `  mqtt: { url: "mqtt://bob:${encodeURIComponent(SECRETS.mqttUrl)}@127.0.0.1:${mqttPort}", connect_timeout_ms: 300 }`,
      '',
    ].join('\n');
    writeFileSync(config, yaml);
    // The MQTT URL's password is replaced by one from the environment: both places are user-reachable.
    const env = { ...process.env, RIGTEL_SINKS__INFLUX__TIMEOUT_MS: '300' };
    const check = await run(process.execPath, [bin, 'config', 'check', config, '--full'], { cwd: root, env });
    assert.match(check.stdout, /^ok /);
    assert.match(check.stdout, /url: http:\/\/127\.0\.0\.1:\d+/, 'the URL is shown without its userinfo');
    assertClean('config check --full', check.stdout + check.stderr);

    // An invalid config that quotes its URLs: the error text is redacted too.
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, `${yaml}poll: { interval_ms: 5 }\n`);
    const badCheck = await run(process.execPath, [bin, 'config', 'check', bad, '--full'], {
      cwd: root,
      env: { ...env, RIGTEL_SINKS__MQTT__PASSWORD: SECRETS.envPassword },
    }).catch((err: { stdout: string; stderr: string; code: number }) => err);
    assert.equal((badCheck as { code?: number }).code, 2);
    assertClean('config check error text', badCheck.stdout + badCheck.stderr);

    // A URL password and a different field password clash: the problem names the fields, not the values.
    const clash = join(dir, 'clash.yaml');
    writeFileSync(
      clash,
      yaml.replace('timeout_ms: 300,', `timeout_ms: 300, username: admin, password: ${SECRETS.envPassword},`),
    );
    const clashCheck = await run(process.execPath, [bin, 'config', 'check', clash], { cwd: root, env }).catch(
      (err: { stdout: string; stderr: string; code: number }) => err,
    );
    assert.match(clashCheck.stderr, /sinks\.influx\.password: also given in sinks\.influx\.url/);
    assertClean('credential clash text', clashCheck.stdout + clashCheck.stderr);

    const runEnv = { ...env, RIGTEL_RIGS: undefined, RIGTEL_SINKS__MQTT__USERNAME: 'bob' };
    proc = spawn(process.execPath, [bin, 'run', '--config', config], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...runEnv, RIGTEL_SINKS__MQTT__PASSWORD: undefined },
    });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d) => (stdout += d));
    proc.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => proc!.on('exit', (code) => resolve(code)));
    const base = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = /API\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout);
        if (m) resolve(m[1]!);
      };
      proc!.stdout!.on('data', check);
      exited.then((code) => reject(new Error(`rigtel run exited ${code}: ${stderr}`)));
    });
    // Let a few poll rounds fail and both sinks fail their connects and retries.
    await new Promise((r) => setTimeout(r, 4000));
    const bodies: string[] = [];
    for (const path of [
      '/healthz',
      '/v1/status',
      '/metrics',
      '/v1/fleet',
      '/v1/rigs',
      '/v1/power-devices',
      '/nope',
    ]) {
      const res = await fetch(`${base}${path}`);
      bodies.push(`${path} ${res.status} ${await res.text()}`);
    }
    const status = bodies.find((b) => b.startsWith('/v1/status'))!;
    assert.match(status, /influx/, 'the status names the failing sinks');
    assertClean('API bodies', bodies.join('\n'));
    proc.kill('SIGTERM');
    await exited;
    assert.match(stderr, /RT_ERR_SINK|RT_ERR_INFLUX|RT_ERR_MQTT|unavailable|refused/i, 'the sinks did fail');
    assertClean('logs (stderr)', stderr);
    assertClean('stdout', stdout);
    for (const file of allFiles(join(dir, 'data'))) assertClean(file, readFileSync(file).toString('latin1'));
  });
});
