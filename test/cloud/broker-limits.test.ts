/**
 * Resource limits of the embedded broker (cloud/broker/limits.ts, docs/operations.md "MQTT
 * limits"): packets that declare a huge remaining length, idle connections, connections per
 * address and in total, and the CONNECT deadline — raw TCP sockets against the real cloud.
 *
 * Memory is read with process.memoryUsage().rss in this process: the test cloud runs here (the
 * harness builds it through composeCloud), and the attacking sockets write one shared 64 KiB
 * chunk, so what grows is what the cloud buffers.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectGateway, connectOutcome, eventually, provision, setupCourse, startBrokerHarness, type BrokerHarness } from './broker-harness.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { createLogger } from '../../cloud/logger.js';

const MiB = 1024 * 1024;
const DECLARED = 250 * MiB;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

let b: BrokerHarness | null = null;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await b?.close();
  b = null;
});

function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    out.push(digit);
  } while (n > 0);
  return Buffer.from(out);
}

/** A fixed header (§2.2): packet type and flags, then the declared remaining length. */
const fixedHeader = (typeAndFlags: number, length: number) => Buffer.concat([Buffer.from([typeAndFlags]), remainingLength(length)]);

function connectPacket(clientId: string, username: string, password: string): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s);
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  // Protocol "MQTT" level 4, flags: user name, password, clean session; keepalive 30 s.
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 30]), str(clientId), str(username), str(password)]);
  return Buffer.concat([fixedHeader(0x10, body.length), body]);
}

function brokerPort(): number {
  return b!.bridge.broker!.port;
}

/** A TCP connection to the broker, from `localAddress` (any 127.x.y.z is this machine). */
async function openRaw(localAddress = '127.0.0.1'): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port: brokerPort(), localAddress });
  s.on('error', () => {}); // ECONNRESET/EPIPE when the broker cuts us off is the point
  sockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('close', () => reject(new Error('closed before connecting')));
  });
  return s;
}

/** Resolves true if `s` closes within `ms`. */
function closesWithin(s: net.Socket, ms: number): Promise<boolean> {
  if (s.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Writes up to `total` bytes as fast as the socket takes them; stops when the broker closes it. */
async function pour(s: net.Socket, total: number): Promise<{ sent: number; closed: boolean }> {
  let sent = 0;
  while (sent < total && !s.destroyed) {
    sent += CHUNK.length;
    if (!s.write(CHUNK)) {
      await new Promise<void>((resolve) => {
        const done = () => (s.off('drain', done), s.off('close', done), resolve());
        s.once('drain', done);
        s.once('close', done);
      });
    }
  }
  return { sent, closed: await closesWithin(s, 2000) };
}

/** Waits for the 4-byte CONNACK and returns its return code. */
function connackCode(s: net.Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once('data', (d: Buffer) => (d[0] === 0x20 ? resolve(d[3]!) : reject(new Error(`not a CONNACK: ${d.toString('hex')}`))));
  });
}

async function healthz(): Promise<number> {
  return (await b!.h.http().get('/healthz')).status;
}

