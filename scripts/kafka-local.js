#!/usr/bin/env node
'use strict';
/**
 * Local single-node Apache Kafka (KRaft, combined broker+controller) for
 * development and integration tests, run from the jars that Maven resolves into
 * deploy/kafka-local/lib (no Docker needed).
 *
 *   node scripts/kafka-local.js start   # npm run kafka:start; prints 127.0.0.1:PORT last
 *   node scripts/kafka-local.js start --security   # also SASL_PLAINTEXT, SSL (mTLS), SASL_SSL
 *                                                  # listeners; details in .kafka-local/state.json
 *   node scripts/kafka-local.js stop    # npm run kafka:stop
 *   node scripts/kafka-local.js restart # stop the JVM, start it again: same port, same data
 *   node scripts/kafka-local.js status
 *   node scripts/kafka-local.js topics create NAME[:PARTITIONS] ...   # npm run kafka:topics -- create ...
 *   node scripts/kafka-local.js topics list
 *     (topics talk to $KESTREL_KAFKA_BROKERS, else to the broker `start` recorded)
 *
 * The CLI keeps its broker in .kafka-local/state.json (repo root, git-ignored).
 * Library use (jest global setup): `startLocalKafka({ quickJit, detached, timeoutMs })`
 * returns `{ brokers, pid, dir, logFile, version, startMs, stop({ graceful }), restart() }` and does
 * NOT touch the state file, so a test run never collides with a broker a developer
 * started by hand. Types: scripts/kafka-local.d.ts.
 *
 * Each broker lives in a fresh temp dir (os.tmpdir()/kestrel-kafka-*: server.properties,
 * data/, server.log via deploy/kafka-local/log4j2.xml, stdout.log, owner.json) that
 * stop() removes; a later start sweeps dirs (and kills non-detached brokers) whose owner
 * process died.
 *
 * Environment:
 *   JAVA_HOME / KAFKA_LOCAL_JAVA   java to run (default: $JAVA_HOME/bin/java, else `java`)
 *   KAFKA_LOCAL_HEAP               max heap (default 512m)
 *   KAFKA_LOCAL_JAVA_OPTS          extra JVM options, space separated
 *   KAFKA_LOCAL_START_TIMEOUT_MS   readiness bound (default 90000)
 *   MVN                            maven command (default `mvn`)
 *   KAFKA_LOCAL_DEBUG=1            log startup phases to stderr
 *   KAFKA_LOCAL_CDS=0|1            class-data-sharing archive of the broker's classes in
 *                                  lib/kafka-cds.jsa, made by the first broker's clean
 *                                  shutdown and used by every later JVM (~1.5-2 s faster
 *                                  start; the making run pays ~3 s start + ~4 s stop).
 *                                  Default: on, except when CI is set (one start per clone).
 */

