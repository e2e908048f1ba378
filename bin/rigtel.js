#!/usr/bin/env node
// Entry point: rigtel ships TypeScript run through tsx, so there is no build step between `npm ci` and use.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
