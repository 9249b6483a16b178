/**
 * Real MQTT brokers over real sockets for the gateway tests: aedes in this process on a free port,
 * the Mosquitto at 127.0.0.1:1883, and a TCP "cable" in front of either that can be unplugged.
 */
import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import { connect, type MqttClient } from 'mqtt';

export const MOSQUITTO_URL = 'mqtt://127.0.0.1:1883';

export interface AedesBroker {
  url: string;
  port: number;
  broker: Aedes;
  close(): Promise<void>;
}

/** Starts aedes on `port` (0: any free one). The broker's session state lives in this instance. */
export async function startAedes(port = 0, opts: AedesOptions = {}): Promise<AedesBroker> {
  const broker = await Aedes.createBroker(opts);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A client killed with SIGKILL resets its connection; that is the point of some tests.
    socket.on('error', () => socket.destroy());
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${actual}`,
    port: actual,
    broker,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/** A TCP relay to a broker. unplug() drops every connection and refuses new ones until plug(). */
export interface Cable {
  url: string;
  unplug(): void;
  plug(): void;
  close(): Promise<void>;
}

export async function startCable(targetHost: string, targetPort: number): Promise<Cable> {
  let plugged = true;
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    if (!plugged) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(targetPort, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    unplug() {
      plugged = false;
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    plug() {
      plugged = true;
    },
    close: async () => {
      plugged = false;
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Envelope {
  id: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

/** Plays the cloud: subscribes to a gateway's events and records every envelope, in arrival order. */
export class CloudObserver {
  readonly received: Envelope[] = [];
  /** Envelope ids seen, for cheap checks while thousands arrive. */
  readonly ids = new Set<string>();
  private readonly unique: Envelope[] = [];
  readonly statuses: Array<{ state: string; retain: boolean }> = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly client: MqttClient) {}

  static async connect(url: string, prefix: string, gatewayId: string): Promise<CloudObserver> {
    const client = connect(url, { clientId: `cloud-${Math.random().toString(16).slice(2)}`, clean: true, reconnectPeriod: 200, protocolVersion: 4 });
    const observer = new CloudObserver(client);
    client.on('message', (topic, payload, packet) => {
      if (topic.endsWith('/status')) observer.statuses.push({ state: (JSON.parse(payload.toString()) as { state: string }).state, retain: packet.retain });
      else {
        const env = JSON.parse(payload.toString()) as Envelope;
        observer.received.push(env);
        if (!observer.ids.has(env.id)) {
          observer.ids.add(env.id);
          observer.unique.push(env);
        }
      }
      observer.waiters.forEach((w) => w());
    });
    await client.subscribeAsync([`${prefix}/gw/${gatewayId}/events`, `${prefix}/gw/${gatewayId}/status`], { qos: 1 });
    return observer;
  }

  /** Distinct envelopes: what the cloud keeps after dropping repeats by id. */
  distinct(): Envelope[] {
    return this.unique;
  }

  /** Resolves once `predicate` holds; rejects after `timeoutMs` with what was seen, so a failure explains itself. */
  waitFor(predicate: (o: CloudObserver) => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this)) return;
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      // Also poll: some conditions (an emptied outbox) change without a message arriving.
      const poll = setInterval(check, 50);
      const timer = setTimeout(() => {
        clearInterval(poll);
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${what}; received ${this.received.length} events (${this.distinct().length} distinct)`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  async sendCommand(prefix: string, gatewayId: string, envelope: unknown): Promise<void> {
    await this.client.publishAsync(`${prefix}/gw/${gatewayId}/cmd`, typeof envelope === 'string' ? envelope : JSON.stringify(envelope), { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** A topic prefix no other test (or earlier run) uses, for the shared Mosquitto. */
export function uniquePrefix(): string {
  return `att-test/${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
