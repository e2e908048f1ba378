/**
 * The embedded store's writer thread (see store-writer.ts): the same `EmbeddedStore`, inline, on its own
 * connection. It also owns the store's background work: retention pruning, and checkpoints (inside its own
 * commits), and the checkpoints of the other databases it is given (`checkpointFiles`: the journal's). Requests
 * are handled one at a time, in the order they were posted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { type Binding, bindingWriter } from '../identity.js';
import { EmbeddedStore } from './embedded.js';
import type { FromWriter, ToWriter, WriterOptions } from './store-writer.js';
import { checkpointEvery } from './wal-checkpoints.js';

const port = parentPort!;
const { dir, opts } = workerData as { dir: string; opts: WriterOptions };
const send = (m: FromWriter) => port.postMessage(m);
const logAt =
  (level: keyof Logger) =>
  (obj: object, msg = '') =>
    send({ type: 'log', level, obj, msg });
const log: Logger = {
  debug: logAt('debug'),
  info: logAt('info'),
  warn: logAt('warn'),
  error: logAt('error'),
};

// The main thread opened (checked, migrated) the file already.
const store = EmbeddedStore.open(dir, { ...opts, log, verified: true, checkpointInline: true });
await store.open();
const otherCheckpoints = checkpointEvery(opts.checkpointFiles ?? [], 1000, log);
const writeBindings = bindingWriter(store.db);
/** Bindings a failing disk refused: written with the next ones, or at close. */
let unwritten: Binding[] = [];

const flushBindings = (more: readonly Binding[]) => {
  const batch = unwritten.concat(more);
  if (batch.length === 0) return;
  try {
    writeBindings(batch);
    unwritten = [];
  } catch (err) {
    unwritten = batch;
    log.warn({ err: errorMessage(err), bindings: batch.length }, 'rig identity bindings not written yet');
  }
};

let queue = Promise.resolve();
port.on('message', (m: ToWriter) => {
  // A request that throws is logged; the ones after it still run.
  queue = queue
    .then(() => handle(m))
    .catch((err) => log.error({ err: errorMessage(err), request: m.type }, 'embedded store writer failed'));
});

async function handle(m: ToWriter): Promise<void> {
  switch (m.type) {
    case 'write':
      try {
        const added = store.writeSync(m.batch);
        store.pruneIfNearFull();
        send({ type: 'done', id: m.id, added, prune: store.pruneStats });
      } catch (err) {
        send({ type: 'failed', id: m.id, message: errorMessage(err) });
      }
      return;
    case 'skips':
      try {
        store.recordSkips(m.skips);
      } catch (err) {
        log.error({ err: errorMessage(err), skips: m.skips.length }, 'skipped polls could not be recorded');
      }
      return;
    case 'bindings':
      flushBindings(m.bindings);
      return;
    case 'prune':
      await store.pruneInSteps(m.nowMs);
      send({ type: 'done', id: m.id, added: 0, prune: store.pruneStats });
      return;
    case 'close':
      flushBindings([]);
      otherCheckpoints.stop();
      await store.close();
      send({ type: 'done', id: m.id, added: 0, prune: store.pruneStats });
      port.close();
      return;
  }
}

send({ type: 'ready' });
