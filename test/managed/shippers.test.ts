/**
 * deploy/shippers/managed: the shipper configs for managed clusters, and the
 * Kafka message each one produces (rebuilt from the real samples) decoded by
 * the input format docs/managed.md names for it.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { gzipSync } from 'zlib';
import { parse as parseYaml } from 'yaml';
import { decodePayload, type PayloadFormat } from '../../src/decode/envelope';
import { describeWithShared, MANAGED, samplePayload } from './shared';

const DIR = join(__dirname, '../../deploy/shippers/managed');
const config = (name: string) => parseYaml(readFileSync(join(DIR, name), 'utf8'));

function decoded(payload: Buffer | string, format: PayloadFormat) {
  const r = decodePayload(Buffer.from(payload), { format, source: 'k8s_audit', maxBytes: 8 << 20 });
  if (!r.ok) throw new Error(r.reason);
  return r.events;
}

describe('deploy/shippers/managed configs', () => {
  test('Vector EKS: Firehose source un-gzips, Kafka sink ships the subscription message as text', () => {
    const v = config('vector-eks-firehose.yaml');
    expect(v.sources.eks_firehose).toMatchObject({ type: 'aws_kinesis_firehose', record_compression: 'auto' });
    expect(v.sinks.kafka_eks_audit).toMatchObject({ type: 'kafka', inputs: ['eks_firehose'], topic: 'k8s-audit-eks', encoding: { codec: 'text' }, compression: 'gzip' });
  });

  test('Vector GKE: Pub/Sub source, LogEntry JSON shipped as text', () => {
    const v = config('vector-gke-pubsub.yaml');
    expect(v.sources.gke_audit).toMatchObject({ type: 'gcp_pubsub', acknowledgements: { enabled: true } });
    expect(v.sinks.kafka_gke_audit).toMatchObject({ type: 'kafka', inputs: ['gke_audit'], topic: 'k8s-audit-gke', encoding: { codec: 'text' } });
  });

  test('AKS relays read Event Hubs with SASL PLAIN $ConnectionString over TLS and refresh metadata under 240 s', () => {
    const v = config('vector-aks-eventhubs.yaml');
    // Vector: `$$` is a literal `$`.
    expect(v.sources.aks_eventhub).toMatchObject({ type: 'kafka', sasl: { enabled: true, mechanism: 'PLAIN', username: '$$ConnectionString' }, tls: { enabled: true } });
    expect(Number(v.sources.aks_eventhub.librdkafka_options['metadata.max.age.ms'])).toBeLessThan(240_000);
    const fb = config('fluent-bit-aks-eventhubs.yaml');
    const [input] = fb.pipeline.inputs;
    expect(input).toMatchObject({ name: 'kafka', format: 'json', 'rdkafka.security.protocol': 'SASL_SSL', 'rdkafka.sasl.mechanism': 'PLAIN', 'rdkafka.sasl.username': '$ConnectionString' });
    expect(input['rdkafka.metadata.max.age.ms']).toBeLessThan(240_000);
    expect(fb.pipeline.filters).toEqual([{ name: 'nest', match: input.tag, operation: 'lift', nested_under: 'payload' }]);
    expect(fb.pipeline.outputs[0]).toMatchObject({ name: 'kafka', match: input.tag, topics: 'k8s-audit-aks', format: 'json' });
  });
});

describeWithShared(MANAGED)('what the shippers put on Kafka decodes', () => {
  const aks = () => JSON.parse(samplePayload('k8saudit-aks/sysdiglabs-aks-audit-log/event.json').toString('utf8'));

  test('Fluent Bit AKS relay: payload lifted beside the kafka input keys', () => {
    const lifted = { '@timestamp': '2020-05-08T16:16:38.000000000Z', topic: 'aks-audit', partition: 0, offset: 42, error: null, key: null, ...aks() };
    const events = decoded(JSON.stringify(lifted), 'aks');
    expect([events.length, events[21].recordIndex, events[21].meta]).toEqual([22, 21, { cluster: 'KUBETEST' }]);
  });

  test('Vector GKE: text (the LogEntry) and json ({message: LogEntry, ...}) encodings', () => {
    const entry = samplePayload('k8saudit-gke/gke-labs-kube-agents/human_patch.json').toString('utf8');
    const a = decoded(entry, 'gke');
    const b = decoded(JSON.stringify({ message: entry, attributes: { 'logging.googleapis.com/timestamp': '2026-09-04T20:41:03.889214Z' }, message_id: '1', source_type: 'gcp_pubsub' }), 'gke');
    expect(b.map((e) => e.obj)).toEqual(a.map((e) => e.obj));
    expect(a[0].obj.verb).toBe('patch');
  });

  test('Vector EKS: the un-gzipped subscription message (and CloudWatch\'s own gzip too)', () => {
    const logEvents = aks().records.slice(0, 3).map((r: any, i: number) => ({ id: String(i), timestamp: 1588954577000 + i, message: r.properties.log.trimEnd() }));
    const msg = JSON.stringify({ messageType: 'DATA_MESSAGE', owner: '1', logGroup: '/aws/eks/shop/cluster', logStream: 'kube-apiserver-audit-1', subscriptionFilters: ['kestrel'], logEvents });
    for (const payload of [msg, gzipSync(msg)]) {
      expect(decoded(payload as string, 'cloudwatch').map((e) => [e.recordIndex, e.meta?.cluster])).toEqual([[0, 'shop'], [1, 'shop'], [2, 'shop']]);
    }
  });
});
