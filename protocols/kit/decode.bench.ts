/**
 * `npm run bench -- decode`: CPU µs per `decodeReply` over every real JSON reply in protocols/fixtures/real,
 * split into replies that parse as sent and replies that need a repair. Each reply is decoded from a Buffer (as
 * the socket delivers it) many times over; the figure is the median of several rounds, this thread's CPU.
 */
import { readdirSync } from 'node:fs';
import { fixturesDir, readFixture } from '../fixtures.js';
import { decodeReply } from './decode.js';

export interface DecodeBenchResult {
  replies_clean: number;
  replies_repaired: number;
  /** Mean µs per reply within one round, median over rounds. */
  us_per_clean_reply: number;
  us_per_repaired_reply: number;
  /** Same replies through JSON.parse alone (clean ones only): the floor. */
  us_per_clean_json_parse: number;
}

function cpuUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export function runDecodeBench(rounds = 9, passes = 40): DecodeBenchResult {
  const clean: Buffer[] = [];
  const repaired: Buffer[] = [];
  for (const file of readdirSync(fixturesDir())) {
    if (!file.endsWith('.txt')) continue;
    const bytes = readFixture(file);
    const nul = bytes.indexOf(0);
    const body = nul === -1 ? bytes : bytes.subarray(0, nul);
    let d: ReturnType<typeof decodeReply>;
    try {
      d = decodeReply(body);
    } catch {
      continue;
    }
    if (d.format !== 'json') continue;
    (d.repairs.length ? repaired : clean).push(body);
  }
  const time = (list: Buffer[], fn: (b: Buffer) => unknown): number => {
    const per: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = cpuUs();
      for (let p = 0; p < passes; p++) for (const b of list) fn(b);
      per.push((cpuUs() - t0) / (passes * list.length));
    }
    return median(per);
  };
  // Warm-up: the JIT and the repair paths.
  time(clean, decodeReply);
  time(repaired, decodeReply);
  return {
    replies_clean: clean.length,
    replies_repaired: repaired.length,
    us_per_clean_reply: time(clean, decodeReply),
    us_per_repaired_reply: time(repaired, decodeReply),
    us_per_clean_json_parse: time(clean, (b) => JSON.parse(b.toString('utf8'))),
  };
}
