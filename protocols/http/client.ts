/**
 * A small HTTP/1.1 client for miner web APIs (Bitaxe `/api/system/info`, Antminer CGI): one fresh connection
 * per request, a connect timeout, one overall deadline, a byte cap on the body, abort on `signal`, and Digest
 * auth answered once when the device challenges. No redirects, no keep-alive, no TLS (these APIs are plain
 * HTTP on the rig network).
 */
import http from 'node:http';
import type { Secret } from '../../lib/secret.js';
import { ProtoErrors } from '../errors.js';
import { excessiveNestingAt, MAX_NESTING_DEPTH } from '../kit/depth.js';
import { socketError } from '../socket-error.js';
import { digestAuthorization, digestSupported, parseDigestChallenge } from './digest.js';
import { HttpErrors } from './errors.js';

export interface HttpRequest {
  host: string;
  port: number;
  path: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connectTimeoutMs: number;
  /** Overall deadline for the whole exchange, including a Digest retry. */
  deadlineMs: number;
  maxBytes: number;
  signal?: AbortSignal | undefined;
  /** Credentials for a Digest challenge. Never sent unless the device asks. */
  auth?: { username: string; password: Secret } | undefined;
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  durationMs: number;
}

function once(req: HttpRequest, authorization: string | null, deadlineAt: number): Promise<HttpReply> {
  const addr = `${req.host}:${req.port}`;
  const started = performance.now();
  return new Promise<HttpReply>((resolve, reject) => {
    if (req.signal?.aborted) {
      reject(ProtoErrors.aborted(addr));
      return;
    }
    let settled = false;
    let connected = false;
    const headers: Record<string, string> = { ...(req.headers ?? {}), connection: 'close' };
    if (authorization) headers['authorization'] = authorization;
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const creq = http.request({
      host: req.host,
      port: req.port,
      path: req.path,
      method: req.method ?? 'GET',
      headers,
      agent: false,
    });
    const remaining = Math.max(1, deadlineAt - performance.now());
    const finish = (err: Error | null, reply?: HttpReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(deadlineTimer);
      req.signal?.removeEventListener('abort', onAbort);
      creq.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const onAbort = () => finish(ProtoErrors.aborted(addr));
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const connectTimer = setTimeout(
      () => {
        if (!connected) finish(ProtoErrors.connectTimeout(addr, req.connectTimeoutMs));
      },
      Math.min(req.connectTimeoutMs, remaining),
    );
    const deadlineTimer = setTimeout(() => finish(ProtoErrors.timeout(addr, req.deadlineMs)), remaining);
    creq.on('socket', (socket) => {
      socket.once('connect', () => {
        connected = true;
        clearTimeout(connectTimer);
      });
    });
    creq.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > req.maxBytes) {
          finish(ProtoErrors.tooLarge(addr, req.maxBytes));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish(null, {
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks, size),
          durationMs: performance.now() - started,
        }),
      );
      res.on('error', () => finish(ProtoErrors.reset(addr)));
    });
    creq.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code?.startsWith('HPE_')) {
        // The peer answered, but not in HTTP (a cgminer port, a garbled proxy).
        const why = /^HPE_INVALID_(CONSTANT|VERSION|STATUS)$/.test(err.code) ? 'not an HTTP reply' : err.code;
        finish(HttpErrors.badReply.with({ cause: err }, `http://${addr}${req.path}`, why));
      } else finish(socketError(err, addr, { resetIsEmpty: !connected }));
    });
    if (req.body !== undefined) creq.write(req.body);
    creq.end();
  });
}

/** One request; on a 401 Digest challenge with credentials configured, one authenticated retry. */
export async function httpRequest(req: HttpRequest): Promise<HttpReply> {
  const deadlineAt = performance.now() + req.deadlineMs;
  const first = await once(req, null, deadlineAt);
  if (first.status !== 401 || !req.auth) return first;
  const url = `http://${req.host}:${req.port}${req.path}`;
  const header = first.headers['www-authenticate'];
  const challenges = Array.isArray(header) ? header : header ? [header] : [];
  const digest = challenges.map(parseDigestChallenge).find((c) => c !== null && digestSupported(c));
  if (!digest) {
    const scheme = challenges[0]?.split(/\s/)[0] ?? 'none';
    throw HttpErrors.authScheme(url, scheme);
  }
  const authorization = digestAuthorization({
    method: req.method ?? 'GET',
    uri: req.path,
    username: req.auth.username,
    password: req.auth.password,
    challenge: digest,
  });
  const second = await once(req, authorization, deadlineAt);
  if (second.status === 401) throw ProtoErrors.auth(`${req.host}:${req.port}`);
  return second;
}

/** GET a JSON object; non-2xx → RT_ERR_PROTO_HTTP_STATUS, non-JSON → RT_ERR_PROTO_HTTP_BAD_REPLY. */
export async function httpGetJson(req: HttpRequest): Promise<{ value: unknown; reply: HttpReply }> {
  const reply = await httpRequest(req);
  const url = `http://${req.host}:${req.port}${req.path}`;
  if (reply.status === 401) throw ProtoErrors.auth(`${req.host}:${req.port}`);
  if (reply.status < 200 || reply.status >= 300) throw HttpErrors.status(url, reply.status);
  if (excessiveNestingAt(reply.body) !== -1) {
    throw ProtoErrors.decode(`${url}: nested deeper than ${MAX_NESTING_DEPTH} levels`);
  }
  try {
    return { value: JSON.parse(reply.body.toString('utf8')), reply };
  } catch {
    throw HttpErrors.badReply(url, `body is not JSON (${reply.body.length} bytes)`);
  }
}
