import { defineError } from '../../lib/errors.js';

/** Market inputs: the recorded store, providers and imports. */
export const MarketErrors = {
  storeOpen: defineError<[string, string]>(
    'RT_ERR_MARKET_STORE_OPEN',
    'the market store (market.sqlite in storage.dir) cannot be opened or is corrupt',
    (file, why) => `${file}: cannot open the market store: ${why}`,
  ),
  provider: defineError<[string, string]>(
    'RT_ERR_MARKET_PROVIDER',
    'a market provider did not answer usefully (down, timed out, or a reply of an unexpected shape); the last recorded values stay in use until they expire',
    (name, why) => `market provider ${name}: ${why}`,
    502,
  ),
  importFile: defineError<[string, string]>(
    'RT_ERR_MARKET_IMPORT',
    'a market import file is unreadable or has a bad row; nothing from it was recorded',
    (where, why) => `${where}: ${why}`,
    400,
  ),
};

/** Economics routes when this process has no market store (the API runs without a collector). */
export const EconomicsApiErrors = {
  unavailable: defineError(
    'RT_ERR_ECON_UNAVAILABLE',
    'a standalone `rigtel api` serves economics and market routes only with sinks.influx (its hourly rollups come from InfluxDB)',
    () =>
      'economics are not served by this standalone API: configure sinks.influx (the InfluxDB the collectors write to), or ask a collector (rigtel run)',
    501,
  ),
};
