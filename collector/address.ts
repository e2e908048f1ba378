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
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** `host`, `host:port`, `[v6]` or `[v6]:port` → Address (port `defaultPort` when absent). */
export function parseAddress(text: string, defaultPort = DEFAULT_MINER_PORT): Address {
  return splitAddress(text, defaultPort);
}

/** The key of an address written in any of the accepted forms. */
export function normalizeAddress(text: string, defaultPort = DEFAULT_MINER_PORT): string {
  return addressKey(parseAddress(text, defaultPort));
}
