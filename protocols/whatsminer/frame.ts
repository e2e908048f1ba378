/**
 * Whatsminer API v3 framing (port 4433, docs/protocols.md, "## Whatsminer"): both directions are a 4-byte
 * little-endian unsigned length followed by that many bytes of UTF-8 JSON. Reading is done by
 * `tcpRequest({framing: 'length-le32'})`; these helpers build requests and let tests play the miner's side.
 */
import { WhatsminerErrors } from './errors.js';

/** Frame a JSON value (or an already serialized string) for API v3. */
export function encodeV3Frame(value: unknown): Buffer {
  const body = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
}

/**
 * Take one complete frame from the front of `buf`. Returns null while more bytes are needed, else the body and
 * what follows it. `maxBytes` guards against a hostile length prefix.
 */
export function takeV3Frame(buf: Buffer, maxBytes = 1 << 20): { body: Buffer; rest: Buffer } | null {
  if (buf.length < 4) return null;
  const length = buf.readUInt32LE(0);
  if (length > maxBytes) throw WhatsminerErrors.badFrame(`length prefix ${length} exceeds ${maxBytes} bytes`);
  if (buf.length < 4 + length) return null;
  return { body: buf.subarray(4, 4 + length), rest: buf.subarray(4 + length) };
}

/** A v3 read request: `{"cmd":"get.miner.status","param":"summary"}` or `{"cmd":"get.device.info"}`. */
export function v3Request(cmd: string, param?: string): Buffer {
  return encodeV3Frame(param === undefined ? { cmd } : { cmd, param });
}
