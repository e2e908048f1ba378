// Child process for journal.test.ts: appends forever, printing each committed seq, until SIGKILLed.
import { emptyReading } from '../protocols/sample.js';
import { Journal } from './journal.js';
import { toSample } from './poll.js';

const dir = process.argv[2]!;
const j = Journal.open(dir, { fsync: 'always', maxBytes: 1e9 });
let i = 0;
function step(): void {
  for (let k = 0; k < 5; k++) {
    i += 1;
    const r = emptyReading('antminer');
    r.hashrate_hs = i;
    const batch = [
      toSample(r, {
        rigId: `r${i % 7}`,
        site: 's',
        address: 'a:1',
        atMs: i,
        ok: true,
        durationMs: 0,
        error: null,
      }),
    ];
    if (i % 3 === 0) batch.push(batch[0]!);
    const seq = j.append(batch);
    process.stdout.write(`${seq}\n`);
  }
  setImmediate(step);
}
step();
