import type { Sample } from '../../protocols/sample.js';

/** One journalled sample: `seq` is its position in the journal, unique and increasing. */
export interface JournalEntry {
  seq: number;
  sample: Sample;
}

/**
 * A destination for samples: the embedded store, InfluxDB, MQTT. Durability is not the sink's job: the
 * collector's journal replays from the sink's acknowledged offset, so a sink only has to write a batch or fail.
 */
export interface Sink {
  readonly name: string;
  /** Connect / create what is needed. May throw RT_ERR_SINK_*; the fan-out retries it with backoff. */
  open(): Promise<void>;
  /**
   * Write a batch. Resolve only when the sink holds it (a later replay of the same entries must not create
   * duplicates: use `seq` or the sample's time and tags as the identity). Throw an RtError to have the batch
   * retried; throw one whose code is in `poisonCodes` to skip entries the sink can never accept.
   */
  write(batch: readonly JournalEntry[]): Promise<void>;
  close(): Promise<void>;
  /**
   * A cheap check that the service answers again (InfluxDB `/ping`, a TCP connect to the broker), run while
   * the fan-out backs off so a sink is retried within a second or two of its service returning. Never throws.
   */
  probe?(): Promise<boolean>;
  /**
   * Wait this long (ms) after each write before taking the next batch, so batches grow: for a store whose commit
   * costs per page touched rather than per sample, fewer, larger commits cost less. Stop and flush cut it short.
   */
  readonly lingerMs?: number;
  /** Largest batch this sink takes in one write (below the fan-out's own): bounds how long one write blocks. */
  readonly maxBatch?: number;
}

export type SinkState = 'starting' | 'ok' | 'retrying' | 'closed';

export interface SinkStatus {
  name: string;
  state: SinkState;
  /** Journal entries not yet acknowledged by this sink. */
  lag_samples: number;
  acked_seq: number;
  last_ok_ms: number | null;
  last_error: { code: string; message: string; at_ms: number } | null;
}
