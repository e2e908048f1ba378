// A preload for memory benchmarks: every 3 s, each thread that loads it (the main thread and, since workers
// inherit node flags, every worker) appends one JSON line to $MEMLOG_FILE: RSS, V8 heap total/used, external and
// ArrayBuffer bytes, and each V8 heap space as used/size (MiB). Used as
// `BENCH_NODE_ARGS="--import ./scripts/bench-memlog.mjs" MEMLOG_FILE=/tmp/mem.jsonl npm run bench -- sustained …`.
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const file = process.env.MEMLOG_FILE ?? `/tmp/rigtel-memlog-${process.pid}.jsonl`;
const t0 = Date.now();
const mib = (n) => Math.round(n / 1048576);
setInterval(() => {
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [s.space_name, `${mib(s.space_used_size)}/${mib(s.space_size)}`]),
  );
  const line = {
    t: Math.round((Date.now() - t0) / 1000),
    thread: isMainThread ? 'main' : threadId,
    rss: mib(m.rss),
    heapTotal: mib(m.heapTotal),
    heapUsed: mib(m.heapUsed),
    external: mib(m.external),
    ab: mib(m.arrayBuffers),
    spaces,
  };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}, 3000).unref();
