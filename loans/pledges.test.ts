import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../cli/main.js';
import { facilitySchema, loansSection } from '../config/sections/loans.js';
import { emptyBoard, emptyReading, type Sample } from '../protocols/sample.js';
import { PledgeWatcher } from './pledges.js';
import { loadFacilities, normalizePledge, parseRegister } from './register.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const collateral = {
  tiers: [{ label: 'all', max_j_per_th: null, usd_per_th: 10 }],
  marked_on: '2026-11-01',
  source: 't',
};

function sample(
  address: string,
  at: number,
  o: {
    mac?: string;
    serial?: string;
    model?: string;
    fw?: string;
    boards?: number;
    ths?: number;
    ok?: boolean;
  },
): Sample {
  const r = emptyReading('antminer');
  const ok = o.ok ?? true;
  return {
    ...r,
    identity: {
      ...r.identity,
      mac: o.mac ?? null,
      serial: o.serial ?? null,
      model: o.model ?? 'Antminer S19 Pro',
      firmware: o.fw ?? 'fw1',
    },
    boards: Array.from({ length: o.boards ?? 3 }, (_, i) => emptyBoard(i)),
    state: ok ? 'mining' : 'offline',
    hashrate_hs: ok ? (o.ths ?? 110) * 1e12 : null,
    v: 1,
    rig_id: o.mac ?? address,
    site: 's',
    address,
    at_ms: at,
    power_miner_w: null,
    energy_wh: null,
    poll: { ok, duration_ms: 1, error_code: ok ? null : 'RT_ERR_PROTO_CONNECT_REFUSED', error_message: null },
  };
}

