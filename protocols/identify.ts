/**
 * What is this device? `identify` is pure: it digests whatever probe replies were collected and asks each
 * family's `recognize` in the one detection order of `families.ts` (aftermarket firmware before stock, plain
 * cgminer last). A host that answered but that no family claims is `unknown`: it reads as unsupported, never
 * as a generic cgminer rig. `detectFamily` is the network part, the one identification path behind `rigtel
 * scan`, `rigtel poll` and the collector's `auto`: `version` + `devdetails` over the cgminer port, then
 * `summary` and `stats` when those did not settle it, else an HTTP probe (docs/protocols.md, "## cgminer API
 * framing").
 */
import { RtError } from '../lib/errors.js';
import { FAMILY_ORDER } from './families.js';
import { httpRequest } from './http/client.js';
import { decodeReply } from './kit/decode.js';
import { excessiveNestingAt } from './kit/depth.js';
import { digestReplies, type Identification, identified, type ProbeReplies } from './kit/index.js';
import { tcpRequest } from './tcp.js';

export type { Confidence, Identification, ProbeReplies } from './kit/index.js';
/** The probe replies `identify` reads (kept under its older name for callers). */
export type IdentifyInput = ProbeReplies;

export function identify(input: ProbeReplies): Identification {
  const d = digestReplies(input);
  for (const f of FAMILY_ORDER) {
    const id = f.recognize(d);
    if (id) return id;
  }
  if (d.answeredCgminer)
    return identified('unknown', 'low', [
      'answers in cgminer style, but no reply names a family rigtel knows',
    ]);
  if (d.httpBody || d.httpRealm)
    return identified('unknown', 'low', ['a web server rigtel does not recognise']);
  return identified('unknown', 'low', ['no reply rigtel recognises']);
}

export interface DetectOptions {
  connectTimeoutMs?: number;
  deadlineMs?: number;
  /** Web port for the HTTP fallback. */
  httpPort?: number;
  maxBytes?: number;
  /** Try HTTP when the cgminer probe gives nothing (default true; discovery turns it off and probes web ports itself). */
  httpFallback?: boolean;
  /**
   * Before `httpPort`, try HTTP on the probed port itself (a rig given as HOST:PORT may serve its web API there:
   * a Bitaxe on a non-standard port). Default false.
   */
  httpOnSamePort?: boolean;
}

export interface Detection extends Identification {
  /** The probe that answered: 'cgminer' (4028-style API), 'http', or null when nothing did. */
  via: 'cgminer' | 'http' | null;
  /** Errors met on the way (codes), for the scan report. */
  errors: string[];
  /** Every reply the probes got, as text (kept on an unsupported reading for diagnosis). */
  replies: Record<string, string>;
  /** The first error met, when nothing answered: what a poll of this host reports. */
  failure: RtError | null;
}

async function cgProbe(
  host: string,
  port: number,
  command: string,
  o: { connectTimeoutMs: number; deadlineMs: number; maxBytes: number },
  signal: AbortSignal,
) {
  const reply = await tcpRequest({
    host,
    port,
    payload: JSON.stringify({ command }),
    connectTimeoutMs: o.connectTimeoutMs,
    deadlineMs: o.deadlineMs,
    maxBytes: o.maxBytes,
    signal,
  });
  return reply.bytes;
}

/**
 * Network part of detection. On a cgminer-style port: `version`, then `devdetails` (in sequence: cgminer serves
 * one connection at a time). When that port is not an API (or `port` is a web port), an HTTP probe: the web root
 * (realm, page text) and `/api/system/info`.
 */
