import { pollCommand } from './cli/poll.js';
import { startFixtureRig } from './protocols/braiins/fixture-server.js';

const sets: Record<string, Record<string, string>> = {
  m31s: {
    summary: 'whatsminer_m31s_summary.txt',
    devs: 'whatsminer_m31s_edevs.txt',
    edevs: 'whatsminer_m31s_edevs.txt',
    pools: 'whatsminer_m31s_pools.txt',
  },
  inno: {
    summary: 'innosilicon_a9_summary.txt',
    stats: 'innosilicon_a9_stats.txt',
    pools: 'innosilicon_a9_pools.txt',
  },
};
for (const [name, replies] of Object.entries(sets)) {
  const rig = await startFixtureRig({ host: '127.0.0.1', replies });
  let out = '',
    err = '';
  await pollCommand([`127.0.0.1:${rig.port}`, '--json'], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env: {},
  });
  if (err) console.log(name, 'ERR', err);
  else {
    const r = JSON.parse(out);
    delete r.raw;
    console.log(name, JSON.stringify({ ...r, pools: r.pools.length }, null, 1).slice(0, 3000));
  }
  await rig.close();
}
