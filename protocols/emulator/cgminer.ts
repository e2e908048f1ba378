/**
 * The cgminer-style API on 4028 as the emulator speaks it (docs/protocols.md "cgminer API framing"): one request per connection, JSON
 * mode when the first byte is `{`, text mode otherwise, `+` joins, Code 14/23/24/45 errors, and the Whatsminer
 * `{"cmd":…}` dialect. The server calls `requestComplete` on the bytes read so far, then `answerRequest` once.
 */
import { balancedEnd, lenientParse, type Personality } from './personalities.js';

/** cgminer reads one buffer of at most 4095 bytes (docs/protocols.md "cgminer API framing"); more is never a valid request. */
export const MAX_REQUEST_BYTES = 4095;

/** Privileged (the `(*)` commands of API-README) or parameter-taking: Code 45 for a read-only client / in joins. */
const PRIVILEGED = new Set([
  'privileged',
  'switchpool',
  'enablepool',
  'addpool',
  'poolpriority',
  'poolquota',
  'disablepool',
  'removepool',
  'save',
  'quit',
  'restart',
  'ascenable',
  'ascdisable',
  'ascidentify',
  'ascset',
  'pgaenable',
  'pgadisable',
  'pgaidentify',
  'pgaset',
  'zero',
  'hotplug',
  'debug',
  'setconfig',
  'failover-only',
  'lockstats',
]);
const NEEDS_PARAMETER = new Set(['asc', 'pga', 'check']);

/** Known cgminer commands (api.c command table); anything else is Code 14 "Invalid command". */
const CGMINER_COMMANDS = new Set([
  'version',
  'config',
  'summary',
  'devs',
  'edevs',
  'pools',
  'devdetails',
  'stats',
  'estats',
  'coin',
  'notify',
  'lcd',
  'asccount',
  'pgacount',
  ...NEEDS_PARAMETER,
  ...PRIVILEGED,
]);

export type CgRequest =
  | { mode: 'json'; key: 'command' | 'cmd'; command: string }
  | { mode: 'json-invalid' }
  | { mode: 'json-missing-command' }
  | { mode: 'text'; command: string };

/** True once the bytes read hold a whole request: a closed JSON object, or any text-mode bytes. */
export function requestComplete(buf: Buffer): boolean {
  if (buf.length === 0) return false;
  if (buf.length >= MAX_REQUEST_BYTES) return true;
  const text = buf.toString('latin1');
  const start = text.search(/\S/);
  if (start === -1) return false;
  // Text mode has no terminator: cgminer takes what its single recv() got.
  if (text[start] !== '{') return true;
  return balancedEnd(text, start) !== -1;
}