async function closedOverLimit(reason: string): Promise<number> {
  const text = (await b!.h.http().get('/metrics')).text;
  const m = new RegExp(`^attendance_mqtt_connections_closed_over_limit_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('memory exhaustion on the MQTT port', () => {
  it('declared-huge CONNECT and PUBLISH packets and idle connections up to the cap leave the cloud within 50 MB of its memory and answering', async () => {
    b = await startBrokerHarness({ env: { MQTT_MAX_CONNECTIONS: '60', MQTT_CONNECT_TIMEOUT_MS: '20000' } });
    const f = await setupCourse(b.h);
    const g = await provision(b, f);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    try {
      // Three connections, each a CONNECT declaring 250 MB, whose bytes then follow as fast as they go.
      const connects = await Promise.all([0, 1, 2].map(async () => {
        const s = await openRaw();
        s.write(fixedHeader(0x10, DECLARED));
        return pour(s, 48 * MiB);
      }));
      // An authenticated gateway whose PUBLISH declares 250 MB.
      const gw = await openRaw();
      gw.write(connectPacket(`gw-${g.gatewayId}`, g.gatewayId, g.password));
      expect(await connackCode(gw)).toBe(0);
      gw.write(fixedHeader(0x32, DECLARED));
      const publish = await pour(gw, 48 * MiB);
      for (const r of [...connects, publish]) {
        expect(r.closed).toBe(true);
        expect(r.sent).toBeLessThan(48 * MiB); // cut off, not read to the end
      }
      // Idle connections that never say anything, up to the cap (the cloud's own client holds one) and beyond.
      const idle: net.Socket[] = [];
      for (let i = 0; i < 70; i++) idle.push(await openRaw());
      await new Promise((r) => setTimeout(r, 300));
      expect(idle.filter((s) => !s.destroyed)).toHaveLength(59);
      expect(await healthz()).toBe(200);
    } finally {
      clearInterval(sampler);
    }
    expect(peak - before).toBeLessThan(50 * MiB);
    expect(await closedOverLimit('bytes_before_connect')).toBe(3);
    expect(await closedOverLimit('packet_too_large')).toBe(1);
    expect(await closedOverLimit('max_connections')).toBe(11);
  });
});

describe('connection caps', () => {
  it('refuses a fourth connection from one address over MQTT_MAX_CONNECTIONS_PER_ADDRESS=3 while other addresses still get in, and logs the address', async () => {
    const logs = memoryLogger('warn', createLogger);
    b = await startBrokerHarness({ logger: logs.log, env: { MQTT_MAX_CONNECTIONS_PER_ADDRESS: '3' } });
    const three = [await openRaw('127.0.0.2'), await openRaw('127.0.0.2'), await openRaw('127.0.0.2')];
    const fourth = await openRaw('127.0.0.2');
    expect(await closesWithin(fourth, 2000)).toBe(true);
    const other = await openRaw('127.0.0.3');
    expect(await closesWithin(other, 300)).toBe(false);
    expect(three.every((s) => !s.destroyed)).toBe(true);
    // A slot freed is a slot again.
    three[0]!.destroy();
    await eventually(async () => !(await closesWithin(await openRaw('127.0.0.2'), 300)), 5000, 'a freed slot to be reusable');
    const line = logs.lines.find((l) => l.msg === 'mqtt connection closed: over a limit');
    expect(line).toMatchObject({ level: 40, reason: 'max_connections_per_address', address: '127.0.0.2' });
    expect(await closedOverLimit('max_connections_per_address')).toBeGreaterThanOrEqual(1);
  });

  it('refuses connections over MQTT_MAX_CONNECTIONS=4 whatever their address', async () => {
    b = await startBrokerHarness({ env: { MQTT_MAX_CONNECTIONS: '4' } });
    // The cloud's own client is the first of the four.
    const three = [await openRaw('127.0.0.2'), await openRaw('127.0.0.3'), await openRaw('127.0.0.4')];
    const over = await openRaw('127.0.0.5');
    expect(await closesWithin(over, 2000)).toBe(true);
    expect(three.every((s) => !s.destroyed)).toBe(true);
    expect(await closedOverLimit('max_connections')).toBe(1);
    expect(await healthz()).toBe(200);
  });
});

describe('CONNECT deadline', () => {
  it('closes a client that trickles its CONNECT past MQTT_CONNECT_TIMEOUT_MS, and a real gateway still connects', async () => {
    const logs = memoryLogger('warn', createLogger);
    b = await startBrokerHarness({ logger: logs.log, env: { MQTT_CONNECT_TIMEOUT_MS: '400' } });
    const f = await setupCourse(b.h);
    const g = await provision(b, f);
    const s = await openRaw();
    s.write(fixedHeader(0x10, 200));
    const started = Date.now();
    const trickle = setInterval(() => s.destroyed || s.write(Buffer.from([0x61])), 50);
    try {
      expect(await closesWithin(s, 3000)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(logs.lines.find((l) => l.msg === 'mqtt connection closed: over a limit')).toMatchObject({ reason: 'connect_timeout', address: '127.0.0.1' });
    expect(await closedOverLimit('connect_timeout')).toBe(1);
    const client = connectGateway(b, g);
    try {
      expect(await connectOutcome(client)).toBe('connected');
      await new Promise((r) => setTimeout(r, 600)); // past the deadline: an authenticated client stays
      expect(client.connected).toBe(true);
    } finally {
      client.end(true);
    }
  });
});
