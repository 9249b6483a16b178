/**
 * Resource limits of the embedded broker (docs/operations.md, "MQTT limits"), applied to every
 * accepted TCP connection before aedes has parsed a byte of it:
 *
 *  - connections are capped in total and per remote address; one over a cap is closed at accept;
 *  - until its CONNECT is accepted a client may send at most `maxConnectBytes` in all, and it must
 *    be authenticated within `connectTimeoutMs` of its TCP connection (TLS handshake included);
 *  - after that no packet may declare a remaining length (MQTT 3.1.1 §2.2.3) over `maxPacketBytes`.
 *
 * The declared length is what matters: mqtt-packet keeps every byte of a packet until as many have
 * arrived as its fixed header declares, so the header is checked as soon as it is read. Only fixed
 * headers are parsed and nothing is copied: the guard sees the chunks aedes reads, because with a
 * 'readable' listener attached (aedes') a 'data' listener is called with each chunk `read()`
 * returns (Node.js streams, "Choose one API style"). The chunk that crosses a limit still reaches
 * aedes' parser, and nothing after it: the connection is destroyed at once, counted, and logged at
 * warn with the reason and the remote address — never with the bytes.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

export interface MqttLimits {
  /** Largest remaining length of a packet from an authenticated client. */
  maxPacketBytes: number;
  /** Most bytes a client may send before its CONNECT is accepted (its CONNECT included). */
  maxConnectBytes: number;
  /** Time from the TCP connection to an accepted CONNECT. */
  connectTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

export type LimitReason = 'max_connections' | 'max_connections_per_address' | 'connect_timeout' | 'bytes_before_connect' | 'packet_too_large' | 'malformed_header';

export interface ConnectionGuardOptions {
  limits: MqttLimits;
  logger: Logger;
  /** Called for every connection closed over a limit (the Prometheus counter). */
  onRefused?: (reason: LimitReason) => void;
}

/** One line per reason per second at most: a flood of refusals must not become a flood of logs. */
const LOG_INTERVAL_MS = 1000;

export class ConnectionGuard {
  private total = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly admissions = new WeakMap<Duplex, Admission>();
  private readonly logged = new Map<LimitReason, { at: number; suppressed: number }>();

  constructor(private readonly opts: ConnectionGuardOptions) {}

  /** Counts a new TCP connection; null (and the socket destroyed) when it is over a cap. */
  admit(socket: net.Socket): Admission | null {
    const address = socket.remoteAddress;
    if (address === undefined) {
      socket.destroy(); // closed before we saw it
      return null;
    }
    const { limits } = this.opts;
    const fromAddress = this.perAddress.get(address) ?? 0;
    const over = this.total >= limits.maxConnections ? 'max_connections' : fromAddress >= limits.maxConnectionsPerAddress ? 'max_connections_per_address' : null;
    if (over) {
      this.refused(over, address);
      socket.destroy();
      return null;
    }
    this.total++;
    this.perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.total--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
    return new Admission(socket, limits, this.admissions, (reason) => this.refused(reason, address));
  }

  /** The CONNECT read from `conn` was accepted: the deadline is off and the larger packet limit applies. */
  authenticated(conn: Duplex): void {
    this.admissions.get(conn)?.authenticated();
  }

  private refused(reason: LimitReason, address: string): void {
    this.opts.onRefused?.(reason);
    const now = Date.now();
    const last = this.logged.get(reason);
    if (last && now - last.at < LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    this.opts.logger.warn({ reason, address, ...(last?.suppressed ? { suppressedSinceLastLine: last.suppressed } : {}) }, 'mqtt connection closed: over a limit');
    this.logged.set(reason, { at: now, suppressed: 0 });
  }
}

/** One admitted connection: its deadline and the fixed-header reader of the stream aedes reads. */
export class Admission {
  private isAuthenticated = false;
  private bytesBeforeConnect = 0;
  private readonly deadline: NodeJS.Timeout;
  private conn: Duplex | null = null;
  // The fixed header being read (after its first byte, §2.2): the remaining length so far and the
  // bit position of its next 7-bit digit; then the packet's bytes still to skip.
  private inHeader = false;
  private length = 0;
  private shift = 0;
  private skip = 0;

  constructor(
    private readonly socket: net.Socket,
    private readonly limits: MqttLimits,
    /** The guard's admissions by the stream the broker reads, for `authenticated(conn)`. */
    private readonly byConn: WeakMap<Duplex, Admission>,
    private readonly onRefused: (reason: LimitReason) => void,
  ) {
    this.deadline = setTimeout(() => this.refuse('connect_timeout'), limits.connectTimeoutMs);
    socket.once('close', () => clearTimeout(this.deadline));
  }

  /**
   * Reads the fixed headers of `conn` (the socket, or the TLS socket over it). Call it right after
   * the broker attached its 'readable' listener: a 'data' listener added before that would switch
   * the stream to flowing mode and take the bytes from the broker.
   */
  watch(conn: Duplex): void {
    if (conn.listenerCount('readable') === 0) throw new Error('watch() must follow the broker attaching its reader');
    this.conn = conn;
    this.byConn.set(conn, this);
    conn.on('data', (chunk: Buffer) => this.read(chunk));
  }

  authenticated(): void {
    this.isAuthenticated = true;
    clearTimeout(this.deadline);
  }

  private read(chunk: Buffer): void {
    if (!this.isAuthenticated) {
      this.bytesBeforeConnect += chunk.length;
      if (this.bytesBeforeConnect > this.limits.maxConnectBytes) return this.refuse('bytes_before_connect');
    }
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.skip > 0) {
        const step = Math.min(this.skip, n - i);
        this.skip -= step;
        i += step;
        continue;
      }
      const byte = chunk[i++]!;
      if (!this.inHeader) {
        this.inHeader = true;
        this.length = 0;
        this.shift = 0;
        continue;
      }
      this.length += (byte & 0x7f) * 2 ** this.shift;
      if (byte & 0x80) {
        this.shift += 7;
        if (this.shift > 21) return this.refuse('malformed_header'); // at most four length bytes (§2.2.3)
        continue;
      }
      this.inHeader = false;
      if (!this.isAuthenticated && this.length > this.limits.maxConnectBytes) return this.refuse('bytes_before_connect');
      if (this.length > this.limits.maxPacketBytes) return this.refuse('packet_too_large');
      this.skip = this.length;
    }
  }

  private refuse(reason: LimitReason): void {
    if (this.socket.destroyed) return;
    clearTimeout(this.deadline);
    this.onRefused(reason);
    this.conn?.destroy();
    this.socket.destroy();
  }
}
