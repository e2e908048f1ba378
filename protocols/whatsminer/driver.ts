/**
 * Whatsminer driver: reads one MicroBT rig per poll (read-only, never a token — docs/protocols.md, "## Whatsminer"
 * item 29). API v2 on the configured port (4028): `summary+devs+pools` joined where the firmware allows, else
 * single commands, plus `status`, `get_version` and `get_psu`. When 4028 refuses, or the build no longer serves
 * the miner data there (2024-11+ firmware, docs/protocols.md, "## Whatsminer"), API v3 on 4433. What worked is remembered per host.
 */
import { RtError } from '../../lib/errors.js';
import {
  type CommandFailure,
  finishReading,
  IDENTITY_EVERY,
  type MinerDriver,
  type PollTarget,
  ProtoErrors,
} from '../kit/index.js';
import type { MinerReading } from '../sample.js';
import { DEFAULT_V3_PORT, type RequestKey, v2Command, v2Joined, v3Command } from './client.js';
import { type Json, replyError } from './decode.js';
import { WhatsminerErrors } from './errors.js';
import {
  type PsuInfo,
  parsePsu,
  parseWhatsminer,
  statusReportsCurtailment,
  summaryShowsWork,
  type WhatsminerParts,
} from './parse.js';
import { parseWhatsminerV3, type WhatsminerV3Parts } from './parse-v3.js';

export type WhatsminerGeneration = 'v2' | 'v3';

interface HostState {
  generation: WhatsminerGeneration | null;
  /** Key for cgminer-named commands (summary, devs, pools). */
  key: RequestKey;
  /** Key for btminer's own commands (status, get_*). */
  ownKey: RequestKey;
  /** Whether `summary+devs+pools` joins; null until tried. */
  join: boolean | null;
  /** Commands this firmware answered with Code 14: not asked again. */
  unknown: Set<string>;
  /** v3 refused on this host: do not probe it on every poll. */
  v3Refused: boolean;
  /** v2 polls so far: `get_version` and `get_psu` are asked on the first and every IDENTITY_EVERY-th. */
  v2Polls: number;
  /** Their last answers, reused in between (build and PSU identity change with a re-flash or a swap). */
  identity: Map<string, { body: Json; text: unknown; repairs: string[] }>;
  /** The build's `status` carries curtailment (`hash_percent`, `power_mode`): asked every poll. */
  statusCurtails: boolean;
}

export interface WhatsminerPoll {
  reading: MinerReading;
  generation: WhatsminerGeneration;
  /** `get_psu` (v2) when the firmware answers it. */
  psu: PsuInfo | null;
}

export interface WhatsminerDriver extends MinerDriver {
  /** Same as `poll`, with the API generation used and the PSU details the reading has no slot for. */
  pollDetailed(target: PollTarget, signal: AbortSignal): Promise<WhatsminerPoll>;
  /** Cached generation for a configured address (`host:port`), if known. */
  generationOf(address: string): WhatsminerGeneration | null;
  /** Forget what was learned about an address (e.g. after a firmware upgrade). */
  forget(address: string): void;
}

const TRANSPORT = new Set([
  ProtoErrors.connectRefused.code,
  ProtoErrors.connectTimeout.code,
  ProtoErrors.unreachable.code,
  ProtoErrors.timeout.code,
  ProtoErrors.emptyReply.code,
  ProtoErrors.reset.code,
  ProtoErrors.tooLarge.code,
  ProtoErrors.aborted.code,
]);

const isTransport = (err: unknown): boolean => err instanceof RtError && TRANSPORT.has(err.code);

/**
 * What one poll gathered, handed to the kit's finish step: decoded bodies per command, repairs, and every
 * command that failed (each a note, and the reading `partial`: one policy for every family).
 */
class Collected {
  /** Reply text per command, as received (kept as the raw replies of a partial reading). */
  bodies: Record<string, unknown> = {};
  repairs: string[] = [];
  failures: CommandFailure[] = [];
  add(command: string, body: unknown, repairs: string[]): void {
    this.bodies[command] = body;
    for (const r of repairs) if (!this.repairs.includes(r)) this.repairs.push(r);
  }
  missing(command: string, err: unknown): void {
    const error =
      err instanceof RtError ? err : ProtoErrors.decode(err instanceof Error ? err.message : String(err));
    this.failures.push({ command, error });
  }
  finish(reading: MinerReading): MinerReading {
    return finishReading(reading, { bodies: this.bodies, repairs: this.repairs, failures: this.failures });
  }
}