const fs = require('fs');
const os = require('os');
const net = require('net');
const path = require('path');
const crypto = require('crypto');
const { spawn, spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const KAFKA_DIR = path.join(ROOT, 'deploy', 'kafka-local');
const POM = path.join(KAFKA_DIR, 'pom.xml');
const LIB = path.join(KAFKA_DIR, 'lib');
const LIB_MARKER = path.join(LIB, '.resolved');
const LOG4J2_CONFIG = path.join(KAFKA_DIR, 'log4j2.xml');
const CDS_ARCHIVE = path.join(LIB, 'kafka-cds.jsa');
const STATE_DIR = path.join(ROOT, '.kafka-local');
const STATE_FILE = path.join(STATE_DIR, 'state.json');
const TMP_PREFIX = 'kestrel-kafka-';

const DEFAULT_TIMEOUT_MS = Number(process.env.KAFKA_LOCAL_START_TIMEOUT_MS || 90_000);
const STOP_GRACE_MS = 15_000;

/** Diagnostics go to stderr so that stdout's last line stays the bootstrap address. */
function log(msg) {
  process.stderr.write(`[kafka-local] ${msg}\n`);
}

function debug(msg) {
  if (process.env.KAFKA_LOCAL_DEBUG) log(msg);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Cross-process lock: an exclusively created file under .kafka-local/ holding the owner's
 * pid, taken over when that pid is gone. Serializes Maven resolution and the CLI's
 * start/stop, so concurrent `npm run kafka:start`s share one broker instead of orphaning one.
 * Synchronous on purpose (ensureLib is); returns the release function.
 */
function acquireLock(name, timeoutMs = 300_000) {
  const file = path.join(STATE_DIR, `${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(STATE_DIR, { recursive: true });
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => {
        fs.rmSync(file, { force: true });
        removeStateDirIfEmpty();
      };
    } catch (err) {
      if (err.code === 'ENOENT') continue; // the dir was just removed by a releasing holder
      if (err.code !== 'EEXIST') throw err;
    }
    let holder = 0;
    let ageMs = 0;
    try {
      holder = Number(fs.readFileSync(file, 'utf8')) || 0;
      ageMs = Date.now() - fs.statSync(file).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    // Empty for a moment between create and write; a dead holder's lock is stale.
    if ((holder && !isAlive(holder)) || (!holder && ageMs > 5000)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${file} (held by pid ${holder})`);
    if (!announced) {
      log(`waiting for pid ${holder} (${name} in progress) ...`);
      announced = true;
    }
    sleepSync(200);
  }
}

function removeStateDirIfEmpty() {
  try {
    fs.rmdirSync(STATE_DIR);
  } catch {
    /* not empty or gone */
  }
}

function javaBin() {
  if (process.env.KAFKA_LOCAL_JAVA) return process.env.KAFKA_LOCAL_JAVA;
  if (process.env.JAVA_HOME) {
    const candidate = path.join(process.env.JAVA_HOME, 'bin', 'java');
    if (fs.existsSync(candidate)) return candidate;
  }
  return 'java';
}

function pomHash() {
  return crypto.createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
}

function libIsCurrent() {
  try {
    return fs.readFileSync(LIB_MARKER, 'utf8').trim() === pomHash();
  } catch {
    return false;
  }
}

/**
 * Resolve the broker jars into deploy/kafka-local/lib with Maven unless lib/
 * already matches the current pom.xml (marker file holds the pom's hash, so a
 * version bump re-resolves instead of mixing two Kafka versions on the classpath).
 */
function ensureLib() {
  if (libIsCurrent()) return;
  const release = acquireLock('resolve');
  try {
    if (!libIsCurrent()) resolveLib(); // someone else may have done it while we waited
  } finally {
    release();
  }
}

function resolveLib() {
  const mvn = process.env.MVN || 'mvn';
  log(`resolving Kafka jars with Maven into ${path.relative(ROOT, LIB)} (first run only) ...`);
  const started = Date.now();
  fs.rmSync(LIB, { recursive: true, force: true });
  const res = spawnSync(mvn, ['-q', '-B', '-f', POM, 'dependency:copy-dependencies'], {
    cwd: KAFKA_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: process.env,
  });
  // Debian's Maven 3.8 emits bare ANSI resets even with -B -q: strip them. Maven's output goes
  // to stderr, since stdout is reserved for the bootstrap address.
  const mvnOutput = `${res.stdout || ''}${res.stderr || ''}`.replace(/\u001b\[[0-9;]*m/g, '').trim();
  if (mvnOutput) process.stderr.write(`${mvnOutput}\n`);
  if (res.error || res.status !== 0) {
    fs.rmSync(LIB, { recursive: true, force: true });
    const why = res.error ? res.error.message : `exit code ${res.status}`;
    throw new Error(`Maven resolution of the Kafka broker failed (${why}); run: ${mvn} -B -f ${POM} dependency:copy-dependencies`);
  }
  if (!fs.readdirSync(LIB).some((f) => /^kafka_2\.13-.*\.jar$/.test(f))) {
    throw new Error(`Maven finished but no kafka_2.13 jar is in ${LIB}`);
  }
  fs.writeFileSync(LIB_MARKER, `${pomHash()}\n`);
  log(`resolved in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function kafkaVersion() {
  try {
    const jar = fs.readdirSync(LIB).find((f) => /^kafka_2\.13-.*\.jar$/.test(f));
    return jar ? jar.replace(/^kafka_2\.13-/, '').replace(/\.jar$/, '') : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function freePorts(n) {
  const ports = [];
  while (ports.length < n) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  return ports;
}

/**
 * Users of the secured listeners (`security: true`). PLAIN users live in the listener's
 * JAAS line; SCRAM credentials are written into the metadata log at format time.
 * The Event Hubs user is what Azure's Kafka endpoint expects: the literal user name
 * `$ConnectionString` and a namespace connection string as password.
 */
const SECURITY_USERS = Object.freeze({
  plain: { username: 'kestrel', password: 'kestrel-plain-secret' },
  scram: { username: 'kestrel-scram', password: 'kestrel-scram-secret' },
  eventHubs: {
    username: '$ConnectionString',
    password: 'Endpoint=sb://kestrel-test.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=a2VzdHJlbC10ZXN0',
  },
});

function openssl(args, cwd) {
  const res = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (res.error) throw new Error(`cannot run openssl: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${(res.stderr || '').trim()}`);
}

/**
 * Test PKI in <dir>/tls (EC P-256 keys, 2-day validity):
 *   ca.pem/ca.key             the CA the broker trusts and clients verify the broker with
 *   broker.pem/broker.key     server cert for 127.0.0.1 and localhost (broker-keystore.pem: key+cert)
 *   client.pem/client.key     client cert signed by the CA (mTLS)
 *   rogue-ca.pem, rogue-client.pem/.key   another CA and a client cert it signed: trusted by nobody
 */
function makeCertificates(dir) {
  const tls = path.join(dir, 'tls');
  fs.mkdirSync(tls, { recursive: true });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name, cn) => openssl(['req', '-x509', ...key, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], tls);
  const leaf = (name, caName, cn, exts) => openssl(['req', '-x509', ...key, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`,
    '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-addext', 'basicConstraints=CA:FALSE', ...exts.flatMap((e) => ['-addext', e])], tls);
  ca('ca', 'Kestrel test CA');
  ca('rogue-ca', 'Untrusted test CA');
  leaf('broker', 'ca', 'localhost', ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth']);
  leaf('client', 'ca', 'kestrel-client', ['extendedKeyUsage=clientAuth']);
  leaf('rogue-client', 'rogue-ca', 'kestrel-client', ['extendedKeyUsage=clientAuth']);
  // Kafka's PEM key store: the private key (PKCS#8, unencrypted) then the certificate chain.
  fs.writeFileSync(path.join(tls, 'broker-keystore.pem'), fs.readFileSync(path.join(tls, 'broker.key'), 'utf8') + fs.readFileSync(path.join(tls, 'broker.pem'), 'utf8'));
  const f = (n) => path.join(tls, n);
  return {
    caFile: f('ca.pem'),
    clientCertFile: f('client.pem'),
    clientKeyFile: f('client.key'),
    rogueCaFile: f('rogue-ca.pem'),
    rogueClientCertFile: f('rogue-client.pem'),
    rogueClientKeyFile: f('rogue-client.key'),
  };
}

/** JAAS option values are double-quoted strings. */
function jaasQuote(v) {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * Extra listeners of a secured broker:
 *   SASL_PLAINTEXT  PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
 *   SSL             TLS with client certificates required (mTLS)
 *   SASL_SSL        PLAIN over TLS, no client certificate (the Event Hubs / Confluent Cloud shape)
 */
function securityProperties({ dir, ports }) {
  const tls = path.join(dir, 'tls');
  const { plain, eventHubs } = SECURITY_USERS;
  const plainModule = 'org.apache.kafka.common.security.plain.PlainLoginModule required';
  const scramModule = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return [
    `ssl.keystore.type=PEM`,
    `ssl.keystore.location=${path.join(tls, 'broker-keystore.pem')}`,
    `ssl.truststore.type=PEM`,
    `ssl.truststore.location=${path.join(tls, 'ca.pem')}`,
    'listener.name.ssl.ssl.client.auth=required',
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${plainModule} user_${plain.username}=${jaasQuote(plain.password)};`,
    `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${scramModule}`,
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${scramModule}`,
    'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=${plainModule} user_${plain.username}=${jaasQuote(plain.password)} user_${eventHubs.username}=${jaasQuote(eventHubs.password)};`,
    '',
  ].join('\n');
}

function serverProperties({ dir, port, controllerPort, secure }) {
  const listeners = [`PLAINTEXT://127.0.0.1:${port}`];
  const protocols = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
  if (secure) {
    for (const [name, p] of Object.entries(secure.ports)) {
      listeners.push(`${name}://127.0.0.1:${p}`);
      protocols.push(`${name}:${name}`);
    }
  }
  return [
    '# Generated by scripts/kafka-local.js: single-node KRaft broker+controller for dev/tests.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=${[...listeners, `CONTROLLER://127.0.0.1:${controllerPort}`].join(',')}`,
    `advertised.listeners=${listeners.join(',')}`,
    `listener.security.protocol.map=${protocols.join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${path.join(dir, 'data')}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'delete.topic.enable=true',
    'log.segment.bytes=16777216',
    'log.retention.check.interval.ms=60000',
    'num.network.threads=2',
    'num.io.threads=4',
    '',
  ].join('\n') + (secure ? securityProperties({ dir, ports: secure.ports }) : '');
}

function cdsEnabled() {
  const v = process.env.KAFKA_LOCAL_CDS;
  if (v !== undefined && v !== '') return v !== '0' && v !== 'false';
  return !process.env.CI;
}

/**
 * JVM class-data-sharing options. With an archive present every JVM maps it (a stale or
 * foreign archive is ignored by the JVM with a warning in stdout.log). Without one, the
 * broker JVM (dumpTo set) writes one at exit into a temp name that stopBroker() promotes
 * after a clean shutdown.
 */
function cdsArgs(dumpTo) {
  if (!cdsEnabled()) return [];
  if (fs.existsSync(CDS_ARCHIVE)) return [`-XX:SharedArchiveFile=${CDS_ARCHIVE}`];
  return dumpTo ? [`-XX:ArchiveClassesAtExit=${dumpTo}`] : [];
}

function jvmArgs(dir, { cdsDump, tool = false, quickJit = false } = {}) {
  const heap = process.env.KAFKA_LOCAL_HEAP || '512m';
  const extra = (process.env.KAFKA_LOCAL_JAVA_OPTS || '').split(/\s+/).filter(Boolean);
  return [
    // The one-shot StorageTool JVM starts ~40% faster with C1 only and the serial GC.
    ...(tool ? ['-Xmx128m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'] : [`-Xmx${heap}`, '-Xms128m']),
    // Short-lived test brokers: C1 only saves ~40% of the broker's startup CPU.
    ...(quickJit && !tool ? ['-XX:TieredStopAtLevel=1'] : []),
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    ...cdsArgs(cdsDump),
    `-Dlog4j2.configurationFile=${LOG4J2_CONFIG}`,
    `-Dkafka.logs.dir=${dir}`,
    ...extra,
    '-cp',
    path.join(LIB, '*'),
  ];
}

/**
 * Kafka cluster ids are 16 random bytes as base64url without padding, like
 * `kafka-storage.sh random-uuid`. As Kafka's Uuid.randomUuid() does, reject ids
 * starting with '-': the StorageTool's argument parser takes `--cluster-id -abc...`
 * for an option and fails ("expected one argument"), 1 start in 64 otherwise.
 */
function randomClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** `kafka-storage.sh format` equivalent (its own short-lived JVM). Kafka 4 needs this before first start. */
function formatStorage(dir, propsFile, extraArgs = []) {
  const clusterId = randomClusterId();
  return new Promise((resolve, reject) => {
    const out = fs.openSync(path.join(dir, 'format.log'), 'a');
    const child = spawn(
      javaBin(),
      [...jvmArgs(dir, { tool: true }), 'kafka.tools.StorageTool', 'format', '--cluster-id', clusterId, '--config', propsFile, '--ignore-formatted', ...extraArgs],
      { stdio: ['ignore', out, out] },
    );
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      fs.closeSync(out);
      return true;
    };
    child.on('error', (err) => {
      if (settle()) reject(new Error(`cannot run ${javaBin()}: ${err.message} (is Java 17+ installed?)`));
    });
    child.on('exit', (code) => {
      if (!settle()) return;
      if (code === 0) resolve(clusterId);
      else reject(new Error(`kafka.tools.StorageTool format exited with ${code}\n${tail(path.join(dir, 'format.log'))}`));
    });
  });
}

function tail(file, lines = 40) {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return `(no ${path.basename(file)})`;
  }
}

function brokerLogTail(dir, lines = 40) {
  const parts = [`--- ${path.join(dir, 'server.log')} (tail) ---`, tail(path.join(dir, 'server.log'), lines)];
  const stdout = path.join(dir, 'stdout.log');
  if (fs.existsSync(stdout) && fs.statSync(stdout).size > 0) {
    parts.push(`--- ${stdout} (tail) ---`, tail(stdout, 20));
  }
  return parts.join('\n');
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** True if `pid` is still our broker (guards against pid reuse before we signal it). */
function isOurBroker(pid, dir) {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(dir);
  } catch {
    // No /proc (macOS): fall back to liveness.
    return process.platform !== 'linux' && isAlive(pid);
  }
}

/** Polls the broker with a kafkajs admin until describeCluster answers. */
async function waitUntilReady({ brokers, child, dir, timeoutMs }) {
  const { Kafka, logLevel } = require('kafkajs');
  const deadline = Date.now() + timeoutMs;
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
  });
  let lastError = null;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`broker exited during startup (code ${exited.code}, signal ${exited.signal})`);
    }
    const kafka = new Kafka({
      clientId: 'kafka-local-probe',
      brokers: [brokers],
      connectionTimeout: 1000,
      requestTimeout: 3000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller !== -1) {
        return cluster;
      }
      lastError = new Error(`cluster not ready: ${JSON.stringify(cluster)}`);
    } catch (err) {
      lastError = err;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await sleep(250);
  }
  throw new Error(`broker not ready within ${timeoutMs} ms (last error: ${lastError && lastError.message})`);
}

/**
 * SIGTERM, then SIGKILL after graceMs; then removes the temp dir. With graceful=false
 * (throwaway test brokers) it sends SIGKILL at once, unless the broker still has to
 * write its class-data-sharing archive at exit.
 */
async function stopBroker({ pid, dir, cdsDump }, { graceMs = cdsDump ? STOP_GRACE_MS * 2 : STOP_GRACE_MS, graceful = true } = {}) {
  const clean = await killJvm({ pid, dir }, { graceMs, graceful: graceful || Boolean(cdsDump) });
  if (cdsDump) promoteCdsArchive(cdsDump, clean);
  removeDir(dir);
}

/**
 * Ends the broker JVM and waits for it to be gone; the dir (data, logs) stays.
 * graceful: SIGTERM (controlled shutdown), SIGKILL after graceMs; otherwise SIGKILL at once.
 * Returns whether it stopped cleanly.
 */
async function killJvm({ pid, dir }, { graceMs = STOP_GRACE_MS, graceful = true } = {}) {
  let clean = true;
  if (pid && isAlive(pid) && isOurBroker(pid, dir)) {
    try {
      process.kill(pid, graceful ? 'SIGTERM' : 'SIGKILL');
    } catch {
      /* already gone */
    }
    const deadline = Date.now() + (graceful ? graceMs : 2000);
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) {
      clean = false;
      if (graceful) log(`broker pid ${pid} did not stop within ${graceMs} ms, sending SIGKILL`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      const killDeadline = Date.now() + 5000;
      while (isAlive(pid) && Date.now() < killDeadline) await sleep(50);
    }
  }
  return clean;
}

/**
 * Starts the broker JVM on an already formatted dir (its server.properties fixes the
 * ports) and waits until it answers describeCluster. Used by the first start and by
 * restart, which reuses the dir: same port, same data.
 */
async function launchBroker({ dir, brokers, detached, quickJit, cdsDump, timeoutMs }) {
  const out = fs.openSync(path.join(dir, 'stdout.log'), 'a');
  const child = spawn(javaBin(), [...jvmArgs(dir, { cdsDump, quickJit }), 'kafka.Kafka', path.join(dir, 'server.properties')], {
    cwd: dir,
    detached,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  writeOwner(dir, child.pid, detached);
  if (detached) child.unref();
  return {
    child,
    ready: () => waitUntilReady({ brokers, child, dir, timeoutMs }),
  };
}

/** Keeps a CDS archive the broker wrote at a clean exit; drops partial ones. */
function promoteCdsArchive(tmp, clean) {
  try {
    if (clean && fs.statSync(tmp).size > 0 && !fs.existsSync(CDS_ARCHIVE)) {
      fs.renameSync(tmp, CDS_ARCHIVE);
      debug(`class-data-sharing archive saved to ${CDS_ARCHIVE}`);
    }
  } catch {
    /* no archive written */
  }
  fs.rmSync(tmp, { force: true });
}

/**
 * Cleans up after runs that died without stop() (e.g. a killed jest). Each temp dir has
 * an owner.json naming the process that made it, its broker and whether the broker was
 * meant to outlive it (CLI). Once the owner is gone, a non-detached broker is an orphan
 * and is killed; a dir whose broker is gone is removed.
 */
function sweepStaleDirs() {
  let names;
  try {
    names = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(TMP_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(os.tmpdir(), name);
    try {
      const owner = JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8'));
      const ownerAlive = owner.ownerPid && isAlive(owner.ownerPid);
      let brokerAlive = owner.brokerPid && isAlive(owner.brokerPid) && isOurBroker(owner.brokerPid, dir);
      if (!ownerAlive && brokerAlive && owner.detached === false) {
        log(`killing orphaned test broker pid ${owner.brokerPid} (${dir})`);
        process.kill(owner.brokerPid, 'SIGKILL');
        brokerAlive = false;
      }
      if (!ownerAlive && !brokerAlive) {
        debug(`removing stale ${dir}`);
        removeDir(dir);
      }
    } catch {
      // No owner.json yet: only sweep it when clearly abandoned.
      try {
        if (Date.now() - fs.statSync(dir).mtimeMs > 3600_000) removeDir(dir);
      } catch {
        /* raced with its owner */
      }
    }
  }
}

function writeOwner(dir, brokerPid, detached) {
  fs.writeFileSync(path.join(dir, 'owner.json'), `${JSON.stringify({ ownerPid: process.pid, brokerPid, detached })}\n`);
}

function removeDir(dir) {
  // Only ever delete our own temp dirs.
  if (dir && path.basename(dir).startsWith(TMP_PREFIX)) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts a fresh broker in a new temp dir and resolves once it answers
 * describeCluster.
 *
 * @param {object} [opts]
 * @param {boolean} [opts.detached=false] survive the calling process (CLI use); when false the
 *   broker stays in the caller's process group (Ctrl-C reaches it) and is SIGKILLed if the
 *   caller exits without calling stop().
 * @param {number} [opts.timeoutMs=90000] readiness bound.
 * @param {boolean} [opts.quickJit=false] C1-only JIT: faster start, lower peak throughput
 *   (for short-lived test brokers; keep it off to benchmark against the broker).
 * @returns {Promise<{brokers: string, pid: number, dir: string, logFile: string, version: string, startMs: number, stop(): Promise<void>, restart(): Promise<{ms: number}>}>}
 */
async function startLocalKafka(opts = {}) {
  const { detached = false, timeoutMs = DEFAULT_TIMEOUT_MS, quickJit = false, security = false } = opts;
  ensureLib();
  sweepStaleDirs();
  const version = kafkaVersion();
  const started = Date.now();
  let lastError;
  // Ports are picked, released, then bound by the JVM: retry once on the (rare) race.
  for (let attempt = 1; attempt <= 2; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), TMP_PREFIX));
    writeOwner(dir, null, detached);
    let child;
    let onExit;
    let cdsDump;
    const signalHandlers = [];
    const unhook = () => {
      if (onExit) process.removeListener('exit', onExit);
      for (const [sig, fn] of signalHandlers) process.removeListener(sig, fn);
    };
    try {
      const [port, controllerPort, saslPort, sslPort, saslSslPort] = await freePorts(security ? 5 : 2);
      const brokers = `127.0.0.1:${port}`;
      const propsFile = path.join(dir, 'server.properties');
      const secure = security ? { ports: { SASL_PLAINTEXT: saslPort, SSL: sslPort, SASL_SSL: saslSslPort } } : undefined;
      const certs = security ? makeCertificates(dir) : undefined;
      fs.writeFileSync(propsFile, serverProperties({ dir, port, controllerPort, secure }));
      const { scram } = SECURITY_USERS;
      const scramArgs = security
        ? ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${scram.username},password=${scram.password}]`])
        : [];
      await formatStorage(dir, propsFile, scramArgs);
      debug(`storage formatted after ${Date.now() - started} ms`);

      // Only the broker records a CDS archive (see cdsArgs), into a name unique to this run.
      cdsDump = cdsEnabled() && !fs.existsSync(CDS_ARCHIVE) ? path.join(LIB, `.kafka-cds-${path.basename(dir)}.jsa.tmp`) : undefined;
      const launched = await launchBroker({ dir, brokers, detached, quickJit, cdsDump, timeoutMs });
      child = launched.child;
      let pid = child.pid;
      if (!detached) {
        // Last resort if the caller dies without stop(): never leave a JVM behind.
        onExit = () => {
          try {
            if (isAlive(pid)) process.kill(pid, 'SIGKILL');
          } catch {
            /* ignore */
          }
          removeDir(dir);
          if (cdsDump) fs.rmSync(cdsDump, { force: true });
        };
        process.once('exit', onExit);
        // Killed by a signal, Node runs no 'exit' handlers: clean up, then die of it as before
        // (unless someone else handles it).
        for (const sig of ['SIGTERM', 'SIGHUP']) {
          const onSignal = () => {
            onExit();
            if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
          };
          signalHandlers.push([sig, onSignal]);
          process.once(sig, onSignal);
        }
      }

      await waitUntilReady({ brokers, child, dir, timeoutMs: Math.max(1000, timeoutMs - (Date.now() - started)) });
      const startMs = Date.now() - started;
      debug(`broker answered describeCluster after ${startMs} ms`);
      let stopped = null;
      const handle = {
        brokers,
        pid,
        dir,
        cdsDump,
        logFile: path.join(dir, 'server.log'),
        version,
        startMs,
        security: security
          ? {
              listeners: { saslPlaintext: `127.0.0.1:${saslPort}`, ssl: `127.0.0.1:${sslPort}`, saslSsl: `127.0.0.1:${saslSslPort}` },
              users: SECURITY_USERS,
              tls: certs,
            }
          : undefined,
        stop({ graceful = true } = {}) {
          if (!stopped) {
            stopped = stopBroker({ pid, dir, cdsDump }, { graceful }).finally(() => {
              unhook();
              child.unref();
            });
          }
          return stopped;
        },
        async restart({ graceful = true, downMs = 0, whileDown } = {}) {
          if (stopped) throw new Error('restart() after stop()');
          const clean = await killJvm({ pid, dir }, { graceful: graceful || Boolean(cdsDump) });
          if (cdsDump) {
            promoteCdsArchive(cdsDump, clean);
            cdsDump = undefined;
            handle.cdsDump = undefined;
          }
          child.unref();
          if (whileDown) await whileDown();
          if (downMs > 0) await sleep(downMs);
          const t0 = Date.now();
          const again = await launchBroker({ dir, brokers, detached, quickJit, timeoutMs });
          child = again.child;
          pid = child.pid;
          handle.pid = pid;
          await again.ready();
          return { ms: Date.now() - t0 };
        },
      };
      return handle;
    } catch (err) {
      const logText = brokerLogTail(dir);
      lastError = new Error(`local Kafka ${version} failed to start: ${err.message}\n${logText}`);
      if (child && child.pid) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* ignore */
        }
        child.unref();
      }
      unhook();
      removeDir(dir);
      if (cdsDump) fs.rmSync(cdsDump, { force: true });
      const portRace = /Address already in use|BindException/.test(logText);
      if (!portRace || Date.now() - started > timeoutMs) break;
      log('port taken between pick and bind, retrying with new ports');
    }
  }
  throw lastError;
}

