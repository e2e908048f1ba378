import { defineError } from '../lib/errors.js';

/** Collector-side failures: journal, embedded store, sink plumbing, scheduler. */
export const JournalErrors = {
  corrupt: defineError<[string, string]>(
    'RT_ERR_JOURNAL_CORRUPT',
    'the journal database is corrupt or truncated; move it aside (samples not yet delivered are lost) and restart',
    (file, why) =>
      `${file}: the journal is corrupt or truncated (${why}); move it aside to start a new one (undelivered samples in it are lost)`,
  ),
  open: defineError<[string, string]>(
    'RT_ERR_JOURNAL_OPEN',
    'the journal database cannot be opened (folder missing, not writable, or disk full)',
    (file, why) => `${file}: cannot open the journal: ${why} (check storage.dir exists and is writable)`,
  ),
  write: defineError<[string]>(
    'RT_ERR_JOURNAL_WRITE',
    'a sample could not be written to the journal (disk full or I/O error)',
    (why) => `cannot write to the journal: ${why} (check free disk space under storage.dir)`,
  ),
  nearFull: defineError(
    'RT_ERR_JOURNAL_NEAR_FULL',
    'the journal is nearly full because a sink is not keeping up; the oldest undelivered samples will be dropped when it is full',
  ),
  dropped: defineError(
    'RT_ERR_JOURNAL_DROPPED',
    'the journal was full: the oldest samples not yet delivered to every sink were dropped (counted in pressure)',
  ),
  diskLow: defineError(
    'RT_ERR_JOURNAL_DISK_LOW',
    'free space under the journal is below storage.disk_low_mb: acknowledged data is shed first; free space before writes fail',
  ),
  closed: defineError(
    'RT_ERR_JOURNAL_CLOSED',
    'the journal was used after it was closed (shutdown in progress)',
  ),
} as const;

/** The storage dir has one owner at a time (collector/dir-lock.ts). */
export const StorageErrors = {
  locked: defineError<[string, string, string, string]>(
    'RT_ERR_STORAGE_LOCKED',
    'another rigtel process owns this storage dir (its PID is in rigtel.lock); stop it or use another storage.dir',
    (dir, pid, host, since) =>
      `${dir} is in use by rigtel process ${pid} on ${host} (since ${since}); stop it or point storage.dir elsewhere`,
  ),
  lock: defineError<[string, string]>(
    'RT_ERR_STORAGE_LOCK',
    'the storage dir lock file cannot be created (folder missing or not writable)',
    (file, why) => `${file}: cannot create the lock: ${why} (check storage.dir exists and is writable)`,
  ),
} as const;

export const StoreErrors = {
  corrupt: defineError<[string, string]>(
    'RT_ERR_STORE_CORRUPT',
    'the embedded store database is corrupt or truncated; move it aside and restart (history in it is lost)',
    (file, why) =>
      `${file}: the embedded store is corrupt or truncated (${why}); move it aside to start a new one`,
  ),
  open: defineError<[string, string]>(
    'RT_ERR_STORE_OPEN',
    'the embedded store database cannot be opened (folder missing, not writable, or disk full)',
    (file, why) =>
      `${file}: cannot open the embedded store: ${why} (check storage.dir exists and is writable)`,
  ),
  write: defineError<[string]>(
    'RT_ERR_STORE_WRITE',
    'samples could not be written to the embedded store (disk full or I/O error)',
    (why) => `cannot write to the embedded store: ${why}`,
  ),
  badQuery: defineError<[string]>(
    'RT_ERR_STORE_BAD_QUERY',
    'a history query had an impossible range or step',
    (why) => `bad history query: ${why}`,
    400,
  ),
} as const;

export const SinkErrors = {
  /** Base code for "this sink can never accept these entries": the fan-out skips them instead of retrying. */
  poison: defineError<[string, string]>(
    'RT_ERR_SINK_POISON',
    'a sink rejected an entry it can never accept; the entry was skipped for that sink',
    (sink, why) => `sink ${sink} can never accept this entry: ${why}`,
  ),
  write: defineError<[string, string]>(
    'RT_ERR_SINK_WRITE',
    'a sink failed to write a batch; it is retried with backoff',
    (sink, why) => `sink ${sink} failed to write: ${why}`,
  ),
  open: defineError<[string, string]>(
    'RT_ERR_SINK_OPEN',
    'a sink could not be opened; it is retried with backoff',
    (sink, why) => `sink ${sink} could not be opened: ${why}`,
  ),
  closed: defineError<[string]>(
    'RT_ERR_SINK_CLOSED',
    'a sink was written to after it was closed',
    (sink) => `sink ${sink} is closed`,
  ),
} as const;

