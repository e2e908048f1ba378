/**
 * Periodic WAL checkpoints of other databases, on the thread that starts them: the embedded store's writer
 * thread runs the journal's this way, so `rigtel run` needs no checkpoint worker (a thread of its own costs
 * ~16 MB of RSS). Each file gets a connection of its own; a PASSIVE checkpoint never waits for the file's writer,
 * it copies what it can and the WAL is reused once one completes.
 */
import Database from 'better-sqlite3';
import { errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';

export interface WalCheckpoints {
  /** Checkpoints completed, per file, since start. */
  readonly done: Map<string, number>;
  /** A last checkpoint of every file, then close the connections. */
  stop(): void;
}

export function checkpointEvery(files: readonly string[], everyMs: number, log: Logger): WalCheckpoints {
  const done = new Map<string, number>();
  const open: Array<{ file: string; db: Database.Database; failing: boolean }> = [];
  for (const file of files) {
    try {
      const db = new Database(file);
      db.pragma('busy_timeout = 1000');
      open.push({ file, db, failing: false });
      done.set(file, 0);
    } catch (err) {
      log.warn({ file, err: errorMessage(err) }, 'WAL checkpoints not started: the file could not be opened');
    }
  }
  const run = () => {
    for (const c of open) {
      try {
        c.db.pragma('wal_checkpoint(PASSIVE)');
        done.set(c.file, (done.get(c.file) ?? 0) + 1);
        c.failing = false;
      } catch (err) {
        // Once per run of failures: a checkpoint a second would otherwise log a line a second.
        if (!c.failing) log.warn({ file: c.file, err: errorMessage(err) }, 'WAL checkpoint failed');
        c.failing = true;
      }
    }
  };
  const timer = open.length > 0 ? setInterval(run, everyMs) : null;
  timer?.unref();
  return {
    done,
    stop() {
      if (timer) clearInterval(timer);
      run();
      for (const c of open.splice(0)) {
        try {
          c.db.close();
        } catch {
          // Closing a connection that failed to checkpoint: nothing more to save.
        }
      }
    },
  };
}
