/**
 * Market providers. Each `fetch` asks its source once (with its own deadline) and returns values to record;
 * it throws RT_ERR_MARKET_PROVIDER on an outage or a reply of the wrong shape.
 *
 * - mempool-style HTTP API (mempool.space REST): `GET /api/v1/mining/difficulty-adjustments/3m` (tuples
 *   `[time_s, height, difficulty, change]`), `GET /api/blocks/tip/height` (plain number),
 *   `GET /api/v1/mining/reward-stats/144` (`{startBlock, endBlock, totalReward, totalFee, totalTx}`, sat
 *   amounts as strings), `GET /api/v1/prices` (`{time, USD, …}`), and for days missed during an outage
 *   `GET /api/v1/historical-price?currency=USD&timestamp=<s>` (`{prices: [{time, USD, …}], exchangeRates}`: the
 *   latest recorded close at or before the timestamp).
 * - Bitcoin Core JSON-RPC: `getblockchaininfo` (`blocks`, `difficulty`), the retarget block's header
 *   (`getblockhash`, `getblockheader`: its `time` is when the difficulty took effect) and `getblockstats` of the
 *   tip (`height`, `time`, `subsidy`, `totalfee`, per-block actual).
 * - fixed values from config (or the built-in demo).
 */
import { errorMessage } from '../../lib/errors.js';
import { MarketErrors } from './errors.js';
import type { MarketKind, MarketValue } from './store.js';

export interface Provider {
  name: string;
  kind: 'mempool' | 'bitcoind' | 'fixed';
  refresh_ms: number;
  fetch(nowMs: number): Promise<MarketValue[]>;
  /**
   * The USD price recorded at or before `atMs` (a past close), for days missed while the provider was down;
   * null when the source has none. Only providers with a price history have it.
   */
  historicalPrice?(atMs: number, nowMs: number): Promise<MarketValue | null>;
}

type Fail = (why: string) => never;

async function getJson(url: string, timeoutMs: number, fail: Fail, init?: RequestInit): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const e = err as Error;
    fail(
      e.name === 'TimeoutError'
        ? `no reply within ${timeoutMs} ms (${url})`
        : `${errorMessage(err)} (${url})`,
    );
  }
  const text = await res!.text().catch(() => '');
  if (!res!.ok && !init?.method) fail(`HTTP ${res!.status} from ${url}`);
  try {
    return JSON.parse(text);
  } catch {
    return fail(`reply from ${url} is not JSON: ${text.slice(0, 60)}`);
  }
}

function decimalText(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v.trim())) return v.trim();
  return null;
}

function value(
  kind: MarketKind,
  atMs: number,
  v: string,
  source: string,
  basis: string,
  now: number,
): MarketValue {
  return { kind, at_ms: atMs, value: v, source, basis, recorded_ms: now };
}

/** 8-place BTC decimal string from an integer number of satoshis (exact). */
export function satsText(sats: bigint): string {
  const neg = sats < 0n;
  const s = neg ? -sats : sats;
  return `${neg ? '-' : ''}${s / 100_000_000n}.${(s % 100_000_000n).toString().padStart(8, '0')}`;
}

export function mempoolProvider(opts: {
  name: string;
  url: string;
  timeout_ms: number;
  refresh_ms: number;
}): Provider {
  const base = opts.url.replace(/\/+$/, '');
  const fail: Fail = (why) => {
    throw MarketErrors.provider(opts.name, why);
  };
  return {
    name: opts.name,
    kind: 'mempool',
    refresh_ms: opts.refresh_ms,
    async fetch(now) {
      const out: MarketValue[] = [];
      const src = opts.name;
      const adj = await getJson(`${base}/api/v1/mining/difficulty-adjustments/3m`, opts.timeout_ms, fail);
      if (!Array.isArray(adj))
        fail('difficulty-adjustments: expected an array of [time, height, difficulty, change]');
      for (const row of adj as unknown[]) {
        if (!Array.isArray(row) || row.length < 3)
          fail('difficulty-adjustments: a row is not [time, height, difficulty, …]');
        const [t, h, d] = row as unknown[];
        const dt = decimalText(d);
        if (typeof t !== 'number' || typeof h !== 'number' || !Number.isInteger(h) || dt === null) {
          fail('difficulty-adjustments: a row has a non-numeric time, height or difficulty');
        }
        out.push(
          value('difficulty', (t as number) * 1000, dt!, src, 'retarget (difficulty-adjustments)', now),
        );
        out.push(value('height', (t as number) * 1000, String(h), src, 'retarget block', now));
      }
      const tip = await getJson(`${base}/api/blocks/tip/height`, opts.timeout_ms, fail);
      if (typeof tip !== 'number' || !Number.isInteger(tip) || tip < 0)
        fail('blocks/tip/height: expected a whole number');
      out.push(value('height', now, String(tip), src, 'tip at fetch', now));
      const rs = (await getJson(`${base}/api/v1/mining/reward-stats/144`, opts.timeout_ms, fail)) as Record<
        string,
        unknown
      >;
      const fee = decimalText(rs?.totalFee);
      const first = rs?.startBlock;
      const last = rs?.endBlock;
      if (fee === null || !/^\d+$/.test(fee) || typeof first !== 'number' || typeof last !== 'number') {
        fail('reward-stats: expected {startBlock, endBlock, totalFee}');
      }
      const blocks = BigInt(Math.abs((last as number) - (first as number)) + 1);
      // Fees per block as an exact 8-place figure: total sats / blocks, rounded half to even to a satoshi.
      const totalFee = BigInt(fee!);
      let per = totalFee / blocks;
      const r2 = (totalFee % blocks) * 2n;
      if (r2 > blocks || (r2 === blocks && per % 2n === 1n)) per += 1n;
      out.push(
        value('fees_btc_per_block', now, satsText(per), src, `${blocks}-block average (reward-stats)`, now),
      );
      const prices = (await getJson(`${base}/api/v1/prices`, opts.timeout_ms, fail)) as Record<
        string,
        unknown
      >;
      const usd = decimalText(prices?.USD);
      if (usd === null || typeof prices?.time !== 'number') fail('prices: expected {time, USD}');
      out.push(value('price_usd', (prices.time as number) * 1000, usd!, src, 'spot (prices)', now));
      return out;
    },
    async historicalPrice(atMs, now) {
      const ts = Math.floor(atMs / 1000);
      const reply = (await getJson(
        `${base}/api/v1/historical-price?currency=USD&timestamp=${ts}`,
        opts.timeout_ms,
        fail,
      )) as { prices?: unknown };
      if (!Array.isArray(reply?.prices)) fail('historical-price: expected {prices: [{time, USD}]}');
      const first = (reply.prices as unknown[])[0] as Record<string, unknown> | undefined;
      if (first === undefined) return null;
      const usd = decimalText(first?.USD);
      if (usd === null || typeof first.time !== 'number' || !Number.isFinite(first.time))
        fail('historical-price: a price is not {time, USD}');
      // A close after the asked instant, or a zero/negative price, is not a price in force then.
      if ((first.time as number) > ts || !(Number(usd) > 0)) return null;
      return value(
        'price_usd',
        (first.time as number) * 1000,
        usd!,
        opts.name,
        'historical close (historical-price)',
        now,
      );
    },
  };
}

