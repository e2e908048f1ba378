/**
 * WAL checkpoints off the main thread. A checkpoint copies the WAL into the database file and fsyncs it: tens of
 * milliseconds on a busy disk, which would stall the event loop if SQLite ran it inside a commit (its default
 * auto-checkpoint). The store turns auto-checkpoint off and a worker, with its own connection to the file, runs a
 * PASSIVE checkpoint every `everyMs` (it never blocks the writer; the WAL is reused once a checkpoint completed).
 *
 * One worker serves every database of the process (the journal and the embedded store): a Node worker thread
 * costs ~9–16 MB of RSS (its own V8 isolate and heap), and a checkpoint a second needs no thread of its own.
 * When the store writes on its own thread (`rigtel run`), that thread checkpoints the journal too
 * (wal-checkpoints.ts) and this worker is not started.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const dbs = new Map();
const run = (id) => {
  const d = dbs.get(id);
  if (!d) return;
  try {
    const [r] = d.db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ id, ok: true, log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: String(err && err.message || err) });
  }
};
parentPort.on('message', (m) => {
  if (m.t === 'add') {
    try {
      const db = new Database(m.file);
      db.pragma('busy_timeout = 1000');
      dbs.set(m.id, { db, timer: setInterval(() => run(m.id), m.everyMs) });
    } catch (err) {
      parentPort.postMessage({ id: m.id, ok: false, error: String(err && err.message || err) });
    }
  } else if (m.t === 'stop') {
    const d = dbs.get(m.id);
    if (d) {
      clearInterval(d.timer);
      run(m.id);
      dbs.delete(m.id);
      try { d.db.close(); } catch {}
    }
    parentPort.postMessage({ id: m.id, stopped: true });
  }
});
`;

export interface CheckpointStatus {
  checkpoints: number;
  last_error: string | null;
}

type FromWorker = { id: number; ok?: boolean; error?: string; stopped?: boolean };

/** The process's one checkpoint worker, started with the first file and ended with the last. */
class SharedWorker {
  private readonly worker: Worker;
  private readonly users = new Map<number, Checkpointer>();
  private readonly stopping = new Map<number, () => void>();
  private readonly exited: Promise<void>;
  private nextId = 1;
  private refs = 0;

  constructor() {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER, { eval: true, workerData: { sqlite } });
    this.worker.on('message', (m: FromWorker) => {
      if (m.stopped) {
        this.stopping.get(m.id)?.();
        return;
      }
      const user = this.users.get(m.id);
      if (!user) return;
      if (m.ok) user.status.checkpoints += 1;
      else user.status.last_error = m.error ?? 'unknown';
    });
    this.worker.on('error', (err) => {
      for (const user of this.users.values()) user.status.last_error = err.message;
    });
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        // A worker that died is not handed to the next file.
        if (shared === this) shared = null;
        resolve();
      }),
    );
    // After the listeners: a 'message' listener added later refs the worker's port again, and an owner that is
    // never closed (a test's journal) would then keep the process alive.
    this.worker.unref();
  }

  add(user: Checkpointer, file: string, everyMs: number): number {
    const id = this.nextId++;
    this.users.set(id, user);
    this.worker.postMessage({ t: 'add', id, file, everyMs });
    return id;
  }

  /** Run a last checkpoint of this file and close its connection; the worker ends with its last file. */
  async stop(id: number): Promise<void> {
    if (!this.users.has(id)) return;
    // Held open while a stop waits for its answer.
    if (this.refs++ === 0) this.worker.ref();
    const timeout = new Promise<void>((r) => setTimeout(r, 3000).unref());
    const stopped = new Promise<void>((r) => this.stopping.set(id, r));
    this.worker.postMessage({ t: 'stop', id });
    await Promise.race([stopped, this.exited, timeout]);
    this.stopping.delete(id);
    this.users.delete(id);
    if (--this.refs === 0) this.worker.unref();
    if (this.users.size === 0) {
      if (shared === this) shared = null;
      await this.worker.terminate();
    }
  }
}

let shared: SharedWorker | null = null;

export class Checkpointer {
  readonly status: CheckpointStatus = { checkpoints: 0, last_error: null };
  private readonly worker: SharedWorker;
  private readonly id: number;

  constructor(file: string, everyMs: number) {
    shared ??= new SharedWorker();
    this.worker = shared;
    this.id = shared.add(this, file, everyMs);
  }

  /** Run a last checkpoint and close the worker's connection to the file (ending the worker with its last file). */
  stop(): Promise<void> {
    return this.worker.stop(this.id);
  }
}
