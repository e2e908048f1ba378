import { z } from 'zod';

const toggle = (what: string) => z.boolean().default(true).describe(`Raise ${what}.`);

/** What the alert engine expects of a model when the miner does not say (keyed by the model name it reports). */
export const modelExpectationSchema = z
  .object({
    fans: z.number().int().min(0).max(16).optional().describe('Fans the model has.'),
    boards: z.number().int().min(1).max(16).optional().describe('Hash boards the model has.'),
    nameplate_ths: z.number().positive().optional().describe('Nameplate hashrate in TH/s.'),
  })
  .strict();

/** Alert rules. */
export const alertsSection = z
  .object({
    enabled: z.boolean().default(true).describe('Evaluate alert rules on every sample.'),
    min_duration_s: z
      .number()
      .min(0)
      .default(120)
      .describe(
        'A condition must hold this long before its alert is raised, so one bad poll does not page anyone.',
      ),
    clear_duration_s: z
      .number()
      .min(0)
      .default(60)
      .describe(
        'A raised alert clears only after its condition has been gone this long (flapping rigs stay raised).',
      ),
    offline: z
      .object({ enabled: toggle('an alert when a rig stops answering') })
      .strict()
      .default({ enabled: true })
      .describe('Rig offline.'),
    hashrate_low: z
      .object({
        enabled: toggle('an alert when hashrate is below a share of nameplate'),
        below_share: z
          .number()
          .gt(0)
          .max(1)
          .default(0.8)
          .describe('Raise when hashrate < below_share × nameplate (0.8 = 80 %).'),
        hysteresis_share: z
          .number()
          .min(0)
          .max(0.5)
          .default(0.05)
          .describe('Clear only when hashrate ≥ (below_share + hysteresis_share) × nameplate.'),
      })
      .strict()
      .default({ enabled: true, below_share: 0.8, hysteresis_share: 0.05 })
      .describe(
        'Hashrate below nameplate. Skipped while a rig is sleeping, curtailed or ramping on purpose.',
      ),
    temperature: z
      .object({
        enabled: toggle('an alert when a temperature is over its limit'),
        chip_limit_c: z.number().default(95).describe('Hottest chip above this raises.'),
        board_limit_c: z.number().default(85).describe('Hottest board sensor above this raises.'),
        hysteresis_c: z
          .number()
          .min(0)
          .default(5)
          .describe('Clear only when back below the limit minus this many °C.'),
      })
      .strict()
      .default({ enabled: true, chip_limit_c: 95, board_limit_c: 85, hysteresis_c: 5 })
      .describe('Temperature over limit.'),
    fan_failed: z
      .object({
        enabled: toggle('an alert when a fan stopped'),
        min_rpm: z
          .number()
          .int()
          .min(0)
          .default(300)
          .describe('A fan slower than this while the rig draws power counts as stopped.'),
      })
      .strict()
      .default({ enabled: true, min_rpm: 300 })
      .describe(
        'Fan failed: fewer spinning fans than the model has (models table), or a fan stopped, in every state that draws power (a sleeping rig that still hashes or draws over 300 W included).',
      ),
    board_missing: z
      .object({ enabled: toggle('an alert when a hash board is missing') })
      .strict()
      .default({ enabled: true })
      .describe(
        'Fewer boards than the model has (models table), else fewer than the rig showed before. Not judged while sleeping or curtailed.',
      ),
    power_source_changed: z
      .object({
        enabled: toggle('a one-off event when the power figure source changes (pdu/miner/estimate)'),
        startup_grace_s: z
          .number()
          .min(0)
          .default(300)
          .describe(
            'For this long after a rig is first seen its power source settles silently (the PDU poll may land after the first miner polls).',
          ),
      })
      .strict()
      .default({ enabled: true, startup_grace_s: 300 })
      .describe('Power source changed, e.g. the PDU mapping was lost and power falls back to an estimate.'),
    state_contradiction: z
      .object({ enabled: toggle('a warning when a rig reports sleeping yet hashes') })
      .strict()
      .default({ enabled: true })
      .describe('Contradictory state: the rig says it sleeps while it hashes above 5 % of nameplate.'),
    models: z
      .record(z.string(), modelExpectationSchema)
      .default({})
      .describe(
        'What each model should have, by the model name the miner reports (e.g. "Antminer S19 Pro").',
      ),
  })
  .strict()
  .default({
    enabled: true,
    min_duration_s: 120,
    clear_duration_s: 60,
    offline: { enabled: true },
    hashrate_low: { enabled: true, below_share: 0.8, hysteresis_share: 0.05 },
    temperature: { enabled: true, chip_limit_c: 95, board_limit_c: 85, hysteresis_c: 5 },
    fan_failed: { enabled: true, min_rpm: 300 },
    board_missing: { enabled: true },
    power_source_changed: { enabled: true, startup_grace_s: 300 },
    state_contradiction: { enabled: true },
    models: {},
  })
  .describe('Alert rules over live fleet state.');

export type AlertsConfig = z.output<typeof alertsSection>;