export function parseRequest(buf: Buffer): CgRequest {
  const text = buf.subarray(0, MAX_REQUEST_BYTES).toString('utf8');
  if (!text.startsWith('{')) {
    // Nothing is trimmed in text mode: `summary\n` is an unknown command (docs/protocols.md "cgminer API framing").
    const [command = ''] = text.split('|');
    return { mode: 'text', command };
  }
  let obj: unknown;
  try {
    // A trailing newline in the same write is tolerated in JSON mode (§1.8).
    obj = JSON.parse(text);
  } catch {
    return { mode: 'json-invalid' };
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return { mode: 'json-invalid' };
  const o = obj as Record<string, unknown>;
  if (typeof o.command === 'string') return { mode: 'json', key: 'command', command: o.command };
  if (typeof o.cmd === 'string') return { mode: 'json', key: 'cmd', command: o.cmd };
  return { mode: 'json-missing-command' };
}

/** Everything `answerRequest` needs besides the personality. */
export interface AnswerContext {
  /** Applied to every JSON reply part before assembly (the rig's moving figures). */
  vary: (text: string) => string;
}

export interface Answer {
  /** Reply text; the server appends the NUL. */
  text: string;
  /** Commands answered (for stats), one per join part. */
  commands: string[];
}

export function answerRequest(p: Personality, req: CgRequest, ctx: AnswerContext): Answer {
  const sep = p.spaced ? ', ' : ',';
  const colon = p.spaced ? ': ' : ':';
  const status = (code: number, msg: string, withDescription = true): string => {
    const d = withDescription ? `${sep}"Description"${colon}${JSON.stringify(p.description)}` : '';
    return (
      `{"STATUS"${colon}[{"STATUS"${colon}"E"${sep}"When"${colon}${p.when}${sep}"Code"${colon}${code}` +
      `${sep}"Msg"${colon}${JSON.stringify(msg)}${d}}]${sep}"id"${colon}1}`
    );
  };
  const invalid = () => status(14, 'Invalid command', false);
  const denied = (cmd: string) => status(45, `Access denied to '${cmd}' command`);

  switch (req.mode) {
    case 'json-invalid':
      return { text: ctx.vary(status(23, 'Invalid JSON')), commands: ['(invalid json)'] };
    case 'json-missing-command':
      return { text: ctx.vary(status(24, "Missing JSON 'command'")), commands: ['(missing command)'] };
    case 'text':
      return answerText(p, req.command, ctx, { invalid, denied });
    case 'json':
      break;
  }

  const wm = p.whatsminer;
  if (wm) {
    const own = wm.own[req.command];
    if (own !== undefined)
      return { text: ctx.vary(p.single.get(req.command) ?? own), commands: [req.command] };
    if (req.key === 'cmd') {
      if (/^(get_|set_)|^status$/.test(req.command)) {
        // btminer's flat error shape for its own commands (docs/protocols.md "Whatsminer").
        const flat = `{"STATUS":"E","When":${p.when},"Code":14,"Msg":"invalid cmd","Description":""}`;
        return { text: ctx.vary(flat), commands: [req.command] };
      }
      // A cgminer command under a `cmd` key: Code 24 (whatsminer_m30s_pools-summary-edevs.txt).
      return {
        text: ctx.vary(p.cmdKeyError ?? status(24, "Missing JSON 'command'")),
        commands: [req.command],
      };
    }
  } else if (req.key === 'cmd') {
    return { text: ctx.vary(status(24, "Missing JSON 'command'")), commands: ['(missing command)'] };
  }

  const parts = req.command.split('+');
  if (parts.length === 1) {
    const one = single(p, req.command, { invalid, denied });
    return { text: ctx.vary(one), commands: [req.command] };
  }
  // No join support: `a+b` is one unknown command name.
  if (p.noJoin) return { text: ctx.vary(invalid()), commands: [req.command] };
  // Join (API ≥ 3.1): duplicates collapse, empty parts are skipped, spaces are not trimmed (§1.2, §1.8).
  const seen: string[] = [];
  for (const part of parts) if (part !== '' && !seen.includes(part)) seen.push(part);
  const body = seen
    .map((cmd) => {
      const reply =
        NEEDS_PARAMETER.has(cmd) || PRIVILEGED.has(cmd) || (wm && wm.own[cmd] !== undefined)
          ? denied(cmd)
          : single(p, cmd, { invalid, denied });
      return `${JSON.stringify(cmd)}${colon}[${ctx.vary(reply)}]`;
    })
    .join(sep);
  return { text: `{${body}${sep}"id"${colon}1}`, commands: seen };
}

interface ErrorBuilders {
  invalid: () => string;
  denied: (cmd: string) => string;
}

/** The unvaried JSON reply for one command. */
function single(p: Personality, cmd: string, e: ErrorBuilders): string {
  const target = p.aliases?.[cmd] ?? cmd;
  if (p.allowOnly && CGMINER_COMMANDS.has(cmd) && !p.allowOnly.includes(cmd)) return e.denied(cmd);
  if (PRIVILEGED.has(cmd)) return e.denied(cmd);
  const reply = p.single.get(target);
  if (reply !== undefined && !(p.whatsminer && p.whatsminer.own[target] !== undefined)) return reply;
  return e.invalid();
}

/** Text mode: a captured text reply when there is one, else the JSON reply converted to pipe format. */
function answerText(p: Personality, command: string, ctx: AnswerContext, e: ErrorBuilders): Answer {
  const parts = command.split('+');
  if (parts.length > 1 && p.noJoin) return { text: toPipe(ctx.vary(e.invalid())), commands: [command] };
  const one = (cmd: string): string => {
    const captured = p.text.get(cmd);
    if (captured !== undefined) return ctx.vary(captured);
    return toPipe(ctx.vary(single(p, cmd, e)));
  };
  if (parts.length === 1) return { text: one(command), commands: [command] };
  const seen: string[] = [];
  for (const part of parts) if (part !== '' && !seen.includes(part)) seen.push(part);
  return { text: seen.map((cmd) => `CMD=${cmd}|${one(cmd)}`).join(''), commands: seen };
}

/** Text escaping (API ≥ 1.7): `|`, `,`, `=` and `\` get a backslash. */
function esc(v: unknown): string {
  const s =
    typeof v === 'string'
      ? v
      : typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : JSON.stringify(v);
  return s.replace(/[\\|,=]/g, (c) => `\\${c}`);
}

/** Index keys that open a row in text mode instead of the section name (`POOL=0,…`, `ASC=0,…`). */
const ROW_INDEX = new Set(['ASC', 'PGA', 'POOL', 'STATS', 'DEVDETAILS', 'FAN', 'TEMP', 'DEVS', 'NOTIFY']);

/**
 * cgminer pipe format from a JSON reply: `STATUS=S,When=…,Code=…,Msg=…,Description=…|SUMMARY,Elapsed=…|`.
 * Malformed captures are read with the usual repairs; if even that fails the JSON goes out as it is.
 */
export function toPipe(json: string): string {
  const obj = lenientParse(json);
  if (!obj) return json;
  let out = '';
  for (const [section, value] of Object.entries(obj)) {
    if (section === 'id') continue;
    const rows = Array.isArray(value) ? value : [value];
    for (const row of rows) {
      if (!row || typeof row !== 'object') continue;
      const entries = Object.entries(row as Record<string, unknown>);
      const fields = entries.map(([k, v]) => `${esc(k)}=${esc(v)}`).join(',');
      const first = entries[0]?.[0];
      const lead = section === 'STATUS' || (first !== undefined && ROW_INDEX.has(first)) ? '' : `${section},`;
      out += `${lead}${fields}|`;
    }
  }
  return out;
}
