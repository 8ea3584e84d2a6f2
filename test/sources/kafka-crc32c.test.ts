/**
 * The record batch checksum (src/sources/kafka-crc32c.ts) is CRC-32C and gives
 * what kafkajs' own gives, for every length and byte, and a Kestrel process
 * uses it for the batches it produces.
 */
import { crc32c } from '../../src/sources/kafka-crc32c';
import { inKafkaClientProcess } from '../support/kafka-client-process';

// jest's module registry: kafkajs' own checksum (the replacement is installed only under Node's cache).
const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;

/** Deterministic bytes (a linear congruential generator), so a failure names a reproducible input. */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

test('the standard check value: CRC-32C of "123456789" is 0xe3069283', () => {
  expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
});

test('empty input, all zeros, all ones', () => {
  expect([crc32c(Buffer.alloc(0)), crc32c(Buffer.alloc(32)), crc32c(Buffer.alloc(32, 0xff))]).toEqual([0, 0x8a9136aa, 0x62a8ab43]);
});

test('the same value as kafkajs for every length from 0 to 257 and for 1 MiB', () => {
  const lengths = [...Array.from({ length: 258 }, (_, n) => n), 1 << 20];
  const differ = lengths.filter((n) => crc32c(bytes(n, n + 1)) !== kafkajsCrc(bytes(n, n + 1)));
  expect(differ).toEqual([]);
});

test('a view into a larger buffer checksums only its own bytes', () => {
  const whole = bytes(100, 7);
  expect(crc32c(whole.subarray(3, 90))).toBe(kafkajsCrc(Buffer.from(whole.subarray(3, 90))));
});

test('in a Kestrel process, kafkajs record batches are checksummed with it', () => {
  const script = `
    const mod = require('./dist/src/sources/kafka-crc32c.js');
    const crc = require('kafkajs/src/protocol/recordBatch/crc32C');
    console.log(JSON.stringify({ installed: mod.crc32cInstalled, ours: crc === mod.crc32c }));
  `;
  expect(inKafkaClientProcess(script)).toEqual({ installed: true, ours: true });
});
