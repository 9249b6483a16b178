/**
 * The daemon on the real radio code: bleno on a virtual HCI controller (hci0), and the installer's
 * `scan` decoding, with the real noble on hci1, what it hears through the virtual air.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advertisingData } from '../../shared/advertisement.js';
import { encodeFrame } from '../../shared/frame.js';
import { uuidv7 } from '../../shared/ids.js';
import { deriveSessionKey, tokenForWindow, windowIndex } from '../../shared/token.js';
import type { ScanReport, Scanner } from '../../gateway/ble/advertiser.js';
import { createVirtualAwareAdvertiser, createVirtualAwareScanner } from '../../gateway/ble/radio.js';
import { InProcessAir } from '../../gateway/ble/virtual/air.js';
import type { VirtualController } from '../../gateway/ble/virtual/controller.js';
import { describeReport } from '../../gateway/cli/scan.js';
import { GatewayDaemon } from '../../gateway/daemon.js';
import { GatewayEvents } from '../../gateway/events.js';
import type { GatewayStatusSnapshot } from '../../gateway/status-report.js';
import { KV } from '../../gateway/store/kv.js';
import { openStore, type GatewayStore } from '../../gateway/store/store.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { eventually } from '../helpers/eventually.js';
import { CloudObserver, startAedes, type AedesBroker } from './brokers.js';
import { ROOM_CODE, ROOM_SECRET_HEX, classroomConfig } from './classroom.js';

const PREFIX = 'att/v1';
const sessionId = uuidv7();
const key = deriveSessionKey(Buffer.from(ROOM_SECRET_HEX, 'hex'), sessionId);
const expectedAd = (w: number) => advertisingData(encodeFrame({ roomCode: ROOM_CODE, w, token: tokenForWindow(key, w) }));

let broker: AedesBroker;
let cloud: CloudObserver;
let store: GatewayStore;
let daemon: GatewayDaemon;
let controller: VirtualController;
let scanner: Scanner;
const reports: ScanReport[] = [];

const WAIT_MS = 10_000;

beforeAll(async () => {
  broker = await startAedes();
  cloud = await CloudObserver.connect(broker.url, PREFIX, 'room-101');
  const { log } = memoryLogger('warn');
  const air = new InProcessAir();
  const config = classroomConfig({ mqtt_url: broker.url, idle_frame: true });
  const radio = createVirtualAwareAdvertiser({ kind: 'virtual', logger: log, virtual: { air, airIntervalMs: 50 } });
  controller = radio.controller!;
  ({ scanner } = createVirtualAwareScanner({ kind: 'virtual', logger: log, virtual: { air, rssi: -58, rssiJitterDb: 0 } }));
  scanner.on('report', (r: ScanReport) => reports.push(r));
  const events = new GatewayEvents(log);
  store = openStore(':memory:', config.gatewayId, PREFIX, { events });
  daemon = new GatewayDaemon({ config, store, events, advertiser: radio.advertiser, log, version: 'test', radioKind: 'virtual', env: {} });
  await daemon.start();
  await scanner.start();
});

afterAll(async () => {
  await scanner.stop();
  await daemon.stop();
  store.close();
  await cloud.close();
  await broker.close();
});

describe('gateway on the virtual radio', () => {
  it('advertises the idle frame before any session, and scan shows the room as idle', async () => {
    await eventually(() => controller.linkLayer().advertisingEnabled, WAIT_MS, 'advertising enabled');
    expect(controller.linkLayer().advertisingData.toString('hex')).toBe('02010608ffffff0000012345');
    const idle = await eventually(() => reports.map((r) => describeReport(r, 0xffff)).find((d) => d?.idle), WAIT_MS, 'an idle report');
    expect(idle).toMatchObject({ room_code: ROOM_CODE, w: null, idle: true, rssi: -58 });
  });

  it('puts the session token on the controller within a second of a remote start, and scan decodes it', async () => {
    await cloud.waitFor((o) => o.statuses.some((s) => s.state === 'online'), 10_000, 'online');
    const sent = Date.now();
    await cloud.sendCommand(PREFIX, 'room-101', { id: uuidv7(), type: 'session.start', at: new Date().toISOString(), data: { session_id: sessionId, course_id: 'CS101', period_s: 60 } });
    const w = await eventually(() => {
      const now = windowIndex(Date.now(), 60);
      return controller.linkLayer().advertisingData.equals(expectedAd(now)) ? now : undefined;
    }, WAIT_MS, 'the session frame on the controller');
    expect(Date.now() - sent).toBeLessThan(1000);
    const heard = await eventually(() => reports.map((r) => describeReport(r, 0xffff)).find((d) => d?.w === w), WAIT_MS, 'the scanner hearing the window');
    expect(heard).toMatchObject({ room_code: ROOM_CODE, w, token: tokenForWindow(key, w).toString('hex'), rssi: -58 });
  });

  it('brings advertising back after the adapter goes down and up, and status shows each state', async () => {
    controller.powerDown();
    expect(controller.linkLayer().advertisingEnabled).toBe(false);
    await eventually(() => store.kv.get<GatewayStatusSnapshot>(KV.status)?.state !== 'poweredOn', WAIT_MS, 'the radio reported down');
    controller.powerUp();
    await eventually(() => controller.linkLayer().advertisingEnabled && controller.linkLayer().advertisingData.length > 0, WAIT_MS, 'advertising again');
    const now = windowIndex(Date.now(), 60);
    expect(controller.linkLayer().advertisingData.equals(expectedAd(now))).toBe(true);
    await eventually(() => store.kv.get<GatewayStatusSnapshot>(KV.status)?.state === 'poweredOn', WAIT_MS, 'poweredOn recorded');
    expect(daemon.health.check().ok).toBe(true);
  });
});
