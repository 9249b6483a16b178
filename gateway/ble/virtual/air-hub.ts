/**
 * The virtual air across processes: one process hosts an AirHub on a Unix socket or loopback
 * TCP port, others join it with RemoteAir (ATTENDANCE_VIRTUAL_AIR=<address>). The wire format
 * is one JSON object per line (AirPacketJson); the hub relays every line it receives to all
 * other connections and to its own in-process listeners, so the hosting process is on the same
 * air as everybody else.
 *
 * Like a radio, the air is lossy by design: packets sent while a client is disconnected are
 * dropped, not queued, and a client reconnects on its own.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { Backoff } from '../../../shared/backoff.js';
import { InProcessAir, packetFromJson, packetToJson, type Air, type AirListener, type AirPacket } from './air.js';

export type AirAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** Accepts `unix:/path`, a bare absolute path, or `tcp://host:port`. */
export function parseAirAddress(text: string): AirAddress {
  if (text.startsWith('tcp://')) {
    const url = new URL(text);
    const port = Number(url.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad air port in "${text}"`);
    return { kind: 'tcp', host: url.hostname || '127.0.0.1', port };
  }
  const path = text.startsWith('unix:') ? text.slice(5) : text;
  if (!path.startsWith('/')) throw new RangeError(`air address must be tcp://host:port or an absolute socket path, got "${text}"`);
  return { kind: 'unix', path };
}

export function formatAirAddress(address: AirAddress): string {
  return address.kind === 'unix' ? `unix:${address.path}` : `tcp://${address.host}:${address.port}`;
}

/** Reads JSON lines from a socket, handing each valid packet to `onPacket`. */
function readPackets(socket: net.Socket, onPacket: (packet: AirPacket, line: string) => void): void {
  const lines = createInterface({ input: socket, crlfDelay: Infinity });
  // readline re-emits its input's errors; the socket's own 'error' handler deals with them, so
  // a peer resetting the connection must not become an uncaught exception here.
  lines.on('error', () => undefined);
  lines.on('line', (line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return;
    }
    const packet = packetFromJson(parsed);
    if (packet) onPacket(packet, line);
  });
}

export class AirHub implements Air {
  private readonly local = new InProcessAir();
  private readonly clients = new Set<net.Socket>();
  private server: net.Server | null = null;
  private bound: AirAddress | null = null;

  constructor(
    private readonly where: string,
    private readonly logger?: Logger,
  ) {}

  /** Opens the socket; resolves with the bound address (the real port when port 0 was asked). */
  async start(): Promise<string> {
    const address = parseAirAddress(this.where);
    if (address.kind === 'unix') rmSync(address.path, { force: true });
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (address.kind === 'unix') server.listen(address.path, resolve);
      else server.listen(address.port, address.host, resolve);
    });
    const info = server.address();
    this.bound = address.kind === 'tcp' && info && typeof info === 'object' ? { ...address, port: info.port } : address;
    this.logger?.info({ air: formatAirAddress(this.bound) }, 'virtual air hub listening');
    return formatAirAddress(this.bound);
  }

  get address(): string | null {
    return this.bound ? formatAirAddress(this.bound) : null;
  }

  private accept(socket: net.Socket): void {
    this.clients.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.clients.delete(socket));
    readPackets(socket, (packet, line) => {
      this.relay(`${line}\n`, socket);
      this.local.deliver(packet);
    });
  }

  private relay(line: string, except: net.Socket | null): void {
    for (const client of this.clients) {
      if (client !== except && client.writable) client.write(line);
    }
  }

  transmit(packet: AirPacket): void {
    this.relay(`${JSON.stringify(packetToJson(packet))}\n`, null);
    this.local.transmit(packet);
  }

  listen(listener: AirListener): () => void {
    return this.local.listen(listener);
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.destroy();
    this.clients.clear();
    await this.local.close();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const RECONNECT_BACKOFF = { minMs: 100, maxMs: 5_000 };

/** Joins an AirHub in another process. Reconnects with backoff until closed. */
export class RemoteAir implements Air {
  private readonly local = new InProcessAir();
  private socket: net.Socket | null = null;
  private connected = false;
  private closed = false;
  private readonly backoff = new Backoff(RECONNECT_BACKOFF);
  private retryTimer: NodeJS.Timeout | null = null;
  private firstConnect: Promise<void> | null = null;

  constructor(
    private readonly where: string,
    private readonly logger?: Logger,
  ) {}

  /** Connects; resolves on the first successful connection (later drops are retried silently). */
  connect(): Promise<void> {
    this.firstConnect ??= new Promise<void>((resolve) => this.dial(resolve));
    return this.firstConnect;
  }

  private dial(onConnected?: () => void): void {
    if (this.closed) return;
    const address = parseAirAddress(this.where);
    const socket = address.kind === 'unix' ? net.connect(address.path) : net.connect(address.port, address.host);
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.connected = true;
      this.backoff.reset();
      this.logger?.debug({ air: this.where }, 'joined virtual air');
      onConnected?.();
      onConnected = undefined;
    });
    socket.on('error', (error) => this.logger?.debug({ air: this.where, err: error.message }, 'virtual air connection error'));
    socket.on('close', () => {
      this.connected = false;
      if (this.closed) return;
      this.retryTimer = setTimeout(() => this.dial(onConnected), this.backoff.next());
      this.retryTimer.unref();
    });
    readPackets(socket, (packet) => this.local.deliver(packet));
  }

  get isConnected(): boolean {
    return this.connected;
  }

  transmit(packet: AirPacket): void {
    if (this.connected && this.socket?.writable) this.socket.write(`${JSON.stringify(packetToJson(packet))}\n`);
    // Our own listeners hear our packets too, as on a shared medium; the hub does not echo them back.
    this.local.transmit(packet);
  }

  listen(listener: AirListener): () => void {
    return this.local.listen(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.destroy();
    await this.local.close();
  }
}