function readState() {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
  } catch {
    return null;
  }
}

async function cliStart(security) {
  const release = acquireLock('cli');
  try {
    await cliStartLocked(security);
  } finally {
    release();
  }
}

async function cliStartLocked(security) {
  const existing = readState();
  if (existing) {
    if (existing.pid && isAlive(existing.pid) && isOurBroker(existing.pid, existing.dir)) {
      log(`already running (pid ${existing.pid}, ${existing.dir}); \`npm run kafka:stop\` first to restart`);
      process.stdout.write(`${existing.brokers}\n`);
      return;
    }
    log('removing stale state from a broker that is gone');
    removeDir(existing.dir);
    fs.rmSync(STATE_FILE, { force: true });
  }
  const k = await startLocalKafka({ detached: true, security });
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const state = { pid: k.pid, dir: k.dir, cdsDump: k.cdsDump, brokers: k.brokers, logFile: k.logFile, version: k.version, startedAt: new Date().toISOString(), security: k.security };
  if (k.security) log(`secured listeners, users and PEM files: ${STATE_FILE} (.security)`);
  fs.writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
  log(`Kafka ${k.version} up in ${(k.startMs / 1000).toFixed(1)} s (pid ${k.pid}, log ${k.logFile})`);
  process.stdout.write(`${k.brokers}\n`);
}

