/**
 * CONSTRUCTED Whatsminer API v3 replies. No real v3 capture exists in protocols/fixtures/real: these are written
 * from the field names in docs/protocols.md, "## Whatsminer" (reply envelope {code,msg,desc,when}; TH/s hashrates;
 * W power; °C temps). The values are invented (an M60S-like rig) and are NOT evidence of real firmware output.
 */
export const V3_DEVICE_INFO = {
  code: 0,
  msg: {
    miner: {
      type: 'M60S_VK40',
      'miner-sn': 'HTM60SVK40-000001',
      'board-num': '3',
      'hash-board': 'V10',
      working: 'true',
      'detect-hash-rate': '172000',
      pcbsn0: 'PCB0',
      pcbsn1: 'PCB1',
      pcbsn2: 'PCB2',
    },
    network: { mac: 'c4:11:04:12:34:56', hostname: 'WhatsMiner-M60S', ip: '127.0.0.1' },
    power: { model: 'P222B', fanspeed: 6120, sn: 'PSU1', hwversion: '1', swversion: '2' },
    system: {
      api: '3.0.2',
      apiswitch: '1',
      fwversion: '20251209.12.REL',
      platform: 'H616',
      ledstatus: 'auto',
      'control-board-version': 'CB6',
    },
    salt: 'abcdefgh',
  },
  desc: 'get.device.info',
  when: 1773869570,
};

export const V3_SUMMARY = {
  code: 0,
  msg: {
    summary: {
      'hash-realtime': 171.23,
      'hash-1min': 170.9,
      'hash-15min': 170.6,
      'hash-average': 170.55,
      'factory-hash': 172.0,
      'power-realtime': 3156,
      'power-5min': 3150,
      'power-limit': 3600,
      'power-rate': 17.6,
      'chip-temp-min': 55.2,
      'chip-temp-max': 79.5,
      'chip-temp-avg': 68.1,
      'board-temperature': [61.5, 63.25, 62.0],
      'environment-temperature': 24.5,
      'fan-speed-in': 4020,
      'fan-speed-out': 4080,
      elapsed: 86400,
      'bootup-time': 90000,
      'freq-avg': 580,
      'up-freq-finish': 1,
    },
  },
  desc: 'get.miner.status',
  when: 1773869571,
};

export const V3_EDEVS = {
  code: 0,
  msg: {
    edevs: [
      { id: 0, status: 'alive', 'hash-realtime': 57.1, 'hash-average': 56.9, 'factory-hash': 57.3, 'effective-chips': 156, 'chip-temp-min': 55.2, 'chip-temp-max': 77.0, 'chip-temp-avg': 67.0, freq: 578 },
      { id: 1, status: 'alive', 'hash-realtime': 57.03, 'hash-average': 56.85, 'factory-hash': 57.3, 'effective-chips': 156, 'chip-temp-min': 56.0, 'chip-temp-max': 79.5, 'chip-temp-avg': 69.0, freq: 582 },
      { id: 2, status: 'alive', 'hash-realtime': 57.1, 'hash-average': 56.8, 'factory-hash': 57.4, 'effective-chips': 155, 'chip-temp-min': 55.9, 'chip-temp-max': 78.0, 'chip-temp-avg': 68.3, freq: 580 },
    ],
  },
  desc: 'get.miner.status',
  when: 1773869572,
};

export const V3_POOLS = {
  code: 0,
  msg: {
    pools: [
      { id: 1, url: 'stratum+tcp://pool.example:3333', account: 'farm.m60s', status: 'alive', 'stratum-active': true, 'pool-priority': 0 },
      { id: 2, url: 'stratum+tcp://backup.example:3333', account: 'farm.m60s', status: 'alive', 'stratum-active': false, 'pool-priority': 1 },
    ],
  },
  desc: 'get.miner.status',
  when: 1773869573,
};
