/**
 * Which collector polls which rig, when several collectors share one site (`collector.shard`): rendezvous
 * (highest-random-weight) hashing. Every collector scores every (rig, shard) pair with the same hash and polls
 * the rigs for which its own index scores highest, so the collectors agree without talking to each other, and
 * changing `count` from n to n+1 moves only about 1/(n+1) of the rigs (those the new shard wins).
 *
 * The key is the rig's configured name, else its normalized address (host:port): the assignment must be known
 * before the first poll, when the rig's MAC is not, and it must not move when a rig's MAC appears or changes
 * (a control board swap). Rigs found by discovery have no name yet: their address is the key.
 */
import { hashString32 } from '../lib/hash.js';
import type { RigTarget } from './poll.js';

export interface Shard {
  index: number;
  count: number;
}

/** 32-bit FNV-1a with a murmur3 finalizer: cheap and well spread for short keys. */
function score(key: string, shard: number): number {
  return hashString32(`${key}\u0000${shard}`);
}

/** The shard that polls the rig with this key. */
export function shardOf(key: string, count: number): number {
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < count; i++) {
    const sc = score(key, i);
    if (sc > bestScore) {
      bestScore = sc;
      best = i;
    }
  }
  return best;
}

export function shardKey(t: RigTarget): string {
  return t.name ?? t.address;
}

/** The targets this shard polls (all of them when count is 1). */
export function ownTargets<T extends RigTarget>(targets: readonly T[], shard: Shard): T[] {
  if (shard.count <= 1) return [...targets];
  return targets.filter((t) => shardOf(shardKey(t), shard.count) === shard.index);
}

/**
 * The shard index from a StatefulSet-style host name (`rigtel-collector-2` → 2), null when it has no
 * trailing number.
 */
export function shardIndexFromHostname(hostname: string | undefined): number | null {
  const m = /-(\d+)$/.exec(hostname ?? '');
  return m ? Number(m[1]) : null;
}
