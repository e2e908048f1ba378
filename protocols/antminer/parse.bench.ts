/**
 * Parser throughput on the real Antminer `stats` replies (protocols/fixtures/real): rigtel's decodeReply +
 * parseAntminer against plain JSON.parse on the same bytes. JSON.parse cannot read the malformed captures (`}{`),
 * so its figure is measured on the strictly valid ones only; rigtel's on all of them.
 *
 *   node --import tsx protocols/antminer/parse.bench.ts
 */

import { fixtureIndex, readFixture } from '../fixtures.js';
import { decodeReply } from '../kit/index.js';
import { parseAntminer } from './parse.js';

export interface ParserBench {
  /** decodeReply + parseAntminer over every Antminer stats reply. */
  mb_per_s_rigtel: number;
  /** JSON.parse over the strictly valid Antminer stats replies only. */
  mb_per_s_json_parse: number;
  /** Bytes in one pass over every Antminer stats reply. */
  bytes: number;
  /** Bytes in one pass over the valid ones (the JSON.parse figure). */
  bytes_valid: number;
  files: number;
  files_valid: number;
}

function timeLoop(minMs: number, pass: () => number): { bytes: number; ms: number } {
  let bytes = 0;
  const start = performance.now();
  let now = start;
  do {
    bytes += pass();
    now = performance.now();
  } while (now - start < minMs);
  return { bytes, ms: now - start };
}

export async function runParserBench(minMs = 1000): Promise<ParserBench> {
  const rows = fixtureIndex().filter((e) => e.family === 'antminer' && e.command === 'stats');
  const all = rows.map((e) => readFixture(e.file));
  const valid = all.filter((b) => {
    try {
      JSON.parse(b.toString('utf8').replace(/\0+$/, ''));
      return true;
    } catch {
      return false;
    }
  });
  const bytes = all.reduce((n, b) => n + b.length, 0);
  const bytesValid = valid.reduce((n, b) => n + b.length, 0);

  // Warm up both paths so the JIT has settled before timing.
  for (let i = 0; i < 50; i++) {
    for (const b of all) parseAntminer({ stats: decodeReply(b).value });
    for (const b of valid) JSON.parse(b.toString('utf8'));
  }
  const rig = timeLoop(minMs, () => {
    for (const b of all) parseAntminer({ stats: decodeReply(b).value });
    return bytes;
  });
  const json = timeLoop(minMs, () => {
    for (const b of valid) JSON.parse(b.toString('utf8'));
    return bytesValid;
  });
  const mbps = (t: { bytes: number; ms: number }) => Math.round((t.bytes / 1e6 / (t.ms / 1000)) * 10) / 10;
  return {
    mb_per_s_rigtel: mbps(rig),
    mb_per_s_json_parse: mbps(json),
    bytes,
    bytes_valid: bytesValid,
    files: all.length,
    files_valid: valid.length,
  };
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const r = await runParserBench();
  console.log(
    `antminer stats parser: rigtel decode+parse ${r.mb_per_s_rigtel} MB/s on ${r.files} replies (${r.bytes} B/pass); ` +
      `JSON.parse ${r.mb_per_s_json_parse} MB/s on the ${r.files_valid} strictly valid ones (${r.bytes_valid} B/pass)`,
  );
  console.log(JSON.stringify(r));
}
