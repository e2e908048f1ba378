import type { RtError } from '../lib/errors.js';
import { ProtoErrors } from './errors.js';

/**
 * A socket error as the named protocol error a site engineer can act on. Shared by the raw TCP and the HTTP
 * clients. `resetIsEmpty`: a reset before the connection was established reads as an empty reply (the api-allow
 * style refusal), not as a reply cut in the middle.
 */
export function socketError(
  err: NodeJS.ErrnoException,
  addr: string,
  opts: { receivedBytes?: number; resetIsEmpty?: boolean } = {},
): RtError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return ProtoErrors.connectRefused.with({ cause: err }, addr);
    case 'ECONNRESET':
    case 'EPIPE':
      if (opts.resetIsEmpty) return ProtoErrors.emptyReply(addr);
      return ProtoErrors.reset.with(
        {
          cause: err,
          ...(opts.receivedBytes !== undefined ? { details: { received_bytes: opts.receivedBytes } } : {}),
        },
        addr,
      );
    default:
      // EHOSTUNREACH, ENETUNREACH, ENOTFOUND, EAI_AGAIN and anything else the OS says about the route.
      return ProtoErrors.unreachable.with({ cause: err }, addr, err.code ?? err.message);
  }
}
