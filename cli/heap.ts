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
 * The main thread's young generation: two semi-spaces of 4 MB instead of V8's 16 on a 64-bit machine. They
 * stay resident once touched, and V8 reads the size only when the process starts, so every launcher of
 * `rigtel run` passes it on node's command line: the bin's shebang, `npm start` and the Docker entrypoint
 * (cli/heap.test.ts checks all three). At 10,000 rigs it took 44 MiB off the peak RSS with no measurable CPU
 * per poll (docs/scaling.md, "Memory, third round").
 */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=4';

/** Whether node was started with a semi-space size of the operator's or the launcher's choosing. */
export function youngGenerationSized(
  execArgv = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): boolean {
  return nodeFlagGiven(/--max[-_]semi[-_]space[-_]size/, execArgv, nodeOptions);
}

/** Whether a node flag is on the command line or in NODE_OPTIONS (V8 takes `-` and `_` alike). */
function nodeFlagGiven(flag: RegExp, execArgv: readonly string[], nodeOptions: string): boolean {
  return execArgv.some((a) => flag.test(a)) || flag.test(nodeOptions);
}

/**
 * Set V8's heap growing factor for this process (every thread) unless the operator chose one with
 * `--heap-growing-percent` (node flag or NODE_OPTIONS). V8 reads it at each full collection, so setting it
 * after start-up takes effect (unlike `--max-old-space-size`, which only a node flag can set).
 */
export function tuneHeapGrowth(
  execArgv = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): boolean {
  if (nodeFlagGiven(/--heap[-_]growing[-_]percent/, execArgv, nodeOptions)) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