export function createWhatsminerDriver(options: { v3Port?: number } = {}): WhatsminerDriver {
  const v3Port = options.v3Port ?? DEFAULT_V3_PORT;
  const hosts = new Map<string, HostState>();
  const stateOf = (host: string): HostState => {
    let s = hosts.get(host);
    if (!s) {
      s = {
        generation: null,
        key: 'command',
        ownKey: 'cmd',
        join: null,
        unknown: new Set(),
        v3Refused: false,
        v2Polls: 0,
        identity: new Map(),
        statusCurtails: false,
      };
      hosts.set(host, s);
    }
    return s;
  };

  async function pollV3(target: PollTarget, signal: AbortSignal, st: HostState): Promise<WhatsminerPoll> {
    const c = new Collected();
    const parts: WhatsminerV3Parts = {};
    const summary = await v3Command(target, 'get.miner.status', 'summary', signal, v3Port);
    parts.summary = summary.body;
    c.add('get.miner.status summary', summary.text, []);
    const extra: [keyof WhatsminerV3Parts, string, string | undefined][] = [
      ['edevs', 'get.miner.status', 'edevs'],
      ['pools', 'get.miner.status', 'pools'],
      ['deviceInfo', 'get.device.info', undefined],
    ];
    for (const [slot, cmd, param] of extra) {
      try {
        const res = await v3Command(target, cmd, param, signal, v3Port);
        parts[slot] = res.body;
        c.add(param ? `${cmd} ${param}` : cmd, res.text, []);
      } catch (err) {
        if (ProtoErrors.aborted.is(err)) throw err;
        c.missing(param ? `${cmd} ${param}` : cmd, err);
      }
    }
    st.generation = 'v3';
    return { reading: c.finish(parseWhatsminerV3(parts)), generation: 'v3', psu: null };
  }

  async function pollV2(target: PollTarget, signal: AbortSignal, st: HostState): Promise<WhatsminerPoll> {
    const c = new Collected();
    const parts: WhatsminerParts = {};
    const addr = `${target.host}:${target.port}`;
    const core = ['summary', 'devs', 'pools'] as const;

    if (st.join !== false) {
      try {
        const j = await v2Joined(target, [...core], signal, st.key);
        st.key = j.key;
        st.join = true;
        c.add(core.join('+'), j.text, j.repairs);
        for (const cmd of core) {
          const body = j.parts.get(cmd);
          // A section may carry its own error (e.g. Code 45 for one command inside the join).
          if (body !== undefined && !replyError(cmd, body, addr, st.key)) parts[cmd] = body;
        }
      } catch (err) {
        if (isTransport(err)) throw err;
        // Refused as a whole (Code 14/24/45, or no sections): this firmware gets single commands from now on.
        st.join = false;
      }
    }

    const single = async (cmd: string): Promise<Json> => {
      const res = await v2Command(target, cmd, signal, st.key);
      st.key = res.key;
      c.add(cmd, res.text, res.repairs);
      return res.body;
    };
    const statsFallback = async (): Promise<Json | undefined> => {
      try {
        const body = await single('stats');
        if (!parseWhatsminer({ stats: body }).boards.length) return undefined;
        parts.stats = body;
        return body;
      } catch (err) {
        if (ProtoErrors.aborted.is(err)) throw err;
        if (WhatsminerErrors.unknownCommand.is(err)) st.unknown.add('stats');
        return undefined;
      }
    };
    // Without a summary there is no reading: let the error decide (the caller may try API v3).
    if (parts.summary === undefined) parts.summary = await single('summary');
    if (parts.devs === undefined) {
      try {
        parts.devs = await single(st.unknown.has('devs') ? 'edevs' : 'devs');
      } catch (err) {
        if (ProtoErrors.aborted.is(err)) throw err;
        if (WhatsminerErrors.unknownCommand.is(err)) st.unknown.add('devs');
        // Old cgminer 4.9.2 builds (M3) keep per-board figures in the legacy `stats` SM<n> objects
        // (whatsminer_m3_stats.txt): use them when devs is not available.
        const boards = st.unknown.has('stats') ? undefined : await statsFallback();
        if (!boards) c.missing('board data (devs)', err);
      }
    }
    if (parts.pools === undefined) {
      try {
        parts.pools = await single('pools');
      } catch (err) {
        if (ProtoErrors.aborted.is(err)) throw err;
        c.missing('pools', err);
      }
    }

    // btminer's own commands cannot be joined (docs/protocols.md, "## Whatsminer"): one connection each. A command
    // the build does not know (Code 14: API v1 builds lack get_psu and get_version) is skipped; any other failure
    // is a note like every failed command. `get_version` and `get_psu` are identity, asked every IDENTITY_EVERY
    // polls (docs/protocols.md §7 "add every N polls"). `status` (asleep or not) decides the state only when the
    // summary shows neither hashrate nor power: it is asked then, with the identity, and every poll on builds
    // whose status also reports curtailment. A second connection on every poll of a hashing rig told nothing.
    const own: [keyof WhatsminerParts, string][] = [
      ['status', 'status'],
      ['version', 'get_version'],
      ['psu', 'get_psu'],
    ];
    const identityDue = st.v2Polls++ % IDENTITY_EVERY === 0;
    const statusDue =
      identityDue || st.statusCurtails || parts.summary === undefined || !summaryShowsWork(parts.summary);
    for (const [slot, cmd] of own) {
      if (st.unknown.has(cmd)) continue;
      if (cmd === 'status' && !statusDue) continue;
      const kept = cmd === 'status' || identityDue ? undefined : st.identity.get(cmd);
      if (kept) {
        parts[slot] = kept.body;
        c.add(cmd, kept.text, kept.repairs);
        continue;
      }
      try {
        const res = await v2Command(target, cmd, signal, st.ownKey);
        st.ownKey = res.key;
        parts[slot] = res.body;
        c.add(cmd, res.text, res.repairs);
        if (cmd === 'status') st.statusCurtails = statusReportsCurtailment(res.body);
        else st.identity.set(cmd, { body: res.body, text: res.text, repairs: res.repairs });
      } catch (err) {
        if (ProtoErrors.aborted.is(err)) throw err;
        st.identity.delete(cmd);
        if (WhatsminerErrors.unknownCommand.is(err)) st.unknown.add(cmd);
        else c.missing(cmd, err);
      }
    }

    let psu: PsuInfo | null = null;
    if (parts.psu !== undefined) {
      try {
        psu = parsePsu(parts.psu);
      } catch (err) {
        c.missing('get_psu (unreadable)', err);
        delete parts.psu;
      }
    }
    st.generation = 'v2';
    return { reading: c.finish(parseWhatsminer(parts)), generation: 'v2', psu };
  }

  async function tryV3After(
    target: PollTarget,
    signal: AbortSignal,
    st: HostState,
    v2Error: unknown,
  ): Promise<WhatsminerPoll> {
    try {
      return await pollV3(target, signal, st);
    } catch (err) {
      if (isTransport(err) && !ProtoErrors.aborted.is(err)) st.v3Refused = true;
      if (ProtoErrors.connectRefused.is(err)) {
        if (ProtoErrors.connectRefused.is(v2Error))
          throw WhatsminerErrors.apiDisabled.with({ cause: err }, target.host);
        throw v2Error;
      }
      throw ProtoErrors.aborted.is(err) || ProtoErrors.connectRefused.is(v2Error) ? err : v2Error;
    }
  }

  async function pollDetailed(target: PollTarget, signal: AbortSignal): Promise<WhatsminerPoll> {
    const st = stateOf(`${target.host}:${target.port}`);
    if (target.port === v3Port || st.generation === 'v3') {
      try {
        return await pollV3(target, signal, st);
      } catch (err) {
        // The rig may have been re-flashed back to a v2 build: probe from scratch next time.
        if (ProtoErrors.connectRefused.is(err) && target.port !== v3Port) st.generation = null;
        throw err;
      }
    }
    let v2: WhatsminerPoll;
    try {
      v2 = await pollV2(target, signal, st);
    } catch (err) {
      if (ProtoErrors.aborted.is(err)) throw err;
      // 4028 closed (API v3-only build, docs/protocols.md, "## Whatsminer") or 4028 answering without the miner data: try 4433.
      const tryV3 =
        ProtoErrors.connectRefused.is(err) || (!isTransport(err) && !st.v3Refused && err instanceof RtError);
      if (tryV3) return tryV3After(target, signal, st, err);
      throw err;
    }
    // Newer v2 builds still answer summary on 4028 but not board data (docs/protocols.md, "## Whatsminer", pyasic#363).
    if (v2.reading.boards.length === 0 && v2.reading.support === 'partial' && !st.v3Refused) {
      try {
        return await pollV3(target, signal, st);
      } catch (err) {
        if (ProtoErrors.aborted.is(err)) throw err;
        // Refused or filtered (connect timeout): do not pay for the probe on every poll.
        if (isTransport(err)) st.v3Refused = true;
        st.generation = 'v2';
      }
    }
    return v2;
  }

  return {
    family: 'whatsminer',
    poll: async (target, signal) => (await pollDetailed(target, signal)).reading,
    pollDetailed,
    generationOf: (address) => hosts.get(address)?.generation ?? null,
    forget: (address) => {
      hosts.delete(address);
    },
  };
}

/** The shared driver instance (one per process; it caches per-host API generation and request keys). */
export const whatsminerDriver: WhatsminerDriver = createWhatsminerDriver();
