/**
 * WAL checkpoints off the main thread. A checkpoint copies the WAL into the database file and fsyncs it: tens of
 * milliseconds on a busy disk, which would stall the event loop if SQLite ran it inside a commit (its default
 * auto-checkpoint). The store turns auto-checkpoint off and this worker, with its own connection, runs a
 * PASSIVE checkpoint every `everyMs` (it never blocks the writer; the WAL is reused once a checkpoint completed).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const run = () => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String(err && err.message || err) });
  }
};
const timer = setInterval(run, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    run();
    db.close();
    parentPort.close();
  }
});
`;

export interface CheckpointStatus {
  checkpoints: number;
  last_error: string | null;
}

export class Checkpointer {
  private readonly worker: Worker;
  readonly status: CheckpointStatus = { checkpoints: 0, last_error: null };
  private exited: Promise<void>;

  constructor(file: string, everyMs: number) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER, { eval: true, workerData: { file, everyMs, sqlite } });
    this.worker.on('message', (m: { ok: boolean; error?: string }) => {
      if (m.ok) this.status.checkpoints += 1;
      else this.status.last_error = m.error ?? 'unknown';
    });
    this.worker.on('error', (err) => {
      this.status.last_error = err.message;
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // After the listeners: a 'message' listener added later refs the worker's port again, and an owner that is
    // never closed (a test's journal) would then keep the process alive.
    this.worker.unref();
  }

  /** Run a last checkpoint and end the worker. */
  async stop(): Promise<void> {
    this.worker.ref();
    this.worker.postMessage('stop');
    const timeout = new Promise<void>((r) => setTimeout(r, 3000).unref());
    await Promise.race([this.exited, timeout]);
    await this.worker.terminate();
  }
}
