/**
 * VNish (AnthillOS) on Antminer hardware, read over the cgminer API on 4028 (docs/protocols.md, "## VNish").
 * Quirks, each seen in a fixture: the firmware sits in `Type` ("Antminer S9 (vnish 3.8.6)", vnish_s9_version.txt),
 * the version key is `Cgminer` in stats (vnish_s17plus_stats.txt), VNish 2.0.3 `version` has no Type at all
 * (vnish_s17plus_version.txt) so identity comes from stats, S9 builds send `}{` between STATS objects (repaired
 * by the decoder before it reaches here) and number their chains 6–8.
 */
import {
  applyBitmainStats,
  applySummaryCounters,
  capRaw,
  num,
  parsePools,
  poolsDifficultyAccepted,
  scale,
  section,
  settleState,
  splitStats,
  splitType,
  str,
} from '../kit/index.js';
import { emptyReading, HS, type MinerReading } from '../sample.js';

export interface VnishReplies {
  version?: unknown;
  stats?: unknown;
  summary?: unknown;
  pools?: unknown;
}

export function parseVnish(rep: VnishReplies): MinerReading {
  const r = emptyReading('vnish');
  r.identity.make = 'Bitmain';
  const ver = section(rep.version, 'VERSION')[0] ?? null;
  const { head, body } = splitStats(rep.stats);
  const type = str(ver?.['Type']) ?? str(head?.['Type']);
  const { model, suffix } = splitType(type);
  r.identity.model = model;
  const cg = str(ver?.['CGMiner']) ?? str(head?.['Cgminer']) ?? str(head?.['CGMiner']);
  const vnishVer = (suffix && /vnish\s*([\w.]+)/i.exec(suffix)?.[1]) ?? str(body?.['build_version']);
  if (vnishVer) r.identity.firmware = `VNish ${vnishVer}${cg ? ` (cgminer ${cg})` : ''}`;
  else if (cg) r.identity.firmware = `cgminer ${cg}`;

  const summary = section(rep.summary, 'SUMMARY')[0];
  if (summary) {
    applySummaryCounters(r, summary);
    r.hashrate_hs = scale(num(summary['GHS 5s']), HS.GH);
    r.hashrate_avg_hs = scale(num(summary['GHS av']), HS.GH);
  }
  if (body) {
    const { chainPowerW } = applyBitmainStats(r, body);
    if (chainPowerW !== null) {
      // chain_consumptionN is VNish's own per-chain model; without the web API's psu_power_metering flag
      // rigtel cannot tell it from a metered figure, so it is labelled an estimate.
      r.power_w = chainPowerW;
      r.power_source = 'estimate';
      r.notes.push('power is the sum of VNish chain_consumption (firmware-modelled, not metered)');
    }
  } else if (rep.stats !== undefined) {
    r.support = 'partial';
    r.notes.push('stats reply has no Bitmain chain data');
  }
  if (rep.pools !== undefined) {
    r.pools = parsePools(rep.pools);
    r.difficulty_accepted ??= poolsDifficultyAccepted(rep.pools);
  }
  const sleeping = str(body?.['state']) !== null && /sleep|idle|stop/i.test(str(body?.['state'])!);
  settleState(r, { sleeping });
  if (r.support !== 'full') r.raw = capRaw(JSON.stringify(rep));
  return r;
}
