/** The hot-path cache: one read for overlapping misses, one query per turn, invalidation wins over a read in flight. */
import { describe, expect, it } from 'vitest';
import { ReadThroughCache } from '../../cloud/store/read-through-cache.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('read-through cache', () => {
  it('shares one read among overlapping misses and answers from the cache until the lifetime ends', async () => {
    const reads: Array<{ key: string; now: number }> = [];
    const cache = new ReadThroughCache<string, string>({ ttlMs: 100, maxEntries: 10, load: async (key, now) => (reads.push({ key, now }), `${key}@${now}`) });
    expect(await Promise.all([cache.get('a', 0), cache.get('a', 1), cache.get('b', 2)])).toEqual(['a@0', 'a@0', 'b@2']);
    expect(reads).toEqual([{ key: 'a', now: 0 }, { key: 'b', now: 2 }]);
    expect(await cache.get('a', 99)).toBe('a@0');
    expect(await cache.get('a', 100)).toBe('a@100');
    expect(reads).toHaveLength(3);
  });

  it('reads again when the cached value is not usable', async () => {
    let n = 0;
    const cache = new ReadThroughCache<string, number>({ ttlMs: 1000, maxEntries: 10, load: async () => ++n });
    expect(await cache.get('k', 0)).toBe(1);
    expect(await cache.get('k', 1, (v) => v !== 1)).toBe(2);
    expect(await cache.get('k', 2, (v) => v !== 1)).toBe(2);
  });

  it('reads the misses of one turn in one query and gives absent keys the missing value', async () => {
    const queries: string[][] = [];
    const cache = new ReadThroughCache<string, number | null>({
      ttlMs: 1000, maxEntries: 10, missing: null,
      loadMany: async (keys) => (queries.push(keys), new Map(keys.filter((k) => k !== 'nobody').map((k) => [k, k.length]))),
    });
    expect(await Promise.all(['a', 'bb', 'a', 'nobody', 'ccc'].map((k) => cache.get(k, 0)))).toEqual([1, 2, 1, null, 3]);
    expect(queries).toEqual([['a', 'bb', 'nobody', 'ccc']]);
    expect(await cache.get('nobody', 1)).toBeNull(); // cached as absent
    expect(queries).toHaveLength(1);
  });

  it('answers a read that an invalidation overtook but does not cache it; later callers read again', async () => {
    const pending = [deferred<string>(), deferred<string>()];
    let i = 0;
    const cache = new ReadThroughCache<string, string>({ ttlMs: 1000, maxEntries: 10, load: () => pending[i++]!.promise });
    const first = cache.get('k', 0);
    cache.delete('k'); // a committed change arrives while the read is on its way
    const second = cache.get('k', 1);
    pending[0]!.resolve('old');
    pending[1]!.resolve('new');
    expect(await first).toBe('old');
    expect(await second).toBe('new');
    expect(await cache.get('k', 2)).toBe('new');
    expect(i).toBe(2);
  });

  it('forgets everything on clear', async () => {
    let n = 0;
    const cache = new ReadThroughCache<string, number>({ ttlMs: 1000, maxEntries: 10, load: async () => ++n });
    await Promise.all([cache.get('a', 0), cache.get('b', 0)]);
    cache.clear();
    expect(await Promise.all([cache.get('a', 1), cache.get('b', 1)])).toEqual([3, 4]);
  });

  it('passes a failed read to every waiter and caches nothing', async () => {
    let fail = true;
    const cache = new ReadThroughCache<string, string>({
      ttlMs: 1000, maxEntries: 10,
      loadMany: async (keys) => {
        if (fail) throw new Error('database unavailable');
        return new Map(keys.map((k) => [k, 'ok']));
      },
    });
    const results = await Promise.allSettled([cache.get('a', 0), cache.get('b', 0)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await cache.get('a', 1)).toBe('ok');
  });

  it('stays within its bound', async () => {
    let reads = 0;
    const cache = new ReadThroughCache<number, number>({ ttlMs: 1000, maxEntries: 3, load: async (k) => (reads++, k) });
    for (const k of [1, 2, 3, 4]) await cache.get(k, 0);
    await cache.get(4, 1);
    expect(reads).toBe(4); // the newest entry survives the clearing
    await cache.get(1, 1);
    expect(reads).toBe(5);
  });
});
