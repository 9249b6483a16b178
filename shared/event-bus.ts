/**
 * One typed event bus per process. Every listener is registered with an owner and wrapped: a
 * listener that throws (or whose promise rejects) is logged and cannot break the code that
 * emitted, nor the other listeners. A part removes all its listeners at once on stop
 * (`off(owner)`), so a stopped part can never be called again. See docs/architecture.md
 * ("Events").
 */
export interface BusLogger {
  error(obj: object, msg: string): void;
}

type Listener = (...args: never[]) => unknown;

interface Entry {
  owner: object;
  fn: Listener;
}

export class EventBus<M extends { [K in keyof M]: unknown[] }> {
  private readonly listeners = new Map<keyof M, Entry[]>();

  constructor(private readonly logger: BusLogger) {}

  /** Calls `fn` on each `event` until `off(owner)`. Returns a function removing just this one. */
  on<K extends keyof M>(event: K, owner: object, fn: (...args: M[K]) => unknown): () => void {
    const entry: Entry = { owner, fn: fn as Listener };
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), entry]);
    return () => this.remove(event, (e) => e === entry);
  }

  /** Removes every listener `owner` registered. */
  off(owner: object): void {
    for (const event of [...this.listeners.keys()]) this.remove(event, (e) => e.owner === owner);
  }

  /** Calls the listeners in registration order; never throws, never waits for them. */
  emit<K extends keyof M>(event: K, ...args: M[K]): void {
    for (const { fn } of this.listeners.get(event) ?? []) {
      try {
        const result = (fn as (...a: M[K]) => unknown)(...args);
        if (result instanceof Promise) result.catch((err: unknown) => this.failed(event, err));
      } catch (err) {
        this.failed(event, err);
      }
    }
  }

  listenerCount(event: keyof M): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  private remove(event: keyof M, match: (e: Entry) => boolean): void {
    const left = (this.listeners.get(event) ?? []).filter((e) => !match(e));
    if (left.length) this.listeners.set(event, left);
    else this.listeners.delete(event);
  }

  private failed(event: keyof M, err: unknown): void {
    this.logger.error({ err, event: String(event) }, 'event listener failed');
  }
}
