/**
 * There is no Docker engine on the build machine, so this checks what can be checked without it: the image's file
 * tree is built from exactly the Dockerfile's COPY lines and the demo runs from it (healthcheck included); the
 * compose file and provisioning parse and are pinned and loopback-bound; the stack's config is valid; and every
 * dashboard query runs against a real influxd holding what the InfluxDB sink writes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { rigNamesFromConfig } from '../collector/rig-names.js';
import { InfluxSink } from '../collector/sinks/influx.js';
import { FIELD_TYPES, TAG_KEYS } from '../collector/sinks/influx-schema.js';
import { loadConfig, validateConfig as loadConfigFromObject } from '../config/load.js';
import { influxSinkSchema } from '../config/sections/sinks.js';
import { runDemoUntilLive } from '../testing/demo-run.js';
import { type Influxd, startInfluxd } from '../testing/influxd.js';
import { makeSample } from '../testing/sample-factory.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const read = (rel: string) => readFileSync(join(here, rel), 'utf8');

interface Compose {
  services: Record<
    string,
    {
      image?: string;
      ports?: string[];
      volumes?: string[];
      network_mode?: string;
      build?: { context: string; dockerfile: string };
    }
  >;
}
interface Target {
  refId: string;
  query: string;
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Array<{
    title: string;
    datasource: { uid: string };
    targets: Target[];
    fieldConfig?: { defaults?: { unit?: string } };
  }>;
  templating: { list: Array<{ name: string; query: string }> };
}

const compose = parse(read('compose.yaml')) as Compose;
/** Every provisioned dashboard: fleet overview, rig detail, PDU and outlet power. */
const dashboards = readdirSync(join(here, 'grafana', 'dashboards'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(read(`grafana/dashboards/${f}`)) as Dashboard);
const dashboard = dashboards.find((d) => d.uid === 'rigtel-fleet')!;
const panels = dashboards.flatMap((d) => d.panels.map((p) => ({ ...p, title: `${d.title}: ${p.title}` })));

describe('compose stack', () => {
  test('collector, influxdb 1.x, mosquitto and grafana with pinned images', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['collector', 'grafana', 'influxdb', 'mosquitto']);
    // Exact versions: a moving tag (`1.8`, `latest`) changes what runs without a change here.
    assert.match(compose.services['influxdb']!.image!, /^influxdb:1\.\d+\.\d+$/);
    assert.match(compose.services['mosquitto']!.image!, /^eclipse-mosquitto:2\.\d+\.\d+$/);
    assert.match(compose.services['grafana']!.image!, /^grafana\/grafana:\d+\.\d+\.\d+$/);
    for (const [name, svc] of Object.entries(compose.services)) {
      if (svc.image) assert.doesNotMatch(svc.image, /:latest$|^[^:]+$/, `${name}: pin the image tag`);
    }
  });

  test('published ports bind to loopback only', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const port of svc.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name}: ${port}`);
    }
  });

  test('every bind-mounted file and the build context exist', () => {
    for (const svc of Object.values(compose.services)) {
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0]!;
        if (src.startsWith('.')) assert.ok(existsSync(join(here, src)), src);
      }
      if (svc.build) {
        assert.ok(existsSync(join(here, svc.build.context, svc.build.dockerfile)), svc.build.dockerfile);
      }
    }
  });

  test('grafana admin credentials come from the environment, never a default password', () => {
    const env = (compose.services['grafana'] as { environment?: Record<string, string> }).environment ?? {};
    assert.match(env['GF_SECURITY_ADMIN_PASSWORD'] ?? '', /^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
    assert.match(env['GF_SECURITY_ADMIN_USER'] ?? '', /^\$\{GRAFANA_ADMIN_USER/);
  });

  test('the Dockerfile runs as a non-root user on an exactly pinned Node 20 and copies only folders that exist', () => {
    const text = read('Dockerfile');
    const froms = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    assert.ok(froms.length > 0);
    for (const f of froms) assert.match(f!, /^node:20\.\d+\.\d+-bookworm-slim$/);
    assert.match(text, /npm ci --omit=dev/);
    const users = [...text.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    assert.ok(users.length > 0 && !users.includes('root'), 'runs as a non-root user');
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) assert.ok(existsSync(join(root, src)), `COPY ${src}`);
    }
  });

  test('the stack config is valid', () => {
    const config = loadConfig(join(here, 'rigtel.yaml'), {});
    assert.equal(config.storage.dir, '/var/lib/rigtel');
    assert.equal((config.sinks as { influx?: { database: string } }).influx?.database, 'rigtel');
  });

  test('grafana provisioning: datasource uid and database match the dashboard and the sink', () => {
    const ds = parse(read('grafana/provisioning/datasources/influxdb.yaml')) as {
      datasources: Array<{ uid: string; type: string; jsonData: { dbName: string } }>;
    };
    const influx = ds.datasources.find((d) => d.type === 'influxdb')!;
    assert.equal(influx.jsonData.dbName, 'rigtel');
    for (const p of panels) assert.equal(p.datasource.uid, influx.uid, p.title);
    const providers = parse(read('grafana/provisioning/dashboards/rigtel.yaml')) as {
      providers: Array<{ options: { path: string } }>;
    };
    const mount = compose.services['grafana']!.volumes!.find((v) => v.startsWith('./grafana/dashboards'))!;
    assert.equal(mount.split(':')[1], providers.providers[0]!.options.path);
  });
});

/** Measurements, fields and GROUP BY tags named by a query, innermost SELECTs included. */
function references(query: string): Array<{ measurement: string; fields: string[]; tags: string[] }> {
  const out: Array<{ measurement: string; fields: string[]; tags: string[] }> = [];
  for (const m of query.matchAll(/SELECT ((?:(?!SELECT).)*?) FROM "(\w+)"((?:(?!SELECT|\)).)*)/g)) {
    const fields = [...m[1]!.matchAll(/\w+\("(\w+)"\)/g)].map((f) => f[1]!);
    const groupBy = /GROUP BY (.*)$/.exec(m[3]!)?.[1] ?? '';
    const where = m[3]!.split('GROUP BY')[0]!;
    const tags = [...`${groupBy} ${where}`.matchAll(/"(\w+)"/g)].map((t) => t[1]!);
    out.push({ measurement: m[2]!, fields, tags });
  }
  return out;
}

describe('dashboard', () => {
  test('fleet overview, rig detail (name, rack, model variables) and PDU power dashboards', () => {
    assert.deepEqual(
      dashboards.map((d) => d.uid),
      ['rigtel-fleet', 'rigtel-power', 'rigtel-rig'],
    );
    const rig = dashboards.find((d) => d.uid === 'rigtel-rig')!;
    for (const name of ['name', 'rack', 'model'])
      assert.ok(
        rig.templating.list.some((v) => v.name === name),
        `rig detail has a ${name} variable`,
      );
    // Hashrate in Grafana's own unit (hashes/s, scaled by Grafana), never divided by hand.
    for (const p of panels) {
      for (const t of p.targets) assert.doesNotMatch(t.query, /\/ 1000000000000/, p.title);
      if (/hashrate/i.test(p.title)) assert.equal(p.fieldConfig?.defaults?.unit, 'Hs', p.title);
    }
  });

  test('queries name only measurements, fields and tags the InfluxDB sink writes', () => {
    let checked = 0;
    for (const panel of panels) {
      for (const t of panel.targets) {
        const refs = references(t.query);
        assert.ok(refs.length > 0, `${panel.title}: no FROM`);
        for (const r of refs) {
          const fields = FIELD_TYPES[r.measurement as keyof typeof FIELD_TYPES] as
            | Record<string, string>
            | undefined;
          assert.ok(fields, `${panel.title}: unknown measurement ${r.measurement}`);
          for (const f of r.fields)
            assert.ok(f in fields, `${panel.title}: ${r.measurement} has no field ${f}`);
          const tags = TAG_KEYS[r.measurement as keyof typeof TAG_KEYS];
          for (const tag of r.tags)
            assert.ok(tags.includes(tag), `${panel.title}: ${r.measurement} has no tag ${tag}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 10);
  });

  describe('against a real influxd', () => {
    let influxd: Influxd;
    const T0 = Date.parse('2026-11-25T10:00:00Z');
    before(async () => {
      influxd = await startInfluxd();
      // Configured names and racks, as `rigtel run` writes them (collector/rig-names.ts).
      const names = rigNamesFromConfig(
        loadConfigFromObject({
          site: { name: 'site-1' },
          rigs: [
            { name: 'c1-r01-a', address: '10.0.0.1:4028', location: { row: 'A', rack: 'r01', slot: 1 } },
            { name: 'c1-r01-b', address: '10.0.0.2:4028', location: { row: 'A', rack: 'r01', slot: 2 } },
          ],
        }),
      );
      const sink = new InfluxSink(
        influxSinkSchema.parse({ url: influxd.url, database: 'rigtel', flush_interval_ms: 0 }),
        { names },
      );
      await sink.open();
      const entries = [];
      let seq = 1;
      for (let i = 0; i < 6; i++) {
        for (const [rig, address] of [
          ['rig-a', '10.0.0.1:4028'],
          ['rig-b', '10.0.0.2:4028'],
        ] as const) {
          const sample = makeSample(
            rig,
            T0 + i * 60_000,
            { address, power_miner_w: 3190, energy_wh: 1000 + i * 54 },
            'site-1',
          );
          entries.push({ seq: seq++, sample });
        }
      }
      await sink.write(entries);
      await sink.close();
    });
    after(() => influxd?.stop());

    /** Grafana's macros and template variables, filled as Grafana would for "All" over the test window. */
    function grafanaize(query: string): string {
      return query
        .replaceAll('$timeFilter', `time >= ${T0 - 3600_000}ms AND time <= ${T0 + 3600_000}ms`)
        .replaceAll('$__interval', '1m')
        .replaceAll('$site', '.*')
        .replaceAll('$rig', '.*')
        .replaceAll('$name', '.*')
        .replaceAll('$rack', '.*')
        .replaceAll('$row', '.*')
        .replaceAll('$model', '.*');
    }

    async function influxQuery(
      q: string,
    ): Promise<{ series?: Array<{ values: unknown[][] }>; error?: string }> {
      const url = `${influxd.url}/query?db=rigtel&epoch=ms&q=${encodeURIComponent(q)}`;
      const res = (await (await fetch(url)).json()) as {
        error?: string;
        results?: Array<{ series?: Array<{ values: unknown[][] }>; error?: string }>;
      };
      // A parse error comes back at the top level, not per statement.
      return res.error ? { error: res.error } : res.results![0]!;
    }

    test('every panel query returns data', async () => {
      for (const panel of panels) {
        for (const t of panel.targets) {
          const result = await influxQuery(grafanaize(t.query));
          assert.equal(result.error, undefined, `${panel.title}: ${result.error}`);
          const values = (result.series ?? []).flatMap((s) => s.values).filter((v) => v[1] !== null);
          assert.ok(values.length > 0, `${panel.title}: no data for ${grafanaize(t.query)}`);
        }
      }
    });

    test('fleet hashrate panel sums rigs: 2 × 110.2 TH/s, in H/s for Grafana to scale', async () => {
      const panel = dashboard.panels.find((p) => p.title === 'Fleet hashrate')!;
      const result = await influxQuery(grafanaize(panel.targets[0]!.query));
      const values = result.series![0]!.values.map((v) => v[1]).filter((v) => v !== null) as number[];
      for (const v of values) assert.ok(Math.abs(v - 220.4e12) < 1, String(v));
    });

    test('template variables list the site, rigs, names, racks and models', async () => {
      for (const v of dashboards.flatMap((d) => d.templating.list)) {
        const result = await influxQuery(grafanaize(v.query));
        assert.equal(result.error, undefined, v.name);
        const names = (result.series ?? []).flatMap((s) => s.values.map((r) => r[1]));
        assert.ok(names.length > 0, v.name);
      }
    });
  });
});

