import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { summarizeFleet } from '../fleet-summary.js';
import { summarizeRig } from '../rig-view.js';
import { routeSchema, text } from '../schemas.js';
import { snapshotsFor } from '../snapshot.js';

/** A comment line this often keeps proxies from closing an idle stream and lets the page tell "quiet" from "gone". */
export const HEARTBEAT_MS = 15_000;
/** Samples arrive in bursts (one poll round); changes are sent once the burst settles. */
const SETTLE_MS = 200;

/**
 * `GET /v1/events`: server-sent events (WHATWG HTML "Server-sent events") from the collector's live state.
 * - `snapshot` once on connect: `{ at_ms, interval_ms, heartbeat_ms, fleet, rigs, alerts, sinks }`;
 * - `rigs` after each burst of polls: `{ at_ms, rigs }` with only the rigs polled in it;
 * - `fleet` after the same burst: `{ at_ms, fleet, alerts, sinks }`;
 * - `ping` every heartbeat_ms: `{ at_ms }`.
 * Without a collector feed (`onSample`), only the snapshot and pings are sent.
 */
export const eventsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });
  const now = () => deps.now?.() ?? Date.now();
  // One summary per fleet snapshot for every open stream (api/snapshot.ts), not one per stream per burst.
  const snapshots = snapshotsFor(deps.fleet, deps.config, now);
  const fleetBody = () => ({
    at_ms: now(),
    fleet: {
      site: deps.config.site.name,
      ...snapshots.memo('events:fleet', (snap) => summarizeFleet(snap.rigs, { belowShare: 0.9, hottest: 0 })),
    },
    alerts: deps.alerts?.() ?? null,
    sinks: deps.health.sinks(),
  });

  app.get(
    '/events',
    {
      schema: routeSchema('live', 'Server-sent events: snapshot, rigs, fleet, ping (text/event-stream)', {
        ok: text('text/event-stream'),
        errors: [],
      }),
    },
    async (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      open.add(res);
      const send = (event: string, data: unknown) => {
        if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      res.write(`retry: 3000\n\n`);
      send('snapshot', {
        ...fleetBody(),
        interval_ms: deps.config.poll.interval_ms,
        heartbeat_ms: HEARTBEAT_MS,
        rigs: deps.fleet.list().map((r) => summarizeRig(deps.config, r)),
      });

      const changed = new Set<string>();
      let timer: NodeJS.Timeout | null = null;
      const flush = () => {
        timer = null;
        const rigs = [];
        for (const address of changed) {
          const rig = deps.fleet.get(address);
          if (rig) rigs.push(summarizeRig(deps.config, rig));
        }
        changed.clear();
        send('rigs', { at_ms: now(), rigs });
        send('fleet', fleetBody());
      };
      const unsubscribe =
        deps.onSample?.((sample) => {
          changed.add(sample.address);
          timer ??= setTimeout(flush, SETTLE_MS);
        }) ?? (() => {});
      const heartbeat = setInterval(() => send('ping', { at_ms: now() }), HEARTBEAT_MS);
      const close = () => {
        unsubscribe();
        clearInterval(heartbeat);
        if (timer) clearTimeout(timer);
        open.delete(res);
      };
      request.raw.on('close', close);
      res.on('close', close);
    },
  );
};
