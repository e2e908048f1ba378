/**
 * Rig identity: a rig is an asset, not an IP (docs/ARCHITECTURE.md "Identity").
 *
 * The id is chosen the first time an asset is seen: its MAC when the miner reveals it (lower-case, colon form),
 * else its configured name, else `host:port`. After that the id is **sticky**: the mapping below remembers
 * which MAC, name and address lead to it, so
 * - an address change (DHCP) keeps the id: the MAC (or the configured name) finds it at the new address;
 * - a MAC that appears later (first polls failed, or the firmware only reveals it in some replies) is bound to
 *   the id the asset already has, instead of starting a second history under the MAC.
 * We never rename an id after the fact: samples already delivered to InfluxDB/MQTT carry it, and renaming in
 * one sink only would split the asset's history between sinks.
 *
 * The mapping lives in the embedded store's database (table `rig_ids`, `rig_aliases`).
 */
import type Database from 'better-sqlite3';

export interface IdentityKey {
  name: string | null;
  address: string;
}

/** `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff`, `AABBCCDDEEFF` → `aa:bb:cc:dd:ee:ff`; null when it is not a MAC. */
export function normalizeMac(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const hex = raw
    .trim()
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12 || /[^0-9a-f]/.test(hex)) return null;
  // All-zero / broadcast MACs are placeholders some firmware reports before the NIC is up.
  if (hex === '000000000000' || hex === 'ffffffffffff') return null;
  if (raw.replace(/[^0-9A-Fa-f]/g, '').length !== 12) return null;
  return hex.match(/../g)!.join(':');
}

/** Id without any memory: MAC, else name, else address. */
export function defaultRigId(key: IdentityKey, mac: string | null): string {
  return normalizeMac(mac) ?? key.name ?? key.address;
}

export interface RigIdResolver {
  resolve(key: IdentityKey, mac: string | null, atMs: number): string;
}

/** What an alias names: `mac:…`, `name:…` or `addr:…` in the `rig_aliases` table. */
type AliasKind = 'mac' | 'name' | 'addr';

/** In-memory resolver with the same sticky rules (tests, or when no store is configured). */
export class IdentityMap implements RigIdResolver {
  /**
   * Alias → id, a map per kind keyed by the bare MAC, name or address: the strings the targets already hold, so a
   * poll looks its rig up without building `addr:…` keys (20,000 keys of their own at 10,000 rigs).
   */
  private readonly aliases: Record<AliasKind, Map<string, string>> = {
    mac: new Map(),
    name: new Map(),
    addr: new Map(),
  };
  private readonly macOf = new Map<string, string>();
  private readonly db: Database.Database | null;
  private readonly write: ((batch: Binding[]) => void) | null = null;

  /**
   * `db`: where bindings are read at start (and written, unless `write` is given). `write`: where bindings go
   * instead, e.g. the embedded store's writer thread, so the main thread never waits on that thread's write lock.
   */
  constructor(db: Database.Database | null = null, write?: (batch: Binding[]) => void) {
    this.db = db;
    if (db) {
      db.exec(IDENTITY_SCHEMA);
      // An id is in several rows: one copy of it.
      const ids = new Map<string, string>();
      const one = (id: string) => {
        const held = ids.get(id);
        if (held !== undefined) return held;
        ids.set(id, id);
        return id;
      };
      // The kind and value split by SQLite: a slice of the alias in JS would keep the whole alias alive.
      for (const r of db
        .prepare(
          "SELECT substr(alias, 1, instr(alias, ':') - 1) AS kind, substr(alias, instr(alias, ':') + 1) AS value, rig_id FROM rig_aliases",
        )
        .all() as { kind: string; value: string; rig_id: string }[]) {
        if (!isAliasKind(r.kind)) continue;
        const id = one(r.rig_id);
        this.aliases[r.kind].set(r.value, id);
        if (r.kind === 'addr') this.addAddrAlias(id, r.value);
      }
      for (const r of db.prepare('SELECT rig_id, mac FROM rig_ids').all() as {
        rig_id: string;
        mac: string | null;
      }[]) {
        const id = one(r.rig_id);
        // Known ids skip the write on their next healthy poll (a restart with 10,000 rigs wrote 10,000 times).
        this.knownIds.add(id);
        if (r.mac !== null) this.macOf.set(id, r.mac);
      }
      this.write = write ?? bindingWriter(db);
    }
  }

  resolve(key: IdentityKey, rawMac: string | null, atMs: number): string {
    const mac = normalizeMac(rawMac);
    const byMac = mac ? this.aliases.mac.get(mac) : undefined;
    const byName = key.name ? this.aliases.name.get(key.name) : undefined;
    let byAddr = this.aliases.addr.get(key.address);
    // An address is only a weak hint: if the id it led to belongs to another MAC, DHCP gave the address to
    // a different asset.
    if (byAddr && mac && this.macOf.has(byAddr) && this.macOf.get(byAddr) !== mac) byAddr = undefined;
    let byNameOk = byName;
    if (byName && mac && this.macOf.has(byName) && this.macOf.get(byName) !== mac) {
      // The configured name now points at another machine (swapped hardware): the MAC wins.
      byNameOk = undefined;
    }
    const id = byMac ?? byNameOk ?? (key.name ? undefined : byAddr) ?? mac ?? key.name ?? key.address;
    this.bind(id, key, mac, atMs);
    return id;
  }

  /** The id an alias currently maps to (`mac:…`, `name:…`, `addr:…`). */
  lookup(alias: string): string | undefined {
    const colon = alias.indexOf(':');
    const kind = alias.slice(0, colon);
    return colon > 0 && isAliasKind(kind) ? this.aliases[kind].get(alias.slice(colon + 1)) : undefined;
  }