describe('pledged vs seen', () => {
  const f = facilitySchema.parse({
    id: 'L',
    lender: 'x',
    principal_usd: 1,
    rate_apr: 0,
    start: '2026-11-01',
    derate_polls: 3,
    pledges: [
      {
        serial: 'S1',
        mac: 'aa:00:00:00:00:01',
        model: 'Antminer S19 Pro',
        nominal_ths: 110,
        nominal_w: 3250,
        firmware: 'fw1',
        boards: 3,
      },
      { mac: 'AA-00-00-00-00-02', model: 'Antminer S19 Pro', nominal_ths: 110, nominal_w: 3250 },
    ],
    collateral,
  });
  const facility = { ...f, pledges: f.pledges.map(normalizePledge) };

  it('moves through seen, changed, derated and swapped, and lists unpledged rigs', () => {
    const w = new PledgeWatcher(facility, 0);
    assert.deepEqual(
      w.pledged().map((p) => p.status),
      ['missing', 'missing'],
    );
    let t = 1000;
    const next = () => {
      t += 30_000;
      return t;
    };
    w.observe(sample('10.0.0.1:4028', t, { mac: 'aa:00:00:00:00:01', serial: 'S1' }));
    w.observe(sample('10.0.0.2:4028', t, { mac: 'aa:00:00:00:00:02' }));
    assert.deepEqual(
      w.pledged().map((p) => p.status),
      ['seen', 'seen'],
    );
    // Firmware differs → changed; two boards where three were pledged → changed.
    let c = w.observe(sample('10.0.0.1:4028', next(), { mac: 'aa:00:00:00:00:01', serial: 'S1', fw: 'fw2' }));
    assert.equal(c.changes[0]!.to, 'changed');
    assert.match(c.changes[0]!.detail ?? '', /firmware fw2, pledged fw1/);
    c = w.observe(sample('10.0.0.1:4028', next(), { mac: 'aa:00:00:00:00:01', serial: 'S1', boards: 2 }));
    assert.match(w.pledged()[0]!.detail ?? '', /2 hash boards, pledged 3/);
    // Below 0.8 × nameplate for 3 polls → derated.
    for (let i = 0; i < 3; i++)
      c = w.observe(sample('10.0.0.2:4028', next(), { mac: 'aa:00:00:00:00:02', ths: 60 }));
    assert.equal(c.changes[0]!.to, 'derated');
    // The serial answers with another control board (MAC) → swapped.
    c = w.observe(sample('10.0.0.1:4028', next(), { mac: 'aa:00:00:00:00:99', serial: 'S1' }));
    assert.equal(c.changes[0]!.to, 'swapped');
    // A stranger elsewhere is unpledged (once).
    const u = w.observe(sample('10.0.0.3:4028', next(), { mac: 'bb:00:00:00:00:03' }));
    assert.equal(u.unpledged.length, 1);
    assert.equal(
      w.observe(sample('10.0.0.3:4028', next(), { mac: 'bb:00:00:00:00:03' })).unpledged.length,
      0,
    );
    assert.equal(w.unpledged()[0]!.address, '10.0.0.3:4028');
    // No answer at the pledged rig's address → missing since that poll.
    c = w.observe(sample('10.0.0.2:4028', next(), { ok: false }));
    assert.equal(c.changes[0]!.to, 'missing');
    assert.equal(w.pledged()[0]!.since_ms, t);
  });

  it('imports the asset register (CSV) and names the line and field of a bad row', () => {
    const rows = parseRegister(
      'serial,mac,model,nominal_ths,nominal_w,site,rack,slot,lien_ref\n' +
        'S9,,"Antminer S19 Pro",110,3250,tx,R1,1,"UCC-1, line 1"\n' +
        ',aa:00:00:00:00:07,Antminer S19,95,3250,tx,R1,2,UCC-1 line 2\n',
    );
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.lien_ref, 'UCC-1, line 1');
    assert.equal(rows[1]!.nominal_ths, 95);
    assert.throws(
      () => parseRegister('serial,model,nominal_ths,nominal_w\nS1,M,fast,3000\n', 'reg.csv'),
      /reg\.csv:2: nominal_ths/,
    );
    assert.throws(
      () => parseRegister('serial,colour\nS1,red\n', 'reg.csv'),
      /reg\.csv:1: unknown column 'colour'/,
    );
    assert.throws(() => parseRegister('model,nominal_ths,nominal_w\nM,1,1\n', 'reg.csv'), /serial or a mac/);

    const dir = mkdtempSync(join(tmpdir(), 'rigtel-reg-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'reg.csv'), 'mac,model,nominal_ths,nominal_w\naa:00:00:00:00:08,M,100,3000\n');
    writeFileSync(
      join(dir, 'l2.yaml'),
      `id: L2\nlender: B\nprincipal_usd: 5\nrate_apr: 0.1\nstart: '2026-11-01'\nregister_csv: reg.csv\ncollateral: {tiers: [{label: a, max_j_per_th: null, usd_per_th: 1}], marked_on: '2026-11-01', source: s}\n`,
    );
    writeFileSync(join(dir, 'bad.yaml.off'), 'ignored');
    const loaded = loadFacilities(loansSection.parse({ loans_dir: dir }), dir);
    assert.equal(loaded[0]!.id, 'L2');
    assert.equal(loaded[0]!.pledges[0]!.key, 'mac:aa:00:00:00:00:08');
    writeFileSync(join(dir, 'l3.yaml'), 'id: L3\nlender: B\nprincipal_usd: -5\n');
    assert.throws(
      () => loadFacilities(loansSection.parse({ loans_dir: dir }), dir),
      /l3\.yaml[\s\S]*principal_usd/,
    );
  });
  it('rigtel config check reads the asset register and names the bad line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-reg-'));
    dirs.push(dir);
    writeFileSync(
      join(dir, 'reg.csv'),
      'mac,model,nominal_ths,nominal_w\naa:00:00:00:00:08,M,100,3000\nzz,M,100,3000\n',
    );
    writeFileSync(
      join(dir, 'rigtel.yaml'),
      "loans:\n  facilities:\n    - id: L9\n      lender: B\n      principal_usd: 5\n      rate_apr: 0.1\n      start: '2026-11-01'\n      register_csv: reg.csv\n      collateral: {tiers: [{label: a, max_j_per_th: null, usd_per_th: 1}], marked_on: '2026-11-01', source: s}\n",
    );
    const err: string[] = [];
    const code = await main(['config', 'check', join(dir, 'rigtel.yaml')], {
      out: () => {},
      err: (t) => err.push(t),
      env: {},
    });
    assert.equal(code, 2);
    assert.match(err.join(''), /RT_ERR_LOAN_REGISTER: .*reg\.csv:3: mac: expected a MAC/);
  });
});
