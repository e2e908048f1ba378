/**
 * The one normalized sample type that flows protocols → collector → journal → sinks → api.
 *
 * Rules (docs/ARCHITECTURE.md):
 * - units are in the field names: hashrate in H/s (`_hs`), power W (`_w`), energy Wh (`_wh`), °C (`_c`),
 *   fan speed rpm (`_rpm`), durations s (`_s`) or ms (`_ms`), times ms since epoch UTC (`_ms`);
 * - a missing reading is `null`, never 0; an offline rig has no current values;
 * - every power figure says where it came from (`power_source`).
 *
 * Protocol drivers return a `MinerReading` (what the miner said, normalized). The collector wraps it into a
 * `Sample` with identity, timestamp (its own clock, taken when the poll starts) and the poll's own outcome.
 */

export type PowerSource = 'pdu' | 'miner' | 'estimate';

/**
 * - mining: hashing normally
 * - ramping: tuning / warming up (Whatsminer `Upfreq Complete:0`, LuxOS `IsRamping`)
 * - sleeping: idle or paused on purpose (Antminer `Mode:254`, Whatsminer `mineroff`)
 * - curtailed: hashing deliberately below nameplate (power-limited profile)
 * - offline: did not answer this poll
 * - error: answered, but reports a fault (no boards, all chains dead…)
 */
export const RIG_STATES = ['mining', 'ramping', 'sleeping', 'curtailed', 'offline', 'error'] as const;
export type RigState = (typeof RIG_STATES)[number];

/** Families rigtel reads; `unknown` is a device it could not identify. */
export const FAMILIES = [
  'antminer',
  'cgminer',
  'whatsminer',
  'avalon',
  'braiins',
  'luxos',
  'vnish',
  'innosilicon',
  'bitaxe',
  'unknown',
] as const;
export type Family = (typeof FAMILIES)[number];

/** How much of the reply rigtel understood. `partial`/`unsupported` samples keep `raw` for diagnosis. */
export type Support = 'full' | 'partial' | 'unsupported';

export interface RigIdentity {
  family: Family;
  /** Manufacturer, e.g. "Bitmain", "MicroBT", "Canaan". */
  make: string | null;
  /** Model as the miner names it, cleaned of firmware suffixes, e.g. "Antminer S19 Pro". */
  model: string | null;
  /** Firmware / miner software, e.g. "bmminer 1.0.0 (Miner 49.0.1.3)", "Braiins OS+ 0.2.0". */
  firmware: string | null;
  mac: string | null;
  serial: string | null;
  hostname: string | null;
}

export interface BoardReading {
  /** 0-based physical position (firmware slot offsets such as S9 chains 6–8 are mapped away). */
  index: number;
  hashrate_hs: number | null;
  hashrate_nominal_hs: number | null;
  temp_board_c: number | null;
  temp_chip_c: number | null;
  /** Water/air inlet and outlet where the board reports them (hydro models). */
  temp_inlet_c: number | null;
  temp_outlet_c: number | null;
  chips: number | null;
  chips_expected: number | null;
  hw_errors: number | null;
  frequency_mhz: number | null;
  /** Board power where the firmware reports it per chain (Hiveon `chain_power`). */
  power_w: number | null;
}

export interface FanReading {
  index: number;
  rpm: number | null;
}

export interface PoolReading {
  index: number;
  url: string | null;
  user: string | null;
  /** Firmware's own word: Alive, Dead, Disabled… */
  status: string | null;
  /** The pool actually in use (`Stratum Active`). */
  active: boolean | null;
  accepted: number | null;
  rejected: number | null;
  stale: number | null;
}

