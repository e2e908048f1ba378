/**
 * One request, one reply over a fresh TCP connection, as miner APIs want it (docs/protocols.md, "## cgminer API framing",
 * docs/protocols.md, "## Units and plausibility"): the whole request in one write right after connect, read until the terminator or EOF (never trusting a
 * single read), a connect timeout, an overall deadline, and a byte cap so a runaway reply cannot eat memory.
 */
import net from 'node:net';
import { ProtoErrors } from './errors.js';
import { socketError } from './socket-error.js';

export type Framing =
  /** cgminer-style: the reply ends at the first NUL byte, or at EOF when the firmware sends none. */
  | 'nul-or-eof'
  /** Whatsminer API v3 (port 4433): 4-byte little-endian length, then that many bytes. */
  | 'length-le32';

export interface TcpRequest {
  host: string;
  port: number;
  payload: string | Buffer;
  connectTimeoutMs: number;
  /** Overall deadline from the start of connect to the last byte. */
  deadlineMs: number;
  maxBytes: number;
  framing?: Framing;
  signal?: AbortSignal | undefined;
}

export interface TcpReply {
  /** Reply bytes without terminator or length prefix. */
  bytes: Buffer;
  /** How the reply ended: 'nul' (terminator seen), 'eof' (peer closed), 'length' (length-prefixed frame complete). */
  ended: 'nul' | 'eof' | 'length';
  durationMs: number;
}

export function tcpRequest(req: TcpRequest): Promise<TcpReply> {
  const addr = `${req.host}:${req.port}`;
  const framing = req.framing ?? 'nul-or-eof';
  const started = performance.now();
  return new Promise<TcpReply>((resolve, reject) => {
    if (req.signal?.aborted) {
      reject(ProtoErrors.aborted(addr));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let connected = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    /** length-le32: the frame's length once its 4 bytes are in, else -1. */
    let frameLength = -1;
    // No setNoDelay: the request is one write on a fresh socket, which Nagle never holds back (a setsockopt saved).
    const socket = net.connect({ host: req.host, port: req.port });

    const finish = (err: Error | null, reply?: TcpReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('data');
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const done = (bytes: Buffer, ended: TcpReply['ended']) =>
      finish(null, { bytes, ended, durationMs: performance.now() - started });
    /** The reply so far as one Buffer: most replies arrive in one chunk, which is used as it is (no copy). */
    const whole = () => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));

    const onAbort = () => finish(ProtoErrors.aborted(addr));
    req.signal?.addEventListener('abort', onAbort, { once: true });

    // One timer per socket: first the connect timeout, then (once connected) the rest of the overall deadline.
    const connectMs = Math.min(req.connectTimeoutMs, req.deadlineMs);
    const onTimer = () => {
      if (!connected) {
        finish(
          connectMs < req.connectTimeoutMs
            ? ProtoErrors.timeout(addr, req.deadlineMs)
            : ProtoErrors.connectTimeout(addr, req.connectTimeoutMs),
        );
        return;
      }
      const left = req.deadlineMs - (performance.now() - started);
      if (left <= 0) finish(ProtoErrors.timeout(addr, req.deadlineMs));
      else timer = setTimeout(onTimer, left);
    };
    timer = setTimeout(onTimer, connectMs);

    socket.once('connect', () => {
      connected = true;
      // One write: cgminer reads the request with a single recv() and drops anything later.
      socket.write(req.payload);
    });

    socket.on('data', (chunk: Buffer) => {
      if (framing === 'nul-or-eof') {
        const nul = chunk.indexOf(0);
        const part = nul === -1 ? chunk : chunk.subarray(0, nul);
        if (received + part.length > req.maxBytes) {
          finish(ProtoErrors.tooLarge(addr, req.maxBytes));
          return;
        }
        chunks.push(part);
        received += part.length;
        // Bytes after the first NUL (e.g. "\0\n") are ignored; some firmwares keep the socket open after it.
        if (nul !== -1) done(whole(), 'nul');
        return;
      }
      chunks.push(chunk);
      received += chunk.length;
      if (received < 4) return;
      // The length is read once; the chunks are joined once, when the frame is complete (not on every chunk).
      if (frameLength === -1) {
        frameLength = whole().readUInt32LE(0);
        if (frameLength > req.maxBytes) {
          finish(ProtoErrors.tooLarge(addr, req.maxBytes));
          return;
        }
      }
      if (received >= 4 + frameLength) done(Buffer.from(whole().subarray(4, 4 + frameLength)), 'length');
    });

    socket.once('end', () => {
      if (framing === 'length-le32') {
        finish(received === 0 ? ProtoErrors.emptyReply(addr) : ProtoErrors.reset(addr));
        return;
      }
      // An accept-then-close with no byte is the api-allow refusal, not a timeout (docs/protocols.md, "## cgminer API framing").
      if (received === 0) finish(ProtoErrors.emptyReply(addr));
      else done(whole(), 'eof');
    });

    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish(socketError(err, addr, { receivedBytes: received })),
    );
  });
}
