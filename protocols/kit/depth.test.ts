import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtoErrors } from '../errors.js';
import { decodeReply } from './decode.js';
import { excessiveNestingAt, MAX_NESTING_DEPTH } from './depth.js';

describe('nesting depth scan', () => {
  it('refuses a 100,000-deep reply with RT_ERR_PROTO_DECODE before parsing, in milliseconds', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    for (const input of [deep, `{"STATUS":${deep}}`, Buffer.from(`${deep}\0`), '{"a":'.repeat(100_000)]) {
      assert.throws(
        () => decodeReply(input),
        (err: unknown) => ProtoErrors.decode.is(err) && /nested deeper than 64 levels/.test(err.message),
      );
    }
  });

  it('counts structure only, not brackets inside strings', () => {
    const inString = `{"URL":"${'['.repeat(500)}"}`;
    assert.equal(excessiveNestingAt(inString), -1);
    assert.deepEqual(decodeReply(inString).value, { URL: '['.repeat(500) });
    const escaped = `{"a":"\\"${'{'.repeat(200)}"}`;
    assert.equal(excessiveNestingAt(escaped), -1);
  });

  it('accepts exactly the limit and refuses one more, on strings and bytes alike', () => {
    const at = (d: number) => `${'['.repeat(d)}${']'.repeat(d)}`;
    assert.equal(excessiveNestingAt(at(MAX_NESTING_DEPTH)), -1);
    assert.equal(excessiveNestingAt(at(MAX_NESTING_DEPTH + 1)), MAX_NESTING_DEPTH);
    assert.equal(excessiveNestingAt(Buffer.from(at(MAX_NESTING_DEPTH + 1))), MAX_NESTING_DEPTH);
    assert.doesNotThrow(() => decodeReply(`{"a":${at(MAX_NESTING_DEPTH - 1)}}`));
  });
});
