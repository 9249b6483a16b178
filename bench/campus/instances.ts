/**
 * The cloud instances of the campus, each a child process (`node --import tsx cloud/cli.ts`) with its
 * own port and MQTT client id, on the same database, external broker and signing key — as behind a
 * load balancer. One can be killed with SIGKILL and started again on the same port and client id
 * (as systemd would), so its persistent MQTT sessions resume. CPU time is read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const CLI = new URL('../../cloud/cli.ts', import.meta.url).pathname;
const TICKS_PER_S = 100;

export interface InstanceEnv { databaseUrl: string; mqttUrl: string; topicPrefix: string; jwtSecretFile: string; dataDir: string }

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** utime + stime of a process in µs (Linux), 0 once it is gone. */
function cpuMicros(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_S) * 1e6;
  } catch {
    return 0;
  }
}

export class CloudInstance {
  private child: ChildProcess | null = null;
  private stderr = '';
  /** CPU of earlier (killed) processes of this instance. */
  private cpuOfGone = 0;
  private lastCpu = 0;
  up = false;

  private constructor(readonly name: string, readonly port: number, private readonly env: Record<string, string>) {}

  static async create(name: string, e: InstanceEnv): Promise<CloudInstance> {
    const port = await freePort();
    const dir = path.join(e.dataDir, name);
    fs.mkdirSync(dir, { recursive: true });
    return new CloudInstance(name, port, {
      PORT: String(port), HOST: '127.0.0.1', ATTENDANCE_DATA_DIR: dir, DATABASE_URL: e.databaseUrl, MQTT_URL: e.mqttUrl, MQTT_TOPIC_PREFIX: e.topicPrefix,
      MQTT_CLIENT_ID: `cloud-${e.topicPrefix.split('/')[0]}-${name}`, ATTENDANCE_JWT_SECRET_FILE: e.jwtSecretFile, ATTENDANCE_TOKEN_TTL_S: '86400', LOG_LEVEL: 'warn',
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // BENCH_CPU_PROF=dir: a CPU profile of each instance process, written when it stops.
    const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const child = spawn(process.execPath, [...prof, '--import', 'tsx', CLI, 'serve'], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderr = (this.stderr + s).slice(-4000)));
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`cloud ${this.name} exited with ${code} before it was ready: ${this.stderr}`))));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await Promise.race([fetch(`${this.url}/readyz`).then((r) => r.ok, () => false), exited]);
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`cloud ${this.name} not ready after 60 s: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.removeAllListeners('exit');
    this.up = true;
  }

  /** SIGKILL: no shutdown, no PUBACK for what it holds, no goodbye to the broker. */
  kill9(): void {
    this.cpuOfGone += cpuMicros(this.child?.pid);
    this.lastCpu = 0;
    this.up = false;
    this.child?.kill('SIGKILL');
  }

  /** CPU time of this instance's processes so far (µs). */
  cpu(): number {
    if (this.up) this.lastCpu = cpuMicros(this.child?.pid);
    return this.cpuOfGone + this.lastCpu;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.cpu();
    this.up = false;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
