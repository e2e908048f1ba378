/**
 * Stock Antminer web API: `GET /cgi-bin/get_system_info.cgi` behind HTTP Digest (docs/protocols.md, "## Antminer").
 * Read for identity only — serial number and MAC, which the cgminer API on 4028 does not give. Credentials come
 * from the rig config (`username`, `password` as a Secret); without them nothing is sent.
 */
import type { Secret } from '../../lib/secret.js';
import { HttpErrors, httpGetJson, isObj, normMac, str } from '../kit/index.js';

export interface AntminerSystemInfo {
  model: string | null;
  serial: string | null;
  mac: string | null;
  hostname: string | null;
  firmware: string | null;
}

export function parseSystemInfo(body: unknown): AntminerSystemInfo | null {
  if (!isObj(body)) return null;
  const info: AntminerSystemInfo = {
    model: str(body['minertype']),
    serial: str(body['serinum']),
    mac: normMac(body['macaddr']),
    hostname: str(body['hostname']),
    firmware: str(body['system_filesystem_version']),
  };
  return Object.values(info).some((v) => v !== null) ? info : null;
}

export interface SystemInfoTarget {
  host: string;
  /** Web port, 80 on stock firmware. */
  port?: number;
  username?: string | undefined;
  password?: Secret | undefined;
  connectTimeoutMs: number;
  deadlineMs: number;
}

export async function readSystemInfo(
  target: SystemInfoTarget,
  signal?: AbortSignal,
): Promise<AntminerSystemInfo> {
  const port = target.port ?? 80;
  const path = '/cgi-bin/get_system_info.cgi';
  const { value } = await httpGetJson({
    host: target.host,
    port,
    path,
    connectTimeoutMs: target.connectTimeoutMs,
    deadlineMs: target.deadlineMs,
    maxBytes: 64 * 1024,
    signal,
    auth: target.password ? { username: target.username ?? 'root', password: target.password } : undefined,
  });
  const info = parseSystemInfo(value);
  if (!info) throw HttpErrors.badReply(`http://${target.host}:${port}${path}`, 'no system info fields');
  return info;
}