async function cliStop() {
  const release = acquireLock('cli');
  let state;
  try {
    state = readState();
    if (state) {
      await stopBroker(state);
      fs.rmSync(STATE_FILE, { force: true });
    }
  } finally {
    release();
  }
  log(state ? `stopped (pid ${state.pid}), removed ${state.dir}` : 'no local broker recorded (nothing to stop)');
}

/**
 * Stops the CLI's broker and starts it again on the same port and data dir (topics,
 * offsets and transactions survive): what a rolling broker restart looks like to clients.
 */
async function cliRestart() {
  const release = acquireLock('cli');
  try {
    const state = readState();
    if (!state || !fs.existsSync(path.join(state.dir || '', 'server.properties'))) {
      throw new Error('no local broker recorded (`npm run kafka:start` first)');
    }
    const clean = await killJvm(state);
    if (state.cdsDump) promoteCdsArchive(state.cdsDump, clean);
    const t0 = Date.now();
    const { child, ready } = await launchBroker({ dir: state.dir, brokers: state.brokers, detached: true, quickJit: false, timeoutMs: DEFAULT_TIMEOUT_MS });
    const next = { ...state, pid: child.pid, cdsDump: undefined, restartedAt: new Date().toISOString() };
    fs.writeFileSync(STATE_FILE, `${JSON.stringify(next, null, 2)}\n`);
    await ready();
    log(`restarted in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${child.pid}, same port and data)`);
    process.stdout.write(`${state.brokers}\n`);
  } finally {
    release();
  }
}

