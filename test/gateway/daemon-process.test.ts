/**
 * The daemon as a process: killed with SIGKILL in the middle of a drain (repeatedly), restarted
 * mid-session, refusing bad config and a non-database file, and speaking sd_notify.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { advertisingData } from '../../shared/advertisement.js';
import { encodeFrame } from '../../shared/frame.js';
import { uuidv7 } from '../../shared/ids.js';
import { deriveSessionKey, tokenForWindow, windowIndex } from '../../shared/token.js';
import { EXIT_CONFIG } from '../../shared/exit-codes.js';
import { openStore } from '../../gateway/store/store.js';
import { CloudObserver, startAedes } from './brokers.js';
import { ChildGateway, childEnv, runCli, runCliAsync, statusOf, writeGatewayConfig } from './child-daemon.js';
import { AirHub } from '../../gateway/ble/virtual/air-hub.js';
import { ROOM_CODE, ROOM_SECRET_HEX, tempDir } from './classroom.js';
import { queueRotations } from './gateway-harness.js';

const PREFIX = 'att/v1';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function classroomDir() {
  const { dir, cleanup } = tempDir('gw-proc-');
  cleanups.push(cleanup);
  return dir;
}

async function brokerAndCloud(gatewayId: string) {
  const broker = await startAedes();
  cleanups.push(() => broker.close());
  const cloud = await CloudObserver.connect(broker.url, PREFIX, gatewayId);
  cleanups.push(() => cloud.close());
  return { broker, cloud };
}

function spawnGateway(config: string, env?: NodeJS.ProcessEnv): ChildGateway {
  const child = ChildGateway.start(config, env);
  cleanups.push(async () => void (await child.kill('SIGKILL')));
  return child;
}

describe('gateway daemon process', () => {
  it('delivers every queued event exactly once (by id) although SIGKILLed mid-drain three times', async () => {
    const dir = classroomDir();
    const { broker, cloud } = await brokerAndCloud('room-101');
    // 6000 queued events take long enough to drain that each kill lands in the middle of it.
    const config = writeGatewayConfig(dir, { mqtt_url: broker.url });
    const seed = openStore(join(dir, 'gateway.db'), 'room-101', PREFIX);
    const queued = queueRotations(seed, 6000);
    seed.close();

    for (let kill = 1; kill <= 3; kill++) {
      const child = spawnGateway(config);
      const target = cloud.ids.size + 800;
      await cloud.waitFor((o) => o.ids.size >= target || queued.every((id) => o.ids.has(id)), 30_000, `progress before kill ${kill}`);
      expect(await child.kill('SIGKILL')).toBeNull();
    }
    expect(queued.every((id) => cloud.ids.has(id))).toBe(false); // the kills really came mid-drain
    const last = spawnGateway(config);
    await cloud.waitFor((o) => queued.every((id) => o.ids.has(id)), 30_000, 'every queued event after the last restart');
    const rotations = cloud.distinct().filter((e) => e.type === 'token.rotated');
    expect(rotations.map((e) => e.id)).toEqual(queued);
    await last.kill('SIGTERM');
    expect(statusOf(config).outboxDepth).toBe(0);
  });

  it('resumes advertising the right window after a SIGKILL mid-session, and survives bad commands', async () => {
    const dir = classroomDir();
    const { broker, cloud } = await brokerAndCloud('room-101');
    const config = writeGatewayConfig(dir, { mqtt_url: broker.url });
    const sessionId = uuidv7();
    const key = deriveSessionKey(Buffer.from(ROOM_SECRET_HEX, 'hex'), sessionId);
    const expectedAd = (w: number) => advertisingData(encodeFrame({ roomCode: ROOM_CODE, w, token: tokenForWindow(key, w) })).toString('hex');

    const first = spawnGateway(config);
    await cloud.waitFor((o) => o.statuses.some((s) => s.state === 'online'), 20_000, 'online');
    await cloud.sendCommand(PREFIX, 'room-101', { id: uuidv7(), type: 'session.start', at: new Date().toISOString(), data: { session_id: sessionId, course_id: 'CS101', period_s: 10 } });
    await cloud.waitFor((o) => o.distinct().some((e) => e.type === 'token.rotated' && e.data.session_id === sessionId), 10_000, 'the first rotation');
    const wBefore = cloud.distinct().find((e) => e.type === 'token.rotated')!.data.w as number;
    await first.kill('SIGKILL');

    // Down across a window boundary: the restarted daemon must not resume the old window.
    while (windowIndex(Date.now(), 10) === wBefore) await new Promise((r) => setTimeout(r, 100));
    const second = spawnGateway(config);
    await second.waitForLog('gateway started');
    await cloud.waitFor((o) => o.distinct().some((e) => e.type === 'token.rotated' && (e.data.w as number) > wBefore), 20_000, 'a rotation after restart');
    const resumed = cloud.distinct().filter((e) => e.type === 'token.rotated' && (e.data.w as number) > wBefore)[0]!;
    expect(resumed.data.session_id).toBe(sessionId);
    expect(resumed.data.w).toBe(windowIndex(Date.parse(resumed.data.advertised_at as string), 10));
    // What the (virtual) controller confirmed is on air, read back through `status`:
    let status = statusOf(config);
    for (let i = 0; i < 50 && status.radio?.onAir !== expectedAd(windowIndex(Date.now(), 10)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = statusOf(config);
    }
    expect(status.session?.id).toBe(sessionId);
    expect(status.radio).toMatchObject({ kind: 'virtual', state: 'poweredOn', link: 'online' });
    expect(status.radio?.onAir).toBe(expectedAd(windowIndex(Date.now(), 10)));
    expect(status.daemon?.running).toBe(true);

    const unknownId = uuidv7();
    const pingId = uuidv7();
    await cloud.sendCommand(PREFIX, 'room-101', '{"id": "garbage');
    await cloud.sendCommand(PREFIX, 'room-101', { id: unknownId, type: 'reboot', at: new Date().toISOString(), data: {} });
    await cloud.sendCommand(PREFIX, 'room-101', { id: pingId, type: 'ping', at: new Date().toISOString(), data: {} });
    await cloud.waitFor((o) => o.distinct().some((e) => e.type === 'command.result' && e.data.command_id === pingId), 10_000, 'the ping result');
    expect(cloud.distinct().find((e) => e.type === 'command.result' && e.data.command_id === unknownId)?.data).toMatchObject({ ok: false, error: { code: 'unknown_type' } });
    expect(second.proc.exitCode).toBeNull();
  });

  it('refuses a database file that is not a database: clear message, no-restart exit status, file untouched', () => {
    const dir = classroomDir();
    const config = writeGatewayConfig(dir, { mqtt_url: 'mqtt://127.0.0.1:1' });
    const junk = 'PK\u0003\u0004 a zip file copied over the database by mistake'.repeat(50);
    writeFileSync(join(dir, 'gateway.db'), junk);
    const r = runCli(['run', '--config', config, '--radio', 'virtual']);
    expect(r.status).toBe(EXIT_CONFIG);
    expect(r.output).toContain(`database ${join(dir, 'gateway.db')} is not a SQLite database; it was left untouched`);
    expect(readFileSync(join(dir, 'gateway.db'), 'utf8')).toBe(junk);
  });

  it('refuses a bad config with a message naming the field, and never prints the secret', () => {
    const dir = classroomDir();
    const config = writeGatewayConfig(dir, { mqtt_url: 'mqtt://127.0.0.1:1', room_code: 'room 12' });
    const r = runCli(['run', '--config', config, '--radio', 'virtual']);
    expect(r.status).toBe(EXIT_CONFIG);
    expect(r.output).toMatch(/config field room_code:/);
    expect(r.output).not.toContain(ROOM_SECRET_HEX);
  });

  it('tells systemd READY=1 after start, WATCHDOG=1 while healthy, STOPPING=1 on SIGTERM, as the main pid', async () => {
    const dir = classroomDir();
    const { broker, cloud } = await brokerAndCloud('room-101');
    const config = writeGatewayConfig(dir, { mqtt_url: broker.url });
    // Stand-in for the systemd-notify binary: records its arguments, one call per line.
    const record = join(dir, 'notify.log');
    const bin = join(dir, 'bin');
    const script = join(bin, 'systemd-notify');
    mkdirSync(bin);
    writeFileSync(script, `#!/bin/sh\necho "$NOTIFY_SOCKET $*" >> ${record}\n`);
    chmodSync(script, 0o755);
    const env = childEnv({ PATH: `${bin}:${process.env.PATH}`, NOTIFY_SOCKET: join(dir, 'notify.sock'), WATCHDOG_USEC: '1000000' });
    const child = spawnGateway(config, env);
    await cloud.waitFor((o) => o.statuses.some((s) => s.state === 'online'), 20_000, 'online');
    const calls = () => readFileSync(record, 'utf8').trim().split('\n');
    await cloud.waitFor(() => calls().filter((l) => l.includes('WATCHDOG=1')).length >= 2, 10_000, 'two watchdog pings');
    expect(await child.kill('SIGTERM')).toBe(0);
    const pid = child.proc.pid;
    const lines = calls();
    expect(lines[0]).toMatch(new RegExp(`^${join(dir, 'notify.sock')} --pid=${pid} READY=1 STATUS=`));
    expect(lines.at(-1)).toBe(`${join(dir, 'notify.sock')} --pid=${pid} STOPPING=1`);
    expect(lines.slice(1, -1).every((l) => l.endsWith('WATCHDOG=1'))).toBe(true);
  });

  it('scan, with the real noble in another process, decodes what the daemon (real bleno) advertises through the virtual air', async () => {
    const dir = classroomDir();
    const { broker, cloud } = await brokerAndCloud('room-101');
    const hub = new AirHub('tcp://127.0.0.1:0');
    const air = await hub.start();
    cleanups.push(() => hub.close());
    const config = writeGatewayConfig(dir, { mqtt_url: broker.url });
    spawnGateway(config, childEnv({ ATTENDANCE_VIRTUAL_AIR: air }));
    await cloud.waitFor((o) => o.statuses.some((x) => x.state === 'online'), 20_000, 'online');
    const sessionId = uuidv7();
    await cloud.sendCommand(PREFIX, 'room-101', { id: uuidv7(), type: 'session.start', at: new Date().toISOString(), data: { session_id: sessionId, course_id: 'CS101', period_s: 3600 } });
    await cloud.waitFor((o) => o.distinct().some((e) => e.type === 'token.rotated'), 10_000, 'the first rotation');
    const scan = await runCliAsync(['scan', '--radio', 'virtual', '--seconds', '3', '--json'], childEnv({ ATTENDANCE_VIRTUAL_AIR: air }));
    expect(scan.status).toBe(0);
    const heard = scan.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const w = windowIndex(Date.now(), 3600);
    const key = deriveSessionKey(Buffer.from(ROOM_SECRET_HEX, 'hex'), sessionId);
    expect(heard).toContainEqual(expect.objectContaining({ room_code: ROOM_CODE, w, token: tokenForWindow(key, w).toString('hex') }));
    expect(typeof heard[0]!.rssi).toBe('number');
  });
});
