/**
 * Per-rig Prometheus series (`/metrics`), rendered once per rig change and kept. A scrape at 10,000 rigs is
 * ~170,000 lines; formatting them all per scrape blocked the event loop for seconds, so each rig's lines are
 * cached and a scrape only joins them. A rig's text is rebuilt when its sample (a new object per poll), state,
 * id or name changes; its age gauge is computed at scrape time behind a cached prefix.
 */
import type { RigStatus } from '../collector/views.js';
import type { Config } from '../config/schema.js';
import { redactText } from '../lib/secret.js';
import { RIG_STATES } from '../protocols/sample.js';
import { configuredRig, rigLocation } from './rig-view.js';

/** Prometheus label values: backslash, quote and newline escaped (exposition format 0.0.4). */
export function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The per-rig families, in exposition order. */
export const RIG_FAMILIES = [
  ['rigtel_rig_up', 'gauge', '1 when the rig answered its latest poll.'],
  ['rigtel_rig_state', 'gauge', '1 for the state the rig is in, 0 for the others.'],
  ['rigtel_rig_hashrate_hashes_per_second', 'gauge', 'Rig hashrate as the miner reports it.'],
  [
    'rigtel_rig_power_watts',
    'gauge',
    'Rig power by source: pdu (metered), miner (its own claim), estimate (model table).',
  ],
  ['rigtel_rig_chip_temperature_celsius', 'gauge', 'Hottest chip on the rig.'],
  ['rigtel_rig_board_temperature_celsius', 'gauge', 'Hottest board sensor on the rig.'],
  ['rigtel_rig_fan_speed_rpm', 'gauge', 'Fan speed in revolutions per minute.'],
  [
    'rigtel_rig_energy_joules_total',
    'counter',
    'Energy metered by the PDU outlet feeding the rig (its own cumulative counter).',
  ],
] as const;

export const AGE_FAMILY = [
  'rigtel_rig_age_seconds',
  'gauge',
  'Seconds since the rig last answered a poll.',
] as const;

/** Line prefixes of one rig (name and labels up to the value), rebuilt only when its labels change. */
interface Prefixes {
  up: string;
  /** One per RIG_STATES entry. */
  states: string[];
  hashrate: string;
  /** Up to the source value: `…,source="`. */
  power: string;
  chip: string;
  board: string;
  /** Up to the fan index: `…,fan="`. */
  fan: string;
  energy: string;
  age: string;
}

interface RigText {
  rig_id: string;
  name: string | null;
  model: string;
  state: RigStatus['state'];
  current: RigStatus['current'];
  prefixes: Prefixes;
  /**
   * The rig's lines of every family, back to back in one flat string; family i is offsets[i] to offsets[i + 1].
   * A scrape takes slices of it (no copy) and joins them once.
   */
  text: string;
  offsets: number[];
  /** Scrape that last saw this rig (entries of rigs gone from the fleet are dropped). */
  seen: number;
}

const [UP, STATE, HASHRATE, POWER, CHIP, BOARD, FANS, ENERGY] = RIG_FAMILIES.map(([n]) => n);

/**
 * Labelled with the rig id, its configured name, site, row, rack and model, so a dashboard can group by rack
 * without a join. Label text is redacted once here (it is the only free text in these lines).
 */
function prefixes(config: Config, rig: RigStatus, model: string): Prefixes {
  const loc = rigLocation(config, configuredRig(config, rig));
  const base = redactText(
    `rig="${label(rig.rig_id)}",name="${label(rig.name ?? rig.rig_id)}",site="${label(loc?.site ?? config.site.name)}",row="${label(loc?.row ?? '')}",rack="${label(loc?.rack ?? '')}",model="${label(model)}"`,
  );
  return {
    up: `${UP}{${base}} `,
    states: RIG_STATES.map((st) => `${STATE}{${base},state="${st}"} `),
    hashrate: `${HASHRATE}{${base}} `,
    power: `${POWER}{${base},source="`,
    chip: `${CHIP}{${base}} `,
    board: `${BOARD}{${base}} `,
    fan: `${FANS}{${base},fan="`,
    energy: `${ENERGY}{${base}} `,
    age: redactText(`${AGE_FAMILY[0]}{rig_id="${label(rig.rig_id)}"} `),
  };
}

/** A sample line, or '' when the figure is missing (left out, never exported as 0). */
function line(prefix: string, value: number | null): string {
  return value === null || !Number.isFinite(value) ? '' : `${prefix}${value}\n`;
}

