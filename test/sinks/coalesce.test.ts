/**
 * Coalescer: sends that arrive while one is in flight go out as one request,
 * in arrival order, under the byte cap; each caller settles with its request.
 */
import { Coalescer } from '../../src/sinks/coalesce';

/** A flush whose requests the test completes (or fails) one at a time. */
function recorder() {
  const requests: { items: string[]; done: () => void; fail: (e: Error) => void }[] = [];
  const flush = (items: string[]) => new Promise<void>((resolve, reject) => requests.push({ items, done: resolve, fail: reject }));
  return { requests, flush };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  test('the first send goes at once; sends made meanwhile go together in the next request, in order', async () => {
    const { requests, flush } = recorder();
    const c = new Coalescer<string>(flush, (s) => s.length, 1000);
    const settled: string[] = [];
    const a = c.send(['a1', 'a2']).then(() => settled.push('a'));
    const b = c.send(['b1']).then(() => settled.push('b'));
    const d = c.send(['c1', 'c2']).then(() => settled.push('c'));
    await tick();
    expect(requests.map((r) => r.items)).toEqual([['a1', 'a2']]);
    requests[0].done();
    await a;
    await tick();
    expect(requests.map((r) => r.items)).toEqual([['a1', 'a2'], ['b1', 'c1', 'c2']]);
    expect(settled).toEqual(['a']);
    requests[1].done();
    await Promise.all([b, d]);
    expect(settled).toEqual(['a', 'b', 'c']);
  });

  test('a failed request rejects each of its callers with the cause; later sends still go', async () => {
    const { requests, flush } = recorder();
    const c = new Coalescer<string>(flush, (s) => s.length, 1000);
    const first = c.send(['x']);
    const second = c.send(['y']);
    const third = c.send(['z']);
    await tick();
    requests[0].done();
    await first;
    await tick();
    requests[1].fail(new Error('NOT_ENOUGH_REPLICAS'));
    await expect(second).rejects.toThrow('NOT_ENOUGH_REPLICAS');
    await expect(third).rejects.toThrow('NOT_ENOUGH_REPLICAS');
    const fourth = c.send(['w']);
    await tick();
    expect(requests.map((r) => r.items)).toEqual([['x'], ['y', 'z'], ['w']]);
    requests[2].done();
    await fourth;
  });

  test('a merged request stops before the byte cap; one oversized send still goes alone, whole', async () => {
    const { requests, flush } = recorder();
    const c = new Coalescer<string>(flush, (s) => s.length, 10);
    const all = [c.send(['0']), c.send(['aaaa', 'bbbb']), c.send(['cc']), c.send(['dddddddddddd']), c.send(['e'])];
    for (let i = 0; i < 4; i++) {
      await tick();
      requests[i].done();
    }
    await Promise.all(all);
    expect(requests.map((r) => r.items)).toEqual([['0'], ['aaaa', 'bbbb', 'cc'], ['dddddddddddd'], ['e']]);
  });
});
