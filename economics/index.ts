/**
 * The money core: pure functions, no I/O. BTC in integer satoshis, money in integer micro-dollars, exact
 * fractions in between (see exact.ts for the rounding rule). docs/economics.md explains every formula.
 */
export * from './costs.js';
export * from './errors.js';
export * from './exact.js';
export * from './hashprice.js';
export * from './revenue.js';
export * from './segments.js';
export * from './subsidy.js';
export * from './tariff.js';
export * from './timezone.js';
