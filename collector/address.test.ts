import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey, normalizeAddress, parseAddress } from './address.js';

describe('address keys', () => {
  it('every accepted form of one address gives one key', () => {
    assert.equal(normalizeAddress('10.0.0.12'), '10.0.0.12:4028');
    assert.equal(normalizeAddress('10.0.0.12:4028'), '10.0.0.12:4028');
    assert.equal(normalizeAddress('10.0.0.12:80'), '10.0.0.12:80');
    assert.equal(normalizeAddress('[::1]'), '[::1]:4028');
    assert.equal(normalizeAddress('[::1]:4433'), '[::1]:4433');
    assert.equal(addressKey({ host: '::1', port: 4028 }), '[::1]:4028');
    assert.deepEqual(parseAddress('rig-7.site', 80), { host: 'rig-7.site', port: 80 });
  });
});
