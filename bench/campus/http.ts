/**
 * The campus's HTTP clients behind a round-robin load balancer: each request goes to the next
 * instance; a connection error (refused, reset: an instance died) sends it to the next one and takes
 * the failed instance out of the rotation for a health-check interval, as a load balancer does. Answers are recorded by type and outcome (status, and the
 * error code of a refusal).
 */
import http from 'node:http';
import type { CloudInstance } from './instances.js';
import type { Stats } from './stats.js';

const ATTEMPTS = 6;
/** How long an instance that refused a connection stays out of the rotation. */
const HEALTH_CHECK_MS = 1000;

export interface Answer { status: number; body: Record<string, unknown> }

export class Balancer {
  private next = 0;
  private readonly agents = new Map<CloudInstance, http.Agent>();
  private readonly downUntil = new Map<CloudInstance, number>();
  /** Requests that had to move to another instance. */
  retried = 0;

  constructor(private readonly instances: CloudInstance[], private readonly stats: Stats, private readonly maxSockets = 32) {}

  private agent(i: CloudInstance): http.Agent {
    if (!this.agents.has(i)) this.agents.set(i, new http.Agent({ keepAlive: true, maxSockets: this.maxSockets }));
    return this.agents.get(i)!;
  }

  private once(i: CloudInstance, method: string, path: string, auth: string, body?: unknown): Promise<Answer> {
    const text = body === undefined ? '' : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: i.port, method, path, agent: this.agent(i), headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
        let data = '';
        res.setEncoding('utf8').on('data', (c: string) => (data += c)).on('end', () => {
          let parsed: Record<string, unknown> = {};
          try { parsed = JSON.parse(data) as Record<string, unknown>; } catch { /* not JSON: the status tells */ }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(text);
    });
  }

  async request(type: string, method: string, path: string, auth: string, body?: unknown): Promise<Answer> {
    const t0 = performance.now();
    let lastError: unknown;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const now = Date.now();
      const up = this.instances.filter((i) => (this.downUntil.get(i) ?? 0) <= now);
      const instance = up.length ? up[this.next++ % up.length]! : this.instances[this.next++ % this.instances.length]!;
      try {
        const answer = await this.once(instance, method, path, auth, body);
        const error = (answer.body.error as { code?: string } | undefined)?.code;
        // The answer's own status (accepted, duplicate), or the room gateway's (confirmed, queued…).
        const status = typeof answer.body.status === 'string' ? answer.body.status : (answer.body.gateway as { state?: string } | undefined)?.state;
        this.stats.record(type, performance.now() - t0, `${answer.status}${error ? ` ${error}` : status && answer.status < 300 ? ` ${status}` : ''}`);
        return answer;
      } catch (e) {
        lastError = e;
        this.downUntil.set(instance, Date.now() + HEALTH_CHECK_MS);
        if (attempt === 0) this.retried++;
        await new Promise((r) => setTimeout(r, 20 * attempt));
      }
    }
    this.stats.record(type, performance.now() - t0, `connection error`);
    throw lastError;
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
  }
}
