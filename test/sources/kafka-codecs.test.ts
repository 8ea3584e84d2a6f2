/** The codec primitives behind registerCodecs (the real-broker round trips are in test/integration/codecs.test.ts). */
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { lz4FrameCompress, lz4FrameDecompress, registerCodecs } from '../../src/sources/kafka-codecs';

const text = () => Buffer.from(Array.from({ length: 3000 }, (_, i) => `audit event ${i % 7}: get secrets/db-password by dana; `).join(''));

/** `lz4 -BD -BX -B4 --content-size` (reference CLI): linked 64 KiB blocks, block and content checksums, content size. */
const CLI_FRAME = Buffer.from('BCJNGFxAgDICAAAAAACFWwEAAPghYXVkaXQgZXZlbnQgMDogZ2V0IHNlY3JldHMvZGItcGFzc3dvcmQgYnkgZGFuYTsgMAAfMTAAHB8yMAAcHzMwABwfNDAAHB81MAAcHzYwABwPUAH///////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////+LUCAwOiBn980/XwoBAAAP8P//////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////6FBkYi1wYewe4FGOAAAA/yFzc3dvcmQgYnkgZGFuYTsgYXVkaXQgZXZlbnQgMTogZ2V0IHNlY3JldHMvZGItcGEwAAkfMjAAHB8zMAAcHzQwABwfNTAAHB82MAAcHzAwABwPUAH/////////////////////////////////////////////////////////////////LVBhbmE7IAy2OhAAAAAAYHS2cw==', 'base64');

describe('LZ4 frames', () => {
  test('a frame from the reference lz4 tool (linked blocks, checksums, content size) decodes exactly', () => {
    expect(lz4FrameDecompress(CLI_FRAME).equals(text())).toBe(true);
  });

  test('our frames: independent 64 KiB blocks, header checksum, round trip', () => {
    const input = text();
    const frame = lz4FrameCompress(input);
    expect(frame.subarray(0, 7).toString('hex')).toBe('04224d186040' + frame.subarray(6, 7).toString('hex'));
    expect(frame[4] & 0x20).toBe(0x20); // block independence: required by Kafka brokers
    expect(frame.length).toBeLessThan(input.length / 10);
    expect(lz4FrameDecompress(frame).equals(input)).toBe(true);
    const random = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 2654435761) >>> 24));
    expect(lz4FrameDecompress(lz4FrameCompress(random)).equals(random)).toBe(true);
    expect(lz4FrameDecompress(lz4FrameCompress(Buffer.alloc(0))).length).toBe(0);
  });

  test('corrupt or forged frames are refused with a reason, not a huge allocation', () => {
    expect(() => lz4FrameDecompress(Buffer.from('not lz4 at all'))).toThrow('lz4: not an LZ4 frame (bad magic number)');
    expect(() => lz4FrameDecompress(CLI_FRAME.subarray(0, 40))).toThrow('lz4: block larger than the frame allows');
    expect(() => lz4FrameDecompress(lz4FrameCompress(text()), 1000)).toThrow('lz4: more than 1000 bytes decompressed');
  });
});

describe('registerCodecs', () => {
  test('installs snappy, lz4 and zstd into kafkajs; idempotent', async () => {
    registerCodecs();
    const table = CompressionCodecs as unknown as Record<number, () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }>;
    const first = table[CompressionTypes.Snappy];
    registerCodecs();
    expect(table[CompressionTypes.Snappy]).toBe(first);
    for (const t of [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
      const codec = table[t]();
      const input = text();
      const packed = await codec.compress({ buffer: input });
      expect(packed.length).toBeLessThan(input.length / 5);
      expect((await codec.decompress(packed)).equals(input)).toBe(true);
    }
  });
});
