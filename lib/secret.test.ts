import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from './log.js';
import { redactText, Secret, splitUrlCredentials } from './secret.js';

describe('one redaction for every outgoing text', () => {
  it('censors URL userinfo passwords and keeps the user and the address', () => {
    assert.equal(
      redactText('influx at http://admin:hunter2x@10.0.0.5:8086/write failed'),
      'influx at http://admin:[redacted]@10.0.0.5:8086/write failed',
    );
    assert.equal(redactText('mqtts://tok3n-only@broker:8883'), 'mqtts://[redacted]@broker:8883');
    assert.equal(redactText('"url":"mqtt://u:p%40ss@h"'), '"url":"mqtt://u:[redacted]@h"');
    assert.equal(redactText('no url here: a@b, http://host/path'), 'no url here: a@b, http://host/path');
  });

  it('censors any secret value this process holds, as written, JSON-escaped or URL-encoded', () => {
    const s = new Secret('pa"ss/w0rd!x');
    assert.equal(s.reveal(), 'pa"ss/w0rd!x');
    assert.equal(redactText('raw pa"ss/w0rd!x'), 'raw [redacted]');
    assert.equal(redactText(JSON.stringify({ m: 'pa"ss/w0rd!x' })), '{"m":"[redacted]"}');
    assert.equal(redactText(`q=${encodeURIComponent('pa"ss/w0rd!x')}`), 'q=[redacted]');
  });

  it('splits credentials out of a URL, decoded', () => {
    assert.deepEqual(splitUrlCredentials('http://ad%3Amin:p%40ss@127.0.0.1:8086/x'), {
      url: 'http://127.0.0.1:8086/x',
      username: 'ad:min',
      password: 'p@ss',
    });
    assert.deepEqual(splitUrlCredentials('mqtt://127.0.0.1:1883'), {
      url: 'mqtt://127.0.0.1:1883',
      username: null,
      password: null,
    });
  });

  it('applies to every finished log line, whatever field carried the secret', () => {
    let out = '';
    const destination = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    new Secret('LogLineSecret-42');
    const log = createLogger('info', { destination });
    log.warn({ detail: 'retrying http://u:pw123456@127.0.0.1:9/ping', other: 'LogLineSecret-42' }, 'failed');
    assert.doesNotMatch(out, /pw123456|LogLineSecret-42/);
    assert.match(out, /http:\/\/u:\[redacted\]@127\.0\.0\.1:9\/ping/);
  });
});
