/**
 * Bitaxe / AxeOS: plain HTTP on port 80, no auth, `GET /api/system/info` → one JSON object (docs/protocols.md "Bitaxe").
 * The body is the captured reply (bitaxe_supra_system-info.txt) with its figures moved by `vary`. The response is
 * written by hand (not node:http) so the fault modes act on its bytes like on any other personality.
 */

/** Request head larger than this is refused (431), like a small embedded web server would. */
export const HTTP_MAX_HEAD_BYTES = 16 * 1024;

export function httpRequestComplete(buf: Buffer): boolean {
  return buf.length >= HTTP_MAX_HEAD_BYTES || buf.indexOf('\r\n\r\n') !== -1 || buf.indexOf('\n\n') !== -1;
}

function response(status: number, reason: string, type: string, body: string, head = false): Buffer {
  const bytes = Buffer.from(body, 'latin1');
  const header =
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}\r\n` +
    'Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n';
  return head ? Buffer.from(header, 'latin1') : Buffer.concat([Buffer.from(header, 'latin1'), bytes]);
}

/** A minimal page with the "AxeOS" marker that web-probe detection looks for (docs/protocols.md "Identification"); made up. */
const INDEX_HTML =
  '<!doctype html><html><head><title>AxeOS</title></head><body>AxeOS (rigtel emulator)</body></html>';

export function answerHttp(
  buf: Buffer,
  infoBody: string,
  vary: (text: string) => string,
): { bytes: Buffer; commands: string[] } {
  if (buf.length >= HTTP_MAX_HEAD_BYTES && buf.indexOf('\r\n\r\n') === -1) {
    return {
      bytes: response(431, 'Request Header Fields Too Large', 'text/plain', 'request header too large\n'),
      commands: ['(too large)'],
    };
  }
  const line = buf
    .subarray(0, Math.max(0, buf.indexOf('\n')))
    .toString('latin1')
    .trim();
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(line);
  if (!m)
    return {
      bytes: response(400, 'Bad Request', 'text/plain', 'bad request\n'),
      commands: ['(bad request)'],
    };
  const [, method = '', rawPath = ''] = m;
  const path = rawPath.split('?')[0] ?? '';
  const head = method === 'HEAD';
  if (method !== 'GET' && !head) {
    return {
      bytes: response(405, 'Method Not Allowed', 'text/plain', 'method not allowed\n'),
      commands: [path],
    };
  }
  if (path === '/api/system/info') {
    return { bytes: response(200, 'OK', 'application/json', vary(infoBody), head), commands: [path] };
  }
  if (path === '/') return { bytes: response(200, 'OK', 'text/html', INDEX_HTML, head), commands: [path] };
  return { bytes: response(404, 'Not Found', 'text/plain', 'not found\n', head), commands: [path] };
}
