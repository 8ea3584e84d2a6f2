/**
 * `kestrel serve` flags and `kestrel consume -c` as presets of the one service model.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../src/config/fields';
import { loadServiceConfig } from '../../src/config/load';
import { FlagError, consumePreset, servePreset } from '../../src/config/presets';
import type { ServiceConfig, WebhookInputConfig } from '../../src/config/types';

const RULES = '/opt/kestrel/rules';
const CONSUME_BREAKER = { timeoutMs: 30000, errorThresholdPercentage: 50, resetTimeoutMs: 5000, volumeThreshold: 1 };
const SERVE_LIMITS = { maxBodyBytes: 268435456, requestTimeoutMs: 30000, headersTimeoutMs: 10000, maxConcurrentRequests: 64, maxConcurrentRequestsPerClient: 16, maxEventsPerRequest: 10000 };

const serve = (...argv: string[]) => {
  const c = servePreset(argv, RULES, {});
  if (c === 'help') throw new Error('help');
  return c;
};
const webhook = (c: ServiceConfig) => c.inputs.find((i) => i.type === 'webhook') as WebhookInputConfig;
const flagError = (...argv: string[]): string => {
  try {
    servePreset(argv, RULES, {});
  } catch (e) {
    expect(e).toBeInstanceOf(FlagError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'kestrel-preset-'));
}

describe('servePreset', () => {
  test('no flags: one webhook on 0.0.0.0:9765 /k8s-audit, Kestrel rules, one worker, stdout as text, no metrics server', () => {
    expect(serve()).toEqual<ServiceConfig>({
      inputs: [{ type: 'webhook', name: 'webhook', host: '0.0.0.0', port: 9765, paths: [{ path: '/k8s-audit', source: 'k8s_audit', fields: {} }], tokens: [], ...SERVE_LIMITS }],
      rules: { paths: [RULES] },
      engine: { ruleMatching: 'first', minPriority: 'Debug', workers: 1, maxInFlightMessages: 4000, maxInFlightBytes: 4194304, maxEventBytes: 16777216 },
      shaping: { fields: {} },
      outputs: [{ type: 'stdout', name: 'stdout', format: 'text', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: CONSUME_BREAKER }],
      delivery: { guarantee: 'at_least_once', commitIntervalMs: 200, transactionalId: 'kestrel-kestrel' },
      log: { level: 'info' },
      hostname: hostname(),
      shutdownTimeoutMs: 30000,
    });
  });

  test('KESTREL_LOG_LEVEL applies (the only environment override of serve)', () => {
    expect((servePreset([], RULES, { KESTREL_LOG_LEVEL: 'debug', KESTREL_METRICS_PORT: '1' }) as ServiceConfig).log.level).toBe('debug');
    expect((servePreset([], RULES, { KESTREL_METRICS_PORT: '1' }) as ServiceConfig).metrics).toBeUndefined();
  });

  test('-h is help', () => {
    expect(servePreset(['-h'], RULES, {})).toBe('help');
  });

  test('--listen, --admission-path, --field, -r, --min-priority, --rule-matching, --watch, --max-body-bytes', () => {
    const c = serve('--listen', '127.0.0.1:8080', '--admission-path', '/k8s-admission', '--field', 'cluster=c1', '--field', 'x=a=b', '-r', 'x.yaml', '-r', '/abs/r',
      '--min-priority', 'warning', '--rule-matching', 'all', '--watch', '--max-body-bytes', '1000', '--path', '/audit');
    expect(webhook(c)).toMatchObject({ host: '127.0.0.1', port: 8080, maxBodyBytes: 1000 });
    expect(webhook(c).paths).toEqual([{ path: '/audit', source: 'k8s_audit', fields: {} }, { path: '/k8s-admission', source: 'k8s_admission', fields: {} }]);
    expect(c.shaping.fields).toEqual({ cluster: 'c1', x: 'a=b' });
    expect(c.rules).toEqual({ paths: [resolve('x.yaml'), '/abs/r'], watch: { debounceMs: 500 } });
    expect(c.engine).toMatchObject({ minPriority: 'Warning', ruleMatching: 'all', maxEventBytes: 16777216 });
    expect(c.outputs.map((o) => [o.type, o.format])).toEqual([['stdout', 'text']]);
  });

  test('--listen accepts [IPv6]:port and :port', () => {
    expect(webhook(serve('--listen', '[::1]:9000'))).toMatchObject({ host: '::1', port: 9000 });
    expect(webhook(serve('--listen', ':9001'))).toMatchObject({ host: '0.0.0.0', port: 9001 });
  });

  test('--token-file, --tls-cert/--tls-key, --client-ca', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), 'secret\n');
    const c = serve('--token-file', join(dir, 'token'), '--tls-cert', join(dir, 'c.crt'), '--tls-key', join(dir, 'c.key'), '--client-ca', join(dir, 'ca.crt'));
    expect(webhook(c).tokens).toEqual(['secret']);
    expect(webhook(c).tls).toEqual({ certFile: join(dir, 'c.crt'), keyFile: join(dir, 'c.key'), clientCaFile: join(dir, 'ca.crt') });
  });

  test('outputs as serve: --file/--http replace stdout unless --json; --no-stdout drops it', () => {
    expect(serve('--file', '/var/a.jsonl').outputs).toEqual([
      { type: 'file', name: 'file', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: CONSUME_BREAKER, path: '/var/a.jsonl', maxBytes: 104857600, keep: 5, fsync: 'interval', fsyncIntervalMs: 1000 },
    ]);
    expect(serve('--http', 'http://sk:2801/').outputs).toEqual([
      {
        type: 'http', name: 'http', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: { timeoutMs: false, errorThresholdPercentage: 50, resetTimeoutMs: 10000, volumeThreshold: 5 },
        url: 'http://sk:2801/', headers: {}, timeoutMs: 5000, maxRetryMs: 30000, maxPending: 10000, concurrency: 4, insecureSkipVerify: false,
      },
    ]);
    expect(serve('--json').outputs.map((o) => [o.type, o.format])).toEqual([['stdout', 'json']]);
    expect(serve('--file', 'a', '--json').outputs.map((o) => [o.type, o.format])).toEqual([['file', 'json'], ['stdout', 'json']]);
    expect(serve('--file', 'a', '--json', '--no-stdout').outputs.map((o) => o.type)).toEqual(['file']);
  });

  test.each([
    [['--client-ca', 'ca.crt'], '--client-ca needs --tls-cert and --tls-key'],
    [['--tls-cert', 'c.crt'], '--tls-cert and --tls-key go together'],
    [['--listen', '9765'], "--listen must be HOST:PORT, not '9765'"],
    [['--listen', 'h:70000'], "--listen must be HOST:PORT, not 'h:70000'"],
    [['--path', 'audit'], "--path must start with '/'"],
    [['--admission-path', 'adm'], "--admission-path must start with '/'"],
    [['--admission-path', '/k8s-audit'], '--admission-path /k8s-audit is already the audit path'],
    [['--max-body-bytes', '0'], '--max-body-bytes must be a positive integer'],
    [['--field', '=x'], "--field must be NAME=VALUE, not '=x'"],
    [['--min-priority', 'loud'], "--min-priority: unknown priority 'loud'"],
    [['--rule-matching', 'best'], "--rule-matching must be 'first' or 'all', not 'best'"],
    [['--token-file', '/nonexistent/token'], '--token-file: cannot read /nonexistent/token: ENOENT'],
    [['--http', 'ftp://x'], '--http: must be an http:// or https:// URL, got "ftp://x"'],
    [['--no-stdout'], '--no-stdout leaves no output; add --file or --http'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('%j: %s', (argv, message) => {
    expect(flagError(...argv)).toBe(message);
  });

  test('-c with a serve-era file: flags override it; --file replaces its implicit stdout', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'serve.yaml'), 'rules: [r]\nlisten: { port: 9000 }\nfields: { a: b }\n');
    const c = serve('-c', join(dir, 'serve.yaml'), '--file', 'out.jsonl', '--field', 'c=d');
    expect(webhook(c)).toMatchObject({ port: 9000 });
    expect(c.rules.paths).toEqual([join(dir, 'r')]);
    expect(c.shaping.fields).toEqual({ a: 'b', c: 'd' });
    expect(c.outputs.map((o) => o.type)).toEqual(['file']);
    expect(c.engine.workers).toBe(1);
  });

  test('-c with a service-layout file: a webhook input is added when it has none; its explicit outputs stay', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'k.yaml'), 'inputs: [{ type: file, path: events.jsonl }]\nrules: { paths: [r] }\noutputs: [{ type: stdout }]\nengine: { workers: 2 }\n');
    const c = serve('-c', join(dir, 'k.yaml'), '--listen', '127.0.0.1:9100', '--http', 'http://sk/');
    expect(c.inputs.map((i) => [i.type, i.name])).toEqual([['file', 'file'], ['webhook', 'webhook']]);
    expect(webhook(c)).toMatchObject({ host: '127.0.0.1', port: 9100 });
    expect(c.outputs.map((o) => [o.type, o.format])).toEqual([['stdout', 'json'], ['http', 'json']]);
    expect(c.engine.workers).toBe(2);
  });

  test('-c with two webhook inputs: a webhook flag is ambiguous', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'k.yaml'), 'inputs: [{ type: webhook, name: a }, { type: webhook, name: b, port: 9766 }]\nrules: { paths: [r] }\noutputs: [{ type: stdout }]\n');
    expect(flagError('-c', join(dir, 'k.yaml'), '--listen', ':1')).toBe('--listen: the config has 2 webhook inputs (a, b); set it in the file');
    expect(serve('-c', join(dir, 'k.yaml')).inputs).toHaveLength(2);
  });

  test('-c with a forwarding serve-era file: no outputs', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'fwd.yaml'), 'rules: [r]\nforward: { kafka: { brokers: [k:9092], topic: audit } }\n');
    const c = serve('-c', join(dir, 'fwd.yaml'), '--listen', ':9000');
    expect(c.inputs).toMatchObject([{ type: 'webhook', port: 9000, forwardTopic: 'audit' }]);
    expect(c.outputs).toEqual([]);
  });

  test('-c: a missing file or a bad key is a ConfigError', () => {
    expect(() => servePreset(['-c', '/nonexistent/k.yaml'], RULES, {})).toThrow(new ConfigError('/nonexistent/k.yaml', 'cannot read: ENOENT'));
    const dir = tempDir();
    writeFileSync(join(dir, 'k.yaml'), 'listen: { prot: 1 }\n');
    expect(() => servePreset(['-c', join(dir, 'k.yaml')], RULES, {})).toThrow('config: listen.prot: unknown key');
  });
});

describe('consumePreset', () => {
  test('is the file as loadServiceConfig reads it, with the environment', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'k.yaml'), 'inputs: [{ type: kafka, topics: [a] }]\nkafka: { brokers: [k:1] }\nrules: { paths: [r] }\noutputs: [{ type: stdout }]\n');
    const env = { KESTREL_KAFKA_GROUP: 'g2' };
    expect(consumePreset(join(dir, 'k.yaml'), env)).toEqual(loadServiceConfig(join(dir, 'k.yaml'), env));
    expect(consumePreset(join(dir, 'k.yaml'), env).inputs).toMatchObject([{ groupId: 'g2' }]);
  });
});