export function bitcoindProvider(opts: {
  name: string;
  url: string;
  username?: string | undefined;
  /** Revealed only to build the Authorization header of each call. */
  password?: { reveal(): string } | undefined;
  timeout_ms: number;
  refresh_ms: number;
}): Provider {
  const fail: Fail = (why) => {
    throw MarketErrors.provider(opts.name, why);
  };
  let id = 0;
  const call = async (method: string, params: unknown[]): Promise<unknown> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.username !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password?.reveal() ?? ''}`).toString('base64')}`;
    }
    const body = JSON.stringify({ jsonrpc: '1.0', id: ++id, method, params });
    const reply = (await getJson(opts.url, opts.timeout_ms, fail, { method: 'POST', headers, body })) as {
      result?: unknown;
      error?: { message?: string } | null;
    };
    if (reply?.error) fail(`${method}: ${String(reply.error.message ?? 'RPC error')}`);
    if (reply?.result === undefined) fail(`${method}: no result in the reply`);
    return reply.result;
  };
  return {
    name: opts.name,
    kind: 'bitcoind',
    refresh_ms: opts.refresh_ms,
    async fetch(now) {
      const src = opts.name;
      const info = (await call('getblockchaininfo', [])) as Record<string, unknown>;
      const blocks = info?.blocks;
      if (typeof blocks !== 'number' || !Number.isInteger(blocks)) fail('getblockchaininfo: no blocks');
      const retarget = Math.floor((blocks as number) / 2016) * 2016;
      const hash = await call('getblockhash', [retarget]);
      if (typeof hash !== 'string') fail('getblockhash: expected a hash');
      const header = (await call('getblockheader', [hash])) as Record<string, unknown>;
      const d = decimalText(header?.difficulty);
      if (d === null || typeof header?.time !== 'number') fail('getblockheader: expected {time, difficulty}');
      const out: MarketValue[] = [
        value(
          'difficulty',
          (header.time as number) * 1000,
          d!,
          src,
          `retarget block ${retarget} header`,
          now,
        ),
        value('height', (header.time as number) * 1000, String(retarget), src, 'retarget block', now),
      ];
      const stats = (await call('getblockstats', [
        blocks,
        ['height', 'time', 'subsidy', 'totalfee'],
      ])) as Record<string, unknown>;
      if (
        typeof stats?.time !== 'number' ||
        typeof stats?.totalfee !== 'number' ||
        typeof stats?.height !== 'number'
      ) {
        fail('getblockstats: expected {height, time, totalfee}');
      }
      const at = (stats.time as number) * 1000;
      out.push(value('height', at, String(stats.height), src, 'block time', now));
      out.push(
        value(
          'fees_btc_per_block',
          at,
          satsText(BigInt(stats.totalfee as number)),
          src,
          'per-block actual',
          now,
        ),
      );
      return out;
    },
  };
}

export interface FixedValues {
  difficulty?: number | undefined;
  height?: number | undefined;
  fees_btc_per_block?: number | undefined;
  fee_share?: number | undefined;
  btc_price_usd?: number | undefined;
}

/** Fixed values, recorded at the time of each refresh. */
export function fixedProvider(name: string, values: FixedValues, refreshMs = 600_000): Provider {
  const basis = name === 'demo' ? 'built-in demo value' : 'fixed in config';
  return {
    name,
    kind: 'fixed',
    refresh_ms: refreshMs,
    async fetch(now) {
      const out: MarketValue[] = [];
      const add = (k: MarketKind, v: number | undefined) => {
        if (v !== undefined) out.push(value(k, now, String(v), name, basis, now));
      };
      add('difficulty', values.difficulty);
      add('height', values.height);
      add('fees_btc_per_block', values.fees_btc_per_block);
      if (values.fees_btc_per_block === undefined) add('fee_share', values.fee_share);
      add('price_usd', values.btc_price_usd);
      return out;
    },
  };
}

/** Values the built-in demo records when no market is configured (no outside service is called). */
export const DEMO_MARKET: FixedValues = {
  difficulty: 149_301_214_167_000,
  height: 925_000,
  fees_btc_per_block: 0.025,
  btc_price_usd: 90_000,
};
