// Child process for the sink tests (a collector that gets SIGKILLed).
//   mqtt-will <url> <prefix> <site>: connect an MQTT sink, print "ready", idle until killed.
//   influx <journalDir> <influxUrl> <db> <count> <t0>: append <count> samples once (skipped if the journal already
//     holds them), run journal + fan-out + InfluxDB sink, print each acknowledged seq, print "done <seq>" when
//     every entry is delivered.
import { influxSinkSchema, mqttSinkSchema } from '../../config/sections/sinks.js';
import { makeSample } from '../../testing/sample-factory.js';
import { Fanout } from '../fanout.js';
import { Journal } from '../journal.js';
import { InfluxSink } from './influx.js';
import { MqttSink } from './mqtt.js';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'mqtt-will') {
  const [url, prefix, site] = args as [string, string, string];
  const sink = new MqttSink(
    mqttSinkSchema.parse({ url, topic_prefix: prefix, client_id: `${prefix}-child` }),
    {
      site,
    },
  );
  await sink.open();
  process.stdout.write('ready\n');
  setInterval(() => {}, 1 << 30);
} else if (mode === 'influx') {
  const [dir, url, db, countText, t0Text] = args as [string, string, string, string, string];
  const count = Number(countText);
  const t0 = Number(t0Text);
  const journal = Journal.open(dir, { fsync: 'always', maxBytes: 1e9 });
  if (journal.lastSeq() === 0) {
    const samples = [];
    for (let i = 0; i < count; i++) samples.push(makeSample(`r${i % 50}`, t0 + Math.floor(i / 50) * 1000));
    for (let i = 0; i < samples.length; i += 500) journal.append(samples.slice(i, i + 500));
  }
  const sink = new InfluxSink(influxSinkSchema.parse({ url, database: db, flush_interval_ms: 0 }));
  const fanout = new Fanout(journal, [sink], { batchSize: 50, retryMinMs: 50, retryMaxMs: 500 });
  fanout.start();
  fanout.kick();
  let last = -1;
  const target = journal.lastSeq();
  const tick = setInterval(() => {
    const acked = fanout.status()[0]!.acked_seq;
    if (acked !== last) {
      last = acked;
      process.stdout.write(`${acked}\n`);
    }
    if (acked >= target) {
      clearInterval(tick);
      process.stdout.write(`done ${acked}\n`);
      void fanout.stop().then(() => {
        journal.close();
        process.exit(0);
      });
    }
  }, 2);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
