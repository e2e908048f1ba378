/**
 * Pledged vs seen, every poll. Each pledged rig of a loan is, at any moment:
 * - `seen`: answering, matched by serial or MAC, model (and firmware, boards) as pledged;
 * - `missing`: not answering at its last address, or never matched (since when);
 * - `swapped`: its address answers with another serial/MAC, or it answers with another model, or a pledge that
 *   names both a serial and a MAC finds only one of them;
 * - `changed`: matched, but firmware or hash-board count differs from the pledge;
 * - `derated`: matched and hashing below `derate_share` × nameplate for `derate_polls` polls in a row.
 * Rigs that answer at the site and match no pledge (and are not the rig now answering at a swapped pledge's
 * address) are listed as unpledged. `observe` returns the status changes so the caller raises alerts and writes
 * the audit log. Pure: no I/O, the clock is the samples' own time.
 */
import { normalizeMac } from '../collector/identity.js';
import type { Sample } from '../protocols/sample.js';
import type { LoanFacility, PledgedRig } from './register.js';

export const PLEDGE_STATUSES = ['missing', 'swapped', 'changed', 'derated', 'seen'] as const;
export type PledgeStatus = (typeof PLEDGE_STATUSES)[number];

export interface SeenIdentity {
  serial: string | null;
  mac: string | null;
  model: string | null;
  firmware: string | null;
  boards: number | null;
}

export interface PledgeState {
  key: string;
  status: PledgeStatus;
  /** When the current status began (sample time); the watch start for a pledge never seen. */
  since_ms: number;
  /** Why, in words: "firmware X, pledged Y", "address answers with serial Z". */
  detail: string | null;
  rig_id: string | null;
  address: string | null;
  last_seen_ms: number | null;
  /** What answers at the pledged rig's address when it is swapped. */
  answered_by: SeenIdentity | null;
}

export interface UnpledgedRig {
  rig_id: string;
  address: string;
  identity: SeenIdentity;
  first_seen_ms: number;
  last_seen_ms: number;
}

export interface PledgeChange {
  loan_id: string;
  key: string;
  from: PledgeStatus | null;
  to: PledgeStatus;
  at_ms: number;
  detail: string | null;
}

export interface UnpledgedChange {
  loan_id: string;
  rig_id: string;
  address: string;
  at_ms: number;
  identity: SeenIdentity;
}

const HASHING = new Set(['mining', 'ramping', 'curtailed']);

