/**
 * Where a loan's figures come from: the reads `LoanService` makes, behind one interface, so the same reports are
 * issued by `rigtel run` (its embedded store, `EmbeddedLoanSource` here) and by a standalone `rigtel api`
 * (InfluxDB, loans/influx-source.ts).
 *
 * - `hours`: per-rig hourly rollups over a period, and the whole site's covered seconds and energy per hour;
 * - `polls`: the stored polls of the pledged-vs-seen window, reduced to what the `PledgeWatcher` reads;
 * - `replayWindow` (optional): the same window reduced to what a report's replay can use (`ReplayWindow`), so a
 *   report at 10,000 rigs does not hold every poll of every rig in memory.
 *
 * Each read may answer at once (the embedded store) or with a promise (InfluxDB). A source that estimates
 * figures says which in its `provenance`, which the signed report carries as `data_source`.
 */
import { normalizeMac } from '../collector/identity.js';
import type { EmbeddedStore, RollupRow } from '../collector/sinks/embedded.js';
import { RIG_STATES, type Sample } from '../protocols/sample.js';
import type { PledgePoll, SeenIdentity, UnpledgedRig } from './pledges.js';

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
  /**
   * The polls of [fromMs, toMs) reduced to what a replay through a fresh `PledgeWatcher` can use
   * (`ReplayWindow`); `pledged` says whether an identity matches one of the loan's pledges (the watcher's own
   * rule). Without it the report replays every poll of `polls`.
   */
  replayWindow?(
    fromMs: number,
    toMs: number,
    pledged: (id: SeenIdentity) => boolean,
    opts?: ReplayOptions,
  ): ReplayWindow | Promise<ReplayWindow>;
}

/** About how many polls of the full replay are read (and held) at once. */
const REPLAY_SLICE_ROWS = 10_000;

export interface ReplayOptions {
  /**
   * Read in steps of about this many ms of work, giving the event loop a turn between steps (a promise is
   * returned). Absent: read at once (synchronously for the embedded store).
   */
  stepMs?: number;
  /** About how many polls of the full replay are read at once (default REPLAY_SLICE_ROWS; tests set it small). */
  sliceRows?: number;
}

/**
 * A replay window, reduced. A poll can change a pledge's status only if its identity matches a pledge or it
 * comes from an address where a pledged identity answered (the watcher's `address → pledge` map is filled only by
 * answering polls that match a pledge, and never emptied). Every other poll can only add its rig to the
 * unpledged list (when it answers) or move that rig's last sighting. So a replay over `polls`, then
 * `others` merged in (`PledgeWatcher.mergeUnpledged`), gives the same pledged and unpledged lists as a replay
 * over every poll of the window.
 */
export interface ReplayWindow {
  /** Every stored poll of the window, counted (the report's `reconciliation_window.samples`). */
  samples: number;
  /**
   * Every poll of each (rig, identity, address) whose address is one where a pledged identity answered in the
   * window, in the window's order (time, then rig id). May be read lazily: iterate it once, right away. An
   * asynchronous source (InfluxDB) may give an async iterable, which only `reportAsync` reads.
   */
  polls: Iterable<PledgePoll> | AsyncIterable<PledgePoll>;
  /**
   * Per rig, over its other polls that answered: the first (address, identity, time) and the last time; the
   * rigs whose other polls never answered are left out.
   */
  others: UnpledgedRig[];
}

