import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flagImplausibleHashrate } from './plausibility.js';
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
