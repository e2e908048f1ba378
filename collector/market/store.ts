/**
 * Recorded market inputs in their own SQLite file, `<storage.dir>/market.sqlite`. Every value is kept with the
 * instant it holds from, where it came from and on what basis, so a figure over a past period uses the values
 * that held then. Values are decimal strings, so nothing passes through a binary double on the way.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage } from '../../lib/errors.js';
import { MarketErrors } from './errors.js';

export const MARKET_KINDS = ['difficulty', 'height', 'fees_btc_per_block', 'fee_share', 'price_usd'] as const;
export type MarketKind = (typeof MARKET_KINDS)[number];

export interface MarketValue {
  kind: MarketKind;
  /** The instant the value holds from (UTC ms): retarget time, block time, price time. */
  at_ms: number;
  /** Decimal string (`"83148355189239.77"`). */
  value: string;
  /** Provider name, `config`, `import:<file>` or `demo`. */
  source: string;
  /** How the value was formed, e.g. `per-block actual`, `144-block average`, `24 h fee share`, `spot`. */
  basis: string;
  /** When rigtel recorded it. */
  recorded_ms: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS market_values (
  kind TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  source TEXT NOT NULL,
  value TEXT NOT NULL,
  basis TEXT NOT NULL,
  recorded_ms INTEGER NOT NULL,
  PRIMARY KEY (kind, at_ms, source)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS market_at ON market_values (kind, at_ms);
`;

export class MarketStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly st: Record<string, Database.Statement>;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
    this.st = {
      put: db.prepare(
        `INSERT INTO market_values (kind, at_ms, source, value, basis, recorded_ms) VALUES (?,?,?,?,?,?)
         ON CONFLICT(kind, at_ms, source) DO UPDATE SET value=excluded.value, basis=excluded.basis,
           recorded_ms=excluded.recorded_ms`,
      ),
      latest: db.prepare(
        'SELECT * FROM market_values WHERE kind = ? ORDER BY at_ms DESC, recorded_ms DESC LIMIT 1',
      ),
      before: db.prepare(
        'SELECT * FROM market_values WHERE kind = ? AND at_ms < ? ORDER BY at_ms DESC, recorded_ms DESC LIMIT 1',
      ),
      range: db.prepare(
        'SELECT * FROM market_values WHERE kind = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms',
      ),
    };
  }

  /** Open (or create) `market.sqlite` in `dir`; `:memory:` for a throwaway store. */
  static open(dir: string): MarketStore {
    const file = dir === ':memory:' ? dir : join(dir, 'market.sqlite');
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (err) {
      throw MarketErrors.storeOpen.with({ cause: err }, file, errorMessage(err));
    }
    try {
      db.pragma('journal_mode = WAL');
      db.exec(SCHEMA);
    } catch (err) {
      db.close();
      throw MarketErrors.storeOpen.with({ cause: err }, file, errorMessage(err));
    }
    return new MarketStore(file, db);
  }

  record(values: readonly MarketValue[]): void {
    this.db.transaction(() => {
      for (const v of values) this.st.put!.run(v.kind, v.at_ms, v.source, v.value, v.basis, v.recorded_ms);
    })();
  }

  latest(kind: MarketKind): MarketValue | null {
    return (this.st.latest!.get(kind) as MarketValue | undefined) ?? null;
  }

  /** Values of `kind` in [fromMs, toMs), preceded by the last one before fromMs (the one in force at fromMs). */
  series(kind: MarketKind, fromMs: number, toMs: number): MarketValue[] {
    const before = this.st.before!.get(kind, fromMs) as MarketValue | undefined;
    const rows = this.st.range!.all(kind, fromMs, toMs) as MarketValue[];
    return before ? [before, ...rows] : rows;
  }

  /** Every value in [fromMs, toMs), all kinds, by time. */
  history(fromMs: number, toMs: number): MarketValue[] {
    return MARKET_KINDS.flatMap((k) => this.st.range!.all(k, fromMs, toMs) as MarketValue[]).sort(
      (a, b) => a.at_ms - b.at_ms || a.kind.localeCompare(b.kind),
    );
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
