// WAL checkpoints run in one worker thread for every database of the process, each on its own timer.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Checkpointer } from './checkpointer.js';

/** A database in WAL mode with auto-checkpoint off (as the journal and the store open theirs) and rows in its WAL. */
function walDb(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (x TEXT)');
  const put = db.prepare('INSERT INTO t VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) put.run(`row ${i} ${'x'.repeat(100)}`);
  })();
  return db;
}

const threads = () => readdirSync('/proc/self/task').length;
const until = async (what: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('two databases are checkpointed by one worker, each until it stops', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-ckpt-'));
  const a = walDb(join(dir, 'a.db'));
  const b = walDb(join(dir, 'b.db'));
  try {
    const before = threads();
    const ca = new Checkpointer(join(dir, 'a.db'), 50);
    await until(() => ca.status.checkpoints > 0);
    const withOne = threads();
    const cb = new Checkpointer(join(dir, 'b.db'), 50);
    await until(() => cb.status.checkpoints > 0);
    assert.ok(withOne > before, 'the worker runs in a thread of its own');
    assert.equal(threads(), withOne, 'the second database adds no thread');
    // The rows moved from each WAL into its database file.
    for (const f of ['a.db', 'b.db']) assert.ok(statSync(join(dir, f)).size > 200_000, f);
    await ca.stop();
    const n = cb.status.checkpoints;
    await until(() => cb.status.checkpoints > n + 2);
    assert.equal(ca.status.last_error, null);
    assert.equal(cb.status.last_error, null);
    await cb.stop();
    await until(() => threads() < withOne);
  } finally {
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
