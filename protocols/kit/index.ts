/**
 * The driver kit: everything a family folder needs to read a rig, and the only protocols module a family
 * imports (besides `../sample.ts`). A family is a command plan plus pure parsers; the kit runs the plan over the
 * cgminer-style API (or HTTP), decodes with the named repairs, reads values with one set of readers, and
 * finishes every reading the same way (docs/protocols.md, "## cgminer API framing").
 */
export type { MinerDriver, PollTarget } from '../driver.js';
export { ProtoErrors } from '../errors.js';
export { httpGetJson, httpRequest } from '../http/client.js';
export { HttpErrors } from '../http/errors.js';
export { type Algorithm, lookupModel, type ModelSpec } from '../models.js';
export { tcpRequest } from '../tcp.js';
export * from './bitmain-stats.js';
export {
  bodyOf,
  type CommandResult,
  type CommandResults,
  cgminerCommands,
  cgminerRequest,
} from './cgminer-client.js';
export { type DecodedReply, decodeReply, REPAIR } from './decode.js';
export type { FamilyModule } from './family.js';
export {
  capRaw,
  type FinishInput,
  finishReading,
  RAW_CAP_BYTES,
  rawOf,
  SIGNATURE_LOST,
  UNKNOWN_FIRMWARE,
} from './finish.js';
export {
  type CommandFailure,
  type CommandPlan,
  IDENTITY_EVERY,
  IdentityCache,
  type PlanOutcome,
  runPlan,
  worstError,
} from './plan.js';
export * from './recognize.js';
export { RETRY_EVERY, RefusalMemory } from './refusals.js';
export { CGMINER_CODE, readStatus } from './status.js';
export * from './values.js';
