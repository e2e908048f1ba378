/**
 * Per-rig Prometheus series (`/metrics`), rendered from the live fleet as the body is sent. A scrape at 10,000
 * rigs is ~170,000 lines (~20 MB); the lines are made family by family in chunks of ~64 KB as the response stream
 * asks for them, with the event loop free every few milliseconds, so neither the body nor the rigs' lines are
 * ever held whole. Only each rig's label set (escaped and redacted once, ~200 B) is kept between scrapes: keeping
 * every rig's lines instead cost ~3.5 KB per rig (35 MB of heap at 10,000 rigs) to save formatting numbers,
 * which costs less than the heap it took (docs/scaling.md, "Memory").
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

/** What is kept per rig between scrapes: its label sets, rebuilt only when its id, name or model changes. */
interface RigLabels {
  rig_id: string;
  name: string | null;
  model: string;
  /** `rig="…",name="…",site="…",row="…",rack="…",model="…"`, escaped and redacted. */
  base: string;
  /** `rig_id="…"`, escaped and redacted. */
  age: string;
  /** Scrape that last saw this rig (entries of rigs gone from the fleet are dropped). */
  seen: number;
}

const [UP, STATE, HASHRATE, POWER, CHIP, BOARD, FANS, ENERGY] = [0, 1, 2, 3, 4, 5, 6, 7].map(
  (i) => RIG_FAMILIES[i]![0],
) as [string, string, string, string, string, string, string, string];

/**
 * Labelled with the rig id, its configured name, site, row, rack and model, so a dashboard can group by rack
 * without a join. Label text is redacted once here (it is the only free text in these lines).
 */
function labelsOf(config: Config, rig: RigStatus, model: string, seen: number): RigLabels {
  const loc = rigLocation(config, configuredRig(config, rig));
  return {
    rig_id: rig.rig_id,
    name: rig.name,
    model,
    base: redactText(
      `rig="${label(rig.rig_id)}",name="${label(rig.name ?? rig.rig_id)}",site="${label(loc?.site ?? config.site.name)}",row="${label(loc?.row ?? '')}",rack="${label(loc?.rack ?? '')}",model="${label(model)}"`,
    ),
    age: redactText(`rig_id="${label(rig.rig_id)}"`),
    seen,
  };
}

/** The end of each state line, `,state="…"} 0` and `… 1`, by RIG_STATES index. */
const STATE_ENDS = RIG_STATES.map((st) => [`,state="${st}"} 0\n`, `,state="${st}"} 1\n`] as const);
/** `,fan="N"` for the fan indexes rigs have (a handful), made once. */
const FAN_LABELS = Array.from({ length: 64 }, (_, i) => `,fan="${i}"`);
const fanLabel = (index: number): string => FAN_LABELS[index] ?? `,fan="${label(String(index))}"`;

/** A sample line, or '' when the figure is missing (left out, never exported as 0). */
function line(name: string, labels: string, value: number | null): string {
  return value === null || !Number.isFinite(value) ? '' : `${name}{${labels}} ${value}\n`;
}

/** One rig's lines of family `f` (RIG_FAMILIES order); '' when it has none. */
function familyLines(f: number, base: string, rig: RigStatus): string {
  const s = rig.current;
  switch (f) {
    case 0:
      return `${UP}{${base}} ${s ? 1 : 0}\n`;
    case 1: {
      let out = '';
      for (let i = 0; i < RIG_STATES.length; i++)
        out += `${STATE}{${base}${STATE_ENDS[i]![rig.state === RIG_STATES[i] ? 1 : 0]}`;
      return out;
    }
  }
  if (!s) return '';
  switch (f) {
    case 2:
      return line(HASHRATE, base, s.hashrate_hs);
    case 3: {
      let out = '';
      if (s.power_w !== null && s.power_source !== null)
        out += line(POWER, `${base},source="${s.power_source}"`, s.power_w);
      // The miner's own claim beside a metered or estimated figure.
      if (s.power_source !== 'miner' && s.power_miner_w !== null)
        out += line(POWER, `${base},source="miner"`, s.power_miner_w);
      return out;
    }
    case 4:
      return line(CHIP, base, s.temp_chip_max_c);
    case 5:
      return line(BOARD, base, s.temp_board_max_c);
    case 6: {
      let out = '';
      for (const fan of s.fans) out += line(FANS, `${base}${fanLabel(fan.index)}`, fan.rpm);
      return out;
    }
    default:
      return line(ENERGY, base, s.energy_wh === null ? null : s.energy_wh * 3600);
  }
}

