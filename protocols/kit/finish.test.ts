// The kit's one finish step: one partial policy, one raw cap, the plausibility checks, the signature check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtoErrors } from '../errors.js';
import { emptyReading } from '../sample.js';
import { capRaw, finishReading, RAW_CAP_BYTES, SIGNATURE_LOST } from './finish.js';
import { identified } from './recognize.js';

const denied = ProtoErrors.accessDenied('summary');

describe('finishReading', () => {
  it('a failed command is a note and makes the reading partial, its replies kept', () => {
    const r = emptyReading('cgminer');
    finishReading(r, {
      bodies: { devs: { DEVS: [] } },
      repairs: [],
      failures: [{ command: 'summary', error: denied }],
    });
    assert.equal(r.support, 'partial');
    assert.ok(r.notes.some((n) => n.startsWith('no summary: RT_ERR_PROTO_ACCESS_DENIED')));
    assert.ok(r.raw?.includes('"devs"'));
    assert.ok(r.raw?.includes('RT_ERR_PROTO_ACCESS_DENIED'));
  });

  it('a refusal its fallback covered is a note only', () => {
    const r = emptyReading('avalon');
    finishReading(r, {
      bodies: { stats: {} },
      repairs: [],
      failures: [{ command: 'estats', error: denied }],
      covered: { estats: 'stats' },
    });
    assert.equal(r.support, 'full');
    assert.ok(r.notes.some((n) => n.startsWith('estats refused (RT_ERR_PROTO_ACCESS_DENIED): stats read')));
    assert.equal(r.raw, null);
  });

  it('none of the essential commands answered: partial with a note', () => {
    const r = emptyReading('vnish');
    finishReading(r, { bodies: { version: {} }, repairs: [], failures: [], essential: ['summary', 'stats'] });
    assert.equal(r.support, 'partial');
    assert.ok(r.notes.some((n) => n.includes('(summary, stats) answered')));
  });

  it('runs the plausibility checks: a hashrate a thousand times the nameplate is not stored', () => {
    const r = emptyReading('antminer');
    r.identity.model = 'Antminer S19 Pro';
    r.hashrate_hs = 110e15; // 110 PH/s from a 110 TH/s model: a GH/s-as-MH/s slip
    finishReading(r, { bodies: {}, repairs: [], failures: [] });
    assert.equal(r.hashrate_hs, null);
    assert.equal(r.support, 'partial');
  });

  it('a version reply that no longer carries the family signature is flagged', () => {
    const r = emptyReading('braiins');
    finishReading(r, {
      bodies: { version: { VERSION: [{ LUXminer: '2025.4.8' }] } },
      repairs: [],
      failures: [],
      recognize: (d) => (d.ver && 'BOSminer' in d.ver ? identified('braiins', 'high', []) : null),
    });
    assert.ok(r.notes.some((n) => n.startsWith(SIGNATURE_LOST)));
    assert.equal(r.support, 'partial');
  });

  it('one raw cap: at most RAW_CAP_BYTES of UTF-8, never a split character', () => {
    const long = 'é'.repeat(RAW_CAP_BYTES);
    const cut = capRaw(long);
    assert.ok(Buffer.byteLength(cut) <= RAW_CAP_BYTES);
    assert.ok(!cut.includes('\uFFFD'));
    assert.ok(cut.endsWith(`[cut at ${RAW_CAP_BYTES} bytes]`));
    assert.equal(capRaw('short'), 'short');
  });
});
