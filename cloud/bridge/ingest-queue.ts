/**
 * Group commit for the embedded broker's gateway events. The broker hands each event over before
 * it acknowledges it (cloud/broker/embedded.ts), and `push()` resolves only once the batch holding
 * the event has committed: the PUBACK a gateway receives means the event is in the database, so
 * the gateway may delete its outbox row and a crash of the cloud loses nothing it acknowledged.
 *
 * Events from every gateway share the queue and commit in arrival order, in batches of up to
 * `maxBatch` per transaction, so many gateways cost one commit per batch rather than one each. A
 * refused event (bad envelope, wrong room …) resolves like an applied one: it was recorded or
 * refused deliberately, and sending it again would change nothing. A failing database is retried
 * with backoff, the batch staying at the head of the queue; its events stay unacknowledged
 * meanwhile. `close()` takes no more events and commits what it holds; what a database that keeps
 * failing holds back after the grace period is given up, unacknowledged, and the gateways send it
 * again to the next start.
 */
import type { Logger } from 'pino';
import { backoffDelay } from '../../shared/backoff.js';
import type { EventIngest, Incoming, IngestOutcome } from './ingest.js';

interface Queued {
  item: Incoming;
  resolve: (o: IngestOutcome) => void;
  reject: (err: Error) => void;
}

export class IngestQueue {
  private readonly items: Queued[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly ingest: EventIngest,
    private readonly logger: Logger,
    private readonly onOutcome: (o: IngestOutcome) => void,
    private readonly maxBatch = 256,
  ) {}

  /** Queues an event; resolves with its outcome once it is committed. Rejects after close(). */
  push(item: Incoming): Promise<IngestOutcome> {
    if (this.closed) return Promise.reject(new Error('the cloud is stopping; event not committed'));
    return new Promise<IngestOutcome>((resolve, reject) => {
      this.items.push({ item, resolve, reject });
      this.draining ??= this.drain().finally(() => (this.draining = null));
    });
  }

  /** Resolves when everything pushed so far is committed. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Takes no more events and waits up to `graceMs` for the queued ones to commit; whatever is still
   * queued then (the database keeps failing) is rejected, so it is never acknowledged.
   */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.idle().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (drained) return;
    const left = this.items.splice(0);
    this.logger.error({ uncommitted: left.length }, 'ingest stopped with uncommitted events; the gateways will send them again');
    for (const q of left) q.reject(new Error('the cloud stopped before the event was committed'));
  }

  private async drain(): Promise<void> {
    for (let failures = 0; this.items.length; ) {
      const batch = this.items.slice(0, this.maxBatch);
      try {
        const outcomes = await this.ingest.handleBatch(batch.map((q) => q.item));
        // close() may have given up on the queue meanwhile; only what is still queued is settled here.
        if (this.items[0] === batch[0]) this.items.splice(0, batch.length);
        failures = 0;
        outcomes.forEach((o, i) => {
          this.onOutcome(o);
          batch[i]!.resolve(o);
        });
      } catch (err) {
        // Nothing of a failed batch's transaction stuck; its session events may have, and count
        // as repeats on the retry. Order is kept: the batch stays at the head of the queue.
        if (this.items[0] !== batch[0]) return; // close() gave up on them
        failures++;
        const delay = backoffDelay(failures, { minMs: 100, maxMs: 5000 });
        this.logger.error({ err, queued: this.items.length, retryInMs: delay }, 'ingest batch failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
