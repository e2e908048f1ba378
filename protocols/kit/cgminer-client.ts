/**
 * cgminer-style API client (port 4028): one command per connection, the whole request in one write
 * (docs/protocols.md, "## cgminer API framing"), replies decoded by decode.ts and judged by status.ts.
 *
 * `cgminerCommands` can join report commands (`summary+stats+pools`, API ≥ 3.1) and falls back to single
 * commands when the firmware refuses the join or leaves parts out. Commands run in sequence: cgminer serves one
 * connection at a time, so parallel requests to one miner only queue (docs/protocols.md, "## cgminer API framing").
 */
import { RtError } from '../../lib/errors.js';
import type { PollTarget } from '../driver.js';
import { ProtoErrors } from '../errors.js';
import { tcpRequest } from '../tcp.js';
import { type DecodedReply, decodeReply } from './decode.js';
import type { RefusalMemory } from './refusals.js';
import { CGMINER_CODE, judgeStatus, readStatus } from './status.js';

export type CommandResult =
  | {
      ok: true;
      /** The command's reply object: `{STATUS:[…], SUMMARY:[…], id}` (for a joined reply, that command's part). */
      body: Record<string, unknown>;
      /** Repairs the decoder needed (for a joined reply: those of the whole reply). */
      repairs: string[];
      /** Codes 8/10: the miner has no pools / no devices. Not a failure. */
      empty: boolean;
    }
  | { ok: false; error: RtError };

export type CommandResults = Record<string, CommandResult>;

