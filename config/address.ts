/**
 * `host:port` checking shared by every address setting (rigs, api.listen, SNMP devices, sink URLs): a port is
 * a whole number 1–65535 (0 only where it means "pick a free one"), a dotted number is a real IPv4 address
 * (`10.0.0.300` is a typo, not a host name), a name follows DNS label rules, IPv6 goes in brackets.
 */
import { isIPv6 } from 'node:net';
import type { z } from 'zod';

/** The shape the address settings' own patterns accept; finer checks run only on values of this shape. */
const HOST_PORT_SHAPE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/** A zod superRefine that adds one issue naming what is wrong with a host:port setting. */
export function hostPortCheck(opts: { allowZeroPort?: boolean; requirePort?: boolean } = {}) {
  return (value: string, ctx: z.RefinementCtx<string>) => {
    // A value that is not even host:port shaped already has the setting's own pattern message.
    if (!HOST_PORT_SHAPE.test(value)) return;
    const why = hostPortProblem(value, opts);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  };
}

/** A zod superRefine for a URL's host and port. */
export function urlHostCheck(shape: RegExp) {
  return (value: string, ctx: z.RefinementCtx<string>) => {
    if (!shape.test(value)) return;
    const why = urlHostProblem(value);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  };
}

/** Why `host` is not a host name or address, or null when it is. */
export function hostProblem(host: string): string | null {
  if (host.startsWith('[')) {
    if (!host.endsWith(']') || !isIPv6(host.slice(1, -1))) return `"${host}" is not an IPv6 address`;
    return null;
  }
  if (host === '') return 'the host is empty';
  if (/^[\d.]+$/.test(host)) {
    const parts = host.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
      return `"${host}" is not an IPv4 address (four numbers 0-255)`;
    }
    return null;
  }
  if (host.length > 253) return 'the host name is longer than 253 characters';
  for (const label of host.replace(/\.$/, '').split('.')) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) {
      return `"${host}" is not a valid host name`;
    }
  }
  return null;
}

/** Why `port` text is not a usable port, or null. */
export function portProblem(port: string, allowZero = false): string | null {
  const n = /^\d{1,5}$/.test(port) ? Number(port) : Number.NaN;
  const min = allowZero ? 0 : 1;
  if (!Number.isInteger(n) || n < min || n > 65_535)
    return `port "${port}" is not a number from ${min} to 65535`;
  return null;
}

/** Why `address` (`host`, `host:port`, `[v6]:port`) is unusable, or null. */
export function hostPortProblem(
  address: string,
  opts: { allowZeroPort?: boolean; requirePort?: boolean } = {},
): string | null {
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::([^:]*))?$/.exec(address);
  if (!m) return `"${address}" is not host:port (IPv6 addresses go in brackets: [fd00::5]:4028)`;
  const why = hostProblem(m[1]!);
  if (why) return why;
  if (m[2] === undefined) return opts.requirePort ? `"${address}" has no port` : null;
  return portProblem(m[2], opts.allowZeroPort);
}

/** Why the host and port of a URL are unusable, or null (the scheme is checked by the caller's pattern). */
export function urlHostProblem(url: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(\[[^\]]*\]|[^/:?#]*)(?::([^/?#]*))?/i.exec(url);
  if (!m) return `"${url}" is not a URL`;
  const why = hostProblem(m[1]!);
  if (why) return why;
  return m[2] === undefined ? null : portProblem(m[2]);
}
