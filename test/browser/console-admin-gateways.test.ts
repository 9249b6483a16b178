/**
 * Rooms, provisioning and the gateway fleet in Chromium, end to end: an admin creates a room,
 * provisions its gateway (the page shows the one-time code once, with a QR code that a decoder
 * reads back from the rendered pixels), a real gateway process on the virtual air is set up with
 * what the QR code holds and comes online on the fleet page without a reload (announced), and the
 * admin revokes it after confirming in a dialog. The cloud has its embedded broker on a free port.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { checkPage, go, openConsole, serveConsole, type ConsoleServer } from '../helpers/console.js';
import { SLOW } from '../helpers/browser.js';
import { decodeRgba } from '../helpers/qr-image.js';
import { startBrokerHarness, type BrokerHarness } from '../cloud/broker-harness.js';
import { AirHub } from '../../gateway/ble/virtual/air-hub.js';
import { GatewayProcess, provisionGateway } from '../../scripts/classroom/gateway-process.js';

let b: BrokerHarness;
let srv: ConsoleServer;
let hub: AirHub;
let airAddress: string;
let dir: string;
let tick: NodeJS.Timeout;
const processes: GatewayProcess[] = [];

beforeAll(async () => {
  b = await startBrokerHarness();
  // The harness's clock follows the real one, as the gateway's heartbeats do.
  tick = setInterval(() => b.h.clock.set(Date.now()), 100);
  srv = await serveConsole(b.h);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-console-gw-'));
  hub = new AirHub(`unix:${path.join(dir, 'air.sock')}`);
  airAddress = await hub.start();
});
afterAll(async () => {
  for (const p of processes) await p.stop();
  await srv?.close();
  clearInterval(tick);
  await b?.close();
  await hub?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** What the QR code on the page holds: its SVG drawn into a canvas, the pixels read by a decoder. */
async function readQr(page: Page): Promise<string> {
  const image = (await page.evaluate(`(async () => {
    const svg = document.querySelector('main svg.qr');
    const side = 4 * svg.viewBox.baseVal.width;
    const img = new Image();
    img.src = 'data:image/svg+xml,' + encodeURIComponent(new XMLSerializer().serializeToString(svg));
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = side;
    const c = canvas.getContext('2d');
    c.drawImage(img, 0, 0, side, side);
    return { side, data: Array.from(c.getImageData(0, 0, side, side).data) };
  })()`)) as { side: number; data: number[] };
  return decodeRgba(image.side, image.side, Uint8ClampedArray.from(image.data));
}

const row = (page: Page, room: string) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: room }) });

