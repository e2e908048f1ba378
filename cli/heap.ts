/**
 * How far V8 lets the heap grow between full collections. By default it grows the old generation up to 4× what
 * survived the last full collection on a machine with a few GB of memory; `rigtel run` at 10,000 rigs keeps
 * ~100 MB alive on the main thread and turns over tens of MB a second (samples, journal batches, API bodies),
 * so its heap reached 400–550 MB of mostly garbage. At 1.3× it stays near the live size; docs/scaling.md has
 * the peak RSS and CPU per poll measured both ways.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 30;

/**
 * Set V8's heap growing factor for this process (every thread) unless the operator chose one with
 * `--heap-growing-percent` (node flag or NODE_OPTIONS). V8 reads it at each full collection, so setting it
 * after start-up takes effect (unlike `--max-old-space-size`, which only a node flag can set).
 */
export function tuneHeapGrowth(
  execArgv = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): boolean {
  const flag = /--heap[-_]growing[-_]percent/;
  if (execArgv.some((a) => flag.test(a)) || flag.test(nodeOptions)) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
