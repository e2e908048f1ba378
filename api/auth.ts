/**
 * Access control: one request hook and one route → role table, so a route added later needs no annotation.
 *
 * - No token configured (tokens.json absent or all revoked): today's behaviour, every route open — and the API
 *   refuses to listen on anything but loopback (`assertListenAllowed`, checked by `rigtel run`); requests from a
 *   non-loopback peer are refused as well.
 * - Tokens configured: `Authorization: Bearer rt_…` (or the `rigtel_token` cookie the lender page sets).
 *   Unknown, malformed or revoked → 401; a role the route table does not allow → 403; a lender asking for a
 *   loan that is not its own → 404, as if it did not exist. Failed attempts are rate limited per client
 *   (@fastify/rate-limit counts only requests whose token does not check out).
 * Tokens never reach a log: the Authorization header and the cookie are not logged by the API (request
 * logging is off) and no error message quotes them.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrors as AuthErrors } from './errors.js';
import type { Principal, Role, TokenStore } from './tokens.js';

/**
 * Who may use what, by URL prefix; the longest matching prefix wins. `public` needs no token.
 * Money routes (economics, market, loans, keys) are closed to engineers; fleet-wide ones to lenders.
 */
export const ROUTE_ROLES: ReadonlyArray<{ prefix: string; roles: ReadonlyArray<Role> | 'public' }> = [
  { prefix: '/healthz', roles: 'public' },
  // The pages are static (no data); their data comes from the API with the token.
  { prefix: '/loans', roles: 'public' },
  { prefix: '/ui', roles: 'public' },
  { prefix: '/v1/loans', roles: ['admin', 'lender'] },
  { prefix: '/v1/keys', roles: ['admin', 'lender'] },
  { prefix: '/v1/economics', roles: ['admin'] },
  { prefix: '/v1/market', roles: ['admin'] },
  { prefix: '/v1/tariffs', roles: ['admin'] },
  { prefix: '/v1/audit', roles: ['admin'] },
  // Everything else (fleet, rigs, history, power, alerts, metrics, the floor page, routes added later).
  { prefix: '/', roles: ['admin', 'engineer'] },
];

export function rolesFor(path: string): ReadonlyArray<Role> | 'public' {
  // The floor page's HTML is static like its /ui assets; the fleet data it shows needs a token.
  if (path === '/') return 'public';
  let best: (typeof ROUTE_ROLES)[number] | undefined;
  for (const r of ROUTE_ROLES) {
    const match = path === r.prefix || path.startsWith(r.prefix.endsWith('/') ? r.prefix : `${r.prefix}/`);
    if (match && (!best || r.prefix.length > best.prefix.length)) best = r;
  }
  return best?.roles ?? ['admin', 'engineer'];
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice(7));
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `rigtel run` calls this before listening. */
export function assertListenAllowed(host: string, listen: string, tokens: TokenStore | undefined): void {
  if (isLoopbackHost(host)) return;
  if (!tokens || tokens.activeCount() === 0) throw AuthErrors.listenWithoutTokens(listen);
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

function presentedToken(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (typeof h === 'string' && /^Bearer\s+/i.test(h)) return h.replace(/^Bearer\s+/i, '').trim();
  const cookie = request.headers.cookie;
  if (typeof cookie === 'string') {
    const m = /(?:^|;\s*)rigtel_token=([^;]+)/.exec(cookie);
    if (m) return decodeURIComponent(m[1]!);
  }
  return null;
}

/** Registers the rate limiter and the check; call before any route. */
export function registerAuth(app: FastifyInstance, tokens: TokenStore | undefined): void {
  app.decorateRequest('principal', null);
  const judge = (request: FastifyRequest): Principal | 'open' | null => {
    if (!tokens || tokens.activeCount() === 0) return 'open';
    const t = presentedToken(request);
    return t ? tokens.check(t) : null;
  };
  app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    max: 20,
    timeWindow: 60_000,
    // Only failed authentication counts: a request whose token checks out (or a public route) is let through.
    allowList: (request) => rolesFor(request.url.split('?')[0]!) === 'public' || judge(request) !== null,
  });
  // preParsing, so the limiter's onRequest hook (route level) has counted the attempt before this refuses it.
  app.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    const roles = rolesFor(path);
    if (roles === 'public') return;
    const who = judge(request);
    if (who === 'open') {
      if (!isLoopbackHost(request.socket.remoteAddress ?? '')) throw AuthErrors.notLoopback();
      return;
    }
    if (!who) {
      reply.header('www-authenticate', 'Bearer');
      throw AuthErrors.unauthorized();
    }
    if (!roles.includes(who.role)) throw AuthErrors.forbidden(who.role, path.slice(0, 100));
    request.principal = who;
  });
}

/** For loan routes: a lender sees only its own loan, anything else is "not found". */
export function mayReadLoan(principal: Principal | null, loanId: string): boolean {
  return principal?.role !== 'lender' || principal.loan_id === loanId;
}
