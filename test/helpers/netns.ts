/**
 * A network namespace joined to the host by a veth pair, for tests that put a process behind a
 * real link and then degrade or cut it: `ip netns add`, `ip link add … type veth`, addresses
 * 10.231.<n>.1/30 (host) and .2/30 (namespace), `tc qdisc … netem` for loss and delay, and
 * `ip link set … down` for a partition. Needs root or CAP_NET_ADMIN; `netnsUnavailable()` says why
 * not, once, so a test can skip with that reason.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function failure(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return stderr || (err as Error).message;
  }
}

/** Null when namespaces can be made here, otherwise why not (tried once). */
export function netnsUnavailable(): string | null {
  const probe = `att-probe-${randomBytes(3).toString('hex')}`;
  const why = failure(() => run('ip', ['netns', 'add', probe]));
  if (why) return `network namespaces are not available here (ip netns add: ${why})`;
  run('ip', ['netns', 'del', probe]);
  return null;
}

export class NetnsLink {
  private constructor(
    readonly ns: string,
    readonly hostIf: string,
    readonly nsIf: string,
    readonly hostAddress: string,
    readonly nsAddress: string,
  ) {}

  /** Creates the namespace and the veth pair, both ends up. */
  static create(): NetnsLink {
    const tag = randomBytes(3).toString('hex');
    const subnet = 1 + (parseInt(tag.slice(0, 2), 16) % 250);
    const link = new NetnsLink(`att-gw-${tag}`, `attgw${tag}h`, `attgw${tag}n`, `10.231.${subnet}.1`, `10.231.${subnet}.2`);
    run('ip', ['netns', 'add', link.ns]);
    try {
      run('ip', ['link', 'add', link.hostIf, 'type', 'veth', 'peer', 'name', link.nsIf]);
      run('ip', ['link', 'set', link.nsIf, 'netns', link.ns]);
      run('ip', ['addr', 'add', `${link.hostAddress}/30`, 'dev', link.hostIf]);
      run('ip', ['link', 'set', link.hostIf, 'up']);
      link.inNs('ip', ['addr', 'add', `${link.nsAddress}/30`, 'dev', link.nsIf]);
      link.inNs('ip', ['link', 'set', link.nsIf, 'up']);
      link.inNs('ip', ['link', 'set', 'lo', 'up']);
    } catch (err) {
      link.remove();
      throw err;
    }
    return link;
  }

  /** The command prefix that runs a program inside the namespace. */
  get exec(): string[] {
    return ['ip', 'netns', 'exec', this.ns];
  }

  private inNs(cmd: string, args: string[]): string {
    return run('ip', ['netns', 'exec', this.ns, cmd, ...args]);
  }

  /** Null when the kernel can emulate loss and delay (sch_netem), otherwise why not. */
  netemUnavailable(): string | null {
    const why = failure(() => run('tc', ['qdisc', 'add', 'dev', this.hostIf, 'root', 'netem', 'delay', '1ms']));
    if (why) return `the kernel cannot emulate loss and delay (tc qdisc … netem: ${why})`;
    run('tc', ['qdisc', 'del', 'dev', this.hostIf, 'root']);
    return null;
  }

  /** Loss and delay on both ends, so both directions suffer them. */
  impair(lossPct: number, delayMs: number): void {
    const netem = ['root', 'netem', 'loss', `${lossPct}%`, 'delay', `${delayMs}ms`];
    run('tc', ['qdisc', 'replace', 'dev', this.hostIf, ...netem]);
    this.inNs('tc', ['qdisc', 'replace', 'dev', this.nsIf, ...netem]);
  }

  /** Removes loss and delay. */
  clearImpairment(): void {
    failure(() => run('tc', ['qdisc', 'del', 'dev', this.hostIf, 'root']));
    failure(() => this.inNs('tc', ['qdisc', 'del', 'dev', this.nsIf, 'root']));
  }

  /** Takes the link down on both ends: nothing passes until `heal()`. */
  partition(): void {
    run('ip', ['link', 'set', this.hostIf, 'down']);
    this.inNs('ip', ['link', 'set', this.nsIf, 'down']);
  }

  heal(): void {
    run('ip', ['link', 'set', this.hostIf, 'up']);
    this.inNs('ip', ['link', 'set', this.nsIf, 'up']);
  }

  /** Deletes the namespace (its veth end with it, and so the pair and their qdiscs); safe to repeat. */
  remove(): void {
    failure(() => run('ip', ['link', 'del', this.hostIf]));
    failure(() => run('ip', ['netns', 'del', this.ns]));
  }
}
