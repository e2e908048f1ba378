import { defineError } from '../../lib/errors.js';

/** HTTP-specific failures (connection failures reuse ProtoErrors). */
export const HttpErrors = {
  status: defineError<[string, number]>(
    'RT_ERR_PROTO_HTTP_STATUS',
    'the device answered the HTTP request with an error status',
    (url, status) => `${url}: HTTP ${status}`,
  ),
  badReply: defineError<[string, string]>(
    'RT_ERR_PROTO_HTTP_BAD_REPLY',
    'the HTTP reply could not be read (not HTTP, or a body that is not the expected JSON)',
    (url, why) => `${url}: unreadable HTTP reply (${why})`,
  ),
  authScheme: defineError<[string, string]>(
    'RT_ERR_PROTO_HTTP_AUTH_SCHEME',
    'the device asks for an HTTP authentication scheme rigtel does not speak',
    (url, scheme) =>
      `${url}: the device wants "${scheme}" authentication, rigtel speaks Digest (MD5, SHA-256)`,
  ),
};
