import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { checkConfigFile } from '../cli/config-check.js';
import { registeredErrors } from '../lib/errors.js';
import { createLogger, SECRET_KEYS } from '../lib/log.js';
import { errorModules, expectedDoc, GENERATED, repoRoot } from '../scripts/config-reference.js';
import { loadConfig, validateConfig } from './load.js';
import {
  configReference,
  extractBetween,
  normalizeMarkdown,
  parseErrorTable,
  settingRows,
} from './reference.js';

const run = promisify(execFile);

/** The area READMEs the root README links (each area documents itself beside its code). */
const AREA_READMES = [
  'protocols/README.md',
  'protocols/emulator/README.md',
  'protocols/whatsminer/README.md',
  'protocols/snmp/README.md',
  'collector/sinks/README.md',
];
const bin = join(repoRoot, 'bin', 'rigtel.js');
const SECRET = 'Zx9-very-secret-pw-7781';
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rigtel-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The real CLI as a child process: exit code and both streams. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], { cwd: repoRoot, env: cleanEnv() });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RIGTEL_')));
}

describe('config/example.yaml', () => {
  const example = join(repoRoot, 'config', 'example.yaml');

  test('is valid and has a rig with a password', () => {
    const config = loadConfig(example, {});
    assert.ok(config.rigs.length >= 3);
    assert.ok(config.rigs.some((r) => r.password !== undefined));
  });

  test('config check accepts it and never prints a secret (rig password, community, v3 keys, sink password)', async () => {
    const secrets: string[] = [];
    const collect = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (/^(password|community|auth_key|priv_key|token)$/.test(k) && typeof v === 'string')
            secrets.push(v);
          else collect(v);
        }
      }
    };
    collect(parse(readFileSync(example, 'utf8')));
    assert.ok(secrets.length >= 5, `the example exercises several secrets (${secrets.length})`);
    for (const args of [
      ['config', 'check', example],
      ['config', 'check', example, '--full'],
    ]) {
      const r = await cli(...args);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^ok /);
      assert.match(r.stdout, /\[redacted\]/);
      for (const secret of secrets)
        assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), secret);
    }
  });
});

describe('bad config files', () => {
  const cases: Array<{ name: string; text: string; lines: string[] }> = [
    {
      name: 'bad-address.yaml',
      text: `rigs:\n  - address: 10.0.0.1\n  - address: 10.0.0.2\n  - address: 10.0.0.3\n  - address: "not an address!"\n    password: ${SECRET}\n`,
      lines: ['rigs[3].address: expected host:port (e.g. 10.0.0.12:4028)'],
    },
    {
      name: 'typos.yaml',
      text: `site:\n  nme: x\nrigs:\n  - address: 10.0.0.1\n    famly: antminer\n    colour: red\n`,
      lines: [
        'site.nme: unknown setting',
        'rigs[0].famly: unknown setting',
        'rigs[0].colour: unknown setting',
      ],
    },
    {
      name: 'several.yaml',
      text: `site:\n  name: "tx 1"\nrigs:\n  - name: a\n    address: 10.0.0.1\n    family: antminerr\napi:\n  listen: nowhere:99999999\n`,
      lines: ['site.name: letters, digits', 'rigs[0].family: ', 'api.listen: expected host:port'],
    },
    {
      // Cross-field problems are reported together with field errors, not only once those are fixed.
      name: 'cross-and-field.yaml',
      text: `rigs:\n  - name: a\n    address: 10.0.0.300:4028\n  - name: a\n    address: 10.0.0.2:0\npoll:\n  interval_ms: 10000\n  poll_deadline_ms: 20000\napi:\n  listen: ":99999"\n`,
      lines: [
        'rigs[0].address: "10.0.0.300" is not an IPv4 address',
        'rigs[1].address: port "0" is not a number from 1 to 65535',
        'api.listen: expected host:port',
        'rigs[1].name: duplicate',
        'poll.poll_deadline_ms: must be below poll.interval_ms (10000)',
      ],
    },
    {
      name: 'cross-field.yaml',
      text: `rigs:\n  - name: a\n    address: 10.0.0.1\n  - name: a\n    address: 10.0.0.2\npoll:\n  interval_ms: 10000\n  poll_deadline_ms: 20000\n`,
      lines: ['rigs[1].name: duplicate', 'poll.poll_deadline_ms: must be below poll.interval_ms (10000)'],
    },
  ];

  for (const c of cases) {
    test(`${c.name}: one line per problem naming the path, exit 2`, async () => {
      const path = file(c.name, c.text);
      const r = await cli('config', 'check', path);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.match(lines[0]!, /^RT_ERR_CONFIG_INVALID: .* \d+ problem\(s\)$/);
      assert.equal(lines.length - 1, c.lines.length, r.stderr);
      for (const expected of c.lines)
        assert.ok(
          lines.some((l) => l.startsWith(expected)),
          `${expected}\n${r.stderr}`,
        );
      assert.ok(!r.stderr.includes(SECRET));
    });
  }

  test('broken YAML and a missing file are named errors, exit 2, without echoing the secret', async () => {
    const broken = file('broken.yaml', `rigs:\n  - address: 10.0.0.1\n    password: "${SECRET}\n  - [\n`);
    let r = await cli('config', 'check', broken);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^RT_ERR_CONFIG_UNREADABLE: /);
    assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET));
    r = await cli('config', 'check', join(dir, 'missing.yaml'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /RT_ERR_CONFIG_UNREADABLE: .*ENOENT/);
  });

  test('a file that is not a mapping (garbage, a bare word, a list) is refused, exit 2', async () => {
    for (const [name, text] of [
      ['garbage.yaml', '\u0000\u00ff garbage'],
      ['word.yaml', 'rigs\n'],
      ['list.yaml', '- 1\n- 2\n'],
    ] as const) {
      const r = await cli('config', 'check', file(name, text));
      assert.equal(r.code, 2, name);
      assert.match(r.stderr, /^RT_ERR_CONFIG_INVALID: .*\n\(root\): expected/, name);
    }
  });

  test('environment overrides are checked too', () => {
    const path = file('env.yaml', 'rigs: []\n');
    const r = checkConfigFile(path, { RIGTEL_POLL__INTERVAL_MS: '5' });
    assert.equal(r.ok, false);
    assert.match(r.text, /poll\.interval_ms: /);
  });
});

