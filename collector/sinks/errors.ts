/** Named errors of the InfluxDB and MQTT sinks. Kept in an `errors.ts` so docs/errors.md (generated) finds them. */
import { defineError } from '../../lib/errors.js';

export const InfluxSinkErrors = {
  unavailable: defineError<[string, string]>(
    'RT_ERR_SINK_INFLUX_UNAVAILABLE',
    'InfluxDB did not take the write (down, unreachable, overloaded or timed out); the batch stays in the journal and is retried',
    (url, why) =>
      `InfluxDB at ${url} did not take the write (${why}); the samples stay in the journal and are retried`,
    503,
  ),
  rejected: defineError<[string, string]>(
    'RT_ERR_SINK_INFLUX_REJECTED',
    'InfluxDB refused a line for good (field type conflict or unparsable); that line was skipped, the rest written',
    (line, why) => `InfluxDB refused a line for good, skipped it (${why}): ${line}`,
    502,
  ),
  auth: defineError<[string, number]>(
    'RT_ERR_SINK_INFLUX_AUTH',
    'InfluxDB refused the credentials: check sinks.influx username/password or token and the user’s write permission',
    (url, status) =>
      `InfluxDB at ${url} answered ${status}: check sinks.influx username/password or token and that it may write the database`,
    502,
  ),
  noDatabase: defineError<[string, string]>(
    'RT_ERR_SINK_INFLUX_NO_DATABASE',
    'the InfluxDB database does not exist: create it (2.x: a bucket and DBRP mapping) or set sinks.influx.create_database',
    (url, db) =>
      `InfluxDB at ${url} has no database "${db}": create it (2.x: bucket + DBRP mapping; 3.x: influxdb3 create database) or set sinks.influx.create_database: true on 1.x`,
    502,
  ),
  setup: defineError<[string, string]>(
    'RT_ERR_SINK_INFLUX_SETUP',
    'could not create the InfluxDB database or retention policy (normal on 2.x/3.x, which do not support CREATE)',
    (what, why) =>
      `could not ${what} (${why}); writes are tried anyway. On 2.x/3.x set create_database: false`,
    502,
  ),
};

export const MqttSinkErrors = {
  unavailable: defineError<[string, string]>(
    'RT_ERR_SINK_MQTT_UNAVAILABLE',
    'the MQTT broker is not connected or did not acknowledge; the samples stay in the journal and are retried',
    (url, why) => `MQTT broker ${url} unavailable (${why}); the samples stay in the journal and are retried`,
    503,
  ),
  refused: defineError<[string, string]>(
    'RT_ERR_SINK_MQTT_REFUSED',
    'the MQTT broker refused the connection: check sinks.mqtt username/password, client_id and the broker ACL',
    (url, why) =>
      `MQTT broker ${url} refused the connection (${why}): check sinks.mqtt username/password and the ACL`,
    502,
  ),
  badSample: defineError<[number, string]>(
    'RT_ERR_SINK_MQTT_BAD_SAMPLE',
    'a journalled sample could not be turned into MQTT messages (malformed entry); it was skipped for MQTT',
    (seq, why) => `journal entry ${seq} is not a valid sample (${why}); skipped for MQTT`,
    500,
  ),
  tlsVerify: defineError<[string, string]>(
    'RT_ERR_SINK_MQTT_TLS_VERIFY',
    'the broker certificate did not verify (unknown CA, self-signed, expired, wrong name): a configuration problem, not an outage',
    (url, why) =>
      `${url}: the broker's certificate did not verify (${why}); check sinks.mqtt.tls.ca and the broker name — retrying will not help until that is fixed`,
    500,
  ),
  tls: defineError<[string, string]>(
    'RT_ERR_SINK_MQTT_TLS',
    'could not read the MQTT TLS files (sinks.mqtt.tls ca/cert/key)',
    (path, why) => `cannot read MQTT TLS file ${path}: ${why}`,
    500,
  ),
};
