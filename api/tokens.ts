/**
 * API tokens: `<storage.dir>/tokens.json` (mode 0600) holds, per token, its id, role, loan (for lenders) and
 * the SHA-256 of the secret — never the secret itself, which `rigtel token create` prints once.
 *
 * A token is `rt_<id>_<secret>`, the secret 32 random bytes (256 bits) in base64url. SHA-256 is enough here:
 * slow password hashes (scrypt, argon2) exist to make guessing a low-entropy password expensive, and nobody
 * can enumerate 2^256 secrets, so a fast hash loses nothing and keeps each request cheap. The id lets the
 * server find the one record to compare; the comparison itself is `timingSafeEqual` on the two digests.
 * The server re-reads the file when it changes (inode, mtime or size), so a token created or revoked by the CLI takes effect
 * on the next request without a restart.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../lib/errors.js';
import { LoanErrors } from '../loans/errors.js';

export const TOKEN_FILE = 'tokens.json';
export const ROLES = ['admin', 'engineer', 'lender'] as const;
export type Role = (typeof ROLES)[number];

export interface TokenRecord {
  id: string;
  role: Role;
  /** The one loan a lender token may read; null for other roles. */
  loan_id: string | null;
  label: string | null;
  sha256: string;
  created_ms: number;
  revoked_ms: number | null;
}

/** What the server knows about the caller once the token checked out. */
export interface Principal {
  token_id: string;
  role: Role;
  loan_id: string | null;
}

const TOKEN_RE = /^rt_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export class TokenStore {
  readonly file: string;
  private records: TokenRecord[] = [];
  /** inode:mtime:size of the file last read (each save is a rename, so a new inode). */
  private version = '';
  /** Derived from `records` when they change: the per-request check is a map lookup and one digest. */
  private byId = new Map<string, { rec: TokenRecord; principal: Readonly<Principal> }>();
  private active = 0;

  constructor(dir: string) {
    this.file = join(dir, TOKEN_FILE);
    this.reload();
  }

  /** Re-read the file if it changed since the last read. */
  reload(): void {
    let version = 'none';
    try {
      if (existsSync(this.file)) {
        const st = statSync(this.file);
        version = `${st.ino}:${st.mtimeMs}:${st.size}`;
      }
    } catch {
      version = 'none';
    }
    if (version === this.version) return;
    this.version = version;
    if (version === 'none') {
      this.records = [];
      this.derive();
      return;
    }
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as { tokens?: TokenRecord[] };
      this.records = Array.isArray(parsed.tokens) ? parsed.tokens : [];
    } catch (err) {
      throw LoanErrors.tokenFile.with({ cause: err }, this.file, errorMessage(err));
    }
    this.derive();
  }

  private derive(): void {
    this.byId = new Map();
    this.active = 0;
    for (const rec of this.records) {
      if (rec.revoked_ms === null) this.active += 1;
      // The first record with an id wins, as `find` did.
      if (!this.byId.has(rec.id))
        this.byId.set(rec.id, {
          rec,
          principal: Object.freeze({ token_id: rec.id, role: rec.role, loan_id: rec.loan_id }),
        });
    }
  }

  list(): TokenRecord[] {
    this.reload();
    return this.records.map((r) => ({ ...r }));
  }

  /** Tokens that still open the API. */
  activeCount(): number {
    this.reload();
    return this.active;
  }

  /**
   * One request's verdict with one look at the file: 'open' while no token is active, else the principal for
   * the presented token (null: none presented, unknown, malformed or revoked).
   */
  authenticate(presented: string | null): Readonly<Principal> | 'open' | null {
    this.reload();
    if (this.active === 0) return 'open';
    return presented === null ? null : this.verify(presented);
  }

  create(
    role: Role,
    loanId: string | null,
    label: string | null,
    now = Date.now(),
  ): { token: string; record: TokenRecord } {
    this.reload();
    const id = randomBytes(9)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '0')
      .slice(0, 12);
    const secret = randomBytes(32).toString('base64url');
    const token = `rt_${id}_${secret}`;
    const record: TokenRecord = {
      id,
      role,
      loan_id: role === 'lender' ? loanId : null,
      label,
      sha256: digest(token),
      created_ms: now,
      revoked_ms: null,
    };
    this.records.push(record);
    this.derive();
    this.save();
    return { token, record: { ...record } };
  }

  revoke(id: string, now = Date.now()): TokenRecord {
    this.reload();
    const rec = this.records.find((r) => r.id === id);
    if (!rec) throw LoanErrors.tokenNotFound(id);
    if (rec.revoked_ms === null) {
      rec.revoked_ms = now;
      this.derive();
      this.save();
    }
    return { ...rec };
  }

  /** The principal for a presented token, or null (unknown, malformed or revoked). */
  check(presented: string): Readonly<Principal> | null {
    this.reload();
    return this.verify(presented);
  }

  private verify(presented: string): Readonly<Principal> | null {
    const m = TOKEN_RE.exec(presented);
    if (!m) return null;
    const known = this.byId.get(m[1]!);
    if (!known) return null;
    const a = createHash('sha256').update(presented).digest();
    const b = Buffer.from(known.rec.sha256, 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
    if (known.rec.revoked_ms !== null) return null;
    // The same frozen object for every request with this token.
    return known.principal;
  }

  private save(): void {
    try {
      mkdirSync(join(this.file, '..'), { recursive: true });
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ tokens: this.records }, null, 2)}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, this.file);
      const st = statSync(this.file);
      this.version = `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch (err) {
      throw LoanErrors.tokenFile.with({ cause: err }, this.file, errorMessage(err));
    }
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The record as the CLI and audit log show it: no digest. */
export function publicRecord(r: TokenRecord): Omit<TokenRecord, 'sha256'> {
  const { sha256: _omit, ...rest } = r;
  return rest;
}
