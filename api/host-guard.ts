/**
 * DNS-rebinding guard: the API answers only requests whose Host header names this machine by a name the
 * operator chose. A page on evil.example that rebinds its name to 127.0.0.1 still sends `Host: evil.example`,
 * so it is refused before any route runs (421, RT_ERR_API_HOST_NOT_ALLOWED).
 */

/** Names every API answers for: the loopback names. */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'] as const;

/** `Host` header → the name without its port, lower-cased; IPv6 keeps its brackets. Null when malformed. */
export function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const h = header.trim().toLowerCase();
  const v6 = /^(\[[0-9a-f:.]+\])(?::\d{1,5})?$/.exec(h);
  if (v6) return v6[1]!;
  const m = /^([a-z0-9.-]+?)\.?(?::\d{1,5})?$/.exec(h);
  return m ? m[1]! : null;
}

/** The set of names allowed: loopback, the listen host (unless a wildcard), and the configured extras. */
export function allowedHostSet(listenHost: string | undefined, extra: readonly string[]): Set<string> {
  const set = new Set<string>(LOOPBACK_HOSTS);
  const add = (name: string) => {
    const n = name.trim().toLowerCase();
    if (n === '' || n === '0.0.0.0' || n === '::' || n === '[::]') return;
    set.add(n.includes(':') && !n.startsWith('[') ? `[${n}]` : n);
  };
  if (listenHost) add(listenHost);
  for (const e of extra) add(e);
  return set;
}
