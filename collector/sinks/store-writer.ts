/**
 * The embedded store's writes on a thread of their own. At 10,000 rigs a store write (200 samples: readings,
 * hourly rollups, each rig's last point) held the event loop for 17–75 ms, the longest stall the collector had;
 * here the main thread only posts the batch and awaits the commit, while a worker with its own SQLite
 * connection (store-writer-worker.ts) runs the same `EmbeddedStore` code inline. Everything that writes
 * `store.db` goes through it (samples, skipped polls, identity bindings, pruning), so the two connections never
 * wait on each other's write lock; the main thread's connection only reads (WAL readers see each commit).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../lib/log.js';
import { workerEntry } from '../../lib/worker-entry.js';
import type { Binding } from '../identity.js';
import type { EmbeddedStoreOptions, PruneStats, StoredEntry } from './embedded.js';

/** What the worker needs to open the store: the options that can cross a thread (no clock, no logger). */
export type WriterOptions = Omit<EmbeddedStoreOptions, 'log' | 'now' | 'writer' | 'checkpointInline'>;

export type ToWriter =
  | { type: 'write'; id: number; batch: readonly StoredEntry[] }
  | { type: 'prune'; id: number; nowMs: number }
  | { type: 'close'; id: number }
  | { type: 'skips'; skips: ReadonlyArray<{ rig_id: string; at_ms: number; reason: string }> }
  | { type: 'bindings'; bindings: readonly Binding[] };

export type FromWriter =
  | { type: 'ready' }
  | { type: 'done'; id: number; added: number; prune: PruneStats }
  | { type: 'failed'; id: number; message: string }
  | { type: 'log'; level: keyof Logger; obj: object; msg: string };

interface Pending {
  resolve: (r: { added: number; prune: PruneStats }) => void;
  reject: (e: Error) => void;
}

/** The main thread's handle on the writer worker. Requests are answered in the order they were posted. */
export class StoreWriterThread {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Workers that died and were started again (a write in flight then failed and is retried by the fan-out). */
  restarts = 0;

  constructor(
    private readonly dir: string,
    private readonly opts: WriterOptions,
    private readonly log: Logger,
    private readonly onStats: (prune: PruneStats) => void,
  ) {}

  /** Start the worker (again, after it died) and wait until it has opened the store. */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the store writer was closed'));
    if (this.ready) return this.ready;
    const worker = new Worker(workerEntry(import.meta.url, 'store-writer-worker'), {
      workerData: { dir: this.dir, opts: this.opts },
      // It turns over a few MB a second (the batches it decodes) and keeps a few MB of per-rig caches: a small
      // young generation keeps its share of the process's RSS small.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWriter) => {
        if (m.type === 'ready') {
          // Unref'd while idle: an owner that never closes the store (a test) must not be kept alive by it.
          if (this.pending.size === 0) worker.unref();
          resolve();
        } else if (m.type === 'log') this.log[m.level](m.obj, m.msg);
        else this.settle(m);
      });
      worker.once('error', (err) => {
        this.log.error({ err: err.message }, 'embedded store writer thread failed');
        reject(err);
      });
      worker.once('exit', (code) => {
        if (this.worker !== worker) return;
        this.worker = null;
        this.ready = null;
        const why = new Error(`the store writer thread exited (code ${code})`);
        reject(why);
        for (const p of this.pending.values()) p.reject(why);
        this.pending.clear();
        if (!this.closed) this.restarts += 1;
      });
    });
    this.ready.catch(() => {}); // callers of start() see the rejection; nobody else must crash on it
    return this.ready;
  }

  write(batch: readonly StoredEntry[]): Promise<number> {
    return this.request({ type: 'write', id: 0, batch }).then((r) => r.added);
  }

  prune(nowMs: number): Promise<void> {
    return this.request({ type: 'prune', id: 0, nowMs }).then(() => undefined);
  }

  /** Fire and forget: the worker logs what it could not write. */
  post(message: Extract<ToWriter, { type: 'skips' | 'bindings' }>): void {
    if (this.closed) return;
    void this.start().then(
      () => this.worker?.postMessage(message),
      (err: Error) =>
        this.log.error(
          {
            err: err.message,
            [message.type]: message.type === 'skips' ? message.skips.length : message.bindings.length,
          },
          `${message.type === 'skips' ? 'skipped polls' : 'rig identity bindings'} not written: the store writer thread is not running`,
        ),
    );
  }

  /** Let the worker finish what was posted, close its store (last checkpoint) and exit. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.worker) await this.request({ type: 'close', id: 0 });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'embedded store writer did not close cleanly');
    }
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private async request(
    message: Extract<ToWriter, { id: number }>,
  ): Promise<{ added: number; prune: PruneStats }> {
    await this.start();
    const worker = this.worker;
    if (!worker) throw new Error('the store writer thread is not running');
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Ref'd while a request is out, so a pending write keeps the process alive until it is answered.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ ...message, id });
    });
  }

  private settle(m: Extract<FromWriter, { id: number }>): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (m.type === 'done') {
      this.onStats(m.prune);
      p.resolve(m);
    } else p.reject(new Error(m.message));
  }
}
