/**
 * describeKafkaError on the shapes kafkajs throws (the real ones are produced
 * against a broker in test/integration/kafka-security.test.ts): one line, no
 * OpenSSL dump, naming the setting to check.
 */
import { describeKafkaError } from '../../src/sources/kafka-errors';

/** kafkajs-like error: name, message, optional code and wrapped cause. */
function err(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, ...extra });
}

const retried = (cause: Error) => err('KafkaJSNumberOfRetriesExceeded', cause.message, { cause });

describe('describeKafkaError', () => {
  test.each<[string, unknown, string]>([
    [
      'SASL SCRAM',
      err('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256'),
      'Kafka SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256 (check kafka.sasl username, password and mechanism)',
    ],
    [
      'self-signed broker certificate, wrapped by retries',
      retried(err('KafkaJSConnectionError', 'Connection error: self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' })),
      "Kafka TLS: the broker's certificate is not trusted (Connection error: self-signed certificate in certificate chain); check kafka.ssl.ca_file",
    ],
    [
      'TLS 1.3 certificate required alert (multi-line OpenSSL text)',
      retried(
        err('KafkaJSConnectionError', 'Connection error: 80ACF137C97F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n', {
          code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
        }),
      ),
      'Kafka TLS: the broker refused the client certificate (alert: certificate required); check kafka.ssl.cert_file/key_file and that the broker trusts their CA',
    ],
    [
      'host name mismatch',
      retried(err('KafkaJSConnectionError', "Connection error: Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list: 127.0.0.1", { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })),
      "Kafka TLS: the broker's certificate is not trusted (Connection error: Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list: 127.0.0.1); check kafka.ssl.ca_file",
    ],
    [
      'TLS to a plaintext listener',
      retried(err('KafkaJSConnectionError', 'Connection error: Client network socket disconnected before secure TLS connection was established', { code: 'ECONNRESET' })),
      'Kafka TLS handshake failed: the broker closed the connection (is this listener plaintext while kafka.ssl is set?)',
    ],
    [
      'refused',
      retried(err('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' })),
      'Kafka broker unreachable: connect ECONNREFUSED 127.0.0.1:1 (check kafka.brokers)',
    ],
    [
      'unknown host',
      retried(err('KafkaJSConnectionError', 'Connection error: getaddrinfo ENOTFOUND kafka.invalid', { code: 'ENOTFOUND' })),
      'Kafka broker host not found: getaddrinfo ENOTFOUND kafka.invalid (check kafka.brokers)',
    ],
    [
      'timeout',
      retried(err('KafkaJSConnectionError', 'Connection timeout')),
      'Kafka broker did not answer in time: Connection timeout (check kafka.brokers, firewalls and connection_timeout_ms)',
    ],
    ['anything else', err('KafkaJSProtocolError', 'This server does not host this topic-partition\nmore'), 'Kafka error: This server does not host this topic-partition'],
    ['not an Error', 'boom', 'Kafka error: boom'],
  ])('%s', (_what, e, line) => {
    expect(describeKafkaError(e)).toBe(line);
    expect(describeKafkaError(e)).not.toContain('\n');
  });
});
