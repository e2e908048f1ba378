// Child process for journal.test.ts: appends forever, printing each committed seq, until SIGKILLed.
// Mode 'store': one sample per append (sample n has at_ms n) while a fan-out feeds the embedded store.
import { emptyReading } from '../protocols/sample.js';
import { Fanout } from './fanout.js';
import { Journal } from './journal.js';
import { toSample } from './poll.js';
import { EmbeddedStore } from './sinks/embedded.js';

const dir = process.argv[2]!;
const withStore = process.argv[3] === 'store';
const j = Journal.open(dir, { fsync: 'always', maxBytes: 1e9 });
let fanout: Fanout | null = null;
if (withStore) {
  const store = EmbeddedStore.open(dir, {
    rawRetentionHours: 1e6,
    rollupRetentionDays: 1e6,
    intervalMs: 1000,
    backoffMaxMs: 0,
  });
  fanout = new Fanout(j, [store], { batchSize: 16, trimEveryMs: 5 });
  fanout.start();
}
let i = 0;
function step(): void {
  for (let k = 0; k < 5; k++) {
    i += 1;
    const r = emptyReading('antminer');
    r.hashrate_hs = i;
    const s = toSample(r, {
      rigId: `r${i % 7}`,
      site: 's',
      address: 'a:1',
      atMs: i,
      ok: true,
      durationMs: 0,
      error: null,
    });
    const batch = [s];
    if (!withStore && i % 3 === 0) batch.push(s);
    const seq = j.append(batch);
    process.stdout.write(`${seq}\n`);
  }
  fanout?.kick();
  setImmediate(step);
}
step();