/** The final stage's COPY lines (not `--from` another stage): [sources relative to the context, destination]. */
function imageCopies(dockerfile: string): Array<{ sources: string[]; dest: string }> {
  const stages = dockerfile.split(/^FROM /m);
  const last = stages[stages.length - 1] ?? '';
  const workdir = /^WORKDIR (\S+)/m.exec(last)?.[1] ?? '/';
  const out: Array<{ sources: string[]; dest: string }> = [];
  for (const m of last.matchAll(/^COPY (?!--from)(.+)$/gm)) {
    const parts = m[1]!.trim().split(/\s+/);
    const dest = parts.pop()!;
    out.push({ sources: parts, dest: dest.startsWith('/') ? dest : join(workdir, dest) });
  }
  return out;
}

/** .dockerignore as Docker applies it to these paths: a name anywhere, or a `*.ext` suffix. */
function ignored(patterns: string[], path: string): boolean {
  const name = basename(path);
  return patterns.some((p) => (p.startsWith('*.') ? name.endsWith(p.slice(1)) : name === p));
}

describe('the image file tree', () => {
  const temp = mkdtempSync(join(tmpdir(), 'rigtel-image-'));
  after(() => rmSync(temp, { recursive: true, force: true }));

  test('built from exactly the COPY lines, it runs the demo until rigs are live, healthcheck and floor page included', async () => {
    const rootfs = join(temp, 'rootfs');
    const patterns = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const copies = imageCopies(read('Dockerfile'));
    assert.ok(copies.length > 0);
    for (const { sources, dest } of copies) {
      for (const src of sources) {
        const from = join(root, src);
        const isDir = statSync(from).isDirectory();
        // Docker: a directory source copies its contents into dest; several sources or a `/` dest mean a folder.
        const to = isDir
          ? join(rootfs, dest)
          : sources.length > 1 || dest.endsWith('/')
            ? join(rootfs, dest, basename(src))
            : join(rootfs, dest);
        mkdirSync(dirname(to), { recursive: true });
        cpSync(from, to, { recursive: true, filter: (p) => !ignored(patterns, p) });
      }
    }
    const app = join(rootfs, 'app');
    // The deps stage's node_modules (`npm ci --omit=dev`): the installed dependencies, linked in.
    symlinkSync(realpathSync(join(root, 'node_modules')), join(app, 'node_modules'), 'dir');
    const config = join(rootfs, 'etc', 'rigtel', 'rigtel.yaml');
    assert.ok(existsSync(config), 'the image carries a default config');

    const prefix = `rigtel-image-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const r = await runDemoUntilLive(app, {
      dataDir: join(temp, 'data'),
      args: ['--config', config],
      env: {
        // The image's config names the compose stack's InfluxDB and Mosquitto on loopback. Here the broker on
        // 127.0.0.1:1883 is shared, so MQTT gets a topic prefix and client id of its own; InfluxDB is left out.
        RIGTEL_SINKS__INFLUX__ENABLED: 'false',
        RIGTEL_SINKS__MQTT__TOPIC_PREFIX: prefix,
        RIGTEL_SINKS__MQTT__CLIENT_ID: prefix,
      },
      whileLive: async (api, env) => {
        const page = await fetch(`${api}/`);
        assert.equal(page.status, 200, 'the floor page (web/) is in the image');
        // The HEALTHCHECK command, run from the image tree with the process's environment.
        const hc = spawnSync(process.execPath, ['--import', 'tsx', 'docker/healthcheck.ts', config], {
          cwd: app,
          env,
          encoding: 'utf8',
        });
        assert.equal(
          hc.status,
          0,
          `healthcheck follows api.listen (${env['RIGTEL_API__LISTEN']}): ${hc.stderr}`,
        );
      },
    });
    assert.ok((r.fleet.hashrate_hs ?? 0) > 0);
    assert.equal(r.code, 0, r.stderr);
    // With the API gone the healthcheck fails: it really asks the API.
    const down = spawnSync(process.execPath, ['--import', 'tsx', 'docker/healthcheck.ts', config], {
      cwd: app,
      env: { PATH: process.env['PATH'], RIGTEL_API__LISTEN: '127.0.0.1:9' },
      encoding: 'utf8',
    });
    assert.equal(down.status, 1);
  });
});
