/**
 * `rigtel token create|list|revoke`, `rigtel audit verify`, `rigtel report verify`: the commands around access
 * and evidence. They work on the storage dir (from --config, --storage or the default ./data) and never need
 * the collector to run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publicRecord, ROLES, type Role, TokenStore } from '../api/tokens.js';
import { loadConfig } from '../config/load.js';
import { errorMessage } from '../lib/errors.js';
import { AUDIT_FILE, AuditLog, verifyAuditFile } from '../loans/audit.js';
import { LoanErrors } from '../loans/errors.js';
import { type SignedDoc, verifyDoc } from '../loans/signed.js';
import { type FlagSpecs, flagHelp, parseArgs } from './args.js';
import { CliErrors } from './errors.js';
import type { Io } from './io.js';

const storageFlags: FlagSpecs = {
  config: { type: 'string', short: 'c', value: 'FILE', description: 'config file (its storage.dir is used)' },
  storage: { type: 'string', value: 'DIR', description: 'storage dir (default: the config’s, else ./data)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

const tokenFlags: FlagSpecs = {
  ...storageFlags,
  role: { type: 'string', value: 'ROLE', description: 'admin, engineer or lender' },
  loan: {
    type: 'string',
    value: 'ID',
    description: 'the loan a lender token may read (required for lender)',
  },
  label: { type: 'string', value: 'TEXT', description: 'a note: who holds the token' },
  json: { type: 'boolean', description: 'print JSON' },
};

export const tokenUsage = `usage: rigtel token create --role ROLE [--loan ID] [--label TEXT]
       rigtel token list [--json]
       rigtel token revoke ID

API tokens. The token is printed once by create and stored only as its SHA-256 (storage dir, tokens.json, 0600).
Roles: admin (everything), engineer (fleet and power, no money routes), lender (read-only, one loan).
Once a token exists the API asks for one (Authorization: Bearer …); without any it answers loopback only.

${flagHelp(tokenFlags)}
`;

const verifyFlags: FlagSpecs = {
  key: { type: 'string', value: 'PUBKEY', description: 'public key (PEM file) to check the signature with' },
  prev: { type: 'string', value: 'FILE', description: 'the previous report, to check the chain' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export const reportUsage = `usage: rigtel report verify FILE [--key PUBKEY] [--prev FILE]

Check a signed report offline: every field against its digest (a changed figure is named), the document hash,
the Ed25519 signature (with --key, else the key in the file, whose fingerprint is printed to compare with
GET /v1/keys), and with --prev that the report chains onto the previous one. Exit 0 valid, 1 not.

${flagHelp(verifyFlags)}
`;

export const auditUsage = `usage: rigtel audit verify [--config FILE | --storage DIR]

Check the hash chain of the audit log (storage dir, audit.jsonl). Names the first line that breaks it.

${flagHelp(storageFlags)}
`;

function storageDir(flags: Record<string, string | boolean | undefined>, io: Io): string {
  if (typeof flags['storage'] === 'string') return flags['storage'];
  return loadConfig(typeof flags['config'] === 'string' ? flags['config'] : undefined, io.env).storage.dir;
}

export function tokenCommand(args: string[], io: Io): number {
  const [sub, ...rest] = args;
  const { positionals, flags } = parseArgs(rest, tokenFlags);
  if (flags['help'] || !sub || sub === 'help') {
    io.out(tokenUsage);
    return sub ? 0 : 2;
  }
  const dir = storageDir(flags, io);
  const store = new TokenStore(dir);
  const audit = () => new AuditLog(dir);
  switch (sub) {
    case 'create': {
      const role = flags['role'];
      if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
        throw CliErrors.usage(`token create needs --role ${ROLES.join('|')}`);
      const loan = typeof flags['loan'] === 'string' ? flags['loan'] : null;
      if (role === 'lender' && !loan) throw CliErrors.usage('a lender token needs --loan ID');
      if (role !== 'lender' && loan) throw CliErrors.usage('--loan is only for lender tokens');
      const label = typeof flags['label'] === 'string' ? flags['label'] : null;
      const { token, record } = store.create(role as Role, loan, label);
      audit().append('token', record.id, 'cli', null, publicRecord(record));
      io.out(`${token}\n`);
      io.err(`token ${record.id} (${role}${loan ? `, loan ${loan}` : ''}) created; it is shown only now\n`);
      return 0;
    }
    case 'list': {
      const list = store.list().map(publicRecord);
      if (flags['json']) io.out(`${JSON.stringify(list, null, 2)}\n`);
      else
        for (const t of list)
          io.out(
            `${t.id}  ${t.role.padEnd(8)}  ${(t.loan_id ?? '-').padEnd(12)}  ${new Date(t.created_ms).toISOString()}  ${t.revoked_ms ? `revoked ${new Date(t.revoked_ms).toISOString()}` : 'active'}${t.label ? `  ${t.label}` : ''}\n`,
          );
      return 0;
    }
    case 'revoke': {
      if (positionals.length !== 1) throw CliErrors.usage('token revoke needs exactly one ID');
      const before = store.list().find((t) => t.id === positionals[0]);
      const rec = store.revoke(positionals[0]!);
      if (before && before.revoked_ms === null)
        audit().append('token', rec.id, 'cli', publicRecord(before), publicRecord(rec));
      io.out(`token ${rec.id} revoked\n`);
      return 0;
    }
    default:
      throw CliErrors.usage(`unknown token command '${sub}'`);
  }
}

export function auditCommand(args: string[], io: Io): number {
  const [sub, ...rest] = args;
  const { flags } = parseArgs(rest, storageFlags);
  if (flags['help'] || sub !== 'verify') {
    io.out(auditUsage);
    return flags['help'] ? 0 : 2;
  }
  const file = join(storageDir(flags, io), AUDIT_FILE);
  const r = verifyAuditFile(file);
  if (r.ok) {
    io.out(`ok: ${r.entries} entries, head ${r.head_hash}\n`);
    return 0;
  }
  io.out(`BROKEN at line ${r.first_bad_line}: ${r.problem}\n${r.entries} entries verified before it\n`);
  return 1;
}

function readDoc(file: string): SignedDoc {
  let doc: SignedDoc;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as SignedDoc;
  } catch (err) {
    throw LoanErrors.reportFile(file, errorMessage(err).split('\n')[0]!);
  }
  if (doc?.format !== 'rigtel-signed/1' || typeof doc.hash !== 'string' || !doc.signature)
    throw LoanErrors.reportFile(file, 'not a rigtel signed document (format rigtel-signed/1)');
  return doc;
}

export function reportCommand(args: string[], io: Io): number {
  const [sub, ...rest] = args;
  const { positionals, flags } = parseArgs(rest, verifyFlags);
  if (flags['help'] || sub !== 'verify') {
    io.out(reportUsage);
    return flags['help'] ? 0 : 2;
  }
  if (positionals.length !== 1) throw CliErrors.usage('report verify needs exactly one FILE');
  const doc = readDoc(positionals[0]!);
  let pem: string | undefined;
  if (typeof flags['key'] === 'string') {
    try {
      pem = readFileSync(flags['key'], 'utf8');
    } catch (err) {
      throw LoanErrors.reportFile(flags['key'], errorMessage(err));
    }
  }
  const prev = typeof flags['prev'] === 'string' ? readDoc(flags['prev']) : undefined;
  const r = verifyDoc(doc, { ...(pem ? { publicPem: pem } : {}), ...(prev ? { prev } : {}) });
  if (r.ok) {
    io.out(
      `ok: ${doc.kind} ${doc.hash}\n  signature Ed25519 by key ${r.key_fingerprint} (${r.key_source === 'given' ? 'the key given' : 'key embedded in the file: compare its fingerprint with GET /v1/keys'})\n  chain ${r.chain_ok === null ? `not checked (prev_hash ${doc.prev_hash ?? 'none'})` : 'ok'}\n`,
    );
    return 0;
  }
  io.out(`INVALID: ${positionals[0]}\n${r.problems.map((p) => `  ${p}`).join('\n')}\n`);
  return 1;
}
