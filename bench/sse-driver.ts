import net from 'node:net';

/**
 * The SSE load driver of `npm run bench -- sse`: a child process (bundled like the server) holding
 * thousands of `GET /v1/queue/stream` connections on raw sockets, the cheapest client there is, so the
 * server is what the figures describe. Several of them share the work (a process has a limit on open
 * files). It talks to the bench over IPC:
 *
 *   → { type: 'open', url, streams }  open one stream per { token, rank }, a bounded number connecting at once
 *   → { type: 'mark' }                from now on, note when each stream's ACTIVE event arrives
 *   → { type: 'report' }              ← { type: 'report', ...DriverReport }
 *   → { type: 'close' }               close every socket and exit
 */
export interface DriverReport {
  /** Streams answered 200, still open and not yet ACTIVE. */
  open: number;
  /** Streams refused (non-200), failed at the socket, or ended by the server before ACTIVE. */
  failed: number;
  /** Why streams failed, with how many failed that way (e.g. `error event DEPENDENCY_UNAVAILABLE`). */
  reasons: Record<string, number>;
  /** Streams that saw ACTIVE. */
  active: number;
  /** Per stream whose ACTIVE event came after the mark: its rank in line and the event's time (epoch ms). */
  arrivals: Array<[rank: number, at: number]>;
  /** Status events received in all. */
  events: number;
}

interface Stream {
  socket: net.Socket;
  state: 'connecting' | 'open' | 'active' | 'failed';
  /** The unread end of what arrived: events are found whole even when split across packets. */
  tail: string;
}

const connecting = 128;
const streams: Stream[] = [];
const reasons: Record<string, number> = {};
/** The error code of an answer's or event's JSON body, when it has one. */
const codeIn = (text: string) => /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? '';
let events = 0;
let marked = false;
const arrivals: Array<[number, number]> = [];

function openStream(url: URL, { token, rank }: { token: string; rank: number }): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    const stream: Stream = { socket, state: 'connecting', tail: '' };
    streams.push(stream);
    const fail = (why: string) => {
      if (stream.state === 'active' || stream.state === 'failed') return;
      stream.state = 'failed';
      reasons[why] = (reasons[why] ?? 0) + 1;
      socket.destroy();
      resolve();
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      socket.write(
        `GET /v1/queue/stream?queueToken=${encodeURIComponent(token)} HTTP/1.1\r\n` +
          `Host: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: string) => {
      let text = stream.tail + chunk;
      if (stream.state === 'connecting') {
        const end = text.indexOf('\r\n');
        if (end < 0) {
          stream.tail = text;
          return;
        }
        if (!/^HTTP\/1\.1 200 /.test(text)) return fail(`${text.slice(0, end)} ${codeIn(text)}`.trim());
        stream.state = 'open';
        resolve();
      }
      // A status event is one `data:` line of the answer's JSON; chunked framing never splits one write.
      let at = text.indexOf('event: status');
      while (at >= 0) {
        const end = text.indexOf('\n\n', at);
        if (end < 0) break;
        events += 1;
        if (text.slice(at, end).includes('"status":"ACTIVE"') && stream.state === 'open') {
          stream.state = 'active';
          if (marked) arrivals.push([rank, Date.now()]);
        }
        text = text.slice(end + 2);
        at = text.indexOf('event: status');
      }
      if (text.includes('event: error')) return fail(`error event ${codeIn(text)}`.trim());
      stream.tail = text.slice(-512);
    });
    socket.on('error', (error) => fail(`socket: ${error.message}`));
    socket.on('close', () => fail('closed before ACTIVE'));
  });
}

async function openAll(url: URL, wanted: Array<{ token: string; rank: number }>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < wanted.length) await openStream(url, wanted[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(connecting, wanted.length) }, lane));
}

function report(): DriverReport {
  return {
    open: streams.filter((s) => s.state === 'open').length,
    failed: streams.filter((s) => s.state === 'failed').length,
    reasons,
    active: streams.filter((s) => s.state === 'active').length,
    arrivals,
    events,
  };
}

type Message =
  | { type: 'open'; url: string; streams: Array<{ token: string; rank: number }> }
  | { type: 'mark' | 'report' | 'close' };

process.on('message', (message: Message) => {
  const send = (m: object) => process.send?.(m);
  if (message.type === 'open') {
    void openAll(new URL(message.url), message.streams).then(() => send({ type: 'opened', ...report() }));
  } else if (message.type === 'mark') {
    marked = true;
    send({ type: 'marked' });
  } else if (message.type === 'report') {
    send({ type: 'report', ...report() });
  } else if (message.type === 'close') {
    for (const s of streams) s.socket.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
