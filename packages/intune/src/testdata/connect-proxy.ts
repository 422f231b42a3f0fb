import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** One CONNECT tunnel the proxy opened. */
export interface Tunnel {
  target: string;
  /** Local port of the proxy's upstream socket: the fake server sees it as the client port. */
  upstreamPort: number | undefined;
}

/** A tiny HTTP CONNECT proxy requiring Basic auth; records tunnels and refused attempts. */
export class ConnectProxy {
  readonly tunnels: Tunnel[] = [];
  refused = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(expectedAuth: string) {
    this.server = createServer((_req, res) => {
      res.writeHead(405).end();
    });
    this.server.on('connect', (req, client: Socket, head: Buffer) => {
      this.sockets.add(client);
      if (req.headers['proxy-authorization'] !== expectedAuth) {
        this.refused++;
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="t"\r\n\r\n');
        return;
      }
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host ?? '127.0.0.1', () => {
        this.tunnels.push({ target: req.url ?? '', upstreamPort: upstream.localPort });
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      this.sockets.add(upstream);
      const destroy = (): void => {
        upstream.destroy();
        client.destroy();
      };
      upstream.on('error', destroy);
      client.on('error', destroy);
    });
  }

  static async start(username: string, password: string): Promise<ConnectProxy> {
    const proxy = new ConnectProxy(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
