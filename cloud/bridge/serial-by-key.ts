/**
 * Runs work one at a time per key (a room's command flush, a session's key-set sync): a run asked
 * for while one is going for the same key starts after it; different keys run side by side. A run
 * never rejects: its failure goes to `onError`, so the next run for the key still happens.
 */
export class SerialByKey {
  private readonly tails = new Map<string, Promise<void>>();

  run(key: string, fn: () => Promise<void>, onError: (err: unknown) => void): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(fn).catch(onError);
    this.tails.set(key, next);
    // The last run for a key removes its entry, so idle keys hold nothing.
    void next.then(() => this.tails.get(key) === next && this.tails.delete(key));
    return next;
  }
}
