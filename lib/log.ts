/**
 * The one logger factory. pino writes JSON lines; secrets are redacted twice: a `Secret` already serializes
 * as `[redacted]`, and the paths below censor plain strings that slipped through under a secret-looking key.
 */
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';
import { redacted, redactText } from './secret.js';

/**
 * The one logger type every module takes: the slice of pino the code calls. A pino logger (what `createLogger`
 * returns) satisfies it; tests pass `silentLogger` or a capturing object.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Keys whose value is a secret wherever they appear (up to three levels deep, and in arrays of rigs). */
export const SECRET_KEYS = [
  'password',
  'passwd',
  'community',
  'auth_key',
  'priv_key',
  'authKey',
  'privKey',
  'auth_password',
  'priv_password',
  'token',
  'api_token',
  'secret',
] as const;

/** pino's redact wants explicit paths (`*` matches one level), so spell out the depths we log at. */
export function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SECRET_KEYS) {
    paths.push(key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`, `*[*].${key}`, `*.*[*].${key}`);
  }
  paths.push(
    'req.headers.authorization',
    'req.headers.cookie',
    'headers.authorization',
    'headers.cookie',
    'res.headers["set-cookie"]',
  );
  return paths;
}

export interface LoggerOptions {
  /** Where lines go (default stdout). Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
  /** Fields on every line, e.g. `{ site: 'tx-1' }`. */
  base?: Record<string, unknown>;
  /** Write to stderr, keeping stdout for a command's own output (`rigtel run` prints URLs and a live line). */
  stderr?: boolean;
}

export function createLogger(level: LogLevel = 'info', opts: LoggerOptions = {}): PinoLogger {
  const options = {
    level,
    base: opts.base ?? null,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(), censor: redacted },
    // Error objects keep their code; RtError details never hold secrets by contract (lib/errors.ts).
    serializers: { err: pino.stdSerializers.err },
    // Last line of defence: URL userinfo and known secret values are censored in the finished line, whatever
    // field or message carried them.
    hooks: { streamWrite: redactText },
  };
  const destination =
    opts.destination ?? (opts.stderr ? pino.destination({ dest: 2, sync: true }) : undefined);
  return destination ? pino(options, destination) : pino(options);
}
