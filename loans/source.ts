/**
 * Where a loan's figures come from: the reads `LoanService` makes, behind one interface, so the same reports are
 * issued by `rigtel run` (its embedded store, `EmbeddedLoanSource` here) and by a standalone `rigtel api`
 * (InfluxDB, loans/influx-source.ts).
 *
 * - `hours`: per-rig hourly rollups over a period, and the whole site's covered seconds and energy per hour;
 * - `polls`: the stored polls of the pledged-vs-seen window, reduced to what the `PledgeWatcher` reads.
 *
 * Each read may answer at once (the embedded store) or with a promise (InfluxDB). A source that estimates
 * figures says which in its `provenance`, which the signed report carries as `data_source`.
 */
import { normalizeMac } from '../collector/identity.js';
import type { EmbeddedStore, RollupRow } from '../collector/sinks/embedded.js';
import type { Sample } from '../protocols/sample.js';
import type { PledgePoll } from './pledges.js';

/** The hourly figures of one period, read once and served to the report synchronously. */
export interface LoanHours {
  /** One rig's hourly rollups in the period, in hour order. */
  rollups(rigId: string): RollupRow[];
  /** Hour → the most covered seconds of any rig that hour (hours with none left out). */
  siteCovered(): Map<number, number>;
  /** Hour → the whole site's energy, Wh (hours where no rig has an energy figure left out). */
  siteWh(): Map<number, number>;
}

/** Which figures of a report come from where, when the source is not the collector's own embedded store. */
export interface DataProvenance {
  store: string;
  /** Words on how the source's figures are made. */
  method: string;
  /** Report fields (paths, `[]` for every item) read as stored or aggregated without estimate. */
  measured: string[];
  /** Report fields that are estimates, and why (the method above). */
  estimated: string[];
  /** Report fields from config alone (terms, schedule, nameplate, market inputs). */
  from_config: string[];
  /** How the pledged-vs-seen replay identifies rigs from this source. */
  reconciliation: string;
}

export interface LoanDataSource {
  /** Null: the collector's embedded store (exact rollups and raw samples; the report carries no `data_source`). */
  readonly provenance: DataProvenance | null;
  /** False when the stored polls carry no serial numbers (pledges then match by MAC alone). */
  readonly serials: boolean;
  /** Hourly figures of [hourFromMs, toMs). */
  hours(hourFromMs: number, toMs: number): LoanHours | Promise<LoanHours>;
  /** Stored polls of [fromMs, toMs), by time then rig id. */
  polls(fromMs: number, toMs: number): PledgePoll[] | Promise<PledgePoll[]>;
}

/** Site covered seconds and energy per hour from every rig's rollups (InfluxDB, memory): the SQL's rules. */
export function siteHours(rows: Iterable<RollupRow>): {
  covered: Map<number, number>;
  wh: Map<number, number>;
} {
  const covered = new Map<number, number>();
  const wh = new Map<number, number>();
  for (const r of rows) {
    if (r.covered_s > 0) covered.set(r.hour_ms, Math.max(covered.get(r.hour_ms) ?? 0, r.covered_s));
    if (r.energy_wh !== null) wh.set(r.hour_ms, (wh.get(r.hour_ms) ?? 0) + r.energy_wh);
  }
  return {
    covered: new Map([...covered].sort((a, b) => a[0] - b[0])),
    wh: new Map([...wh].sort((a, b) => a[0] - b[0])),
  };
}

/** The embedded store of `rigtel run`: its hourly rollups and raw samples, read synchronously. */
export class EmbeddedLoanSource implements LoanDataSource {
  readonly provenance = null;
  readonly serials = true;
  readonly #store: EmbeddedStore;

  constructor(store: EmbeddedStore) {
    this.#store = store;
  }

  hours(hourFromMs: number, toMs: number): LoanHours {
    const db = this.#store.db;
    return {
      rollups: (rigId) => this.#store.rollups(rigId, hourFromMs, toMs),
      siteCovered: () => {
        const out = new Map<number, number>();
        for (const row of db
          .prepare(
            'SELECT hour_ms, MAX(covered_s) AS c FROM rollups WHERE hour_ms >= ? AND hour_ms < ? GROUP BY hour_ms',
          )
          .all(hourFromMs, toMs) as { hour_ms: number; c: number }[])
          if (row.c > 0) out.set(row.hour_ms, row.c);
        return out;
      },
      siteWh: () => {
        const out = new Map<number, number>();
        for (const row of db
          .prepare(
            'SELECT hour_ms, SUM(energy_wh) AS wh FROM rollups WHERE hour_ms >= ? AND hour_ms < ? AND energy_wh IS NOT NULL GROUP BY hour_ms',
          )
          .all(hourFromMs, toMs) as { hour_ms: number; wh: number }[])
          out.set(row.hour_ms, row.wh);
        return out;
      },
    };
  }

  polls(fromMs: number, toMs: number): PledgePoll[] {
    const rows = this.#store.db
      .prepare(
        'SELECT rig_id, at_ms, ok, state, hashrate_hs FROM samples WHERE at_ms >= ? AND at_ms < ? ORDER BY at_ms, rig_id',
      )
      .all(fromMs, toMs) as {
      rig_id: string;
      at_ms: number;
      ok: number;
      state: string;
      hashrate_hs: number | null;
    }[];
    return rows.map((row) => {
      // Identity, boards and address are in the sample's stored detail (the store's own reader).
      const d = (this.#store.detail(row.rig_id, row.at_ms) ?? {}) as {
        identity?: Partial<Sample['identity']>;
        boards?: Sample['boards'];
        address?: string;
      };
      const boards = d.boards?.length ?? 0;
      return {
        rig_id: row.rig_id,
        address: d.address ?? row.rig_id,
        at_ms: row.at_ms,
        ok: row.ok === 1,
        state: row.state,
        hashrate_hs: row.hashrate_hs,
        identity: {
          serial: d.identity?.serial?.trim() || null,
          mac: normalizeMac(d.identity?.mac),
          model: d.identity?.model ?? null,
          firmware: d.identity?.firmware ?? null,
          boards: boards > 0 ? boards : null,
        },
      };
    });
  }
}
