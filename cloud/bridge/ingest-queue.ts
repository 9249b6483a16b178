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
 * meanwhile. A batch that fails is retried one event at a time, so one event that cannot be
 * ingested (a bug, an unexpected constraint) does not hold up every gateway: once it has failed
 * alone `POISON_ATTEMPTS` times while the database takes a probe write, it is refused without an
 * acknowledgement (the broker closes that gateway's connection and the gateway keeps the event in
 * its outbox), and refused again at once for `QUARANTINE_MS` when it comes back. `close()` takes no more events and commits what it holds; what a database that keeps
 * failing holds back after the grace period is given up, unacknowledged, and the gateways send it
 * again to the next start.
 */
import type { Logger } from 'pino';
import { backoffDelay } from '../../shared/backoff.js';
import type { EventIngest, Incoming, IngestOutcome } from './ingest.js';

/** Consecutive lone failures, with the database answering, after which an event is refused. */
const POISON_ATTEMPTS = 3;
/** How long a refused event is refused at once when its gateway sends it again. */
const QUARANTINE_MS = 60_000;
const QUARANTINE_MAX = 1000;

/** Commits a probe write: resolves when the database takes writes (cloud/store/db.ts probeWrite). */
export type WriteProbe = () => Promise<void>;

interface Queued {
  item: Incoming;
  resolve: (o: IngestOutcome) => void;
  reject: (err: Error) => void;
}

export class IngestQueue {
  private readonly items: Queued[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;
  /** After a failed batch: how many events at the head are retried one at a time. */
  private alone = 0;
  /** Events refused as poison (by payload), until when. */
  private readonly quarantine = new Map<string, number>();

  constructor(
    private readonly ingest: EventIngest,
    private readonly logger: Logger,
    private readonly onOutcome: (o: IngestOutcome) => void,
    private readonly probe: WriteProbe,
    private readonly clock: () => number = Date.now,
    private readonly maxBatch = 256,
  ) {}

  /** Queues an event; resolves with its outcome once it is committed. Rejects after close(). */
  push(item: Incoming): Promise<IngestOutcome> {
    if (this.closed) return Promise.reject(new Error('the cloud is stopping; event not committed'));
    const key = quarantineKey(item);
    const until = this.quarantine.get(key);
    if (until !== undefined && until > this.clock()) return Promise.reject(new Error('event refused: it failed to ingest before'));
    this.quarantine.delete(key);
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
      const batch = this.items.slice(0, this.alone > 0 ? 1 : this.maxBatch);
      try {
        const outcomes = await this.ingest.handleBatch(batch.map((q) => q.item));
        // close() may have given up on the queue meanwhile; only what is still queued is settled here.
        if (this.items[0] === batch[0]) this.items.splice(0, batch.length);
        failures = 0;
        this.alone = Math.max(0, this.alone - batch.length);
        outcomes.forEach((o, i) => {
          this.onOutcome(o);
          batch[i]!.resolve(o);
        });
      } catch (err) {
        // Nothing of a failed batch's transaction stuck; its session events may have, and count
        // as repeats on the retry. Order is kept: the batch stays at the head of the queue.
        if (this.items[0] !== batch[0]) return; // close() gave up on them
        failures++;
        if (batch.length > 1) {
          this.alone = batch.length;
          failures = 0;
          this.logger.warn({ err, events: batch.length }, 'ingest batch failed; retrying its events one at a time');
          continue;
        }
        if (failures >= POISON_ATTEMPTS && (await this.databaseTakesWrites())) {
          this.refuse(batch[0]!, err);
          failures = 0;
          continue;
        }
        const delay = backoffDelay(failures, { minMs: 100, maxMs: 5000 });
        this.logger.error({ err, queued: this.items.length, retryInMs: delay }, 'ingest failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async databaseTakesWrites(): Promise<boolean> {
    try {
      await this.probe();
      return true;
    } catch {
      return false;
    }
  }

  /** Takes a poison event off the head unacknowledged; its gateway keeps it and sends it again. */
  private refuse(q: Queued, err: unknown): void {
    this.items.shift();
    this.alone = Math.max(0, this.alone - 1);
    if (this.quarantine.size >= QUARANTINE_MAX) this.quarantine.clear();
    this.quarantine.set(quarantineKey(q.item), this.clock() + QUARANTINE_MS);
    this.logger.error({ err, gatewayId: q.item.gatewayId, bytes: q.item.payload.length }, 'gateway event cannot be ingested; refused without acknowledgement (the gateway keeps it)');
    q.reject(new Error('event could not be ingested'));
  }
}

/** The quarantine's key: the gateway and the payload as sent (its event id is inside it). */
function quarantineKey(item: Incoming): string {
  return `${item.gatewayId}\n${item.payload.toString('base64')}`;
}
