/**
 * The bare consumer the Kafka benchmark compares Kestrel with: kafkajs eachBatch
 * and JSON.parse of every message, nothing else. bench/kafka.ts runs it in its own
 * process (warm: it has run before) and, as a child, in a fresh process like
 * Kestrel's (JIT warm-up included):
 *
 *   node dist/bench/raw-consumer.js BROKERS TOPIC EVENTS GROUP_ID
 *
 * The child writes "joined" on stderr at the group join and its RawRun as JSON on stdout.
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';

/** One run, timed from the group join; CPU is this process's, all threads, in seconds. */
export interface RawRun {
  joinedAt: number;
  tEnd: number;
  cpuS: number;
  /** Bytes read (rchar) since the join. */
  read: number;
  /** When a quarter of the events was done, and the CPU seconds spent from the join until then. */
  quarter: { at: number; n: number; cpuS: number };
}

/** Bytes a process read with read(2)-family calls (sockets included): what it fetched from Kafka, mostly. */
export function readBytes(pid: number | 'self'): number {
  try {
    return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

export async function consumeRaw(kafka: Kafka, topic: string, events: number, groupId: string, onJoin: () => void = () => {}): Promise<RawRun> {
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let n = 0;
  let verbs = 0;
  let joinedAt = 0;
  let cpu0 = cpuNow();
  let read0 = readBytes('self');
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (joinedAt) return;
    joinedAt = Date.now();
    cpu0 = cpuNow();
    read0 = readBytes('self');
    onJoin();
  });
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  let tEnd = 0;
  let quarter: RawRun['quarter'] | undefined;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        if ((JSON.parse(m.value!.toString('utf8')) as { verb?: string }).verb) verbs++;
        n++;
      }
      if (!quarter && n >= events / 4) quarter = { at: Date.now(), n, cpuS: cpuNow() - cpu0 };
      if (n >= events && !tEnd) {
        tEnd = Date.now();
        done();
      }
    },
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([finished, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`raw consumer stuck at ${n}/${events}`)), 300_000)))]);
  clearTimeout(timer);
  const cpuS = cpuNow() - cpu0;
  const read = readBytes('self') - read0;
  await consumer.disconnect();
  if (verbs !== events) throw new Error(`raw consumer parsed ${verbs} events with a verb of ${events}`);
  return { joinedAt, tEnd, cpuS, read, quarter: quarter! };
}

if (require.main === module) {
  const [brokers, topic, events, groupId] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: brokers.split(','), logLevel: logLevel.ERROR });
  consumeRaw(kafka, topic, Number(events), groupId, () => process.stderr.write('joined\n')).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e: Error) => {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
