/**
 * The HTTP API. `buildApp` wires the route plugins and one error handler and never listens: `rigtel run`
 * calls `listen`, tests use `app.inject` (fastify's Testing guide).
 */
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import { splitAddress } from '../config/schema.js';
import { RtError } from '../lib/errors.js';
import { redactText } from '../lib/secret.js';
import { registerAuth } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiErrors } from './errors.js';
import { allowedHostSet, hostName } from './host-guard.js';
import { alertsRoutes } from './routes/alerts.js';
import { docsRoutes } from './routes/docs.js';
import { economicsRoutes } from './routes/economics.js';
import { eventsRoutes } from './routes/events.js';
import { fleetRoutes } from './routes/fleet.js';
import { healthRoutes } from './routes/health.js';
import { historyRoutes } from './routes/history.js';
import { loansPageRoutes, loansRoutes } from './routes/loans.js';
import { marketRoutes } from './routes/market.js';
import { metricsRoutes } from './routes/metrics.js';
import { powerDevicesRoutes } from './routes/power-devices.js';
import { rigsRoutes } from './routes/rigs.js';
import { statusRoutes } from './routes/status.js';
import { uiRoutes } from './routes/ui.js';

export type { ApiDeps } from './deps.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export function buildApp(deps: ApiDeps): FastifyInstance {
  const app: FastifyInstance = Fastify({
    // Fastify needs a full pino logger (child, level); a plain `Logger` slice means no request logging.
    ...(deps.log && 'child' in deps.log
      ? { loggerInstance: deps.log as FastifyBaseLogger }
      : { logger: false }),
    // Query keys repeated or unknown are judged by the route's zod schema, not silently merged.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
    // Router-level failures (bad %-encoding, over-long path segment) bypass setErrorHandler; render them alike.
    frameworkErrors: (err, _request, reply) => {
      const rendered = renderError(err);
      // The reply type here is generic over route schemas; ours has none.
      (reply as unknown as FastifyReply).code(rendered.status).send(rendered.body);
    },
    // Per-request lines would drown the poll log; errors are logged by our handler.
    logController: new LogController({ disableRequestLogging: true }),
    // Requests Node's HTTP parser refuses (URL or headers too long, malformed request line) get the same
    // {error:{code,message}} body as every other failure, not a bare status line.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return;
      const status =
        err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const bad = ApiErrors.badRequest(
        'request',
        `the HTTP request could not be read (${err.code ?? 'parse error'})`,
      );
      const body = JSON.stringify({ error: { code: bad.code, message: bad.message } });
      const reason =
        status === 431
          ? 'Request Header Fields Too Large'
          : status === 408
            ? 'Request Timeout'
            : 'Bad Request';
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  });

  const listen = deps.config.api?.listen;
  const allowed = allowedHostSet(
    listen ? splitAddress(listen, 8080).host : undefined,
    deps.config.api?.allowed_hosts ?? [],
  );
  // Verdicts by Host header as sent: a client sends the same one every time, so the parse runs once per name.
  const hostVerdicts = new Map<string, boolean>();
  app.addHook('onRequest', (request, reply, done) => {
    const header = request.headers.host;
    let ok = header === undefined ? undefined : hostVerdicts.get(header);
    if (ok === undefined) {
      const name = hostName(header);
      ok = name !== null && allowed.has(name);
      if (header !== undefined) {
        // Bounded: a client inventing Host headers gets no memory from us.
        if (hostVerdicts.size >= 256) hostVerdicts.clear();
        hostVerdicts.set(header, ok);
      }
    }
    if (ok) return done();
    const err = ApiErrors.hostNotAllowed(String(header ?? '').slice(0, 100));
    reply.code(err.httpStatus).send(renderError(err).body);
  });

  // Every text body leaves through the one redaction (URL userinfo, known secret values): /healthz, /v1/status,
  // /metrics and error bodies alike. Buffers are bodies rendered and redacted once (api/snapshot.ts `render`).
  app.addHook('onSend', (_request, _reply, payload, done) => {
    done(null, typeof payload === 'string' ? redactText(payload) : payload);
  });
  app.setErrorHandler((err: FastifyError | RtError, request, reply) => {
    const rendered = renderError(err);
    if (rendered.status >= 500) request.log.error({ err }, 'api request failed');
    reply.code(rendered.status).send(rendered.body);
  });
  // Every route's path as a pattern, so an unknown method on a known path answers 405 with `Allow`.
  const routes: Array<{ pattern: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String);
    const source = route.url
      .replace(/\/$/, '')
      .split('/')
      .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    routes.push({ pattern: new RegExp(`^${source}/?$`), methods });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allow = new Set<string>();
    for (const r of routes) if (r.pattern.test(path)) for (const m of r.methods) allow.add(m);
    if (allow.size > 0 && !allow.has(request.method)) {
      const list = [...allow].sort().join(', ');
      const err = ApiErrors.methodNotAllowed(request.method, path.slice(0, 200), list);
      reply.code(405).header('allow', list).send(renderError(err).body);
      return;
    }
    const err = ApiErrors.routeNotFound(request.method, path.slice(0, 200));
    reply.code(404).send(renderError(err).body);
  });

  // Route schemas document the API (OpenAPI at /docs/openapi.json). Parameters are checked by each route's zod
  // schema, so fastify's own validation is off; replies go out with JSON.stringify so no field is ever dropped.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'rigtel API',
        version: VERSION,
        description:
          'Live fleet state, history, alerts and metrics of a rigtel collector. Units are in field names; a missing reading is null.',
      },
      tags: [
        { name: 'fleet' },
        { name: 'rigs' },
        { name: 'alerts' },
        { name: 'live' },
        { name: 'power' },
        { name: 'collector' },
      ],
    },
  });
  app.register(docsRoutes);
  registerAuth(app, deps.tokens);
  app.register(healthRoutes, deps);
  app.register(statusRoutes, { ...deps, prefix: '/v1' });
  app.register(fleetRoutes, { ...deps, prefix: '/v1' });
  app.register(rigsRoutes, { ...deps, prefix: '/v1' });
  app.register(historyRoutes, { ...deps, prefix: '/v1' });
  app.register(alertsRoutes, { ...deps, prefix: '/v1' });
  app.register(eventsRoutes, { ...deps, prefix: '/v1' });
  app.register(powerDevicesRoutes, { ...deps, prefix: '/v1' });
  app.register(loansRoutes, { ...deps, prefix: '/v1' });
  app.register(marketRoutes, { ...deps, prefix: '/v1' });
  app.register(economicsRoutes, { ...deps, prefix: '/v1' });
  app.register(metricsRoutes, deps);
  app.register(uiRoutes);
  if (deps.loans) app.register(loansPageRoutes);
  return app;
}

/** Never a stack trace: RtErrors show their code and message, fastify's own 4xx their message, the rest a code. */
export function renderError(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof RtError) {
    const field = typeof err.details?.['field'] === 'string' ? (err.details['field'] as string) : undefined;
    return {
      status: err.httpStatus,
      body: { error: { code: err.code, message: err.message, ...(field ? { field } : {}) } },
    };
  }
  const status = (err as FastifyError | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // fastify's messages may quote the whole URL: keep them short.
    const bad = ApiErrors.badRequest('request', (err as Error).message.slice(0, 200));
    return { status, body: { error: { code: bad.code, message: bad.message } } };
  }
  const internal = ApiErrors.internal();
  return { status: 500, body: { error: { code: internal.code, message: internal.message } } };
}