describe('secrets', () => {
  test('never in logs, whether a Secret or a plain string under a secret key', async () => {
    const config = validateConfig({ rigs: [{ address: '10.0.0.1', password: SECRET }] });
    let out = '';
    const log = createLogger('info', {
      destination: new Writable({
        write(chunk, _e, cb) {
          out += chunk;
          cb();
        },
      }),
    });
    log.info({ config }, 'loaded');
    log.info({ rig: { address: '10.0.0.1', password: SECRET } }, 'raw rig');
    log.info({ sinks: { influx: { token: SECRET } }, snmp: { devices: [{ community: SECRET }] } }, 'raw');
    log.info({ req: { headers: { authorization: `Basic ${SECRET}` } } }, 'request');
    log.flush();
    await new Promise((r) => setImmediate(r));
    assert.ok(out.includes('[redacted]'));
    assert.ok(!out.includes(SECRET), out);
  });

  test('log redaction covers every setting the schema marks secret', () => {
    const secretKeys = settingRows()
      .filter((r) => r.secret)
      .map((r) => r.path.split('.').at(-1)!);
    assert.ok(secretKeys.length >= 1);
    for (const key of secretKeys) assert.ok((SECRET_KEYS as readonly string[]).includes(key), key);
  });

  test('the reference marks secret settings', () => {
    const password = settingRows().find((r) => r.path === 'rigs[].password');
    assert.equal(password?.secret, true);
  });
});

describe('docs/configuration.md and docs/errors.md stay in sync with the code', () => {
  const [configDoc, errorsDoc] = GENERATED;
  const configuration = () => readFileSync(configDoc.path, 'utf8');
  const errors = () => readFileSync(errorsDoc.path, 'utf8');

  test('configuration reference is not stale (npm run docs:config)', () => {
    const section = extractBetween(configuration(), 'config-reference');
    assert.ok(section !== null, 'docs/configuration.md lacks the config-reference markers');
    assert.equal(
      normalizeMarkdown(section),
      normalizeMarkdown(configReference()),
      'docs/configuration.md is stale: run npm run docs:config',
    );
  });

  for (const doc of GENERATED) {
    test(`${doc.path.slice(repoRoot.length)} is exactly what npm run docs:config writes`, async () => {
      const current = readFileSync(doc.path, 'utf8');
      const expected = await expectedDoc(doc);
      if (expected !== current) {
        const a = current.split('\n');
        const b = expected.split('\n');
        const line = a.findIndex((l, i) => l !== b[i]);
        assert.fail(
          `${doc.path} is stale from line ${line + 1}: run npm run docs:config\n- ${a[line]}\n+ ${b[line]}`,
        );
      }
    });
  }

  test('the README links the generated documents and every area README', () => {
    const text = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const link of [
      'docs/configuration.md',
      'docs/errors.md',
      'docs/ARCHITECTURE.md',
      'docs/protocols.md',
    ])
      assert.ok(text.includes(`](${link})`), link);
    for (const area of AREA_READMES) assert.ok(text.includes(`](${area})`), area);
  });

  test('every setting of the schema appears in docs/configuration.md', () => {
    const text = configuration();
    for (const row of settingRows()) assert.ok(text.includes(`\`${row.path}\``), row.path);
  });

  test('error table lists exactly the registered codes, both directions', async () => {
    for (const f of errorModules()) await import(new URL(`file://${f}`).href);
    const section = extractBetween(errors(), 'error-codes');
    assert.ok(section !== null, 'docs/errors.md lacks the error-codes markers');
    const documented = parseErrorTable(section);
    const registered = registeredErrors();
    const missing = [...registered.keys()].filter((c) => !documented.has(c));
    const extra = [...documented.keys()].filter((c) => !registered.has(c));
    assert.deepEqual(
      missing,
      [],
      `codes missing from docs/errors.md (run npm run docs:config): ${missing.join(', ')}`,
    );
    assert.deepEqual(extra, [], `docs/errors.md lists codes that no longer exist: ${extra.join(', ')}`);
    for (const [code, meaning] of documented) {
      assert.equal(meaning, registered.get(code)!.summary.replace(/\|/g, '\\|'), code);
    }
  });
});
