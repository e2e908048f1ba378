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

/** In-memory resolver with the same sticky rules (tests, or when no store is configured). */
export class IdentityMap implements RigIdResolver {
  private readonly aliases = new Map<string, string>();
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
      for (const r of db.prepare('SELECT alias, rig_id FROM rig_aliases').all() as {
        alias: string;
        rig_id: string;
      }[]) {
        this.aliases.set(r.alias, r.rig_id);
        if (r.alias.startsWith('addr:')) this.addrAliasesOf(r.rig_id).add(r.alias);
      }
      for (const r of db.prepare('SELECT rig_id, mac FROM rig_ids').all() as {
        rig_id: string;
        mac: string | null;
      }[]) {
        // Known ids skip the write on their next healthy poll (a restart with 10,000 rigs wrote 10,000 times).
        this.knownIds.add(r.rig_id);
        if (r.mac !== null) this.macOf.set(r.rig_id, r.mac);
      }
      this.write = write ?? bindingWriter(db);
    }
  }

  resolve(key: IdentityKey, rawMac: string | null, atMs: number): string {
    const mac = normalizeMac(rawMac);
    const byMac = mac ? this.aliases.get(`mac:${mac}`) : undefined;
    const byName = key.name ? this.aliases.get(`name:${key.name}`) : undefined;
    let byAddr = this.aliases.get(`addr:${key.address}`);
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
    return this.aliases.get(alias);
  }

  private bind(id: string, key: IdentityKey, mac: string | null, atMs: number): void {
    // Hot path (every healthy poll): nothing changed, so no arrays, closures or writes.
    if (
      this.knownIds.has(id) &&
      (mac === null || this.macOf.has(id)) &&
      this.aliases.get(`addr:${key.address}`) === id &&
      (!key.name || this.aliases.get(`name:${key.name}`) === id) &&
      (mac === null || this.aliases.get(`mac:${mac}`) === id)
    )
      return;
    const wanted: string[] = [`addr:${key.address}`];
    if (key.name) wanted.push(`name:${key.name}`);
    if (mac) wanted.push(`mac:${mac}`);
    const changed = wanted.filter((a) => this.aliases.get(a) !== id);
    const newMac = mac !== null && !this.macOf.has(id);
    if (changed.length === 0 && !newMac && this.knownIds.has(id)) return;
    for (const a of changed) this.aliases.set(a, id);
    // A MAC-identified asset seen at a new address is no longer at its old one: forget the old address, so a
    // failed poll there is not booked to this asset (it is up elsewhere).
    const stale: string[] = [];
    if (mac && changed.includes(`addr:${key.address}`)) {
      // Only this id's own address aliases (indexed below): a scan of every alias per new rig is O(n²) at start-up.
      for (const alias of this.addrAliasesOf(id)) {
        if (alias !== `addr:${key.address}` && this.aliases.get(alias) === id) stale.push(alias);
      }
      for (const a of stale) this.aliases.delete(a);
    }
    for (const a of changed) if (a.startsWith('addr:')) this.addrAliasesOf(id).add(a);
    for (const a of stale) this.addrAliasesOf(id).delete(a);
    if (newMac) this.macOf.set(id, mac);
    this.knownIds.add(id);
    if (this.write) {
      this.pending.push({ id, changed, stale, mac: newMac ? mac : (this.macOf.get(id) ?? null), atMs });
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
  /** Address aliases that were bound to each id (may include some rebound since: check `aliases`). */
  private readonly addrAliases = new Map<string, Set<string>>();

  private addrAliasesOf(id: string): Set<string> {
    let set = this.addrAliases.get(id);
    if (!set) {
      set = new Set();
      this.addrAliases.set(id, set);
    }
    return set;
  }
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
