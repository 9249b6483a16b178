/**
 * A bounded, short-lived cache in front of a database read, for the request hot paths (the
 * account standing on every authenticated call, the room's session and the course's enrolment on
 * every submission). Misses of one key that overlap share one read, and with `loadMany` the misses
 * of one turn of the event loop are read together in one query: a class submitting at a window
 * change costs one round trip to the database, not one per phone. `delete` and `clear` are the
 * invalidation (a committed change, from this instance or through the change feed): a read that
 * began before one is answered but not cached, and later callers read again.
 */
export interface ReadThroughOptions<K, V> {
  ttlMs: number;
  maxEntries: number;
  /** Reads one key (used when `loadMany` is not given), as of `now` (the time `get` was given). */
  load?: (key: K, now: number) => Promise<V>;
  /** Reads the keys missed in one turn of the event loop; a key absent from the result gets `missing`. */
  loadMany?: (keys: K[]) => Promise<Map<K, V>>;
  /** The value of a key that `loadMany` did not return. */
  missing?: V;
}

interface Entry<V> {
  value: V;
  expires: number;
}

export class ReadThroughCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly inflight = new Map<K, Promise<V>>();
  /** Counts invalidations, so that a read that began before one is not cached after it. */
  private generation = 0;
  private gathering: Map<K, { resolve: (v: V) => void; reject: (e: unknown) => void }[]> | null = null;

  constructor(private readonly opts: ReadThroughOptions<K, V>) {
    if (!opts.load === !opts.loadMany) throw new Error('ReadThroughCache needs exactly one of load and loadMany');
  }

  /** The cached value while it is fresh at `now` (and `usable`, if given), else a read. */
  get(key: K, now: number, usable: (value: V) => boolean = () => true): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > now && usable(hit.value)) return Promise.resolve(hit.value);
    const running = this.inflight.get(key);
    if (running) return running;
    const generation = this.generation;
    const read = this.read(key, now).then(
      (value) => {
        if (this.inflight.get(key) === read) this.inflight.delete(key);
        if (generation === this.generation) {
          if (this.entries.size >= this.opts.maxEntries) this.entries.clear();
          this.entries.set(key, { value, expires: now + this.opts.ttlMs });
        }
        return value;
      },
      (err: unknown) => {
        if (this.inflight.get(key) === read) this.inflight.delete(key);
        throw err;
      },
    );
    this.inflight.set(key, read);
    return read;
  }

  delete(key: K): void {
    this.generation++;
    this.entries.delete(key);
    this.inflight.delete(key);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
    this.inflight.clear();
  }

  private read(key: K, now: number): Promise<V> {
    if (this.opts.load) return this.opts.load(key, now);
    return new Promise<V>((resolve, reject) => {
      if (!this.gathering) {
        this.gathering = new Map();
        setImmediate(() => this.readGathered());
      }
      const waiters = this.gathering.get(key) ?? [];
      waiters.push({ resolve, reject });
      this.gathering.set(key, waiters);
    });
  }

  private readGathered(): void {
    const batch = this.gathering!;
    this.gathering = null;
    this.opts.loadMany!([...batch.keys()]).then(
      (found) => {
        for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.has(key) ? found.get(key)! : (this.opts.missing as V));
      },
      (err: unknown) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}
