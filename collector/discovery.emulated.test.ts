// Discovery over the emulated fleet: one emulated rig of every personality (every family, stock and aftermarket
// firmware) on its own loopback address, scanned as a range. Each must be identified as its family. The
// emulators refuse what the real firmware refuses (stock Antminer devdetails, Whatsminer M30S version), so this
// also checks the identification fallbacks.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadPersonality, personalityNames } from '../protocols/emulator/personalities.js';
import { type EmulatedRig, startEmulatedRig } from '../protocols/emulator/server.js';
import { testBasePort } from '../testing/ports.js';
import { scanRange } from './discovery.js';

const PORT = testBasePort();
const WEB_PORT = PORT + 1;
// whatsminer-v3 speaks only the length-framed API on 4433, which discovery notes but does not identify yet.
const NAMES = personalityNames().filter((n) => n !== 'whatsminer-v3');
const rigs: EmulatedRig[] = [];

before(async () => {
  for (const [i, personality] of NAMES.entries()) {
    const http = loadPersonality(personality).family === 'bitaxe';
    rigs.push(
      await startEmulatedRig({
        personality,
        host: `127.66.0.${i + 1}`,
        port: http ? WEB_PORT : PORT,
        seed: i + 1,
      }),
    );
  }
});

after(async () => {
  await Promise.all(rigs.map((r) => r.close()));
});

test('a scan identifies one emulated rig of every personality as its family', async () => {
  const report = await scanRange({
    cidrs: ['127.66.0.0/27'],
    ports: [PORT, WEB_PORT],
    httpPort: WEB_PORT,
    concurrency: 64,
    connectTimeoutMs: 500,
    deadlineMs: 2000,
  });
  const byIp = new Map(report.results.map((r) => [r.ip, r]));
  const wrong: string[] = [];
  for (const rig of rigs) {
    const found = byIp.get(rig.host);
    if (!found) wrong.push(`${rig.personality}: not found`);
    else if (found.status !== 'identified' || found.family !== rig.family)
      wrong.push(`${rig.personality}: ${found.status} as ${found.family} (${found.evidence.join('; ')})`);
  }
  assert.deepEqual(wrong, []);
  assert.equal(report.results.length, rigs.length, 'nothing listed twice, nothing invented');
});
