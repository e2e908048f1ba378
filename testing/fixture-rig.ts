/**
 * Test support: a loopback cgminer-style server replaying fixture replies per command (joined `a+b` requests
 * answered cgminer-style as `{"a":[…],"b":[…],"id":1}`), and a loopback HTTP server replaying AxeOS JSON.
 * Modes: 'answer' (default), 'silent' (accept, never reply), 'slow' (reply after delayMs).
 */
import http from 'node:http';
import net from 'node:net';
import { readFixtureText } from '../protocols/fixtures.js';
import { decodeReply } from '../protocols/kit/index.js';

export interface FixtureRigOptions {
  host: string;
  port?: number;
  /** command → fixture file name. */
  replies?: Record<string, string>;
  mode?: 'answer' | 'silent' | 'slow';
  delayMs?: number;
  /** Serve this AxeOS fixture over HTTP instead of the cgminer API. */
  httpInfoFixture?: string;
}

export interface FixtureRig {
  host: string;
  port: number;
  close(): Promise<void>;
}

const invalid = (cmd: string) =>
  JSON.stringify({
    STATUS: [{ STATUS: 'E', When: 0, Code: 14, Msg: `Invalid command`, Description: 'fixture' }],
    id: 1,
    cmd,
  });

/** `file#part`: one command's part of a joined capture (avalon_1047_summary-stats-pools.txt#stats). */
function partOf(spec: string): unknown {
  const [file, part] = spec.split('#') as [string, string];
  const decoded = decodeReply(readFixtureText(file)).value as Record<string, unknown>;
  const list = decoded[part];
  return Array.isArray(list) ? list[0] : JSON.parse(invalid(part));
}

export function answerFor(replies: Record<string, string>, request: string): string {
  let command = request.trim();
  try {
    const parsed = JSON.parse(command);
    command = String(parsed.command ?? '');
  } catch {
    // bare-word request
  }
  const parts = command.split('+');
  if (parts.length === 1) {
    const file = replies[command];
    if (file?.includes('#')) return JSON.stringify(partOf(file));
    return file ? readFixtureText(file).replace(/\0[\s\S]*$/, '') : invalid(command);
  }
  const out: Record<string, unknown> = {};
  for (const p of parts) {
    const file = replies[p];
    const decoded = file && !file.includes('#') ? { value: decodeReply(readFixtureText(file)).value } : null;
    out[p] = file?.includes('#') ? [partOf(file)] : decoded ? [decoded.value] : [JSON.parse(invalid(p))];
  }
  out['id'] = 1;
  return JSON.stringify(out);
}

export async function startFixtureRig(o: FixtureRigOptions): Promise<FixtureRig> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let server: net.Server;
  if (o.httpInfoFixture) {
    const info = readFixtureText(o.httpInfoFixture);
    server = http.createServer((req, res) => {
      if (o.mode === 'silent') return;
      if (req.url === '/api/system/info') {
        res.setHeader('content-type', 'application/json');
        res.end(info);
      } else res.end('<html><head><title>AxeOS</title></head></html>');
    });
  } else {
    server = net.createServer((socket) => {
      if (o.mode === 'silent') return;
      socket.once('data', (chunk) => {
        const reply = `${answerFor(o.replies ?? {}, chunk.toString('utf8'))}\0`;
        if (o.mode === 'slow') {
          const t = setTimeout(() => {
            timers.delete(t);
            socket.end(reply);
          }, o.delayMs ?? 500);
          timers.add(t);
        } else socket.end(reply);
      });
      socket.on('error', () => {});
    });
  }
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: o.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
