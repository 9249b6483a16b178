/**
 * Runs `attendance-gateway run` as a real child process (node --import tsx gateway/cli.ts), the
 * way systemd would, so tests can SIGKILL it and start it again on the same database.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusReport } from '../../gateway/status-report.js';
import { ROOM_CODE, ROOM_SECRET_HEX } from './classroom.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO, 'gateway', 'cli.ts');

export function writeGatewayConfig(dir: string, fields: Record<string, unknown>): string {
  const path = join(dir, 'gateway.json');
  writeFileSync(
    path,
    JSON.stringify({ gateway_id: 'room-101', room_code: ROOM_CODE, room_secret: ROOM_SECRET_HEX, db_path: join(dir, 'gateway.db'), heartbeat_s: 3600, ...fields }, null, 2),
  );
  return path;
}

/** Environment without the parent's ATTENDANCE_GATEWAY_* and systemd variables. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ATTENDANCE_') && !k.startsWith('NOTIFY_') && !k.startsWith('WATCHDOG_')) env[k] = v;
  }
  return { ...env, ...extra };
}

export class ChildGateway {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;

  private constructor(readonly proc: ChildProcess) {
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  static start(configPath: string, env: NodeJS.ProcessEnv = childEnv()): ChildGateway {
    return new ChildGateway(spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '--config', configPath, '--radio', 'virtual'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** Log lines parsed as JSON (pino), skipping anything else. */
  lines(): Array<Record<string, unknown>> {
    return this.output.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  async waitForLog(msg: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines().some((l) => l.msg === msg)) {
      if (Date.now() > deadline) throw new Error(`no "${msg}" log line within ${timeoutMs} ms; output:\n${this.output.join('\n')}`);
      if (this.proc.exitCode !== null) throw new Error(`gateway exited (${this.proc.exitCode}) before "${msg}"; output:\n${this.output.join('\n')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

/** `attendance-gateway status --json`, as an installer would run it next to the daemon. */
export function statusOf(configPath: string): StatusReport {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'status', '--json', '--config', configPath], { cwd: REPO, env: childEnv(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`status failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as StatusReport;
}

/** Runs the CLI to completion without blocking this process (which may host the broker or the air). */
export function runCliAsync(args: string[], env: NodeJS.ProcessEnv = childEnv()): Promise<{ status: number | null; output: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, output: stdout + stderr, stdout }));
  });
}

/** Runs the CLI to completion (for commands expected to fail fast). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = childEnv()): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO, env, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
