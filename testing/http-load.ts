/**
 * A lean HTTP/1.1 keep-alive load generator for benchmarks: N raw TCP connections on loopback, each sending a GET
 * as soon as the previous answer is complete (closed loop, no pipelining). Node's own http client spent more CPU
 * per request than the API it measured on a 2-core box, so it, not the server, set the figures.
 * Answers are framed by Content-Length (chunked bodies are read to their last chunk).
 */
import { connect, type Socket } from 'node:net';
import { percentile } from './stats.js';

export interface LoadResult {
  connections: number;
  requests: number;
  /** Answers other than 200 or 304, and connections that failed. */
  errors: number;
  req_per_s: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

const HEAD_END = Buffer.from('\r\n\r\n');

const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

/** One connection asking `path()` until `endAt`; latencies pushed to `lat`. */
function runConnection(
  port: number,
  path: () => string,
  endAt: number,
  lat: number[],
  onError: () => void,
): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port, noDelay: true });
    let buf: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    /** Bytes of body still to come for the answer being read; -1 while reading its head. */
    let bodyLeft = -1;
    let chunked = false;
    let status = 0;
    const send = () => {
      if (performance.now() >= endAt) {
        socket.end();
        return;
      }
      sentAt = performance.now();
      socket.write(`GET ${path()} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    };
    const done = () => {
      if (status === 200 || status === 304) lat.push(performance.now() - sentAt);
      else onError();
      bodyLeft = -1;
      send();
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        if (bodyLeft === -1) {
          const end = buf.indexOf(HEAD_END);
          if (end === -1) return;
          const head = buf.subarray(0, end).toString('latin1');
          buf = buf.subarray(end + 4);
          status = Number(head.slice(9, 12));
          const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          chunked = !length && /\r\ntransfer-encoding:\s*chunked/i.test(head);
          bodyLeft = length ? Number(length[1]) : 0;
        }
        if (chunked) {
          // The last chunk of a chunked body is `0\r\n\r\n`.
          const end = buf.indexOf('\r\n0\r\n\r\n');
          if (end === -1) return;
          buf = buf.subarray(end + 7);
          chunked = false;
          done();
          continue;
        }
        if (buf.length < bodyLeft) {
          bodyLeft -= buf.length;
          buf = Buffer.alloc(0);
          return;
        }
        buf = buf.subarray(bodyLeft);
        done();
        if (buf.length === 0) return;
      }
    });
    socket.on('error', () => {
      onError();
      resolve();
    });
    socket.on('close', () => resolve());
  });
}

/** `connections` keep-alive connections asking `path()` as fast as answers come, for `ms`. */
export async function httpLoad(
  port: number,
  path: () => string,
  ms: number,
  connections = 200,
): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: connections }, () =>
      runConnection(port, path, start + ms, lat, () => {
        errors += 1;
      }),
    ),
  );
  const elapsed = performance.now() - start;
  lat.sort((a, b) => a - b);
  return {
    connections,
    requests: lat.length,
    errors,
    req_per_s: Math.round(lat.length / (elapsed / 1000)),
    p50_ms: round(percentile(lat, 50)),
    p99_ms: round(percentile(lat, 99)),
    max_ms: round(lat[lat.length - 1] ?? null),
  };
}
