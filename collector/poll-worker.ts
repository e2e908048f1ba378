/**
 * Poll worker thread: runs protocol drivers (socket, decode, parse, plausibility) off the collector's main
 * thread. Jobs arrive in batches from `PollWorkerPool` (collector/poll-workers.ts); readings and errors go back
 * in batches, one message per turn of this thread's event loop. Errors travel as `{code, message}`; the main
 * thread turns them back into `RtError`s. Imports protocols/ and lib/ only: fleet state, identity, the journal
 * and the API stay on the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { RtError } from '../lib/errors.js';
import { Secret } from '../lib/secret.js';
import { driverFor } from '../protocols/registry.js';
import type { JobResult, ToWorker } from './poll-wire.js';

const port = parentPort;
if (!port) throw new Error('poll-worker.ts must run in a worker thread');

const running = new Map<number, AbortController>();
let out: JobResult[] = [];
let flushing = false;

function send(r: JobResult): void {
  out.push(r);
  if (flushing) return;
  flushing = true;
  setImmediate(() => {
    flushing = false;
    const batch = out;
    out = [];
    port?.postMessage({ t: 'done', results: batch });
  });
}

function start(job: Extract<ToWorker, { t: 'jobs' }>['jobs'][number]): void {
  const ctl = new AbortController();
  running.set(job.id, ctl);
  // The main thread enforces the deadline too; this one frees the socket here even if the main thread is slow
  // to send the abort.
  const timer = setTimeout(() => ctl.abort(), job.deadline_ms);
  const { password, ...rest } = job.target;
  const target = password === undefined ? rest : { ...rest, password: new Secret(password) };
  let p: Promise<unknown>;
  try {
    p = driverFor(job.family).poll(target, ctl.signal);
  } catch (err) {
    p = Promise.reject(err);
  }
  p.then(
    (reading) => send({ id: job.id, reading }),
    (err: unknown) =>
      send({
        id: job.id,
        error:
          err instanceof RtError
            ? { code: err.code, message: err.message }
            : { code: null, message: err instanceof Error ? err.message : String(err) },
      }),
  ).finally(() => {
    clearTimeout(timer);
    running.delete(job.id);
  });
}

port.on('message', (msg: ToWorker) => {
  if (msg.t === 'jobs') for (const j of msg.jobs) start(j);
  else if (msg.t === 'abort') for (const id of msg.ids) running.get(id)?.abort();
});
port.postMessage({ t: 'ready' });
