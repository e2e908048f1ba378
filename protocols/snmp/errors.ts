import { defineError } from '../../lib/errors.js';

/**
 * SNMP failures, each with a message a site engineer can act on. They land on the device's status
 * (`DeviceStatus.error_code`), never crash the poller.
 */
export const SnmpErrors = {
  noResponse: defineError<[string, number, number]>(
    'RT_ERR_SNMP_NO_RESPONSE',
    'no answer: wrong community/credentials, or the agent does not allow this host (or it is down)',
    (addr, timeoutMs, tries) =>
      `${addr}: no answer after ${tries} tr${tries === 1 ? 'y' : 'ies'} of ${timeoutMs} ms: wrong community/credentials, or the agent does not allow this host (agents drop such requests silently), or the device is down`,
  ),
  unreachable: defineError<[string, string]>(
    'RT_ERR_SNMP_UNREACHABLE',
    'the agent cannot be reached (name does not resolve, no route, port closed)',
    (addr, why) => `${addr}: cannot reach the SNMP agent (${why})`,
  ),
  unknownUser: defineError<[string, string]>(
    'RT_ERR_SNMP_V3_UNKNOWN_USER',
    'the agent reports the SNMPv3 user name is unknown (usmStatsUnknownUserNames)',
    (addr, user) => `${addr}: the agent does not know SNMPv3 user '${user}' (check v3.user on both sides)`,
  ),
  wrongDigest: defineError<[string]>(
    'RT_ERR_SNMP_V3_WRONG_DIGEST',
    'the agent rejected the SNMPv3 authentication key or protocol (usmStatsWrongDigests)',
    (addr) =>
      `${addr}: the agent rejected the SNMPv3 authentication (wrong auth_key or auth_protocol for this user)`,
  ),
  unsupportedSecLevel: defineError<[string, string]>(
    'RT_ERR_SNMP_V3_SEC_LEVEL',
    'the agent does not allow this SNMPv3 security level for the user (usmStatsUnsupportedSecLevels)',
    (addr, level) =>
      `${addr}: the agent does not accept security level ${level} for this user (check v3.level and the agent's user setup)`,
  ),
  decryption: defineError<[string]>(
    'RT_ERR_SNMP_V3_DECRYPTION',
    'the agent could not decrypt the request: wrong SNMPv3 privacy key or protocol (usmStatsDecryptionErrors)',
    (addr) => `${addr}: the agent could not decrypt the request (wrong priv_key or priv_protocol)`,
  ),
  timeWindow: defineError<[string]>(
    'RT_ERR_SNMP_V3_TIME_WINDOW',
    'SNMPv3 engine time out of window (agent rebooted or clock jumped); retried next poll',
    (addr) =>
      `${addr}: SNMPv3 message outside the agent's time window (agent rebooted?); will resync next poll`,
  ),
  v3Auth: defineError<[string, string]>(
    'RT_ERR_SNMP_V3_AUTH',
    'another SNMPv3 security failure reported by the agent',
    (addr, why) => `${addr}: SNMPv3 security failure: ${why}`,
  ),
  noSuchObject: defineError<[string, string]>(
    'RT_ERR_SNMP_NO_SUCH_OBJECT',
    'the agent does not implement an OID the profile needs (wrong profile, or a model without that meter)',
    (addr, oid) =>
      `${addr}: the agent has no object at ${oid} (wrong profile for this device, or this model does not meter it)`,
  ),
  agentError: defineError<[string, string]>(
    'RT_ERR_SNMP_AGENT_ERROR',
    'the agent answered with an error status (noAccess, tooBig, genErr…)',
    (addr, status) => `${addr}: the agent answered with error ${status}`,
  ),
  badReply: defineError<[string, string]>(
    'RT_ERR_SNMP_BAD_REPLY',
    'the agent answered with something rigtel cannot use (malformed PDU, wrong value type)',
    (addr, why) => `${addr}: unusable reply: ${why}`,
  ),
  deadline: defineError<[string, number]>(
    'RT_ERR_SNMP_DEADLINE',
    'the whole device poll did not finish within its deadline (agent slow, table too large)',
    (addr, ms) =>
      `${addr}: device poll did not finish within ${ms} ms (slow agent or large table: raise timeout_ms/deadline_ms or lower max_repetitions)`,
  ),
  aborted: defineError<[string]>(
    'RT_ERR_SNMP_ABORTED',
    'the device poll was cancelled (shutdown)',
    (addr) => `${addr}: SNMP poll cancelled`,
  ),
  snmpd: defineError<[string]>(
    'RT_ERR_SNMP_TEST_AGENT',
    'the test snmpd could not be started',
    (why) => `test snmpd: ${why}`,
  ),
} as const;
