/**
 * A private Mosquitto for one campus run, on a free loopback port, configured as a campus broker
 * must be: no limit on the messages it queues for a connection (`max_queued_messages 0`; the
 * default of 1,000 drops acknowledged events once one cloud connection falls behind 2,000
 * gateways' retained statuses and events), nor on connections, and no persistence (the run starts
 * from nothing). Its log (errors, warnings, notices) stays in the run's directory; `dropped()` counts the messages it says it
 * dropped, so a run can tell a broker loss from a cloud loss.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './instances.js';

export const CAMPUS_MOSQUITTO_CONF = [
  'allow_anonymous true',
  'persistence false',
  'max_queued_messages 0',
  'max_connections -1',
  'log_type error',
  'log_type warning',
  'log_type notice',
];

export class PrivateMosquitto {
  private constructor(private readonly child: ChildProcess, readonly url: string, private readonly logFile: string) {}

  static async start(dir: string): Promise<PrivateMosquitto> {
    const port = await freePort();
    const conf = path.join(dir, 'mosquitto.conf');
    const logFile = path.join(dir, 'mosquitto.log');
    fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, ...CAMPUS_MOSQUITTO_CONF, `log_dest file ${logFile}`, ''].join('\n'));
    const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new Error(`cannot start mosquitto (is it installed?): ${e.message}`)));
      child.once('exit', (code) => reject(new Error(`mosquitto exited with ${code}: ${stderr.trim()}${fs.existsSync(logFile) ? ` ${fs.readFileSync(logFile, 'utf8').trim()}` : ''}`)));
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const up = await Promise.race([exited, new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      })]);
      if (up) break;
      if (Date.now() > deadline) throw new Error('mosquitto did not listen within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    exited.catch(() => undefined);
    return new PrivateMosquitto(child, `mqtt://127.0.0.1:${port}`, logFile);
  }

  /** How many times the broker logged that it dropped messages for a client. */
  dropped(): number {
    const log = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
    return (log.match(/dropp/gi) ?? []).length;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await gone;
  }
}
