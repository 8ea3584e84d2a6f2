#!/usr/bin/env node
'use strict';
/**
 * `npm run demo:kafka`: Kestrel on a real Kafka broker in one command.
 *
 *   1. start a local broker (scripts/kafka-local.js; its own, not the one of kafka:start)
 *   2. create the topics of examples/kestrel.local.yaml
 *   3. put examples/audit-events.jsonl on the input topic, each event in Fluent Bit's
 *      envelope ({"log": "<event JSON>", "stream": "stdout", "time": ...})
 *   4. run `npx kestrel consume -c examples/kestrel.local.yaml` (KESTREL_KAFKA_BROKERS set)
 *   5. once the consumer group has committed every input message, read the alert topic
 *      and print each alert as `[RULE] OUTPUT` (the Falco JSON alert's rule and output line)
 *   6. stop the consumer and the broker
 *
 * Progress goes to stderr, the alerts to stdout. Exit 0 when alerts were read back,
 * 1 otherwise. Needs Java 17+ and Maven (the broker's jars) and a built dist/.
 */
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { parse: parseYaml } = require('yaml');
const { Kafka, logLevel } = require('kafkajs');
const { startLocalKafka, createTopics } = require('./kafka-local');

const ROOT = path.resolve(__dirname, '..');
const CONFIG = 'examples/kestrel.local.yaml';
const EVENTS = 'examples/audit-events.jsonl';
const DEADLINE_MS = 50_000;

const started = Date.now();
const step = (msg) => process.stderr.write(`[demo ${((Date.now() - started) / 1000).toFixed(1).padStart(4)} s] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The topics and group the shipped config names (the demo follows the file, not a copy of it). */
function configTopics() {
  const cfg = parseYaml(fs.readFileSync(path.join(ROOT, CONFIG), 'utf8'));
  return { input: cfg.kafka.input_topics[0], alerts: cfg.sinks.kafka.topic, dlq: cfg.dlq.topic, group: cfg.kafka.group_id };
}

/** Fluent Bit's tail input + kafka output: the log line in `log`, beside the record's metadata. */
function fluentBitRecord(line, i) {
  return JSON.stringify({ '@timestamp': 1793870100 + i * 2.468, log: line, stream: 'stdout', time: new Date(Date.UTC(2026, 10, 2, 9, 15, i * 2)).toISOString() });
}

async function produceEvents(kafka, topic) {
  const lines = fs.readFileSync(path.join(ROOT, EVENTS), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: lines.map((l, i) => ({ key: JSON.parse(l).auditID, value: fluentBitRecord(l, i) })) });
  await producer.disconnect();
  return lines.length;
}

/** Waits until the group's committed offsets reach the end of the input topic: every alert is on the alert topic by then. */
async function waitForCommit(admin, group, topic, consumer) {
  for (;;) {
    if (consumer.exitCode !== null) throw new Error(`kestrel consume exited with code ${consumer.exitCode} before reading every event`);
    if (Date.now() - started > DEADLINE_MS) throw new Error(`the consumer had not committed every event after ${DEADLINE_MS / 1000} s`);
    let ends;
    let committed;
    try {
      ends = await admin.fetchTopicOffsets(topic);
      [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    } catch (err) {
      // A fresh broker's group coordinator answers "loading" for a moment: ask again.
      if (!err.retriable) throw err;
      await sleep(200);
      continue;
    }
    const done = ends.every((e) => {
      const c = committed.partitions.find((p) => p.partition === e.partition);
      return c !== undefined && Number(c.offset) >= Number(e.high);
    });
    if (done) return;
    await sleep(200);
  }
}

/** Every record of the topic, read from the start up to its current end. */
async function readAll(kafka, admin, topic) {
  const ends = await admin.fetchTopicOffsets(topic);
  const total = ends.reduce((n, e) => n + Number(e.high), 0);
  if (total === 0) return [];
  const consumer = kafka.consumer({ groupId: `kestrel-demo-reader-${process.pid}` });
  const records = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${records.length} of ${total} records of ${topic}`)), 15_000);
    consumer.run({
      eachMessage: async ({ message }) => {
        records.push(message);
        if (records.length >= total) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return records;
}

/**
 * SIGTERM to the consumer's process group (npx and the kestrel process under it), then
 * waits until every process of the group is gone, so that the broker outlives the
 * consumer's graceful shutdown (final commit, leaving the group). SIGKILL after 15 s.
 */
async function stopConsumer(child) {
  const group = -child.pid;
  const alive = () => {
    try {
      process.kill(group, 0);
      return true;
    } catch {
      return false;
    }
  };
  const exited = new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)));
  if (alive()) process.kill(group, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (alive()) {
    if (Date.now() > deadline) process.kill(group, 'SIGKILL');
    await sleep(100);
  }
  await exited;
  return child.exitCode ?? child.signalCode;
}

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm ci does it) first');
  const topics = configTopics();
  step('starting a local Kafka broker ...');
  const broker = await startLocalKafka({ quickJit: true });
  let consumer;
  let admin;
  try {
    step(`Kafka ${broker.version} at ${broker.brokers}`);
    const kafka = new Kafka({ clientId: 'kestrel-demo', brokers: [broker.brokers], logLevel: logLevel.NOTHING });
    await createTopics(broker.brokers, [topics.input, topics.alerts, topics.dlq]);
    step(`topics created: ${topics.input}, ${topics.alerts}, ${topics.dlq}`);
    const n = await produceEvents(kafka, topics.input);
    step(`${n} events from ${EVENTS} put on ${topics.input} as Fluent Bit records ({"log": "<event>", ...})`);

    step(`npx kestrel consume -c ${CONFIG}   (KESTREL_KAFKA_BROKERS=${broker.brokers})`);
    consumer = spawn('npx', ['--no-install', 'kestrel', 'consume', '-c', CONFIG], {
      cwd: ROOT,
      env: { ...process.env, KESTREL_KAFKA_BROKERS: broker.brokers },
      stdio: ['ignore', 'inherit', 'inherit'],
      // Its own process group, so that stopping it reaches kestrel under npx too.
      detached: true,
    });
    admin = kafka.admin();
    await admin.connect();
    await waitForCommit(admin, topics.group, topics.input, consumer);
    const alerts = await readAll(kafka, admin, topics.alerts);
    step(`${alerts.length} alerts on ${topics.alerts}:`);
    for (const m of alerts) {
      const alert = JSON.parse(m.value.toString('utf8'));
      process.stdout.write(`[${alert.rule}] ${alert.output}\n`);
    }
    const dead = await readAll(kafka, admin, topics.dlq);
    step(`${dead.length} messages on ${topics.dlq}`);
    if (alerts.length === 0) throw new Error(`no alert on ${topics.alerts}`);
  } finally {
    if (admin) await admin.disconnect().catch(() => {});
    if (consumer) {
      await stopConsumer(consumer);
      step('kestrel consume stopped');
    }
    await broker.stop();
    step('broker stopped; done');
  }
}

main().catch((err) => {
  process.stderr.write(`[demo] failed: ${err.message}\n`);
  process.exitCode = 1;
});
