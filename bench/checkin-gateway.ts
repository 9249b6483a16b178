/**
 * The gateway of bench/checkin.ts as its own process, as it runs in production: the production
 * sources compiled with tsc (tsconfig.build.json; the tsx loader alone would add ~35 MB of RSS),
 * `attendance-gateway run --radio virtual` under plain node with the V8 flags of
 * systemd/attendance-gateway.service, its virtual controller joined to the air hub the bench
 * hosts (ATTENDANCE_VIRTUAL_AIR), its events drained over MQTT to the bench's aedes. Its RSS is
 * read from /proc, so the phones' memory in the bench process does not count.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uuidv7 } from '../shared/ids.js';
import { VIRTUAL_AIR_ENV } from '../gateway/ble/radio.js';
import { CloudObserver } from '../test/gateway/brokers.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** The V8 flags systemd/attendance-gateway.service gives the daemon (NODE_OPTIONS). */
const DAEMON_NODE_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1'];
const PREFIX = 'att/v1';

/** Compiles the production sources into node_modules/.cache (so native modules resolve); returns the daemon's CLI. */
export function compileGateway(): string {
  const out = join(REPO, 'node_modules', '.cache', 'attendance-checkin-bench');
  const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', out, '--sourceMap', 'false', '--declaration', 'false'], {
    cwd: REPO,
    encoding: 'utf8',
  });
  // tsc emits every file even when others' work in progress does not type-check.
  const cli = join(out, 'gateway', 'cli.js');
  if (!existsSync(cli)) throw new Error(`tsc emitted no gateway: ${tsc.stdout}`);
  // Outside a package scope node would read the emitted ESM as CommonJS.
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  return cli;
}

export interface GatewaySetup {
  cli: string;
  dir: string;
  brokerUrl: string;
  airAddress: string;
  gatewayId: string;
  roomCode: number;
  roomSecret: string;
  /** bleno's advertising interval (BLENO_ADVERTISING_INTERVAL; bleno's default is 100 ms). */
  advertisingIntervalMs?: number;
}

export class GatewayUnderTest {
  private constructor(
    private readonly child: ChildProcess,
    readonly cloud: CloudObserver,
    private readonly setup: GatewaySetup,
  ) {}

  /** Starts the daemon and waits until it is online on the broker. */
  static async start(setup: GatewaySetup): Promise<GatewayUnderTest> {
    const configPath = join(setup.dir, `${setup.gatewayId}.json`);
    writeFileSync(
      configPath,
      JSON.stringify({ gateway_id: setup.gatewayId, room_code: setup.roomCode, room_secret: setup.roomSecret, mqtt_url: setup.brokerUrl, db_path: join(setup.dir, `${setup.gatewayId}.db`), heartbeat_s: 60, log_level: 'warn' }),
      { mode: 0o600 },
    );
    const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, setup.cli, 'run', '--config', configPath, '--radio', 'virtual'], {
      cwd: REPO,
      env: {
        ...process.env,
        [VIRTUAL_AIR_ENV]: setup.airAddress,
        ...(setup.advertisingIntervalMs !== undefined && { BLENO_ADVERTISING_INTERVAL: String(setup.advertisingIntervalMs) }),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const cloud = await CloudObserver.connect(setup.brokerUrl, PREFIX, setup.gatewayId);
    await cloud.waitFor((o) => o.statuses.some((x) => x.state === 'online'), 30_000, 'the gateway online');
    return new GatewayUnderTest(child, cloud, setup);
  }

  /** Starts a session as the cloud does and waits for its session.started event. */
  async startSession(periodS: number): Promise<string> {
    const sessionId = uuidv7();
    await this.cloud.sendCommand(PREFIX, this.setup.gatewayId, { id: uuidv7(), type: 'session.start', at: new Date().toISOString(), data: { session_id: sessionId, course_id: 'BENCH', period_s: periodS } });
    await this.cloud.waitFor((o) => o.distinct().some((e) => e.type === 'session.started' && e.data.session_id === sessionId), 10_000, 'session.started');
    return sessionId;
  }

  /** The checkin.received events the cloud has (distinct by envelope id). */
  checkins(): Array<{ keyId: string; w: number }> {
    return this.cloud
      .distinct()
      .filter((e) => e.type === 'checkin.received')
      .map((e) => ({ keyId: String(e.data.key_id), w: Number(e.data.w) }));
  }

  rssMb(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    if (this.child.exitCode === null) await new Promise((r) => this.child.once('exit', r));
    await this.cloud.close();
  }
}
