import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPlausibility, flagImplausibleHashrate } from './plausibility.js';
import { emptyBoard, emptyReading, type MinerReading } from './sample.js';

function s19pro(ths: number | null, boardTh: number | null = null): MinerReading {
  const r = emptyReading('antminer');
  r.identity.model = 'Antminer S19 Pro';
  r.state = 'mining';
  r.hashrate_hs = ths === null ? null : ths * 1e12;
  r.boards = [0, 1, 2].map((i) => ({
    ...emptyBoard(i),
    hashrate_hs: boardTh === null ? null : boardTh * 1e12,
  }));
  return r;
}

describe('hashrate plausibility against the nameplate', () => {
  it('keeps normal, weak and overclocked figures', () => {
    for (const ths of [110, 36, 140, 2]) {
      const r = s19pro(ths, ths / 3);
      assert.deepEqual(flagImplausibleHashrate(r), [], `${ths} TH/s`);
      assert.equal(r.hashrate_hs, ths * 1e12);
      assert.equal(r.support, 'full');
    }
  });

  it('flags a figure off by a factor of 1000 (GH/s read as MH/s, or TH/s as GH/s) and does not store it', () => {
    const high = s19pro(110_000, 36_000);
    assert.deepEqual(flagImplausibleHashrate(high), [
      'hashrate_hs',
      'boards[0].hashrate_hs',
      'boards[1].hashrate_hs',
      'boards[2].hashrate_hs',
    ]);
    assert.equal(high.hashrate_hs, null);
    assert.equal(high.boards[0]!.hashrate_hs, null);
    assert.equal(high.support, 'partial');
    assert.match(
      high.notes[0]!,
      /implausible hashrate_hs 1\.100e\+17 H\/s for Antminer S19 Pro \(nameplate 1\.100e\+14 H\/s\)/,
    );

    const low = s19pro(0.11);
    assert.deepEqual(flagImplausibleHashrate(low), ['hashrate_hs']);
    assert.equal(low.hashrate_hs, null);
  });

  it('leaves rigs of unknown model and zero (sleeping) figures alone', () => {
    const unknown = s19pro(110_000);
    unknown.identity.model = 'Mystery 9000';
    assert.deepEqual(flagImplausibleHashrate(unknown), []);
    assert.deepEqual(flagImplausibleHashrate(s19pro(0, 0)), []);
  });

  it('judges against the miner-reported nameplate when the model table does not know the model', () => {
    const r = s19pro(5000);
    r.identity.model = 'Mystery 9000';
    r.hashrate_nominal_hs = 100e12;
    assert.deepEqual(flagImplausibleHashrate(r), ['hashrate_hs']);
  });
});

describe('physical bounds for every sample, any model', () => {
  it('drops a 1e30 GH/s figure from an unknown model, names it, keeps it in raw, marks the reading partial', () => {
    const r = s19pro(null);
    r.identity.model = 'Mystery 9000';
    r.hashrate_hs = 1e39;
    r.uptime_s = 1.23e38;
    r.shares_accepted = 3.7e38;
    r.fans = [
      { index: 0, rpm: 1.23e38 },
      { index: 1, rpm: 5400 },
    ];
    const { flagged } = checkPlausibility(r);
    assert.deepEqual(flagged, ['hashrate_hs', 'uptime_s', 'shares_accepted', 'fans[0].rpm']);
    assert.equal(r.hashrate_hs, null);
    assert.equal(r.uptime_s, null);
    assert.equal(r.shares_accepted, null);
    assert.equal(r.fans[0]!.rpm, null);
    assert.equal(r.fans[1]!.rpm, 5400);
    assert.equal(r.support, 'partial');
    assert.equal(r.notes.length, 4);
    assert.match(r.notes[0]!, /implausible hashrate_hs 1e\+39 \(outside 0\.\.1e\+16\)/);
    assert.deepEqual(JSON.parse(r.raw!).implausible.hashrate_hs, 1e39);
  });

  it('treats NaN, Infinity and numeric-looking strings as not a reading, with a note', () => {
    const r = s19pro(100);
    r.temp_chip_max_c = Number.NaN;
    r.power_w = Number.POSITIVE_INFINITY;
    r.power_source = 'miner';
    (r as unknown as Record<string, unknown>)['hw_errors'] = '12';
    r.boards[1]!.temp_board_c = -Infinity;
    const { flagged } = checkPlausibility(r);
    assert.deepEqual(flagged, ['temp_chip_max_c', 'power_w', 'hw_errors', 'boards[1].temp_board_c']);
    assert.equal(r.power_w, null);
    assert.equal(r.power_source, null, 'a dropped power figure has no source');
    assert.match(r.notes.join('\n'), /temp_chip_max_c NaN \(not finite\)/);
    assert.match(r.notes.join('\n'), /hw_errors "12" \(not a number\)/);
    assert.equal(r.hashrate_hs, 100e12, 'the plausible figures stay');
  });

  it('applies tighter bounds to small hardware (a Bitaxe at 1 PH/s is a unit slip)', () => {
    const r = emptyReading('bitaxe');
    r.state = 'mining';
    r.hashrate_hs = 1e15;
    r.power_w = 15;
    assert.deepEqual(checkPlausibility(r).flagged, ['hashrate_hs']);
    const big = emptyReading('antminer');
    big.hashrate_hs = 1e15;
    assert.deepEqual(checkPlausibility(big).flagged, []);
  });

  it('is idempotent: a second run flags nothing and adds no note', () => {
    const r = s19pro(110_000);
    r.temp_board_max_c = 900;
    const first = checkPlausibility(r);
    assert.ok(first.flagged.length > 0);
    const notes = [...r.notes];
    const raw = r.raw;
    assert.deepEqual(checkPlausibility(r).flagged, []);
    assert.deepEqual(r.notes, notes);
    assert.equal(r.raw, raw);
  });

  it('leaves a clean reading untouched and full', () => {
    const r = s19pro(108, 36);
    r.temp_chip_max_c = 78;
    r.uptime_s = 86_400;
    r.fans = [{ index: 0, rpm: 6000 }];
    assert.deepEqual(checkPlausibility(r).flagged, []);
    assert.equal(r.support, 'full');
    assert.equal(r.raw, null);
  });
});

describe('non-readings repaired by the decoder', () => {
  it('a NaN/Infinity/1e999 the decoder nulled still makes the sample partial with a note, once', () => {
    const r = s19pro(100);
    r.repairs = ['bare-nan-inf', 'number-overflow'];
    assert.deepEqual(checkPlausibility(r).flagged, ['repair:bare-nan-inf', 'repair:number-overflow']);
    assert.equal(r.support, 'partial');
    assert.match(r.notes.join('\n'), /NaN, Infinity or an overflowing number/);
    checkPlausibility(r);
    assert.equal(r.notes.length, 1);
    const clean = s19pro(100);
    clean.repairs = ['missing-comma-between-objects'];
    assert.deepEqual(checkPlausibility(clean).flagged, []);
    assert.equal(clean.support, 'full');
  });
});
