import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { LoanErrors } from '../../loans/errors.js';
import { reportCsv } from '../../loans/report.js';
import { mayReadLoan } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { parseOrThrow, timeParam } from '../query.js';

const loanParams = z.object({ id: z.string().min(1).max(64) });
const periodQuery = z
  .object({
    from: timeParam.optional(),
    to: timeParam.optional(),
    format: z.enum(['json', 'csv']).optional(),
  })
  .strict();

/**
 * `GET /v1/loans`, `/v1/loans/:id` (terms, live pledged-vs-seen), `/v1/loans/:id/report?from&to[&format=csv]`
 * (signed, chained), `/v1/loans/:id/rollups?from&to` (signed hourly rollups of the pledged rigs), `/v1/keys`.
 * A lender token sees only its own loan; any other id is "not found". Reports and rollups are read from the
 * service's data source (the embedded store, or InfluxDB in a standalone `rigtel api`), so they are awaited.
 * Without a service but with `loansUnavailable` (loans configured, no source), every route answers
 * RT_ERR_LOAN_UNAVAILABLE (501).
 */
export const loansRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const loans = deps.loans;
  if (!loans) {
    if (!deps.loansUnavailable) return;
    const unavailable = async () => {
      throw LoanErrors.unavailable();
    };
    for (const url of ['/loans', '/loans/:id', '/loans/:id/report', '/loans/:id/rollups', '/keys'])
      app.get(url, unavailable);
    return;
  }
  const own = (principal: Parameters<typeof mayReadLoan>[0], id: string) => {
    if (!mayReadLoan(principal, id)) throw LoanErrors.notFound(id);
    return loans.facility(id);
  };
  const periodOf = (q: z.output<typeof periodQuery>) =>
    loans.period(
      q.from === undefined ? undefined : String(q.from),
      q.to === undefined ? undefined : String(q.to),
    );

  app.get('/loans', async (request) => ({
    loans: loans.facilities
      .filter((f) => mayReadLoan(request.principal, f.id))
      .map((f) => loans.summary(f.id)),
  }));
  app.get('/loans/:id', async (request) => {
    const { id } = parseOrThrow(loanParams, request.params);
    own(request.principal, id);
    return { ...loans.summary(id), ...loans.live(id) };
  });
  app.get('/loans/:id/report', async (request, reply) => {
    const { id } = parseOrThrow(loanParams, request.params);
    own(request.principal, id);
    const q = parseOrThrow(periodQuery, request.query);
    const { fromMs, toMs } = periodOf(q);
    const issued = await loans.reportAsync(id, fromMs, toMs);
    const name = `loan-${id}-${new Date(fromMs).toISOString().slice(0, 10)}-${new Date(toMs).toISOString().slice(0, 10)}`;
    if (q.format === 'csv')
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}.csv"`)
        .send(reportCsv(issued.doc));
    return reply
      .type('application/json; charset=utf-8')
      .header('content-disposition', `inline; filename="${name}.json"`)
      .send(issued.bytes);
  });
  app.get('/loans/:id/rollups', async (request, reply) => {
    const { id } = parseOrThrow(loanParams, request.params);
    own(request.principal, id);
    const q = parseOrThrow(periodQuery, request.query);
    const { fromMs, toMs } = periodOf(q);
    return reply
      .type('application/json; charset=utf-8')
      .send((await loans.rollupsAsync(id, fromMs, toMs)).bytes);
  });
  app.get('/keys', async () => ({
    keys: [
      {
        alg: 'Ed25519',
        public_key: loans.key.publicPem,
        fingerprint: loans.key.fingerprint,
        use: 'report signatures',
      },
    ],
  }));
};

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const PAGE: Record<string, { file: string; type: string }> = {
  '/loans/ui/loans.js': { file: 'loans.js', type: 'text/javascript; charset=utf-8' },
  '/loans/ui/loans.css': { file: 'loans.css', type: 'text/css; charset=utf-8' },
};

/** The lender page (static; its data comes from /v1/loans with the token). */
export const loansPageRoutes: FastifyPluginAsync = async (app) => {
  const send = (file: string, type: string) => {
    const body = readFileSync(resolve(webDir, file));
    return async (_r: unknown, reply: import('fastify').FastifyReply) =>
      reply
        .type(type)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', "default-src 'self'; connect-src 'self'; img-src 'self' data:")
        .header('referrer-policy', 'no-referrer')
        .send(body);
  };
  for (const [url, a] of Object.entries(PAGE)) app.get(url, send(a.file, a.type));
  app.get('/loans/:id', send('loans.html', 'text/html; charset=utf-8'));
};