describe('rooms and the gateway fleet', () => {
  it('creates a room, provisions its gateway with the code and QR shown once, sees it come online and go offline without a reload, provisions it again and revokes it', async () => {
    const admin = await b.h.user('admin', 'ada');
    const { page, context, errors } = await openConsole(srv, admin);
    await go(page, 'admin/rooms');
    await page.getByRole('heading', { level: 1, name: 'Rooms and gateways' }).waitFor();
    expect(await page.getByText('No rooms yet. Create the first one below.').isVisible()).toBe(true);
    await checkPage(page, 'admin-gateways-rooms-empty');

    // A room without a name: the API's validation, next to the field and in the alert.
    await page.getByRole('button', { name: 'Create room' }).click();
    const formAlert = page.getByRole('region', { name: 'New room' }).getByRole('alert');
    await expect.poll(() => formAlert.textContent(), SLOW).toMatch(/^Failed: /);
    expect(await page.getByLabel('Room name').getAttribute('aria-invalid')).toBe('true');
    await checkPage(page, 'admin-gateways-room-error');

    await page.getByLabel('Room name').fill('Lab 1.01');
    await page.getByRole('button', { name: 'Create room' }).click();
    await row(page, 'Lab 1.01').waitFor();
    expect(await formAlert.textContent()).toBe('');
    const rooms = await b.h.store.rooms.list();
    expect(rooms.map((r) => r.name)).toEqual(['Lab 1.01']);
    expect(await row(page, 'Lab 1.01').getByRole('cell').allTextContents()).toEqual([String(rooms[0]!.room_code), 'none', 'Provision gateway for Lab 1.01']);

    // Provisioning, by keyboard: the code, the command and the QR code, once.
    await page.getByRole('button', { name: 'Provision gateway for Lab 1.01' }).focus();
    await page.keyboard.press('Enter');
    const card = page.getByRole('region', { name: 'One-time code for the gateway of Lab 1.01' });
    await card.waitFor();
    await expect.poll(() => page.evaluate('document.activeElement.id'), SLOW).toBe('rooms-code-h');
    const code = (await card.locator('.rooms-secret').textContent())!;
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(await card.getByText('Shown only now: this code cannot be shown again.', { exact: false }).isVisible()).toBe(true);
    const command = `attendance-gateway provision --cloud ${srv.base} --code ${code}`;
    expect(await card.locator('.rooms-command').textContent()).toBe(command);
    expect(await card.getByRole('img', { name: `QR code of the command: ${command}` }).isVisible()).toBe(true);
    expect(await readQr(page)).toBe(command);
    await expect.poll(() => page.locator('#status').textContent(), SLOW).toBe('One-time code for Lab 1.01 issued. It is shown only now.');
    await checkPage(page, 'admin-gateways-code-shown');
    const gateways = await b.h.store.gateways.list({ includeRevoked: true });
    expect(gateways.map((g) => [g.room_id, g.state, g.revoked_at])).toEqual([[rooms[0]!.id, 'never_connected', null]]);
    expect(JSON.stringify(gateways)).not.toContain(code);
    await expect.poll(() => row(page, 'Lab 1.01').getByRole('cell').nth(1).textContent(), SLOW).toBe('Never connected');

    // The fleet page, then the gateway set up from what the QR code holds.
    await page.evaluate('window.notReloaded = true');
    await card.getByRole('link', { name: 'Open the gateway fleet' }).click();
    await page.getByRole('heading', { level: 1, name: 'Gateway fleet' }).waitFor();
    const fleetRow = row(page, 'Lab 1.01');
    await expect.poll(() => fleetRow.getByRole('cell').first().textContent(), SLOW).toMatch(/^Never connected/);
    expect(await page.getByText('0 of 1 gateways online').isVisible()).toBe(true);
    const [, cloudUrl, qrCode] = /--cloud (\S+) --code (\S+)$/.exec(command)!;
    const configPath = await provisionGateway(cloudUrl!, qrCode!, { dir: path.join(dir, 'gw'), config: { heartbeat_s: 5 } });
    processes.push(GatewayProcess.start(configPath, airAddress));

    await expect.poll(() => fleetRow.getByRole('cell').first().textContent(), { timeout: 45_000, interval: 200 }).toMatch(/^Online since /);
    await expect.poll(() => page.locator('#status').textContent(), SLOW).toBe('The gateway of Lab 1.01 is now online.');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    await expect.poll(() => fleetRow.getByRole('cell').nth(6).textContent(), { timeout: 20_000, interval: 200 }).not.toBe('—');
    const api = await b.h.http().get('/api/v1/admin/gateways').set(admin.auth);
    const g = api.body.items[0];
    expect(g).toMatchObject({ room_name: 'Lab 1.01', state: 'online', checkin_service: true });
    expect(await fleetRow.getByRole('cell').nth(6).textContent()).toBe(g.version);
    expect(await fleetRow.getByRole('cell').nth(3).textContent()).toBe(String(g.outbox_depth));
    expect(await fleetRow.getByRole('cell').nth(7).textContent()).toBe('yes');
    expect(await page.getByText('1 of 1 gateways online').isVisible()).toBe(true);
    expect(await page.getByText(/^Updated at \d\d:\d\d:\d\d( [AP]M)?$/).isVisible()).toBe(true);
    await checkPage(page, 'admin-gateways-fleet-online');

    // The gateway stops: offline on the page, announced, still without a reload.
    expect(await processes[0]!.stop()).toBe(0);
    await expect.poll(() => fleetRow.getByRole('cell').first().textContent(), { timeout: 20_000, interval: 200 }).toMatch(/^Offline since /);
    await expect.poll(() => page.locator('#status').textContent(), SLOW).toBe('The gateway of Lab 1.01 is now offline.');
    expect(await page.getByText('0 of 1 gateways online').isVisible()).toBe(true);
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    expect((await b.h.store.gateways.get(g.gateway_id))!.state).toBe('offline');

    // Provisioning again, confirmed: the old gateway is revoked and a new code is shown.
    await page.getByRole('link', { name: 'Rooms: provision or revoke a gateway' }).click();
    await page.getByRole('heading', { level: 1, name: 'Rooms and gateways' }).waitFor();
    expect(await card.count()).toBe(0);
    await page.getByRole('button', { name: 'Provision again for Lab 1.01' }).click();
    const again = page.getByRole('dialog', { name: 'Provision the gateway of Lab 1.01 again?' });
    await again.getByRole('button', { name: 'Revoke and provision anew' }).click();
    await card.waitFor();
    const second = (await card.locator('.rooms-secret').textContent())!;
    expect(second).not.toBe(code);
    expect(await readQr(page)).toBe(`attendance-gateway provision --cloud ${srv.base} --code ${second}`);
    expect((await b.h.store.gateways.get(g.gateway_id))!.revoked_at).not.toBeNull();
    const current = await b.h.store.gateways.list({ includeRevoked: false });
    expect(current.map((x) => [x.state, x.id === g.gateway_id])).toEqual([['never_connected', false]]);

    // Revoking: Escape keeps the gateway, the dialog's button revokes it (and the code shown is void).
    await page.getByRole('button', { name: 'Revoke gateway for Lab 1.01' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke the gateway of Lab 1.01?' });
    await dialog.waitFor();
    await checkPage(page, 'admin-gateways-revoke-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect((await b.h.store.gateways.get(current[0]!.id))!.revoked_at).toBeNull();
    await page.getByRole('button', { name: 'Revoke gateway for Lab 1.01' }).click();
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => page.locator('#status').textContent(), SLOW).toBe('The gateway of Lab 1.01 was revoked.');
    await expect.poll(() => row(page, 'Lab 1.01').getByRole('cell').nth(1).textContent(), SLOW).toBe('none');
    expect(await card.count()).toBe(0);
    expect((await b.h.store.gateways.get(current[0]!.id))!.revoked_at).not.toBeNull();
    await checkPage(page, 'admin-gateways-revoked');

    // Only the empty room name was refused, on purpose (and the landing page, admin/accounts, is another part's module).
    expect(errors.filter((e) => !/^400 .*\/api\/v1\/admin\/rooms$/.test(e) && !/^404 .*\/console\/pages\/admin-accounts\.js$/.test(e))).toEqual([]);
    await context.close();
  }, 90_000);
});

describe('rooms and the fleet without MQTT, and in German', () => {
  let h: CloudHarness;
  let plain: ConsoleServer;
  beforeAll(async () => {
    h = await createCloudHarness({ env: { ATTENDANCE_TIMEZONE: 'Europe/Berlin' } });
    plain = await serveConsole(h);
  });
  afterAll(async () => {
    await plain?.close();
    await h?.close();
  });

  it('says why a room name or a provisioning is refused', async () => {
    const admin = await h.user('admin', 'ada');
    await h.store.rooms.create('Hall B', h.clock());
    const { page, context, errors } = await openConsole(plain, admin, { failedResponses: false });
    await go(page, 'admin/rooms');
    await page.getByLabel('Room name').fill('Hall B');
    await page.getByRole('button', { name: 'Create room' }).click();
    const formAlert = page.getByRole('region', { name: 'New room' }).getByRole('alert');
    await expect.poll(() => formAlert.textContent(), SLOW).toBe('Failed: a room with this name exists');
    expect((await h.store.rooms.list()).length).toBe(1);

    await page.getByRole('button', { name: 'Provision gateway for Hall B' }).click();
    const listAlert = page.getByRole('region', { name: 'Rooms' }).getByRole('alert');
    await expect.poll(() => listAlert.textContent(), SLOW).toBe('Failed: the cloud runs with MQTT disabled; gateways cannot be provisioned');
    expect(await page.getByRole('region', { name: /One-time code/ }).count()).toBe(0);
    expect(await h.store.gateways.list({ includeRevoked: true })).toEqual([]);
    await checkPage(page, 'admin-gateways-mqtt-disabled');
    expect(errors.filter((e) => !e.includes('/console/pages/admin-accounts.js'))).toEqual([]);
    await context.close();
  });

  it('shows a skewed clock, the radio and revoked gateways in words, in German', async () => {
    const admin = await h.user('admin', 'ada');
    const now = h.clock();
    const room = (await h.store.rooms.get((await h.store.rooms.create('Labor 2', now)).id))!;
    const old = await h.store.gateways.provision({ room, mode: 'credentials', now: now - 60_000, actorId: admin.id });
    const gw = await h.store.gateways.provision({ room, mode: 'credentials', now, actorId: admin.id });
    await h.store.gateways.setState(gw.gateway.id, 'online', now - 30_000, '1.4.2', false);
    await h.store.gateways.recordHeartbeat(gw.gateway.id, { last_heartbeat_at: now - 5000, outbox_depth: 12, radio: 'poweredOn', version: '1.4.2', uptime_s: 30, live_session_id: null, clock_skew_ms: 3456 });
    const { page, context, errors } = await openConsole(plain, admin);
    await page.getByLabel('Language').selectOption('de');
    await expect.poll(() => page.locator('html').getAttribute('lang'), SLOW).toBe('de');
    await go(page, 'admin/fleet');
    await page.getByRole('heading', { level: 1, name: 'Gateway-Flotte' }).waitFor();
    const cells = () => row(page, 'Labor 2').first().getByRole('cell').allTextContents();
    expect(await cells()).toEqual(['Online seit 09:59:30', '09:59:55', '+3,5 s: über 2 s, bitte die Uhr prüfen', '12', '0', 'an', '1.4.2', 'nein', '0']);
    expect(await page.getByText('1 von 1 Gateways online').isVisible()).toBe(true);
    expect(await page.getByText('Aktualisiert um 10:00:00').isVisible()).toBe(true);
    expect(await row(page, 'Labor 2').count()).toBe(1);

    await page.getByLabel('Widerrufene Gateways zeigen').check();
    await expect.poll(() => row(page, 'Labor 2').count(), SLOW).toBe(2);
    expect((await row(page, 'Labor 2').nth(1).getByRole('cell').allTextContents())[0]).toBe('Widerrufen');
    expect(old.gateway.id).not.toBe(gw.gateway.id);
    await checkPage(page, 'admin-gateways-fleet-de');
    expect(errors.filter((e) => !e.includes('/console/pages/admin-accounts.js'))).toEqual([]);
    await context.close();
  });
});
