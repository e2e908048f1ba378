/**
 * A cheap nesting-depth scan of a reply's bytes, run before any JSON parse. Real miner replies nest a handful of
 * levels (cgminer: object → section array → row object → at most one more); a reply nested hundreds deep is
 * hostile or broken, and handing it to a recursive parser or repair only burns stack and CPU.
 *
 * The scan skips string literals (a `[` inside a pool URL is not structure) and is linear in the text.
 */

/** Deepest nesting accepted. cgminer replies use ≤ 5; Braiins/LuxOS JSON ≤ 8; 64 leaves a wide margin. */
export const MAX_NESTING_DEPTH = 64;

/**
 * The first offset at which the nesting of `{`/`[` (outside strings) exceeds `max`, or -1 when it never does.
 * Works on a string or on raw bytes (the structural characters are ASCII, so UTF-8 needs no decoding).
 */
export function excessiveNestingAt(input: string | Uint8Array, max = MAX_NESTING_DEPTH): number {
  const n = input.length;
  const at =
    typeof input === 'string' ? (i: number) => input.charCodeAt(i) : (i: number) => input[i] as number;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < n; i++) {
    const c = at(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return i;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (depth > 0) depth--;
    }
  }
  return -1;
}
