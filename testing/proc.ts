/**
 * CPU time from /proc (Linux), for the benchmarks: of a whole process, or of one of its threads (a process's
 * main thread has the pid as its task id). 10 ms resolution (USER_HZ is 100). Throws where /proc is not there.
 */
import { readFileSync } from 'node:fs';

/** User + system CPU ms of `pid` (default this process), or of its thread `tid`. */
export function procCpuMs(pid: number | 'self' = 'self', tid?: number): number {
  const stat = readFileSync(
    tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`,
    'utf8',
  );
  // Fields after the command name (which may hold spaces and parentheses): utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}