/** What a stored detail gives the replay: its address (null: the rig id stands for it) and the seen identity. */
export function replayIdentity(detail: Record<string, unknown> | null): {
  address: string | null;
  identity: SeenIdentity;
} {
  const d = (detail ?? {}) as {
    identity?: Partial<Sample['identity']>;
    boards?: Sample['boards'];
    address?: string;
  };
  const boards = d.boards?.length ?? 0;
  return {
    address: d.address ?? null,
    identity: {
      serial: d.identity?.serial?.trim() || null,
      mac: normalizeMac(d.identity?.mac),
      model: d.identity?.model ?? null,
      firmware: d.identity?.firmware ?? null,
      boards: boards > 0 ? boards : null,
    },
  };
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
    /** Hour → `v` of one site-wide aggregate over the period's rollups (`keep` drops hours without a figure). */
    const perHour = (sql: string, keep: (v: number) => boolean) => {
      const out = new Map<number, number>();
      for (const row of this.#store.db.prepare(sql).all(hourFromMs, toMs) as { hour_ms: number; v: number }[])
        if (keep(row.v)) out.set(row.hour_ms, row.v);
      return out;
    };
    return {
      rollups: (rigId) => this.#store.rollups(rigId, hourFromMs, toMs),
      siteCovered: () =>
        perHour(
          'SELECT hour_ms, MAX(covered_s) AS v FROM rollups WHERE hour_ms >= ? AND hour_ms < ? GROUP BY hour_ms',
          (v) => v > 0,
        ),
      siteWh: () =>
        perHour(
          'SELECT hour_ms, SUM(energy_wh) AS v FROM rollups WHERE hour_ms >= ? AND hour_ms < ? AND energy_wh IS NOT NULL GROUP BY hour_ms',
          () => true,
        ),
    };
  }

  /** Every poll of the window at once (reports read `replayWindow` instead; this one holds the whole window). */
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

  /**
   * The window reduced (`ReplayWindow`), read rig by rig through the (rig, at_ms) index so the cost follows the
   * window, not the raw retention. Each statement reads its own snapshot (a read transaction held across turns
   * of the event loop would wrap whatever else runs on this connection meanwhile): a closed period's polls do not
   * change, and an open period's report is not chained.
   *
   * 1. For every rig, its polls of the window grouped by stored detail shape: count, first and last answering
   *    poll (SQL aggregates; no row comes to JavaScript).
   * 2. Each distinct shape is decoded once: identity, board count and address are strings and array lengths,
   *    which the shape keeps as stored (only numbers are split off into `nums`, and none of those is read here).
   * 3. Addresses where a pledged identity answered; every poll of a (rig, shape) at one of them is read in full,
   *    ordered as the window (time, then rig id in SQLite's order), a time slice at a time as the replay pulls
   *    them (`polls` is lazy); the other groups give first/last sightings.
   */
  replayWindow(fromMs: number, toMs: number, pledged: (id: SeenIdentity) => boolean): ReplayWindow;
  replayWindow(
    fromMs: number,
    toMs: number,
    pledged: (id: SeenIdentity) => boolean,
    opts: ReplayOptions,
  ): ReplayWindow | Promise<ReplayWindow>;
  replayWindow(
    fromMs: number,
    toMs: number,
    pledged: (id: SeenIdentity) => boolean,
    opts: ReplayOptions = {},
  ): ReplayWindow | Promise<ReplayWindow> {
    const steps = this.#replaySteps(fromMs, toMs, pledged, opts.sliceRows ?? REPLAY_SLICE_ROWS);
    const stepMs = opts.stepMs;
    if (stepMs === undefined)
      for (;;) {
        const r = steps.next();
        if (r.done) return r.value;
      }
    return (async () => {
      let since = performance.now();
      for (;;) {
        const r = steps.next();
        if (r.done) return r.value;
        if (performance.now() - since >= stepMs) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          since = performance.now();
        }
      }
    })();
  }

  /** The reads of `replayWindow`, one rig at a time (a `yield` after each). */
  *#replaySteps(
    fromMs: number,
    toMs: number,
    pledged: (id: SeenIdentity) => boolean,
    sliceRows: number,
  ): Generator<void, ReplayWindow, void> {
    const db = this.#store.db;
    const off = RIG_STATES.indexOf('offline');
    const rigs = db.prepare('SELECT id, rig_id FROM rigs ORDER BY rig_id').all() as {
      id: number;
      rig_id: string;
    }[];
    const groupsOf = db.prepare(
      `SELECT shape, COUNT(*) AS n, MIN(CASE WHEN ok = 1 AND state <> ${off} THEN at_ms END) AS first_up,
         MAX(CASE WHEN ok = 1 AND state <> ${off} THEN at_ms END) AS last_up
       FROM readings WHERE rig = ? AND at_ms >= ? AND at_ms < ? GROUP BY shape`,
    );
    const shapeOf = db.prepare('SELECT shape FROM details WHERE id = ?').pluck();
    const decoded = new Map<number | null, ReturnType<typeof replayIdentity>>();
    const decode = (shape: number | null) => {
      let d = decoded.get(shape);
      if (!d) {
        const text = shape === null ? undefined : (shapeOf.get(shape) as string | undefined);
        d = replayIdentity(text === undefined ? null : (JSON.parse(text) as Record<string, unknown>));
        decoded.set(shape, d);
      }
      return d;
    };
    interface Group {
      rank: number;
      shape: number | null;
      n: number;
      address: string;
      identity: SeenIdentity;
      first_up: number | null;
      last_up: number | null;
    }
    const groups: Group[] = [];
    const pledgedAt = new Set<string>();
    let samples = 0;
    for (let rank = 0; rank < rigs.length; rank++) {
      const rig = rigs[rank]!;
      for (const g of groupsOf.all(rig.id, fromMs, toMs) as {
        shape: number | null;
        n: number;
        first_up: number | null;
        last_up: number | null;
      }[]) {
        samples += g.n;
        const d = decode(g.shape);
        const address = d.address ?? rig.rig_id;
        groups.push({
          rank,
          shape: g.shape,
          n: g.n,
          address,
          identity: d.identity,
          first_up: g.first_up,
          last_up: g.last_up,
        });
        if (g.first_up !== null && pledged(d.identity)) pledgedAt.add(address);
      }
      yield;
    }
    // Rig rank → the shapes of it replayed in full.
    const full = new Map<number, Set<number | null>>();
    const others = new Map<number, UnpledgedRig>();
    for (const g of groups) {
      if (pledgedAt.has(g.address)) {
        const set = full.get(g.rank) ?? new Set();
        set.add(g.shape);
        full.set(g.rank, set);
        continue;
      }
      if (g.first_up === null || g.last_up === null) continue;
      const known = others.get(g.rank);
      if (!known)
        others.set(g.rank, {
          rig_id: rigs[g.rank]!.rig_id,
          address: g.address,
          identity: g.identity,
          first_seen_ms: g.first_up,
          last_seen_ms: g.last_up,
        });
      else {
        if (g.first_up < known.first_seen_ms) {
          known.first_seen_ms = g.first_up;
          known.address = g.address;
          known.identity = g.identity;
        }
        known.last_seen_ms = Math.max(known.last_seen_ms, g.last_up);
      }
    }
    // The polls replayed in full are read when the replay pulls them, a slice of the window at a time (about
    // `sliceRows` polls), so a loan pledging every rig does not hold the window in memory either.
    let replayed = 0;
    for (const g of groups) if (full.get(g.rank)?.has(g.shape)) replayed += g.n;
    const sliceMs = Math.max(1, Math.floor(((toMs - fromMs) * sliceRows) / Math.max(1, replayed)));
    const rigList = JSON.stringify([...full.keys()].map((rank) => rigs[rank]!.id));
    const rankOf = new Map([...full.keys()].map((rank) => [rigs[rank]!.id, rank]));
    const sliceOf = db.prepare(
      'SELECT rig, at_ms, ok, state, hashrate_hs, shape FROM readings WHERE rig IN (SELECT value FROM json_each(?)) AND at_ms >= ? AND at_ms < ?',
    );
    function* polls(): Generator<PledgePoll, void, void> {
      if (full.size === 0) return;
      for (let t = fromMs; t < toMs; t += sliceMs) {
        const slice: (PledgePoll & { rank: number })[] = [];
        for (const row of sliceOf.all(rigList, t, Math.min(toMs, t + sliceMs)) as {
          rig: number;
          at_ms: number;
          ok: number;
          state: number;
          hashrate_hs: number | null;
          shape: number | null;
        }[]) {
          const rank = rankOf.get(row.rig)!;
          if (!full.get(rank)!.has(row.shape)) continue;
          const d = decode(row.shape);
          const rigId = rigs[rank]!.rig_id;
          slice.push({
            rank,
            rig_id: rigId,
            address: d.address ?? rigId,
            at_ms: row.at_ms,
            ok: row.ok === 1,
            // The `samples` view's CASE: an index out of range reads as null.
            state: (RIG_STATES[row.state] ?? null) as string,
            hashrate_hs: row.hashrate_hs,
            identity: d.identity,
          });
        }
        slice.sort((a, b) => a.at_ms - b.at_ms || a.rank - b.rank);
        yield* slice;
      }
    }
    return { samples, polls: polls(), others: [...others.values()] };
  }
}
