/**
 * Whatsminer API v3 (port 4433 style): 4-byte little-endian length, then that many bytes of JSON, both ways;
 * one request per connection (docs/protocols.md "Whatsminer"). There is no real v3 capture in the fixture set, so the
 * replies are SYNTHESIZED from the field names and units in §3.5 (hash figures in TH/s, power in W); treat their
 * values as plausible, not as a firmware's exact output. Error `code` values are not documented there either:
 * the emulator answers -1 with a message.
 */

/** Requests are small JSON objects; anything claiming more is hostile or broken. */
export const V3_MAX_REQUEST_BYTES = 64 * 1024;

export function v3RequestComplete(buf: Buffer): boolean {
  if (buf.length < 4) return false;
  const len = buf.readUInt32LE(0);
  return len > V3_MAX_REQUEST_BYTES || buf.length >= 4 + len;
}

/** Capture-time clock of the synthesized miner; moves with `vary` like any `when`. */
const WHEN = 1773869570;

function deviceInfo(): unknown {
  return {
    miner: {
      type: 'M60S_VK40',
      'miner-sn': 'EMU0M60S000000000001',
      pcbsn0: 'EMUPCB0000000000000A',
      pcbsn1: 'EMUPCB0000000000000B',
      pcbsn2: 'EMUPCB0000000000000C',
      'board-num': 3,
      'hash-board': 'HB60S',
      working: 'true',
      'detect-hash-rate': 186.0,
    },
    network: { mac: 'C6:07:00:E0:00:01', hostname: 'WhatsMiner', ip: '127.0.0.1', dhcp: 'true' },
    power: { model: 'P222B', fanspeed: 7800, sn: 'EMUPSU00000001', hwversion: '1.0', swversion: '2.1' },
    system: {
      api: '3.0.2',
      apiswitch: '1',
      fwversion: '20251209.22.REL',
      platform: 'H616',
      ledstatus: 'auto',
      'control-board-version': 'CB6V10',
    },
  };
}

function summary(): unknown {
  return {
    summary: {
      'hash-realtime': 171.23,
      'hash-1min': 171.02,
      'hash-15min': 170.88,
      'hash-average': 170.95,
      'factory-hash': 186.0,
      'power-realtime': 3156,
      'power-5min': 3150,
      'power-limit': 3600,
      'power-rate': 17.6,
      'chip-temp-min': 58.5,
      'chip-temp-max': 81.2,
      'chip-temp-avg': 71.4,
      'board-temperature': [64.1, 65.3, 63.8],
      'environment-temperature': 24.5,
      'fan-speed-in': 4320,
      'fan-speed-out': 4290,
      elapsed: 86400,
      'bootup-time': 86520,
      'freq-avg': 512,
      'up-freq-finish': 1,
    },
  };
}

function edevs(): unknown {
  const board = (id: number, rate: number) => ({
    id,
    status: 'alive',
    'hash-realtime': rate,
    'hash-average': rate,
    'factory-hash': 62.0,
    'effective-chips': 156,
    'chip-temp-min': 58.5,
    'chip-temp-max': 81.2,
    'chip-temp-avg': 71.4,
    freq: 512,
  });
  return { edevs: [board(0, 57.12), board(1, 56.98), board(2, 57.13)] };
}

function pools(): unknown {
  return {
    pools: [
      {
        id: 1,
        url: 'stratum+tcp://pool.example:3333',
        account: 'emu.m60s',
        status: 'alive',
        'stratum-active': true,
        'pool-priority': 0,
      },
      {
        id: 2,
        url: 'stratum+tcp://backup.example:3333',
        account: 'emu.m60s',
        status: 'alive',
        'stratum-active': false,
        'pool-priority': 1,
      },
    ],
  };
}

function reply(code: number, msg: unknown, desc: string): string {
  return JSON.stringify({ code, msg, desc, when: WHEN });
}

/** Answer one framed request; returns the framed reply. */
export function answerV3(buf: Buffer, vary: (text: string) => string): { bytes: Buffer; commands: string[] } {
  // A client that half-closes mid-frame is answered with what arrived (never a crash on a short buffer).
  const len = buf.length >= 4 ? buf.readUInt32LE(0) : 0;
  let text: string;
  let command = '(invalid)';
  if (buf.length < 4) {
    text = reply(-1, 'incomplete frame', '');
  } else if (len > V3_MAX_REQUEST_BYTES) {
    text = reply(-1, 'request too large', '');
  } else {
    let req: Record<string, unknown> | null = null;
    try {
      const v: unknown = JSON.parse(buf.subarray(4, 4 + len).toString('utf8'));
      if (v && typeof v === 'object' && !Array.isArray(v)) req = v as Record<string, unknown>;
    } catch {
      req = null;
    }
    const cmd = typeof req?.cmd === 'string' ? req.cmd : null;
    const param = req?.param;
    if (!req) text = reply(-1, 'invalid json', '');
    else if (cmd === null) text = reply(-1, "missing 'cmd'", '');
    else {
      command = typeof param === 'string' ? `${cmd}:${param}` : cmd;
      if (cmd === 'get.device.info') text = reply(0, deviceInfo(), cmd);
      else if (cmd === 'get.miner.status' && param === 'summary') text = reply(0, summary(), cmd);
      else if (cmd === 'get.miner.status' && param === 'edevs') text = reply(0, edevs(), cmd);
      else if (cmd === 'get.miner.status' && param === 'pools') text = reply(0, pools(), cmd);
      else if (cmd.startsWith('set.')) text = reply(-1, 'permission denied', cmd);
      else text = reply(-1, 'invalid command', cmd);
    }
  }
  const body = Buffer.from(vary(text), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length, 0);
  return { bytes: Buffer.concat([head, body]), commands: [command] };
}