/**
 * Codes a sink may throw to say "skip these entries, never retry them". Sinks with their own poison codes
 * (e.g. `RT_ERR_SINK_INFLUX_…`) add them here at import time.
 */
export const poisonCodes = new Set<string>([SinkErrors.poison.code]);

export const SchedErrors = {
  deadline: defineError<[string, number]>(
    'RT_ERR_SCHED_POLL_DEADLINE',
    'the rig did not finish answering within poll.poll_deadline_ms; the poll was abandoned',
    (addr, ms) =>
      `${addr}: poll abandoned after ${ms} ms (poll.poll_deadline_ms): the miner is hung or very slow`,
  ),
  driverCrash: defineError<[string, string]>(
    'RT_ERR_SCHED_DRIVER_FAILED',
    'the protocol driver failed with an unexpected (unnamed) error',
    (addr, why) => `${addr}: the driver failed unexpectedly: ${why}`,
  ),
  workerDied: defineError<[string, number | null]>(
    'RT_ERR_SCHED_WORKER_DIED',
    'the poll worker thread running this poll exited (crash or shutdown); the worker is restarted',
    (addr, code) =>
      `${addr}: the poll worker thread exited${code === null ? '' : ` (code ${code})`} while polling; it is restarted`,
  ),
} as const;

/** Network discovery (`rigtel scan`, scheduled rescans). */
export const DiscoveryErrors = {
  badRange: defineError<[string, string]>(
    'RT_ERR_DISCOVERY_BAD_RANGE',
    'a scan range is not an IPv4 address or CIDR block',
    (range, why) => `scan range "${range}": ${why}`,
    400,
  ),
  rangeTooLarge: defineError<[string, number, number]>(
    'RT_ERR_DISCOVERY_RANGE_TOO_LARGE',
    'the scan ranges hold more addresses than allowed without --force',
    (ranges, count, max) =>
      `${ranges}: ${count} addresses is more than ${max} (a /16); split the range or pass --force`,
    400,
  ),
  rangeLimit: defineError<[string, number, number]>(
    'RT_ERR_DISCOVERY_RANGE_LIMIT',
    'the scan ranges hold more addresses than rigtel scans even with --force',
    (ranges, count, max) =>
      `${ranges}: ${count} addresses is more than ${max}, the most rigtel scans even with --force; scan the site's own blocks`,
    400,
  ),
  publicTarget: defineError<[string]>(
    'RT_ERR_DISCOVERY_PUBLIC_TARGET',
    'a scan range holds public addresses (not RFC 1918, loopback, link-local or CGNAT); pass --allow-public to scan them',
    (ranges) =>
      `${ranges}: public addresses (not RFC 1918, loopback, link-local or CGNAT 100.64.0.0/10): a scan stays on the site's own networks unless --allow-public is given`,
    400,
  ),
  badPort: defineError<[string]>(
    'RT_ERR_DISCOVERY_BAD_PORT',
    'a scan port is not a number between 1 and 65535',
    (port) => `scan port "${port}" is not a number between 1 and 65535`,
    400,
  ),
};

/** Live state read back from the MQTT broker (a standalone `rigtel api`). */
export const BrokerFleetErrors = {
  badState: defineError<[string, string]>(
    'RT_ERR_BROKER_BAD_STATE',
    'a message on a rig state topic is not a rigtel state JSON (another publisher, or a truncated message); it is ignored',
    (topic, why) => `${topic}: not a rigtel state message (${why}); ignored`,
  ),
  collectorGone: defineError<[string]>(
    'RT_ERR_BROKER_COLLECTOR_GONE',
    'no state from the collector that polls this rig for longer than the offline bound (collector stopped, crashed or cut off)',
    (why) => why,
  ),
} as const;

/** History read from InfluxDB by a standalone `rigtel api` (collector/influx-history.ts). Never names credentials. */
export const HistoryBackendErrors = {
  down: defineError<[string, string]>(
    'RT_ERR_API_HISTORY_BACKEND',
    'InfluxDB, where a standalone `rigtel api` reads history, did not answer (down, unreachable, timed out); live state is still served',
    (where, why) => `history: InfluxDB at ${where} did not answer (${why}); live state is still served`,
    503,
  ),
  refused: defineError<[string, string]>(
    'RT_ERR_API_HISTORY_BACKEND_REFUSED',
    'InfluxDB refused the history query (credentials refused, database missing, query rejected); check sinks.influx',
    (where, why) => `history: InfluxDB at ${where} refused the query (${why}); check sinks.influx`,
    502,
  ),
} as const;
