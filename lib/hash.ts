/**
 * Small non-cryptographic hashes: spreading rigs over a poll interval, over shards, and seeding emulator noise.
 * Cheap and well spread for short keys; never used where an attacker could choose inputs to collide.
 */

/** murmur3's 32-bit finaliser (avalanche mix): neighbouring inputs land far apart. */
export function mix32(input: number): number {
  let h = input >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit FNV-1a of a string's UTF-16 code units, finished with `mix32`. */
export function hashString32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}
