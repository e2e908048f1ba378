/**
 * Every family rigtel reads, in detection order: the one list the registry and identification are built from.
 * Aftermarket firmware comes before stock, because aftermarket builds keep the vendor's strings (VNish's Type
 * says "Antminer S9 (vnish 3.8.6)", LuxOS's "Antminer S19k Pro"); plain cgminer is last and claims only a
 * positive signature. Adding a family is one folder plus one line here (and its name in `FAMILIES`, protocols/sample.ts,
 * the type every sample, the config schema and the API share).
 */
import { FAMILY as antminer } from './antminer/index.js';
import { FAMILY as avalon } from './avalon/index.js';
import { FAMILY as bitaxe } from './bitaxe/index.js';
import { FAMILY as braiins } from './braiins/index.js';
import { FAMILY as cgminer } from './cgminer/index.js';
import { FAMILY as innosilicon } from './innosilicon/index.js';
import type { FamilyModule } from './kit/index.js';
import { FAMILY as luxos } from './luxos/index.js';
import { FAMILY as vnish } from './vnish/index.js';
import { FAMILY as whatsminer } from './whatsminer/index.js';

export const FAMILY_ORDER: readonly FamilyModule[] = [
  braiins,
  luxos,
  vnish,
  whatsminer,
  avalon,
  innosilicon,
  antminer,
  bitaxe,
  cgminer,
];
