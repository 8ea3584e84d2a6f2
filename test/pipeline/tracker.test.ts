import { PartitionTracker } from '../../src/pipeline/tracker';
import { workerIndex } from '../../src/pipeline/pool';

describe('PartitionTracker', () => {
  test('commits only the contiguous completed prefix, whatever the completion order', () => {
    const t = new PartitionTracker();
    const a = t.add(0, 9);
    const b = t.add(10, 19);
    const c = t.add(25, 30); // a hole (compaction / transaction markers)
    expect(t.commitPoint()).toBeUndefined();
    t.complete(c);
    t.complete(b);
    expect(t.commitPoint()).toBeUndefined(); // a still pending: never past the gap
    t.complete(a);
    expect(t.commitPoint()).toBe(31);
    t.committed = 31;
    expect(t.commitPoint()).toBeUndefined();
    expect(t.idle).toBe(true);
  });

  test('partial progress and re-fetched offsets', () => {
    const t = new PartitionTracker();
    const a = t.add(100, 100);
    t.add(101, 150);
    t.complete(a);
    expect(t.commitPoint()).toBe(101);
    expect(t.pending).toBe(1);
    expect(t.dispatched(150)).toBe(true);
    expect(t.dispatched(151)).toBe(false);
    expect(() => t.add(120, 160)).toThrow('offset 120 was already dispatched (next is 151)');
  });
});

describe('workerIndex', () => {
  test('stable, and spreads one topic\'s partitions over the workers', () => {
    expect(workerIndex('audit', 0, 4)).toBe(workerIndex('audit', 0, 4));
    expect(new Set([0, 1, 2, 3].map((p) => workerIndex('audit', p, 4))).size).toBe(4);
    expect(workerIndex('audit', 7, 1)).toBe(0);
  });
});
