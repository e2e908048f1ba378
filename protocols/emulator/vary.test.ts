import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPersonality, personalityNames } from './personalities.js';
import { RigDynamics, uniqueMacs, varyText } from './vary.js';

/** Every reply text the emulated personalities serve (JSON singles and pipe-format texts). */
function everyReply(): { name: string; elapsedS: number; texts: string[] }[] {
  return personalityNames().map((name) => {
    const p = loadPersonality(name);
    return { name, elapsedS: p.elapsedS, texts: [...p.single.values(), ...p.text.values()] };
  });
}

test('a rig seed in varyText gives the same bytes as varying, then uniqueMacs over the whole text', () => {
  let macs = 0;
  for (const { name, elapsedS, texts } of everyReply()) {
    for (const [i, text] of texts.entries()) {
      const seed = 0x00c0ffee + i;
      let clock = 1_700_000_000_000;
      const now = () => clock;
      // Two rigs with the same seed and clock draw the same snapshots.
      const a = new RigDynamics({ seed, now });
      const b = new RigDynamics({ seed, now });
      for (let poll = 0; poll < 3; poll++) {
        clock += 15_000;
        const fast = varyText(text, a.snapshot(), { elapsedS, macSeed: seed });
        const slow = uniqueMacs(varyText(text, b.snapshot(), { elapsedS }), seed);
        assert.equal(fast, slow, `${name}: reply ${i}, poll ${poll}`);
      }
      if (/([0-9a-f]{2}:){5}[0-9a-f]{2}/i.test(text)) macs++;
    }
  }
  // The comparison above means something only if some captures carry MACs.
  assert.ok(macs > 0, 'no capture carries a MAC');
});

test('each rig gets its own MAC, with the capture’s vendor half and letter case', () => {
  const text = '{"MAC":"AA:BB:CC:01:02:03","mac":"aa:bb:cc:01:02:03","GHS 5s":"100.00"}';
  const snap = new RigDynamics({ seed: 1, now: () => 0 }).snapshot();
  const one = varyText(text, snap, { elapsedS: 10, macSeed: 0x123456 });
  assert.match(one, /"MAC":"AA:BB:CC:12:34:56"/);
  assert.match(one, /"mac":"aa:bb:cc:12:34:56"/);
  const other = varyText(text, snap, { elapsedS: 10, macSeed: 0xabcdef });
  assert.match(other, /"MAC":"AA:BB:CC:AB:CD:EF"/);
  // Without a seed the capture's MAC stays as it is.
  assert.match(varyText(text, snap, { elapsedS: 10 }), /"MAC":"AA:BB:CC:01:02:03"/);
});

test('the same seed and clock give the same reply bytes (deterministic)', () => {
  // A reply with an `Elapsed`: it follows the clock, and hashrates next to it move per reply.
  const text = everyReply()
    .flatMap((r) => r.texts)
    .find((t) => t.includes('"Elapsed"') && t.includes('GHS 5s'));
  assert.ok(text);
  const run = () => {
    const d = new RigDynamics({ seed: 42, now: () => 1_700_000_000_000 });
    return [0, 1, 2].map(() => varyText(text, d.snapshot(), { elapsedS: 100, macSeed: 42 }));
  };
  assert.deepEqual(run(), run());
  const [first, second] = run();
  // Successive replies move (new jitter draws per reply).
  assert.notEqual(first, second);
});
