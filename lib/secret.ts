import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * Every secret value this process was given, so text that quotes one by accident (an error message, a URL a
 * library echoes) can still be censored on its way out. Values shorter than MIN_KNOWN are not tracked: censoring
 * every "ab" in a log line would hide more than it protects.
 */
const known = new Set<string>();
const MIN_KNOWN = 4;

function remember(value: string): void {
  if (value.length >= MIN_KNOWN) known.add(value);
}

/**
 * A secret value (miner password, SNMP key, API token). It prints as `[redacted]` in logs, JSON and
 * `util.inspect`; only `reveal()` gives the value, and only protocol code that sends it should call that.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    remember(value);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

export const redacted = REDACTED;

/** `scheme://userinfo@`: the user part is kept, a password after its colon is not. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>]*)@/gi;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The one redaction every outgoing text passes through (log lines, API bodies, CLI output, error texts):
 * credentials in URL userinfo, and any secret value this process knows, as written or JSON/URL-escaped.
 */
export function redactText(text: string): string {
  let out = text.replace(URL_USERINFO, (_m, scheme: string, info: string) => {
    const colon = info.indexOf(':');
    return colon === -1 ? `${scheme}${REDACTED}@` : `${scheme}${info.slice(0, colon)}:${REDACTED}@`;
  });
  if (known.size === 0) return out;
  for (const value of known) {
    const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
    for (const form of forms) {
      if (form.length >= MIN_KNOWN && out.includes(form)) {
        out = out.replace(new RegExp(escapeRegExp(form), 'g'), REDACTED);
      }
    }
  }
  return out;
}

/** Userinfo split out of a URL: the URL without it, and the user and (decoded) password it held. */
export function splitUrlCredentials(url: string): {
  url: string;
  username: string | null;
  password: string | null;
} {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@(.*)$/i.exec(url);
  if (!m) return { url, username: null, password: null };
  const info = m[2]!;
  const colon = info.indexOf(':');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const username = decode(colon === -1 ? info : info.slice(0, colon));
  const password = colon === -1 ? null : decode(info.slice(colon + 1));
  return { url: `${m[1]}${m[3]}`, username: username || null, password: password || null };
}
