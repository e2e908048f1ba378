// Makes sure the real services the tests use are installed and, for Mosquitto, running.
// Tests start their own influxd and snmpd on high loopback ports; Mosquitto is shared on 127.0.0.1:1883.
// As root on Debian, missing packages are installed with apt-get; otherwise we stop and name what to install.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';

const NEEDED = [
  { bin: ['/usr/bin/influxd'], pkg: 'influxdb', why: 'InfluxDB 1.x for the InfluxDB sink tests' },
  { bin: ['/usr/sbin/snmpd'], pkg: 'snmpd', why: "net-snmp's snmpd for the SNMP tests" },
  {
    bin: ['/usr/bin/snmpget'],
    pkg: 'snmp',
    why: 'net-snmp command-line tools used to check the snmpd fixture',
  },
  { bin: ['/usr/sbin/mosquitto'], pkg: 'mosquitto', why: 'the MQTT broker for the MQTT sink tests' },
  { bin: ['/usr/bin/chromium'], pkg: 'chromium', why: 'headless Chromium for web page tests' },
];

function isDebian() {
  return existsSync('/etc/debian_version');
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function missingPackages() {
  return NEEDED.filter((n) => !n.bin.some((b) => existsSync(b)));
}

export function installPackages() {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const names = missing.map((m) => m.pkg);
  if (!(isRoot() && isDebian())) {
    const lines = missing.map((m) => `  ${m.pkg}: ${m.why}`).join('\n');
    console.error(
      `rigtel tests need these Debian packages, which are missing:\n${lines}\nInstall them with: sudo apt-get install -y ${names.join(' ')}`,
    );
    process.exit(3);
  }
  console.log(`[services] installing ${names.join(', ')} with apt-get (first run only)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Keep the packages' maintainer scripts from starting their daemons: the packaged influxd config listens on
  // every interface. Tests start their own influxd/snmpd on loopback with configs kept in the repo.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', ...names], {
      stdio: 'inherit',
      env,
    });
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  const still = missingPackages();
  if (still.length) {
    console.error(`[services] still missing after apt-get: ${still.map((m) => m.pkg).join(', ')}`);
    process.exit(3);
  }
}

function canConnect(host, port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function ensureMosquitto() {
  if (await canConnect('127.0.0.1', 1883)) return;
  console.log('[services] Mosquitto is not running on 127.0.0.1:1883; starting it');
  const conf = '/etc/mosquitto/mosquitto.conf';
  const args =
    existsSync(conf) && readFileSync(conf, 'utf8').includes('listener')
      ? ['-d', '-c', conf]
      : ['-d', '-p', '1883'];
  const r = spawnSync('mosquitto', args, { stdio: 'inherit' });
  if (r.status !== 0) {
    // The packaged config may bind no listener; fall back to an explicit loopback listener.
    spawnSync('mosquitto', ['-d', '-p', '1883'], { stdio: 'inherit' });
  }
  for (let i = 0; i < 50; i++) {
    if (await canConnect('127.0.0.1', 1883)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.error('[services] could not start Mosquitto on 127.0.0.1:1883');
  process.exit(3);
}

export async function ensureServices() {
  installPackages();
  await ensureMosquitto();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await ensureServices();
  console.log('[services] influxd, snmpd, mosquitto and chromium are available');
}