function cliStatus() {
  const state = readState();
  if (state && isAlive(state.pid) && isOurBroker(state.pid, state.dir)) {
    log(`running: pid ${state.pid}, dir ${state.dir}, Kafka ${state.version}`);
    process.stdout.write(`${state.brokers}\n`);
  } else {
    log(state ? 'not running (stale state; `npm run kafka:stop` cleans it)' : 'not running');
    process.exitCode = 1;
  }
}

/**
 * Creates topics (replication factor 1, as the single local broker allows); `specs` are
 * `NAME` or `NAME:PARTITIONS`. Topics that already exist are left as they are.
 * Returns the names that were created.
 */
async function createTopics(brokers, specs) {
  const topics = specs.map((spec) => {
    const m = /^([A-Za-z0-9._-]+)(?::(\d+))?$/.exec(spec);
    if (!m) throw new UsageError(`not a topic: '${spec}' (expected NAME or NAME:PARTITIONS)`);
    return { topic: m[1], numPartitions: m[2] ? Number(m[2]) : 1, replicationFactor: 1 };
  });
  return withAdmin(brokers, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const fresh = topics.filter((t) => !existing.has(t.topic));
    if (fresh.length > 0) await admin.createTopics({ topics: fresh, waitForLeaders: true });
    return fresh.map((t) => t.topic);
  });
}

