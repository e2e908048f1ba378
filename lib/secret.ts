import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * Every secret value this process was given, so text that quotes one by accident (an error message, a URL a
 * library echoes) can still be censored on its way out. Values shorter than MIN_KNOWN are not tracked: censoring
 * every "ab" in a log line would hide more than it protects.
 */
const known = new Set<string>();
const MIN_KNOWN = 4;
/** Each known value as written, JSON-escaped and URL-encoded (those long enough), worked out once. */
let forms: string[] = [];

function remember(value: string): void {
  if (value.length < MIN_KNOWN || known.has(value)) return;
  known.add(value);
  const mine = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
  forms = [...forms, ...[...mine].filter((f) => f.length >= MIN_KNOWN)];
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

/**
 * The one redaction every outgoing text passes through (log lines, API bodies, CLI output, error texts):
 * credentials in URL userinfo, and any secret value this process knows, as written or JSON/URL-escaped.
 */
export function redactText(text: string): string {
  // The pattern needs both `://` and `@`: most bodies (API replies, log lines) have no `@` and skip its scan.
  let out =
    text.includes('@') && text.includes('://')
      ? text.replace(URL_USERINFO, (_m, scheme: string, info: string) => {
          const colon = info.indexOf(':');
          return colon === -1 ? `${scheme}${REDACTED}@` : `${scheme}${info.slice(0, colon)}:${REDACTED}@`;
        })
      : text;
  for (const form of forms) if (out.includes(form)) out = out.replaceAll(form, REDACTED);
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
