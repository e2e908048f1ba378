/**
 * One owner per storage dir: `rigtel.lock` is created exclusively (O_CREAT | O_EXCL) and holds the owner's PID,
 * host and start time. A second collector on the same dir gets RT_ERR_STORAGE_LOCKED naming the holder; a lock
 * left by a process that no longer runs (same host, PID gone) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StorageErrors } from './errors.js';

export const LOCK_FILE = 'rigtel.lock';

interface LockInfo {
  pid: number;
  host: string;
  started_ms: number;
}

export interface DirLock {
  readonly file: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockInfo>;
    if (typeof info.pid !== 'number' || typeof info.host !== 'string') return null;
    return { pid: info.pid, host: info.host, started_ms: Number(info.started_ms) || 0 };
  } catch {
    return null;
  }
}

/** Take the dir's lock or throw RT_ERR_STORAGE_LOCKED (held by a live process) / RT_ERR_STORAGE_LOCK (I/O). */
export function lockDir(dir: string, now: () => number = Date.now): DirLock {
  const file = join(dir, LOCK_FILE);
  const me: LockInfo = { pid: process.pid, host: hostname(), started_ms: now() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw StorageErrors.lock.with({ cause: err }, file, code ?? String(err));
      const holder = readLock(file);
      // A half-written lock (the holder is between create and write) counts as held.
      if (holder === null) throw StorageErrors.locked(dir, 'unknown', 'unknown', 'an unreadable lock file');
      if (holder.host !== me.host || (holder.pid !== me.pid && alive(holder.pid)) || holder.pid === me.pid) {
        throw StorageErrors.locked(
          dir,
          String(holder.pid),
          holder.host,
          new Date(holder.started_ms).toISOString(),
        );
      }
      // The holder is gone: take the stale lock over.
      try {
        unlinkSync(file);
      } catch {
        // Another process may have taken it over first; the next attempt decides.
      }
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      file,
      release() {
        if (released) return;
        released = true;
        const now = readLock(file);
        if (now && now.pid === me.pid && now.host === me.host) {
          try {
            unlinkSync(file);
          } catch {
            // Already gone.
          }
        }
      },
    };
  }
  throw StorageErrors.lock(file, 'another process took the stale lock over first');
}
