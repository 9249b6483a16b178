/**
 * A classroom gateway as a child process, exactly as an installer runs it: `attendance-gateway
 * provision` writes its config from a one-time code, then `attendance-gateway run --radio
 * virtual` advertises on a virtual controller joined to the virtual air named by
 * ATTENDANCE_VIRTUAL_AIR. Its log goes to a file next to its database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../gateway/cli.ts', import.meta.url));
const VIRTUAL_AIR_ENV = 'ATTENDANCE_VIRTUAL_AIR';

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

export interface GatewaySetup {
  dir: string;
  /** Written into the config before provisioning (db_path, heartbeat_s, ...). */
  config?: Record<string, unknown>;
}

/** Runs `attendance-gateway provision` and returns the config path it wrote. */
export async function provisionGateway(cloudUrl: string, code: string, setup: GatewaySetup): Promise<string> {
  fs.mkdirSync(setup.dir, { recursive: true });
  const configPath = path.join(setup.dir, 'gateway.json');
  fs.writeFileSync(configPath, JSON.stringify({ db_path: path.join(setup.dir, 'gateway.db'), log_level: 'info', ...setup.config }), { mode: 0o600 });
  const r = await runCli(['provision', '--cloud', cloudUrl, '--code', code, '--config', configPath]);
  if (r.code !== 0) throw new Error(`attendance-gateway provision failed (${r.code}): ${r.output}`);
  return configPath;
}

export interface GatewayLaunch {
  prefix?: string[];
  env?: Record<string, string>;
}

export class GatewayProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {}

  /**
   * Starts `attendance-gateway run --radio virtual` on the given air. `launch.prefix` runs it
   * through another program that then executes it (`ip netns exec <ns>`: inside a network
   * namespace); `launch.env` is added to its environment (`ATTENDANCE_GATEWAY_*` overrides).
   */
  static start(configPath: string, airAddress: string, launch: GatewayLaunch = {}): GatewayProcess {
    const logFile = path.join(path.dirname(configPath), 'gateway.log');
    const log = fs.openSync(logFile, 'a');
    const [cmd, ...prefixArgs] = [...(launch.prefix ?? []), process.execPath];
    const child = spawn(cmd!, [...prefixArgs, '--import', 'tsx', CLI, 'run', '--radio', 'virtual', '--config', configPath], {
      env: { ...process.env, ...launch.env, [VIRTUAL_AIR_ENV]: airAddress },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    return new GatewayProcess(child, logFile);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stops the daemon (SIGTERM: a clean stop, status offline) and resolves with its exit code. */
  stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    if (!this.running) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      this.child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      this.child.kill(signal);
    });
  }

  /** The daemon's log lines (pino JSON) so far. */
  logLines(): Array<Record<string, unknown>> {
    if (!fs.existsSync(this.logFile)) return [];
    return fs.readFileSync(this.logFile, 'utf8').split('\n').filter(Boolean).flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
}
