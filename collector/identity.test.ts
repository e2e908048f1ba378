import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { defaultRigId, IdentityMap, normalizeMac } from './identity.js';

describe('rig identity', () => {
  it('normalizes MACs and refuses what is not one', () => {
    assert.equal(normalizeMac('AA-BB-CC-DD-EE-0F'), 'aa:bb:cc:dd:ee:0f');
    assert.equal(normalizeMac('aabb.ccdd.ee0f'), 'aa:bb:cc:dd:ee:0f');
    assert.equal(normalizeMac('AABBCCDDEE0F'), 'aa:bb:cc:dd:ee:0f');
    assert.equal(normalizeMac(' aa:bb:cc:dd:ee:0f\n'), 'aa:bb:cc:dd:ee:0f');
    assert.equal(normalizeMac('00:00:00:00:00:00'), null);
    assert.equal(normalizeMac('aa:bb:cc'), null);
    assert.equal(normalizeMac('not a mac at all'), null);
    assert.equal(normalizeMac(null), null);
    assert.equal(defaultRigId({ name: 'r1', address: 'h:1' }, null), 'r1');
    assert.equal(defaultRigId({ name: null, address: 'h:1' }, null), 'h:1');
    assert.equal(defaultRigId({ name: 'r1', address: 'h:1' }, 'AA:BB:CC:DD:EE:FF'), 'aa:bb:cc:dd:ee:ff');
  });

  it('keeps one id per asset across DHCP moves, late MACs, swaps and restarts', () => {
    const db = new Database(':memory:');
    let m = new IdentityMap(db);
    // Seen with its MAC first: the MAC is the id.
    assert.equal(
      m.resolve({ name: null, address: '10.0.0.5:4028' }, 'AA:BB:CC:00:00:01', 1),
      'aa:bb:cc:00:00:01',
    );
    // DHCP moved it: found by MAC.
    assert.equal(
      m.resolve({ name: null, address: '10.0.0.9:4028' }, 'aa:bb:cc:00:00:01', 2),
      'aa:bb:cc:00:00:01',
    );
    // Another asset now holds the old address: its own MAC wins over the address hint.
    assert.equal(
      m.resolve({ name: null, address: '10.0.0.5:4028' }, 'aa:bb:cc:00:00:02', 3),
      'aa:bb:cc:00:00:02',
    );
    // Offline poll of an address (no MAC): the asset last seen there.
    assert.equal(m.resolve({ name: null, address: '10.0.0.5:4028' }, null, 4), 'aa:bb:cc:00:00:02');
    // An asset moves away and nobody answers at its old address: a failed poll there is not booked to it.
    assert.equal(
      m.resolve({ name: null, address: '10.0.0.6:4028' }, 'aa:bb:cc:00:00:06', 4),
      'aa:bb:cc:00:00:06',
    );
    assert.equal(
      m.resolve({ name: null, address: '10.0.0.8:4028' }, 'aa:bb:cc:00:00:06', 4),
      'aa:bb:cc:00:00:06',
    );
    assert.equal(m.resolve({ name: null, address: '10.0.0.6:4028' }, null, 4), '10.0.0.6:4028');
    // First seen without MAC, the MAC appears later: the id stays.
    assert.equal(m.resolve({ name: null, address: '10.0.0.7:4028' }, null, 5), '10.0.0.7:4028');
    assert.equal(
      m.resolve({ name: null, address: '10.0.0.7:4028' }, 'aa:bb:cc:00:00:07', 6),
      '10.0.0.7:4028',
    );
    // Named rig: the name.
    assert.equal(m.resolve({ name: 'r12', address: '10.0.1.12:4028' }, null, 7), 'r12');
    assert.equal(m.resolve({ name: 'r12', address: '10.0.1.12:4028' }, 'aa:bb:cc:00:00:12', 8), 'r12');
    // Restart: the mapping is read back (bindings are written at the end of the event-loop turn; a stopping
    // collector flushes them).
    m.flush();
    m = new IdentityMap(db);
    assert.equal(
      m.resolve({ name: null, address: '10.0.0.99:4028' }, 'aa:bb:cc:00:00:07', 9),
      '10.0.0.7:4028',
    );
    assert.equal(
      m.resolve({ name: 'r12-renamed', address: '10.0.1.50:4028' }, 'aa:bb:cc:00:00:12', 10),
      'r12',
    );
    // A name whose hardware was swapped for another machine: the new MAC is a new asset.
    assert.equal(
      m.resolve({ name: 'r12', address: '10.0.1.12:4028' }, 'aa:bb:cc:00:00:13', 11),
      'aa:bb:cc:00:00:13',
    );
    db.close();
  });

  it('forgets every old address of an asset once its MAC shows it elsewhere, in memory and after a restart', () => {
    const db = new Database(':memory:');
    let m = new IdentityMap(db);
    // A named rig without a MAC polled at two addresses in turn: both lead to it.
    assert.equal(m.resolve({ name: 'r7', address: '10.0.2.1:4028' }, null, 1), 'r7');
    assert.equal(m.resolve({ name: 'r7', address: '10.0.2.2:4028' }, null, 2), 'r7');
    assert.equal(m.lookup('addr:10.0.2.1:4028'), 'r7');
    assert.equal(m.lookup('addr:10.0.2.2:4028'), 'r7');
    // Its MAC appears at a third address: neither old address is its any more.
    assert.equal(m.resolve({ name: 'r7', address: '10.0.2.3:4028' }, 'aa:bb:cc:00:07:07', 3), 'r7');
    assert.equal(m.lookup('addr:10.0.2.1:4028'), undefined);
    assert.equal(m.lookup('addr:10.0.2.2:4028'), undefined);
    assert.equal(m.lookup('addr:10.0.2.3:4028'), 'r7');
    assert.equal(m.lookup('mac:aa:bb:cc:00:07:07'), 'r7');
    assert.equal(m.lookup('name:r7'), 'r7');
    assert.equal(m.resolve({ name: null, address: '10.0.2.1:4028' }, null, 4), '10.0.2.1:4028');
    // Read back from the database: the same mapping, and the asset moving again forgets the last address.
    m.flush();
    m = new IdentityMap(db);
    assert.equal(m.lookup('addr:10.0.2.2:4028'), undefined);
    assert.equal(m.lookup('addr:10.0.2.3:4028'), 'r7');
    assert.equal(m.lookup('addr:10.0.2.1:4028'), '10.0.2.1:4028');
    assert.equal(m.resolve({ name: 'r7', address: '10.0.2.4:4028' }, 'aa:bb:cc:00:07:07', 5), 'r7');
    assert.equal(m.lookup('addr:10.0.2.3:4028'), undefined);
    assert.equal(m.resolve({ name: null, address: '10.0.2.3:4028' }, null, 6), '10.0.2.3:4028');
    m.flush();
    const rows = db.prepare("SELECT alias FROM rig_aliases WHERE rig_id = 'r7' ORDER BY alias").all();
    assert.deepEqual(
      rows.map((r) => (r as { alias: string }).alias),
      ['addr:10.0.2.4:4028', 'mac:aa:bb:cc:00:07:07', 'name:r7'],
    );
    db.close();
  });
});
