/**
 * Batched ingest for the embedded broker. The embedded broker lives in the cloud's process and
 * keeps its queues in memory, so holding back the cloud client's PUBACK until the commit (as the
 * link does with an external broker) protects nothing there: whatever the broker holds dies with
 * the process anyway. The link therefore hands events over at once, and this queue commits them
 * in order, in batches of up to `maxBatch` per transaction. A clean stop drains it first; a
 * failing database is retried with backoff, the events staying queued in order.
 */
import type { Logger } from 'pino';
import { backoffDelay } from '../../shared/backoff.js';
import type { EventIngest, Incoming, IngestOutcome } from './ingest.js';

export class IngestQueue {
  private readonly items: Incoming[] = [];
  private draining: Promise<void> | null = null;

  constructor(
    private readonly ingest: EventIngest,
    private readonly logger: Logger,
    private readonly onOutcome: (o: IngestOutcome) => void,
    private readonly maxBatch = 256,
  ) {}

  get depth(): number {
    return this.items.length;
  }

  push(item: Incoming): void {
    this.items.push(item);
    this.draining ??= this.drain().finally(() => (this.draining = null));
  }

  /** Resolves when everything pushed so far is committed. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    for (let failures = 0; this.items.length; ) {
      const batch = this.items.slice(0, this.maxBatch);
      try {
        const outcomes = await this.ingest.handleBatch(batch);
        this.items.splice(0, batch.length);
        failures = 0;
        for (const o of outcomes) this.onOutcome(o);
      } catch (err) {
        // Nothing of a failed batch's transaction stuck; its session events may have, and count
        // as repeats on the retry. Order is kept: the batch stays at the head of the queue.
        failures++;
        const delay = backoffDelay(failures, { minMs: 100, maxMs: 5000 });
        this.logger.error({ err, queued: this.items.length, retryInMs: delay }, 'ingest batch failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
