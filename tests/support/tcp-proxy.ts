import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** The service URL with its host and port replaced by this proxy's. */
  url(serviceUrl: string): string;
  /** The dependency "goes down": open connections are cut and new ones refused (ECONNREFUSED). */
  cut(): Promise<void>;
  /** The dependency is back on the same port (after `cut`, or after `freeze`). */
  restore(): Promise<void>;
  /**
   * The dependency hangs, as a stopped (SIGSTOP) server or a partition that drops packets: connections
   * stay open and new ones are accepted, but nothing goes through either way until `restore`.
   */
  freeze(): void;
  /**
   * Freezes as soon as a client sends bytes containing `marker` (say, a statement that only runs inside a
   * transaction), before they reach the server; resolves then. A test can so stop a dependency at an
   * exact point of the work, instead of after a guessed delay.
   */
  freezeOn(marker: string): Promise<void>;
  /**
   * Lets the next request containing `marker` reach the server, then cuts that connection when the reply
   * comes back, dropping it: the work is done and its caller never hears of it (a server killed between
   * the two). Resolves when the reply was dropped; other connections and new ones go on as before.
   */
  loseReplyTo(marker: string): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | null;
  /** Bytes held back while frozen, each way. */
  toServer: Buffer[];
  toClient: Buffer[];
  /** Set by loseReplyTo: the next bytes from the server are dropped with the connection. */
  loseReply?: () => void;
}

/**
 * A TCP relay in front of a shared server (MariaDB, Redis) that a test can take down and bring back,
 * so a process sees one dependency stop and restart while the shared server keeps serving other tests.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let server: Server | null = null;
  let port = 0;
  let frozen = false;
  let trap: { marker: Buffer; sprung: () => void } | null = null;
  let replyTrap: { marker: Buffer; dropped: () => void } | null = null;

  const open = (pair: Pair) => {
    const upstream = connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => {
      if (pair.loseReply) {
        pair.loseReply();
        pair.client.destroy();
        upstream.destroy();
        return;
      }
      if (frozen) pair.toClient.push(chunk);
      else pair.client.write(chunk);
    });
    upstream.on('close', () => pair.client.destroy());
    upstream.on('error', () => pair.client.destroy());
  };
  const flush = (pair: Pair) => {
    if (!pair.upstream) open(pair);
    for (const chunk of pair.toServer.splice(0)) pair.upstream!.write(chunk);
    for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const srv = createServer((client) => {
        const pair: Pair = { client, upstream: null, toServer: [], toClient: [] };
        pairs.add(pair);
        client.on('data', (chunk: Buffer) => {
          if (!frozen && replyTrap && chunk.includes(replyTrap.marker)) {
            pair.loseReply = replyTrap.dropped;
            replyTrap = null;
          }
          if (!frozen && trap && chunk.includes(trap.marker)) {
            frozen = true;
            trap.sprung();
            trap = null;
          }
          if (frozen) pair.toServer.push(chunk);
          else pair.upstream!.write(chunk);
        });
        client.on('close', () => {
          pairs.delete(pair);
          pair.upstream?.destroy();
        });
        client.on('error', () => client.destroy());
        if (!frozen) open(pair);
      });
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        const address = srv.address();
        if (typeof address === 'object' && address) port = address.port;
        server = srv;
        resolve();
      });
    });

  const stop = async () => {
    frozen = false;
    trap = null;
    replyTrap = null;
    const srv = server;
    server = null;
    for (const pair of pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    pairs.clear();
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    url(serviceUrl) {
      const parsed = new URL(serviceUrl);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    cut: stop,
    freeze() {
      frozen = true;
    },
    freezeOn(marker) {
      return new Promise<void>((resolve) => {
        trap = { marker: Buffer.from(marker), sprung: resolve };
      });
    },
    loseReplyTo(marker) {
      return new Promise<void>((resolve) => {
        replyTrap = { marker: Buffer.from(marker), dropped: resolve };
      });
    },
    async restore() {
      trap = null;
      if (frozen) {
        frozen = false;
        for (const pair of pairs) flush(pair);
      }
      if (!server) await listen();
    },
    close: stop,
  };
}