/** What a protocol driver read from one rig in one poll, normalized. */
export interface MinerReading {
  identity: RigIdentity;
  state: RigState;
  /**
   * True when no firmware signal states the state and it was inferred from the figures instead — above all
   * zero hashrate with no sleep signal, where a sleeping rig and a dead one look the same. `notes` then list
   * the signals it was inferred from. False when the firmware said it (Antminer `Mode` 254, Whatsminer
   * `btmineroff`) or the figures leave no doubt (hashing).
   */
  state_inferred: boolean;
  /** Current (short-window) hashrate. */
  hashrate_hs: number | null;
  /** Average since the miner process started (or the firmware's long window). */
  hashrate_avg_hs: number | null;
  /** Nameplate / ideal hashrate as the miner reports it (or the model table, see `hashrate_nominal_source`). */
  hashrate_nominal_hs: number | null;
  temp_board_max_c: number | null;
  temp_chip_max_c: number | null;
  temp_inlet_c: number | null;
  temp_outlet_c: number | null;
  /** Power the miner itself reports (PSU); metered and estimated power are added by the collector. */
  power_w: number | null;
  power_source: PowerSource | null;
  /** Miner process uptime (`Elapsed`). */
  uptime_s: number | null;
  shares_accepted: number | null;
  shares_rejected: number | null;
  shares_stale: number | null;
  hw_errors: number | null;
  /** Sum of accepted share difficulty: Δ × 2^32 / Δt is the work-done hashrate. */
  difficulty_accepted: number | null;
  boards: BoardReading[];
  fans: FanReading[];
  pools: PoolReading[];
  support: Support;
  /** Named repairs applied to malformed replies, e.g. "missing-comma-between-objects". */
  repairs: string[];
  /** Human notes about what could not be read ("no stats: Code 45 access denied"). */
  notes: string[];
  /** Raw reply text, kept only when support is not `full`, capped in size. */
  raw: string | null;
}

export interface PollOutcome {
  ok: boolean;
  /** Wall time the poll took. */
  duration_ms: number;
  /** `RT_ERR_…` when the poll failed or was partial. */
  error_code: string | null;
  error_message: string | null;
}

/** One poll of one rig, as stored and served. */
export interface Sample extends MinerReading {
  /** Sample schema version, bumped on incompatible change. */
  v: 1;
  /** Asset id: MAC when known, else the configured name, else host:port. */
  rig_id: string;
  site: string;
  /** host:port that was polled. */
  address: string;
  /** Collector clock when the poll started (ms since epoch, UTC). */
  at_ms: number;
  /** The miner's own power claim, kept next to a metered value when both exist. */
  power_miner_w: number | null;
  /** Cumulative metered energy where a PDU counts it (Wh), null otherwise. */
  energy_wh: number | null;
  poll: PollOutcome;
}

export function emptyIdentity(family: Family = 'unknown'): RigIdentity {
  return { family, make: null, model: null, firmware: null, mac: null, serial: null, hostname: null };
}

/** A reading with every figure missing: the starting point for parsers and for offline samples. */
export function emptyReading(family: Family = 'unknown'): MinerReading {
  return {
    identity: emptyIdentity(family),
    state: 'offline',
    state_inferred: false,
    hashrate_hs: null,
    hashrate_avg_hs: null,
    hashrate_nominal_hs: null,
    temp_board_max_c: null,
    temp_chip_max_c: null,
    temp_inlet_c: null,
    temp_outlet_c: null,
    power_w: null,
    power_source: null,
    uptime_s: null,
    shares_accepted: null,
    shares_rejected: null,
    shares_stale: null,
    hw_errors: null,
    difficulty_accepted: null,
    boards: [],
    fans: [],
    pools: [],
    support: 'full',
    repairs: [],
    notes: [],
    raw: null,
  };
}

export function emptyBoard(index: number): BoardReading {
  return {
    index,
    hashrate_hs: null,
    hashrate_nominal_hs: null,
    temp_board_c: null,
    temp_chip_c: null,
    temp_inlet_c: null,
    temp_outlet_c: null,
    chips: null,
    chips_expected: null,
    hw_errors: null,
    frequency_mhz: null,
    power_w: null,
  };
}

/** Unit multipliers to H/s. */
export const HS = { H: 1, KH: 1e3, MH: 1e6, GH: 1e9, TH: 1e12, PH: 1e15 } as const;
