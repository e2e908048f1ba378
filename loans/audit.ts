/**
 * The audit trail: an append-only, hash-chained log of changes to loans, pledges, tariffs, market overrides,
 * outlet mappings and API tokens, in `<storage.dir>/audit.jsonl` (mode 0600), one canonical-JSON entry a line.
 *
 * Each entry: `{ seq, at_ms, actor, kind, subject, old, new, prev_hash, hash }` where
 * `hash = sha256(canonical(entry without hash))` and `prev_hash` is the previous entry's hash (64 zeros for the
 * first). Removing, reordering or editing a line breaks the chain at that line; `rigtel audit verify` names it.
 * Config-sourced state (loans, pledges, tariffs…) is recorded by `recordState`: at start it compares each
 * subject with the last `new` the log holds and appends only what changed.
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorMessage } from '../lib/errors.js';
import { canonicalHash, canonicalJson } from './canonical.js';
import { LoanErrors } from './errors.js';

export const AUDIT_FILE = 'audit.jsonl';
export const GENESIS_HASH = '0'.repeat(64);

export type AuditKind = 'loan' | 'pledge' | 'tariff' | 'market_override' | 'outlet_mapping' | 'token' | 'rig';

export interface AuditEntry {
  seq: number;
  at_ms: number;
  /** `config` for changes found in the config file, `cli` for commands, `collector` for what polls found. */
  actor: string;
  kind: AuditKind;
  subject: string;
  old: unknown;
  new: unknown;
  prev_hash: string;
  hash: string;
}

export interface AuditVerify {
  ok: boolean;
  entries: number;
  head_hash: string;
  /** 1-based line of the first entry that breaks the chain. */
  first_bad_line: number | null;
  problem: string | null;
}

export class AuditLog {
  readonly file: string;
  private head: string = GENESIS_HASH;
  private seq = 0;
  private latest = new Map<string, unknown>();

  constructor(
    dir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.file = join(dir, AUDIT_FILE);
    if (existsSync(this.file)) {
      const check = verifyAuditFile(this.file);
      // A broken chain is reported (rigtel audit verify) but not repaired: new entries chain on the last line.
      for (const e of readEntries(this.file)) {
        this.head = e.hash;
        this.seq = e.seq;
        this.latest.set(`${e.kind}/${e.subject}`, e.new);
      }
      this.verified = check;
    }
  }

  verified: AuditVerify | null = null;

  headHash(): string {
    return this.head;
  }

  append(kind: AuditKind, subject: string, actor: string, oldValue: unknown, newValue: unknown): AuditEntry {
    const body = {
      seq: this.seq + 1,
      at_ms: this.now(),
      actor,
      kind,
      subject,
      old: plain(oldValue),
      new: plain(newValue),
      prev_hash: this.head,
    };
    const entry: AuditEntry = { ...body, hash: canonicalHash(body) };
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const fresh = !existsSync(this.file);
      appendFileSync(this.file, `${canonicalJson(entry)}\n`, { mode: 0o600 });
      if (fresh) chmodSync(this.file, 0o600);
    } catch (err) {
      throw LoanErrors.auditFile.with({ cause: err }, this.file, errorMessage(err));
    }
    this.head = entry.hash;
    this.seq = entry.seq;
    this.latest.set(`${kind}/${subject}`, entry.new);
    return entry;
  }

  /** The last recorded value of a subject (undefined if never recorded). */
  last(kind: AuditKind, subject: string): unknown {
    return this.latest.get(`${kind}/${subject}`);
  }

  /** Append an entry only when `value` differs from what the log last recorded for the subject. */
  recordState(kind: AuditKind, subject: string, actor: string, raw: unknown): AuditEntry | null {
    const value = plain(raw);
    const before = this.latest.has(`${kind}/${subject}`) ? this.latest.get(`${kind}/${subject}`) : null;
    if (canonicalJson(before ?? null) === canonicalJson(value ?? null)) return null;
    return this.append(kind, subject, actor, before, value);
  }

  /** Subjects of a kind recorded with a non-null value, so removed config entries can be logged as removed. */
  subjects(kind: AuditKind): string[] {
    const out: string[] = [];
    for (const [key, value] of this.latest) {
      if (key.startsWith(`${kind}/`) && value !== null) out.push(key.slice(kind.length + 1));
    }
    return out;
  }
}

/** Through JSON first, so a Secret in a recorded value is written as its toJSON ([redacted]), never in clear. */
function plain(v: unknown): unknown {
  return v === undefined ? null : (JSON.parse(JSON.stringify(v)) ?? null);
}

function readEntries(file: string): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as AuditEntry);
    } catch {
      // verifyAuditFile names the line.
    }
  }
  return out;
}

export function verifyAuditFile(file: string): AuditVerify {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw LoanErrors.auditFile.with({ cause: err }, file, errorMessage(err));
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let prev = GENESIS_HASH;
  let seq = 0;
  const bad = (line: number, problem: string): AuditVerify => ({
    ok: false,
    entries: line - 1,
    head_hash: prev,
    first_bad_line: line,
    problem,
  });
  for (let i = 0; i < lines.length; i++) {
    let e: AuditEntry;
    try {
      e = JSON.parse(lines[i]!) as AuditEntry;
    } catch {
      return bad(i + 1, 'not JSON');
    }
    const { hash, ...body } = e;
    if (e.prev_hash !== prev)
      return bad(i + 1, `prev_hash does not match line ${i} (entry removed or reordered)`);
    if (e.seq !== seq + 1) return bad(i + 1, `seq ${e.seq} where ${seq + 1} was expected`);
    if (canonicalHash(body) !== hash) return bad(i + 1, 'content does not match its hash (entry edited)');
    prev = hash;
    seq = e.seq;
  }
  return { ok: true, entries: lines.length, head_hash: prev, first_bad_line: null, problem: null };
}
