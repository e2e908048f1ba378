/**
 * `rigtel config check FILE`: validate without connecting to anything. Valid: `ok` and a summary (secrets
 * print as [redacted]). Invalid: one line per problem naming the field, exit 2.
 */
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { ConfigErrors } from '../config/errors.js';
import { applyEnvOverrides, blameEnv, checkConfig, readConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { RtError } from '../lib/errors.js';
import { redacted } from '../lib/secret.js';
import { loadFacilities } from '../loans/register.js';

export interface CheckResult {
  ok: boolean;
  /** Text for stdout (ok) or stderr (problems). */
  text: string;
  /** The validated config, when ok (so `rigtel run` does not read and validate the file twice). */
  config?: Config;
}

export function checkConfigFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  full = false,
): CheckResult {
  let raw: unknown;
  try {
    raw = readConfigFile(file);
  } catch (err) {
    const listed = ConfigErrors.invalid.is(err) ? err.details?.['problems'] : undefined;
    if (Array.isArray(listed)) {
      const head = `${ConfigErrors.invalid.code}: ${file}: ${listed.length} problem(s)`;
      return { ok: false, text: `${head}\n${listed.join('\n')}\n` };
    }
    if (err instanceof RtError) return { ok: false, text: `${err.code}: ${err.message}\n` };
    throw err;
  }
  const result = checkConfig(applyEnvOverrides(raw, env));
  if (!result.ok) {
    // formatIssues joins several unknown keys of one object into one entry; print each on its own line.
    const problems = blameEnv(result.problems, env).flatMap((p) => p.split('\n').map((l) => l.trim()));
    const head = `${ConfigErrors.invalid.code}: ${file}: ${problems.length} problem(s)`;
    return { ok: false, text: `${head}\n${problems.join('\n')}\n` };
  }
  // Loan files and asset registers live beside the config: read them too, so a bad register line fails here.
  try {
    loadFacilities(result.config.loans, dirname(file));
  } catch (err) {
    if (err instanceof RtError) return { ok: false, text: `${err.code}: ${err.message}\n` };
    throw err;
  }
  return {
    ok: true,
    text: `ok ${file}\n${full ? fullDump(result.config) : summarize(result.config)}`,
    config: result.config,
  };
}

/** The effective config (defaults applied) as YAML; Secret.toJSON turns every secret into [redacted]. */
function fullDump(config: Config): string {
  return stringify(JSON.parse(JSON.stringify(config)));
}

export function summarize(config: Config): string {
  const lines: string[] = [];
  lines.push(`site         ${config.site.name}`);
  const families = new Map<string, number>();
  for (const r of config.rigs) families.set(r.family, (families.get(r.family) ?? 0) + 1);
  const famText = [...families].map(([f, n]) => `${n} ${f}`).join(', ');
  lines.push(`rigs         ${config.rigs.length}${famText ? ` (${famText})` : ''}`);
  for (const r of config.rigs.slice(0, 20)) {
    const cred = r.password ? `  password ${redacted}` : '';
    lines.push(`  ${(r.name ?? '-').padEnd(16)} ${r.address.padEnd(22)} ${r.family}${cred}`);
  }
  if (config.rigs.length > 20) lines.push(`  … and ${config.rigs.length - 20} more`);
  lines.push(
    `poll         every ${config.poll.interval_ms / 1000} s, deadline ${config.poll.poll_deadline_ms} ms, concurrency ${config.poll.concurrency}`,
  );
  lines.push(`storage      ${config.storage.dir} (fsync ${config.storage.journal_fsync})`);
  lines.push(`api          ${config.api.enabled ? `http://${config.api.listen}` : 'disabled'}`);
  const emu =
    config.emulator.mode === 'off' || (config.emulator.mode === 'auto' && config.rigs.length > 0)
      ? 'off'
      : `${config.emulator.rigs} emulated rigs on ${config.emulator.host}:${config.emulator.base_port}+`;
  lines.push(`emulator     ${emu} (mode ${config.emulator.mode})`);
  const snmp = (config.snmp as { devices?: unknown[] }).devices;
  if (Array.isArray(snmp)) lines.push(`snmp         ${snmp.length} device(s)`);
  const sinks = Object.keys(config.sinks as object).filter((k) => k !== 'retry');
  lines.push(`sinks        embedded store${sinks.length ? `, ${sinks.join(', ')}` : ''}`);
  return `${lines.join('\n')}\n`;
}
