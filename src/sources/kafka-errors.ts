/**
 * One clear line for a Kafka connection failure. kafkajs wraps the real cause
 * (a TLS alert, a refused socket) in retry and connection errors whose own
 * message is generic or carries OpenSSL's multi-line dump; the user needs to
 * know which setting to look at. Pure: no I/O.
 */

type ErrorLike = { name?: string; message?: string; code?: string; cause?: unknown; originalError?: unknown; broker?: string };

/** Node's TLS verification codes: Kestrel does not trust the broker's certificate. */
const SERVER_NOT_TRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** TLS alerts the broker sends when it refuses Kestrel's client certificate (or its absence). */
const CLIENT_CERT_REFUSED = /ALERT_(BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNKNOWN_CA|CERTIFICATE_REQUIRED|UNSUPPORTED_CERTIFICATE|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|ACCESS_DENIED)/;

const isObj = (v: unknown): v is ErrorLike => typeof v === 'object' && v !== null;

/** The innermost error kafkajs wrapped (retry errors keep it in `cause`, some in `originalError`). */
function innermost(e: unknown): ErrorLike {
  let cur: ErrorLike = isObj(e) ? e : { message: String(e) };
  for (let i = 0; i < 10; i++) {
    const next = isObj(cur.cause) ? cur.cause : isObj(cur.originalError) ? cur.originalError : undefined;
    if (!next) break;
    cur = next;
  }
  return cur;
}

/** First line of a message, without OpenSSL's `80AC...:error:0A000412:` prefix and source location. */
function firstLine(msg: string | undefined): string {
  const line = (msg ?? '').split('\n')[0].trim();
  const ssl = /error:[0-9A-F]+:SSL routines:[^:]*:([^:]+)/.exec(line);
  return ssl ? ssl[1] : line;
}

/** Turn any error from connecting, producing or consuming into one line naming the setting to check. */
export function describeKafkaError(e: unknown): string {
  const top: ErrorLike = isObj(e) ? e : { message: String(e) };
  const inner = innermost(e);
  const code = inner.code ?? top.code ?? '';
  const msg = firstLine(inner.message ?? top.message);
  const name = inner.name ?? top.name ?? 'Error';

  if (name === 'KafkaJSSASLAuthenticationError' || /SASL .* authentication failed/.test(msg)) {
    const mech = /SASL (\S+(?: SHA\d+)?) authentication failed/.exec(msg)?.[1] ?? 'SASL';
    const why = msg.replace(/^SASL .*? authentication failed: /, '');
    return `Kafka SASL ${mech} authentication failed: ${why} (check kafka.sasl username, password and mechanism)`;
  }
  if (SERVER_NOT_TRUSTED.has(code)) {
    return `Kafka TLS: the broker's certificate is not trusted (${msg}); check kafka.ssl.ca_file`;
  }
  if (CLIENT_CERT_REFUSED.test(code)) {
    const alert = /alert ([a-z ]+)/.exec(msg)?.[1]?.trim() ?? msg;
    return `Kafka TLS: the broker refused the client certificate (alert: ${alert}); check kafka.ssl.cert_file/key_file and that the broker trusts their CA`;
  }
  if (code === 'ECONNRESET' && /before secure TLS connection/.test(msg)) {
    return 'Kafka TLS handshake failed: the broker closed the connection (is this listener plaintext while kafka.ssl is set?)';
  }
  if (name === 'KafkaJSConnectionClosedError') {
    return 'Kafka broker closed the connection during the handshake (a TLS or SASL listener reached without kafka.ssl or kafka.sasl?)';
  }
  if (code === 'ECONNREFUSED') return `Kafka broker unreachable: ${msg.replace(/^Connection error: /, '')} (check kafka.brokers)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `Kafka broker host not found: ${msg.replace(/^Connection error: /, '')} (check kafka.brokers)`;
  if (/Connection timeout/i.test(msg) || code === 'ETIMEDOUT') return `Kafka broker did not answer in time: ${msg} (check kafka.brokers, firewalls and connection_timeout_ms)`;
  return `Kafka error: ${msg || name}`;
}