export async function detectFamily(
  host: string,
  port: number,
  signal: AbortSignal,
  options: DetectOptions = {},
): Promise<Detection> {
  const { httpFallback = true, httpOnSamePort = false } = options;
  const o = {
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    deadlineMs: options.deadlineMs ?? 4000,
    httpPort: options.httpPort ?? 80,
    maxBytes: options.maxBytes ?? 512 * 1024,
  };
  const errors: string[] = [];
  const input: ProbeReplies = {};
  const replies: Record<string, string> = {};
  let failure: RtError | null = null;
  const codeOf = (err: unknown) => {
    if (err instanceof RtError) failure ??= err;
    return err instanceof RtError ? err.code : String(err);
  };
  const webPorts = new Set([80, 8080, o.httpPort]);
  let first: Identification | null = null;
  let ownProbes = false;
  const familyProbes = async (): Promise<Identification | null> => {
    const target = {
      host,
      port,
      family: 'auto' as const,
      connectTimeoutMs: o.connectTimeoutMs,
      commandTimeoutMs: o.deadlineMs,
      maxReplyBytes: o.maxBytes,
    };
    for (const f of FAMILY_ORDER) {
      const id = f.probe ? await f.probe(target, signal) : null;
      if (id) return id;
    }
    return null;
  };
  if (!webPorts.has(port)) {
    const probe = async (command: 'version' | 'devdetails' | 'summary' | 'stats') => {
      const bytes = await cgProbe(host, port, command, o, signal);
      input[command] = bytes;
      replies[command] = bytes.toString('utf8');
    };
    for (const command of ['version', 'devdetails'] as const) {
      try {
        await probe(command);
      } catch (err) {
        errors.push(codeOf(err));
        // No answer to version (refused, silent, api-allow refusal): devdetails would only spend another deadline.
        if (command === 'version' && /CONNECT|UNREACHABLE|ABORTED|TIMEOUT|EMPTY_REPLY/.test(codeOf(err)))
          break;
      }
      if (command === 'version') {
        // A version that names family and model with confidence leaves nothing for devdetails to add.
        const v = identify(input);
        if (v.confidence === 'high' && v.model !== null) break;
      }
    }
    let refined = identify(input);
    first = refined;
    // Something answered in cgminer style (a reply, or an error status such as Code 14 for a refused command):
    // when version/devdetails did not settle it, summary and stats may. Whatsminer builds that refuse version
    // name themselves by their summary keys (whatsminer_m30s_summary.txt); a bare cgminer version (VNish 2.0.3:
    // vnish_s17plus_version.txt), an Avalon (MM ID strings) or an old Innosilicon (STATS0 sections) by stats.
    const answered =
      digestReplies(input).answeredCgminer || errors.some((c) => /STATUS|ACCESS_DENIED/.test(c));
    for (const command of ['summary', 'stats'] as const) {
      if (!answered || (refined.family !== 'unknown' && refined.family !== 'cgminer')) break;
      try {
        await probe(command);
        refined = identify(input);
      } catch (err) {
        errors.push(codeOf(err));
      }
    }
    if (refined.family !== 'unknown') return { ...refined, via: 'cgminer', errors, replies, failure };
    // Bytes came back that are no cgminer reply at all: that is the verdict, not whatever the web probes below
    // meet (a port that sends garbage to everything would otherwise be blamed on HTTP).
    if (!answered) failure ??= undecodable(input);
    // Nothing cgminer-like answered but the port is open: families with a transport of their own (Whatsminer API
    // v3) try their handshakes — after the web probes, which answer a web port at once.
    ownProbes = !answered && !errors.some((c) => /CONNECT|UNREACHABLE|ABORTED/.test(c));
    if (!httpFallback) {
      const own = ownProbes ? await familyProbes() : null;
      if (own) return { ...own, via: 'cgminer', errors, replies, failure };
      return { ...refined, via: answered ? 'cgminer' : null, errors, replies, failure };
    }
    first = answered ? refined : null;
  }
  let web: Detection | null = null;
  const httpPorts = webPorts.has(port) ? [port] : httpOnSamePort ? [port, o.httpPort] : [o.httpPort];
  for (const httpPort of [...new Set(httpPorts)]) {
    const base = {
      host,
      port: httpPort,
      connectTimeoutMs: o.connectTimeoutMs,
      deadlineMs: o.deadlineMs,
      maxBytes: o.maxBytes,
      signal,
    };
    const http: ProbeReplies = {};
    try {
      const root = await httpRequest({ ...base, path: '/' });
      const www = root.headers['www-authenticate'];
      http.httpRealm = Array.isArray(www) ? www.join(', ') : (www ?? null);
      http.httpBody = root.body.toString('utf8').slice(0, 64 * 1024);
      replies[`http ${httpPort} /`] = http.httpBody;
    } catch (err) {
      errors.push(codeOf(err));
      continue;
    }
    try {
      const info = await httpRequest({ ...base, path: '/api/system/info' });
      replies[`http ${httpPort} /api/system/info`] = info.body.toString('utf8');
      // A hostile body nested thousands deep is not an AxeOS info object: skip it rather than parse it.
      if (info.status === 200 && excessiveNestingAt(info.body) === -1) {
        http.httpInfo = JSON.parse(info.body.toString('utf8'));
      }
    } catch (err) {
      errors.push(err instanceof RtError ? err.code : 'RT_ERR_PROTO_HTTP_BAD_REPLY');
    }
    const id = identify({ ...input, ...http });
    if (id.family !== 'unknown') return { ...id, via: 'http', errors, replies, failure };
    web ??= { ...id, via: 'http', errors, replies, failure };
    break;
  }
  if (ownProbes) {
    const own = await familyProbes();
    if (own) return { ...own, via: 'cgminer', errors, replies, failure };
  }
  if (first) return { ...first, via: 'cgminer', errors, replies, failure };
  if (web) return web;
  return { ...identify(input), via: null, errors, replies, failure };
}

/** The decode error of the first cgminer probe reply that is not a cgminer reply, null when there is none. */
function undecodable(input: ProbeReplies): RtError | null {
  for (const command of ['version', 'devdetails', 'summary', 'stats'] as const) {
    const bytes = input[command];
    if (!(bytes instanceof Uint8Array) && typeof bytes !== 'string') continue;
    try {
      decodeReply(bytes as Buffer | string);
    } catch (err) {
      if (err instanceof RtError) return err;
    }
  }
  return null;
}