const head = ([name, type, help]: readonly [string, string, string]) =>
  `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
const HEADS = RIG_FAMILIES.map(head);
const AGE_HEAD = head(AGE_FAMILY);
/** Characters of text per chunk handed to the response stream. */
const CHUNK_CHARS = 64 * 1024;
/** Longest stretch of rendering between two turns of the event loop. */
const SLICE_MS = 5;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RigMetrics {
  /** By address: the one key a rig keeps while its id can change (a MAC learned later). */
  private readonly byAddress = new Map<string, RigLabels>();
  private scrape = 0;
  /** Rigs whose label sets the last scrape built (again): new rigs, or a changed id, name or model. */
  relabelled = 0;

  constructor(private readonly config: Config) {}

  /**
   * The per-rig families (HELP and TYPE included) and then, separately, the age family for these rigs at `nowMs`,
   * as chunks of text rendered when the consumer pulls them. The rigs' label sets are settled before this returns.
   */
  render(
    rigs: readonly RigStatus[],
    nowMs: number,
  ): { series: AsyncIterable<Buffer>; ages: AsyncIterable<Buffer> } {
    const scrape = ++this.scrape;
    this.relabelled = 0;
    const labels: RigLabels[] = new Array(rigs.length);
    for (let i = 0; i < rigs.length; i++) labels[i] = this.entry(rigs[i]!, scrape);
    // A concurrent scrape may have marked entries with a later number; only those no scrape since saw go.
    if (this.byAddress.size > rigs.length) {
      for (const [address, l] of this.byAddress) if (l.seen < scrape) this.byAddress.delete(address);
    }
    return {
      series: (async function* () {
        const out = new Chunker();
        for (let f = 0; f < RIG_FAMILIES.length; f++) {
          out.add(HEADS[f]!);
          for (let i = 0; i < rigs.length; i++) {
            if (out.add(familyLines(f, labels[i]!.base, rigs[i]!))) {
              yield out.take();
              await out.pause();
            }
          }
        }
        if (out.pending()) yield out.take();
      })(),
      ages: (async function* () {
        const out = new Chunker();
        out.add(AGE_HEAD);
        for (let i = 0; i < rigs.length; i++) {
          const seen = rigs[i]!.last_seen_ms;
          // Staleness: seconds since it last answered (rigs that never answered are left out).
          if (seen === null) continue;
          if (out.add(`${AGE_FAMILY[0]}{${labels[i]!.age}} ${Math.max(0, (nowMs - seen) / 1000)}\n`)) {
            yield out.take();
            await out.pause();
          }
        }
        if (out.pending()) yield out.take();
      })(),
    };
  }

  /** Both parts joined: for tests and callers that want the text at once. */
  async text(rigs: readonly RigStatus[], nowMs: number): Promise<string> {
    const { series, ages } = this.render(rigs, nowMs);
    const out: Buffer[] = [];
    for await (const b of series) out.push(b);
    for await (const b of ages) out.push(b);
    return Buffer.concat(out).toString('utf8');
  }

  private entry(rig: RigStatus, scrape: number): RigLabels {
    const model = rig.current?.identity.model ?? '';
    let l = this.byAddress.get(rig.address);
    if (l && l.rig_id === rig.rig_id && l.name === rig.name && l.model === model) {
      l.seen = Math.max(l.seen, scrape);
      return l;
    }
    l = labelsOf(this.config, rig, model, scrape);
    this.byAddress.set(rig.address, l);
    this.relabelled += 1;
    return l;
  }
}

/**
 * Text gathered into Buffers of about CHUNK_CHARS, each made only when the consumer pulls the one before; after
 * SLICE_MS of work the event loop turns before going on (polls and other requests run in between).
 */
class Chunker {
  private text = '';
  private slice = performance.now();

  /** Add a piece; true once a chunk is full (take it). */
  add(piece: string): boolean {
    this.text += piece;
    return this.text.length >= CHUNK_CHARS;
  }

  pending(): boolean {
    return this.text.length > 0;
  }

  take(): Buffer {
    const b = Buffer.from(this.text);
    this.text = '';
    return b;
  }

  async pause(): Promise<void> {
    if (performance.now() - this.slice < SLICE_MS) return;
    await yieldToLoop();
    this.slice = performance.now();
  }
}