  private bind(id: string, key: IdentityKey, mac: string | null, atMs: number): void {
    const { addr, name, mac: macs } = this.aliases;
    const addrBound = addr.get(key.address) === id;
    const nameBound = !key.name || name.get(key.name) === id;
    const macBound = mac === null || macs.get(mac) === id;
    const newMac = mac !== null && !this.macOf.has(id);
    // Hot path (every healthy poll): nothing changed, so no arrays, closures or writes.
    if (addrBound && nameBound && macBound && !newMac && this.knownIds.has(id)) return;
    const changed: string[] = [];
    if (!addrBound) {
      addr.set(key.address, id);
      changed.push(`addr:${key.address}`);
    }
    if (!nameBound) {
      name.set(key.name!, id);
      changed.push(`name:${key.name}`);
    }
    if (!macBound) {
      macs.set(mac!, id);
      changed.push(`mac:${mac}`);
    }
    // A MAC-identified asset seen at a new address is no longer at its old one: forget the old address, so a
    // failed poll there is not booked to this asset (it is up elsewhere).
    const stale: string[] = [];
    if (mac && !addrBound) {
      // Only this id's own address aliases (indexed below): a scan of every alias per new rig is O(n²) at start-up.
      for (const a of this.addrAliasesOf(id)) {
        if (a !== key.address && addr.get(a) === id) stale.push(a);
      }
      for (const a of stale) {
        addr.delete(a);
        this.removeAddrAlias(id, a);
      }
    }
    if (!addrBound) this.addAddrAlias(id, key.address);
    if (newMac) this.macOf.set(id, mac);
    this.knownIds.add(id);
    if (this.write) {
      this.pending.push({
        id,
        changed,
        stale: stale.map((a) => `addr:${a}`),
        mac: newMac ? mac : (this.macOf.get(id) ?? null),
        atMs,
      });
      // One transaction for every binding of this turn of the event loop: a first sweep of 10,000 rigs made
      // 10,000 commits on the main thread.
      if (!this.flushQueued) {
        this.flushQueued = true;
        setImmediate(() => this.flush());
      }
    }
  }

  /** Write the bindings not yet written (the store calls this before it closes). */
  flush(): void {
    this.flushQueued = false;
    if (!this.write || !this.db?.open || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      this.write(batch);
    } catch {
      // A full or failing disk: the mapping stays right in memory; write it with the next binding or at close.
      this.pending = batch.concat(this.pending);
    }
  }

  private pending: Binding[] = [];
  private flushQueued = false;

  private readonly knownIds = new Set<string>();
  /**
   * Addresses that were bound to each id (may include some rebound since: check `aliases.addr`): the address
   * itself while there is one (nearly every id), a set when there are more (a Set per rig was ~200 bytes).
   */
  private readonly addrAliases = new Map<string, string | Set<string>>();

  private addrAliasesOf(id: string): Iterable<string> {
    const held = this.addrAliases.get(id);
    return held === undefined ? [] : typeof held === 'string' ? [held] : held;
  }

  private addAddrAlias(id: string, address: string): void {
    const held = this.addrAliases.get(id);
    if (held === undefined) this.addrAliases.set(id, address);
    else if (typeof held !== 'string') held.add(address);
    else if (held !== address) this.addrAliases.set(id, new Set([held, address]));
  }

  private removeAddrAlias(id: string, address: string): void {
    const held = this.addrAliases.get(id);
    if (held === address) this.addrAliases.delete(id);
    else if (typeof held !== 'string' && held?.delete(address) && held.size === 1)
      this.addrAliases.set(id, held.values().next().value!);
  }
}

function isAliasKind(kind: string): kind is AliasKind {
  return kind === 'mac' || kind === 'name' || kind === 'addr';
}

/** One id's new aliases, aliases it lost and its MAC, as written to `rig_aliases` and `rig_ids`. */
export interface Binding {
  id: string;
  changed: string[];
  stale: string[];
  mac: string | null;
  atMs: number;
}

const IDENTITY_SCHEMA = `
  CREATE TABLE IF NOT EXISTS rig_aliases (alias TEXT PRIMARY KEY, rig_id TEXT NOT NULL, at_ms INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS rig_ids (rig_id TEXT PRIMARY KEY, mac TEXT, first_seen_ms INTEGER NOT NULL);
`;

/** Writes batches of bindings to `db` in one transaction each (throws what SQLite throws: the caller keeps them). */
export function bindingWriter(db: Database.Database): (batch: readonly Binding[]) => void {
  db.exec(IDENTITY_SCHEMA);
  const put = db.prepare(
    'INSERT INTO rig_aliases (alias, rig_id, at_ms) VALUES (?, ?, ?) ON CONFLICT(alias) DO UPDATE SET rig_id = excluded.rig_id, at_ms = excluded.at_ms',
  );
  const del = db.prepare('DELETE FROM rig_aliases WHERE alias = ?');
  const putRig = db.prepare(
    'INSERT INTO rig_ids (rig_id, mac, first_seen_ms) VALUES (?, ?, ?) ON CONFLICT(rig_id) DO UPDATE SET mac = COALESCE(rig_ids.mac, excluded.mac)',
  );
  const run = db.transaction((batch: readonly Binding[]) => {
    for (const b of batch) {
      for (const a of b.changed) put.run(a, b.id, b.atMs);
      for (const a of b.stale) del.run(a);
      putRig.run(b.id, b.mac, b.atMs);
    }
  });
  return (batch) => run(batch);
}
