/**
 * A rig's network address. Every place that builds a key from host and port (poll targets, rescans, the API's
 * rig lookup, `rigtel scan --write-config`) goes through `addressKey`, so `10.0.0.12`, `10.0.0.12:4028` and an
 * IPv6 host always give the same key: `host:port`, or `[v6]:port`.
 */
import { splitAddress } from '../config/schema.js';

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** The port miners serve their API on when an address names none. */
export const DEFAULT_MINER_PORT = 4028;

export function addressKey(a: Address): string {
  // Joined, not concatenated: V8 keeps a concatenation of 13 characters or more as a rope of its parts (two
  // rope nodes and the host, ~100 bytes), and every target, sample and index holds the key for the collector's life.
  return [a.host.includes(':') ? `[${a.host}]` : a.host, a.port].join(':');
}

/** `host`, `host:port`, `[v6]` or `[v6]:port` → Address (port `defaultPort` when absent). */
export function parseAddress(text: string, defaultPort = DEFAULT_MINER_PORT): Address {
  return splitAddress(text, defaultPort);
}

/** The key of an address written in any of the accepted forms. */
export function normalizeAddress(text: string, defaultPort = DEFAULT_MINER_PORT): string {
  const key = addressKey(parseAddress(text, defaultPort));
  // The text itself when it is the key already: indexes built from the config keep no second copy of it.
  return key === text ? text : key;
}