function norm(s: string | null | undefined): string {
  return (s ?? '').toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * What the watcher reads of one poll: a live Sample (`pledgePoll`), or a stored poll replayed from the embedded
 * store or InfluxDB (loans/source.ts).
 */
export interface PledgePoll {
  rig_id: string;
  address: string;
  at_ms: number;
  ok: boolean;
  state: string;
  hashrate_hs: number | null;
  identity: SeenIdentity;
}

export function pledgePoll(s: Sample): PledgePoll {
  return {
    rig_id: s.rig_id,
    address: s.address,
    at_ms: s.at_ms,
    ok: s.poll.ok,
    state: s.state,
    hashrate_hs: s.hashrate_hs,
    identity: identityOf(s),
  };
}

export interface PledgeWatcherOptions {
  /**
   * False when the polls watched carry no serial numbers (MQTT state messages, InfluxDB): a pledge is then
   * matched by MAC alone, and a pledge naming both is not judged swapped for a serial the poll cannot show.
   */
  serials?: boolean;
}

export function identityOf(s: Sample): SeenIdentity {
  return {
    serial: s.identity.serial?.trim() || null,
    mac: normalizeMac(s.identity.mac),
    model: s.identity.model,
    firmware: s.identity.firmware,
    boards: s.boards.length > 0 ? s.boards.length : null,
  };
}

function describe(id: SeenIdentity): string {
  return [id.serial && `serial ${id.serial}`, id.mac && `mac ${id.mac}`, id.model && `model ${id.model}`]
    .filter(Boolean)
    .join(', ');
}

export class PledgeWatcher {
  readonly loanId: string;
  readonly #pledges: PledgedRig[];
  readonly #bySerial = new Map<string, PledgedRig>();
  readonly #byMac = new Map<string, PledgedRig>();
  readonly #state = new Map<string, PledgeState & { below: number }>();
  /** address → pledge key last matched there */
  readonly #addressOf = new Map<string, string>();
  readonly #unpledged = new Map<string, UnpledgedRig>();
  readonly #derateShare: number;
  readonly #deratePolls: number;
  readonly #serials: boolean;

  constructor(facility: LoanFacility, startMs: number, opts: PledgeWatcherOptions = {}) {
    this.#serials = opts.serials ?? true;
    this.loanId = facility.id;
    this.#pledges = facility.pledges;
    this.#derateShare = facility.derate_share;
    this.#deratePolls = facility.derate_polls;
    for (const p of facility.pledges) {
      if (p.serial) this.#bySerial.set(p.serial.trim(), p);
      if (p.mac_norm) this.#byMac.set(p.mac_norm, p);
      this.#state.set(p.key, {
        key: p.key,
        status: 'missing',
        since_ms: startMs,
        detail: 'not seen yet',
        rig_id: null,
        address: null,
        last_seen_ms: null,
        answered_by: null,
        below: 0,
      });
    }
  }

  observe(sample: Sample): { changes: PledgeChange[]; unpledged: UnpledgedChange[] } {
    return this.observePoll(pledgePoll(sample));
  }

  observePoll(sample: PledgePoll): { changes: PledgeChange[]; unpledged: UnpledgedChange[] } {
    const changes: PledgeChange[] = [];
    const unpledged: UnpledgedChange[] = [];
    const t = sample.at_ms;
    const up = sample.ok && sample.state !== 'offline';
    const id = sample.identity;
    const bySerial = id.serial ? this.#bySerial.get(id.serial) : undefined;
    const byMac = id.mac ? this.#byMac.get(id.mac) : undefined;
    const pledge = bySerial ?? byMac;

    if (up && pledge) {
      const st = this.#state.get(pledge.key)!;
      // The rig that answered at this address before, if it was another pledge, has moved or been swapped out.
      const previous = this.#addressOf.get(sample.address);
      this.#addressOf.set(sample.address, pledge.key);
      if (previous && previous !== pledge.key) {
        const other = this.#state.get(previous)!;
        if (other.address === sample.address && other.status !== 'missing')
          this.#set(
            other,
            'missing',
            t,
            `its address ${sample.address} now answers as ${pledge.key}`,
            changes,
          );
      }
      st.rig_id = sample.rig_id;
      st.address = sample.address;
      st.last_seen_ms = t;
      st.answered_by = null;
      const ths = sample.hashrate_hs === null ? null : sample.hashrate_hs / 1e12;
      st.below =
        HASHING.has(sample.state) &&
        sample.state !== 'curtailed' &&
        ths !== null &&
        ths < this.#derateShare * pledge.nominal_ths
          ? st.below + 1
          : 0;
      const [status, detail] = this.#judge(pledge, id, bySerial, byMac, st.below, ths);
      this.#set(st, status, t, detail, changes);
      return { changes, unpledged };
    }

    const pledgedHere = this.#addressOf.get(sample.address);
    if (pledgedHere) {
      const st = this.#state.get(pledgedHere)!;
      if (!up) {
        this.#set(
          st,
          'missing',
          st.status === 'missing' ? st.since_ms : t,
          `no answer at ${sample.address}`,
          changes,
        );
        return { changes, unpledged };
      }
      // The address answers, but as an identity no pledge has: the pledged rig was swapped out.
      st.answered_by = id;
      this.#set(
        st,
        'swapped',
        st.status === 'swapped' ? st.since_ms : t,
        `${sample.address} answers with ${describe(id)}`,
        changes,
      );
      return { changes, unpledged };
    }
    if (up) {
      const known = this.#unpledged.get(sample.rig_id);
      if (known) known.last_seen_ms = t;
      else {
        const rig: UnpledgedRig = {
          rig_id: sample.rig_id,
          address: sample.address,
          identity: id,
          first_seen_ms: t,
          last_seen_ms: t,
        };
        this.#unpledged.set(sample.rig_id, rig);
        unpledged.push({
          loan_id: this.loanId,
          rig_id: sample.rig_id,
          address: sample.address,
          at_ms: t,
          identity: id,
        });
      }
    }
    return { changes, unpledged };
  }

  #judge(
    p: PledgedRig,
    id: SeenIdentity,
    bySerial: PledgedRig | undefined,
    byMac: PledgedRig | undefined,
    below: number,
    ths: number | null,
  ): [PledgeStatus, string | null] {
    if (p.serial && p.mac_norm && this.#serials) {
      if (bySerial !== byMac) {
        if (!bySerial)
          return [
            'swapped',
            `mac ${id.mac} pledged with serial ${p.serial}, answers with serial ${id.serial ?? 'none'}`,
          ];
        return [
          'swapped',
          `serial ${p.serial} pledged with mac ${p.mac_norm}, answers with mac ${id.mac ?? 'none'}`,
        ];
      }
    }
    if (id.model && norm(id.model) !== norm(p.model))
      return ['swapped', `model ${id.model}, pledged ${p.model}`];
    if (p.firmware && id.firmware && id.firmware !== p.firmware)
      return ['changed', `firmware ${id.firmware}, pledged ${p.firmware}`];
    if (p.boards && id.boards !== null && id.boards !== p.boards)
      return ['changed', `${id.boards} hash boards, pledged ${p.boards}`];
    if (below >= this.#deratePolls)
      return [
        'derated',
        `${ths?.toFixed(1)} TH/s for ${below} polls, below ${this.#derateShare} × ${p.nominal_ths} TH/s`,
      ];
    return ['seen', null];
  }

  #set(
    st: PledgeState,
    status: PledgeStatus,
    t: number,
    detail: string | null,
    changes: PledgeChange[],
  ): void {
    if (st.status === status) {
      st.detail = detail;
      return;
    }
    changes.push({ loan_id: this.loanId, key: st.key, from: st.status, to: status, at_ms: t, detail });
    st.status = status;
    st.since_ms = t;
    st.detail = detail;
  }

  /** Problem rigs first (missing, swapped, changed, derated), then seen; by key within a status. */
  pledged(): PledgeState[] {
    const rank = (s: PledgeStatus) => PLEDGE_STATUSES.indexOf(s);
    return [...this.#state.values()]
      .map(({ below: _b, ...s }) => ({ ...s }))
      .sort((a, b) => rank(a.status) - rank(b.status) || a.key.localeCompare(b.key));
  }

  /** Whether a seen identity matches one of the pledges (by serial, else MAC), as `observePoll` matches it. */
  matchesPledge(id: SeenIdentity): boolean {
    return (id.serial ? this.#bySerial.has(id.serial) : false) || (id.mac ? this.#byMac.has(id.mac) : false);
  }

  /**
   * A rig seen answering, unpledged, by polls not replayed here (loans/source.ts `ReplayWindow.others`): kept as if
   * those polls had been observed — the earliest sighting gives address, identity and first time; the latest
   * gives the last time.
   */
  mergeUnpledged(rig: UnpledgedRig): void {
    const known = this.#unpledged.get(rig.rig_id);
    if (!known) {
      this.#unpledged.set(rig.rig_id, { ...rig });
      return;
    }
    if (rig.first_seen_ms < known.first_seen_ms) {
      known.first_seen_ms = rig.first_seen_ms;
      known.address = rig.address;
      known.identity = rig.identity;
    }
    known.last_seen_ms = Math.max(known.last_seen_ms, rig.last_seen_ms);
  }

  unpledged(): UnpledgedRig[] {
    return [...this.#unpledged.values()].sort((a, b) => a.rig_id.localeCompare(b.rig_id));
  }

  pledges(): readonly PledgedRig[] {
    return this.#pledges;
  }
}