/** Topic names with their partition counts, internal topics (__*) left out, sorted. */
async function listTopics(brokers) {
  return withAdmin(brokers, async (admin) => {
    const names = (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
    if (names.length === 0) return [];
    const { topics } = await admin.fetchTopicMetadata({ topics: names });
    const partitions = new Map(topics.map((t) => [t.name, t.partitions.length]));
    return names.map((name) => ({ name, partitions: partitions.get(name) }));
  });
}

async function withAdmin(brokers, fn) {
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({ clientId: 'kafka-local-topics', brokers: [brokers], connectionTimeout: 3000, retry: { retries: 2 }, logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`cannot reach the broker at ${brokers}: ${err.message}`);
  }
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

class UsageError extends Error {}

/** The broker the topics subcommand talks to: $KESTREL_KAFKA_BROKERS, else the one `start` recorded. */
function cliBrokers() {
  if (process.env.KESTREL_KAFKA_BROKERS) return process.env.KESTREL_KAFKA_BROKERS.split(',')[0].trim();
  const state = readState();
  if (state && isAlive(state.pid)) return state.brokers;
  throw new Error('no local broker: run `npm run kafka:start` first (or set KESTREL_KAFKA_BROKERS)');
}

async function cliTopics(args) {
  const [sub, ...rest] = args;
  if (sub === 'create' && rest.length > 0) {
    const brokers = cliBrokers();
    const created = new Set(await createTopics(brokers, rest));
    for (const spec of rest) {
      const name = spec.split(':')[0];
      log(created.has(name) ? `created topic ${name} on ${brokers}` : `topic ${name} already exists on ${brokers}`);
    }
  } else if (sub === 'list' && rest.length === 0) {
    for (const t of await listTopics(cliBrokers())) process.stdout.write(`${t.name}\t${t.partitions}\n`);
  } else {
    throw new UsageError('usage: node scripts/kafka-local.js topics create NAME[:PARTITIONS] ... | topics list');
  }
}

async function main(argv) {
  const cmd = argv[0];
  try {
    if (cmd === 'start') await cliStart(argv.includes('--security'));
    else if (cmd === 'stop') await cliStop();
    else if (cmd === 'restart') await cliRestart();
    else if (cmd === 'status') cliStatus();
    else if (cmd === 'resolve') ensureLib();
    else if (cmd === 'topics') await cliTopics(argv.slice(1));
    else {
      process.stderr.write('usage: node scripts/kafka-local.js start [--security]|stop|restart|status|resolve|topics\n');
      process.exitCode = 2;
    }
  } catch (err) {
    process.stderr.write(`[kafka-local] ${err.message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}

module.exports = { startLocalKafka, stopBroker, ensureLib, createTopics, listTopics, STATE_FILE, SECURITY_USERS };

if (require.main === module) {
  main(process.argv.slice(2));
}
