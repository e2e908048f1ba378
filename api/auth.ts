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

/** The table with each prefix's `prefix/` form made once, longest prefix first: the first match wins. */
const ROLE_MATCHERS = [...ROUTE_ROLES]
  .sort((a, b) => b.prefix.length - a.prefix.length)
  .map((r) => ({ ...r, under: r.prefix.endsWith('/') ? r.prefix : `${r.prefix}/` }));

export function rolesFor(path: string): ReadonlyArray<Role> | 'public' {
  // The floor page's HTML is static like its /ui assets; the fleet data it shows needs a token.
  if (path === '/') return 'public';
  for (const r of ROLE_MATCHERS) if (path === r.prefix || path.startsWith(r.under)) return r.roles;
  return ['admin', 'engineer'];
}

export function isLoopbackHost(host: string): boolean {
  // What every local client's socket says: answered without a regex.
  if (host === '127.0.0.1' || host === '::1' || host === '::ffff:127.0.0.1') return true;
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
    principal: Readonly<Principal> | null;
  }
}

const BEARER = /^Bearer\s+/i;
const TOKEN_COOKIE = /(?:^|;\s*)rigtel_token=([^;]+)/;

function presentedToken(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (typeof h === 'string') {
    const m = BEARER.exec(h);
    if (m) return h.slice(m[0].length).trim();
  }
  const cookie = request.headers.cookie;
  if (typeof cookie === 'string') {
    const m = TOKEN_COOKIE.exec(cookie);
    if (m) {
      try {
        return decodeURIComponent(m[1]!);
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The request's path without its query, with no intermediate array. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Registers the rate limiter and the check; call before any route. */
export function registerAuth(app: FastifyInstance, tokens: TokenStore | undefined): void {
  app.decorateRequest('principal', null);
  // Only failed authentication counts: the limiter runs for those requests alone, so a good token or a public
  // route pays nothing for it (not even the limiter's parse of the client address).
  app.register(rateLimit, { global: false, max: 20, timeWindow: 60_000 });
  let limiter: ((request: FastifyRequest, reply: FastifyReply) => Promise<void>) | null = null;
  const refuse = (request: FastifyRequest, reply: FastifyReply, err: Error): Promise<never> => {
    limiter ??= app.rateLimit() as unknown as (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    // The limiter counts this attempt and throws its 429 once the client is over the limit.
    return limiter(request, reply).then(() => {
      throw err;
    });
  };
  // A callback hook, not an async one: the pass path allocates no promise.
  app.addHook('preParsing', (request, reply, payload, done) => {
    const path = pathOf(request.url);
    const roles = rolesFor(path);
    if (roles === 'public') return done(null, payload);
    const who = tokens ? tokens.authenticate(presentedToken(request)) : 'open';
    if (who === 'open') {
      if (!isLoopbackHost(request.socket.remoteAddress ?? '')) return done(AuthErrors.notLoopback());
      return done(null, payload);
    }
    if (!who) {
      reply.header('www-authenticate', 'Bearer');
      refuse(request, reply, AuthErrors.unauthorized()).catch((err: Error) => done(err));
      return;
    }
    if (!roles.includes(who.role)) return done(AuthErrors.forbidden(who.role, path.slice(0, 100)));
    request.principal = who;
    done(null, payload);
  });
}

/** For loan routes: a lender sees only its own loan, anything else is "not found". */
export function mayReadLoan(principal: Principal | null, loanId: string): boolean {
  return principal?.role !== 'lender' || principal.loan_id === loanId;
}