export interface CommandOptions {
  /** Send the commands joined with `+` in one request (fallback to single commands on refusal). */
  join?: boolean;
  /** JSON key for the command: 'command' (cgminer) or 'cmd' (Whatsminer's own API). */
  key?: 'command' | 'cmd';
  /** Extra top-level request fields, e.g. `{ new_api: true }` or `{ parameter: '0' }`. */
  extra?: Record<string, unknown>;
  /** What this target refused before: a refused join is not sent again, a known refusal not asked again. */
  refusals?: RefusalMemory | null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function addr(target: PollTarget): string {
  return `${target.host}:${target.port}`;
}

/**
 * Sends one request and decodes the reply. Retries once on a fresh connection when the connection was reset
 * mid-reply (docs/protocols.md, "## cgminer API framing"). Throws RtError (transport or decode).
 */
export async function cgminerRequest(
  target: PollTarget,
  payload: string | Record<string, unknown>,
  signal: AbortSignal,
): Promise<DecodedReply> {
  const bytes = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const send = () =>
    tcpRequest({
      host: target.host,
      port: target.port,
      payload: bytes,
      connectTimeoutMs: target.connectTimeoutMs,
      deadlineMs: target.commandTimeoutMs,
      maxBytes: target.maxReplyBytes,
      framing: 'nul-or-eof',
      signal,
    });
  let reply: Awaited<ReturnType<typeof tcpRequest>>;
  try {
    reply = await send();
  } catch (err) {
    if (!ProtoErrors.reset.is(err) || signal.aborted) throw err;
    reply = await send();
  }
  try {
    return decodeReply(reply.bytes);
  } catch (err) {
    if (ProtoErrors.minerDown.is(err)) throw ProtoErrors.minerDown.with({ cause: err }, addr(target));
    throw err;
  }
}

function buildPayload(command: string, opts: CommandOptions): Record<string, unknown> {
  return { ...(opts.extra ?? {}), [opts.key ?? 'command']: command };
}

/** Judges one command's body into a CommandResult. */
function toResult(command: string, body: unknown, repairs: string[]): CommandResult {
  if (!isRecord(body)) {
    return { ok: false, error: ProtoErrors.decode(`reply to ${command} is not an object`) };
  }
  const verdict = judgeStatus(command, body);
  if (verdict.kind === 'error') return { ok: false, error: verdict.error };
  return { ok: true, body, repairs, empty: verdict.kind === 'empty' };
}

async function single(
  target: PollTarget,
  command: string,
  signal: AbortSignal,
  opts: CommandOptions,
): Promise<CommandResult> {
  try {
    const decoded = await cgminerRequest(target, buildPayload(command, opts), signal);
    return toResult(command, decoded.value, decoded.repairs);
  } catch (err) {
    if (err instanceof RtError) return { ok: false, error: err };
    throw err;
  }
}

export interface SplitReply {
  /** Each command's own reply object (the first element of its one-element array). */
  parts: Record<string, Record<string, unknown>>;
  /** Commands asked for that the reply does not carry. */
  missing: string[];
}

/**
 * Splits a multi-command reply `{"summary":[{…}],"stats":[{…}],"id":1}` (docs/protocols.md, "## cgminer API framing",
 * avalon_1047_summary-stats-pools.txt) into its parts. Returns null when the reply is not a joined reply at all
 * (a top-level STATUS: the firmware answered the join as one unknown or refused command). Pure.
 */
export function splitJoinedReply(value: unknown, commands: readonly string[]): SplitReply | null {
  if (!isRecord(value)) return null;
  const parts: Record<string, Record<string, unknown>> = {};
  const missing: string[] = [];
  for (const command of commands) {
    const raw = value[command];
    const part = Array.isArray(raw) ? raw[0] : raw;
    if (isRecord(part)) parts[command] = part;
    else missing.push(command);
  }
  if (missing.length === commands.length && value['STATUS'] !== undefined) return null;
  return { parts, missing };
}

/** Errors after which asking the same miner again at once is pointless (the host or its API is not there). */
function isTransportFailure(err: RtError): boolean {
  return (
    ProtoErrors.connectRefused.is(err) ||
    ProtoErrors.connectTimeout.is(err) ||
    ProtoErrors.unreachable.is(err) ||
    ProtoErrors.emptyReply.is(err) ||
    ProtoErrors.aborted.is(err) ||
    ProtoErrors.minerDown.is(err) ||
    ProtoErrors.timeout.is(err)
  );
}

/**
 * Runs `commands` against one miner and returns each command's outcome. Never throws for miner-side failures
 * (each result carries its RtError); rejects only on programming errors.
 */
export async function cgminerCommands(
  target: PollTarget,
  commands: string[],
  signal: AbortSignal,
  opts: CommandOptions = {},
): Promise<CommandResults> {
  const results: CommandResults = {};
  const unique = [...new Set(commands)];
  const memory = opts.refusals ?? null;
  const key = addr(target);
  let todo = unique;

  if (opts.join && unique.length > 1 && !memory?.joinRefused(key)) {
    let decoded: DecodedReply | null = null;
    let failure: RtError | null = null;
    try {
      decoded = await cgminerRequest(target, buildPayload(unique.join('+'), opts), signal);
    } catch (err) {
      if (!(err instanceof RtError)) throw err;
      failure = err;
    }
    if (failure && isTransportFailure(failure)) {
      // The miner is not answering: the single commands would fail the same way, only slower.
      memory?.forget(key);
      for (const command of unique) results[command] = { ok: false, error: failure };
      return results;
    }
    const split = decoded ? splitJoinedReply(decoded.value, unique) : null;
    if (decoded && split) {
      todo = [...split.missing];
      for (const command in split.parts) {
        const part = split.parts[command]!;
        const status = readStatus(part);
        // A part refused inside the join (Code 45 for non-joinable commands, 14 unknown) gets one single try:
        // some firmwares allow alone what they refuse joined (docs/protocols.md, "## cgminer API framing").
        // Once it was refused alone too, the join's own part is the answer.
        if (
          (status?.code === CGMINER_CODE.accessDenied || status?.code === CGMINER_CODE.invalidCommand) &&
          memory?.aloneRefusal(key, command) === undefined
        ) {
          todo.push(command);
          continue;
        }
        results[command] = toResult(command, part, decoded.repairs);
      }
    } else if (decoded) {
      // Refused as a whole (Code 14/45 at top level): singles from now on, retried rarely.
      memory?.refuseJoin(key);
    }
    // Otherwise (undecodable reply): everything goes single this time.
  }

  let down: RtError | null = null;
  for (const command of todo) {
    if (signal.aborted) {
      results[command] = { ok: false, error: ProtoErrors.aborted(key) };
      continue;
    }
    // The miner stopped answering (a hung API waits out each command's timeout): the rest would fail the same way.
    if (down) {
      results[command] = { ok: false, error: down };
      continue;
    }
    const known = memory?.aloneRefusal(key, command);
    if (known) {
      results[command] = { ok: false, error: known };
      continue;
    }
    const r = await single(target, command, signal, opts);
    results[command] = r;
    if (memory && !r.ok) {
      // Code 14 / 45 alone (after the join refused it too, or with no join at all): the answer stays the same.
      if (isRefusal(r.error)) memory.refuseAlone(key, command, r.error);
      else if (isTransportFailure(r.error)) memory.forget(key);
    }
    if (!r.ok && isTransportFailure(r.error)) down = r.error;
  }
  return results;
}

/** A command the firmware does not know or does not allow (Code 14 / 45): asking again gets the same answer. */
function isRefusal(err: RtError): boolean {
  const code = err.details?.['code'];
  if (ProtoErrors.accessDenied.is(err)) return true;
  return (
    ProtoErrors.status.is(err) && (code === CGMINER_CODE.invalidCommand || code === CGMINER_CODE.accessDenied)
  );
}

/** Convenience: the body of a command or null, for parsers that take optional parts. */
export function bodyOf(results: CommandResults, command: string): Record<string, unknown> | undefined {
  const r = results[command];
  return r?.ok ? r.body : undefined;
}
