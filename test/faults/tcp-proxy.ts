/**
 * A TCP proxy on loopback that a test can cut: `cut()` destroys every open connection and stops
 * listening, so the client sees its sockets reset and new connections refused, as when the link to
 * a server is lost; `restore()` listens again on the same port.
 */
import net from 'node:net';

export class CuttableProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<this> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Resets every connection through the proxy and refuses new ones until `restore()`. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.resetAndDestroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port; nothing to do when not cut. */
  async restore(): Promise<this> {
    return this.server ? this : this.start();
  }

  get connections(): number {
    return this.sockets.size / 2;
  }

  close(): Promise<void> {
    return this.cut();
  }
}