/** The rig's text per family, in RIG_FAMILIES order. */
function render(p: Prefixes, rig: RigStatus): string[] {
  const s = rig.current;
  let states = '';
  for (let i = 0; i < RIG_STATES.length; i++)
    states += `${p.states[i]}${rig.state === RIG_STATES[i] ? 1 : 0}\n`;
  const up = `${p.up}${s ? 1 : 0}\n`;
  if (!s) return [up, states, '', '', '', '', '', ''];
  let watts = '';
  if (s.power_w !== null && s.power_source !== null)
    watts += line(`${p.power}${s.power_source}"} `, s.power_w);
  // The miner's own claim beside a metered or estimated figure.
  if (s.power_source !== 'miner' && s.power_miner_w !== null)
    watts += line(`${p.power}miner"} `, s.power_miner_w);
  let fans = '';
  for (const f of s.fans) fans += line(`${p.fan}${label(String(f.index))}"} `, f.rpm);
  return [
    up,
    states,
    line(p.hashrate, s.hashrate_hs),
    watts,
    line(p.chip, s.temp_chip_max_c),
    line(p.board, s.temp_board_max_c),
    fans,
    line(p.energy, s.energy_wh === null ? null : s.energy_wh * 3600),
  ];
}

const head = ([name, type, help]: readonly [string, string, string]) =>
  `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
const HEADS = RIG_FAMILIES.map(head);
/** Longest stretch of rendering between two turns of the event loop. */
const SLICE_MS = 10;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const AGE_HEAD = head(AGE_FAMILY);

export class RigMetrics {
  /** By address: the one key a rig keeps while its id can change (a MAC learned later). */
  private readonly byAddress = new Map<string, RigText>();
  private scrape = 0;
  /** Rigs rendered (again) by the last scrape: what changed since the one before. */
  rebuilt = 0;

  constructor(private readonly config: Config) {}

  /**
   * The per-rig families (HELP and TYPE included; one buffer each) and the age family, for these rigs at
   * `nowMs`, each ending in a newline. Cached per rig, so a scrape of an unchanged fleet only copies.
   */
  async text(rigs: readonly RigStatus[], nowMs: number): Promise<{ series: Buffer[]; ages: Buffer }> {
    const scrape = ++this.scrape;
    this.rebuilt = 0;
    const texts: RigText[] = [];
    const ages: string[] = [];
    let slice = performance.now();
    for (let i = 0; i < rigs.length; i++) {
      const rig = rigs[i]!;
      const t = this.entry(rig, scrape);
      texts.push(t);
      // Staleness: seconds since it last answered (rigs that never answered are left out).
      if (rig.last_seen_ms !== null)
        ages.push(`${t.prefixes.age}${Math.max(0, (nowMs - rig.last_seen_ms) / 1000)}\n`);
      // After a poll round every rig changed: rendering 10,000 of them is a few hundred ms of work, done in
      // slices so polls and other requests run in between.
      if ((i & 63) === 63 && performance.now() - slice > SLICE_MS) {
        await yieldToLoop();
        slice = performance.now();
      }
    }
    // A concurrent scrape may have marked entries with a later number; only those no scrape since saw go.
    if (this.byAddress.size > rigs.length) {
      for (const [address, t] of this.byAddress) if (t.seen < scrape) this.byAddress.delete(address);
    }
    const series: Buffer[] = [];
    for (let i = 0; i < RIG_FAMILIES.length; i++) {
      const pieces = [HEADS[i]!];
      for (const t of texts) {
        const from = t.offsets[i]!;
        const to = t.offsets[i + 1]!;
        if (to > from) pieces.push(t.text.slice(from, to));
      }
      series.push(Buffer.from(pieces.join('')));
      await yieldToLoop();
    }
    return { series, ages: Buffer.from(AGE_HEAD + ages.join('')) };
  }

  private entry(rig: RigStatus, scrape: number): RigText {
    let t = this.byAddress.get(rig.address);
    if (
      t &&
      t.current === rig.current &&
      t.state === rig.state &&
      t.rig_id === rig.rig_id &&
      t.name === rig.name
    ) {
      t.seen = Math.max(t.seen, scrape);
      return t;
    }
    const model = rig.current?.identity.model ?? '';
    const p =
      t && t.rig_id === rig.rig_id && t.name === rig.name && t.model === model
        ? t.prefixes
        : prefixes(this.config, rig, model);
    const parts = render(p, rig);
    const offsets = [0];
    for (const part of parts) offsets.push(offsets[offsets.length - 1]! + part.length);
    t = {
      rig_id: rig.rig_id,
      name: rig.name,
      model,
      state: rig.state,
      current: rig.current,
      prefixes: p,
      // join('') of several parts gives a flat string, so slices of it copy fast.
      text: parts.join(''),
      offsets,
      seen: scrape,
    };
    this.byAddress.set(rig.address, t);
    this.rebuilt += 1;
    return t;
  }
}
