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
  // Two copies of one loop, so each reads its input one way (a per-character closure cost more than the scan).
  return typeof input === 'string' ? scanText(input, max) : scanBytes(input, max);
}

function scanText(input: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0, n = input.length; i < n; i++) {
    const c = input.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return i;
    } else if ((c === 125 /* } */ || c === 93) /* ] */ && depth > 0) depth--;
  }
  return -1;
}

function scanBytes(input: Uint8Array, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0, n = input.length; i < n; i++) {
    const c = input[i]!;
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return i;
    } else if ((c === 125 || c === 93) && depth > 0) depth--;
  }
  return -1;
}
