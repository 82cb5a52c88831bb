import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, createConcert, devToken, startEmbeddedServer } from '../support/browser.ts';
import type { LaunchedProcess } from '../support/server-process.ts';

/**
 * The queue stream as Node serves it (`npm start`, each function's pod): written to the Node response
 * itself, not through a web stream. The app.request tests of the contract suite cover the other path.
 */
describe('GET /v1/queue/stream served by Node', () => {
  let server: LaunchedProcess;
  beforeAll(async () => {
    // Browsers of another origin allowed too: CORS sets headers after the route, on a stream already sent.
    server = await startEmbeddedServer({ CORS_ORIGINS: 'https://tickets.example' });
  }, 40_000);
  afterAll(async () => {
    server?.kill('SIGTERM');
    await server?.exited(10_000);
  });

  const enter = async (concertId: string, userId: string) => {
    const response = await fetch(`${server.url}/v1/queue/tokens`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await devToken(server.url, userId)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ concertId }),
    });
    return (await response.json()) as { status: string; queueToken: string };
  };

  /** The stream's events, read as they come: `take(n)` waits for n more or the end of the stream. */
  const eventsOf = (body: ReadableStream<Uint8Array>) => {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let ended = false;
    const take = async (count: number) => {
      const seen: { event: string; data: Record<string, unknown> }[] = [];
      while (seen.length < count && !ended) {
        let end = buffered.indexOf('\n\n');
        while (end >= 0 && seen.length < count) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) seen.push({ event, data: JSON.parse(data) });
          end = buffered.indexOf('\n\n');
        }
        if (seen.length >= count) break;
        const { value, done } = await reader.read();
        if (done) ended = true;
        else buffered += decoder.decode(value, { stream: true });
      }
      return seen;
    };
    return { take, ended: () => ended };
  };

  it('sends the place, then ACTIVE when admitted, and ends; with the request id and no caching', async () => {
    const concert = await createConcert(server.url, 'Stream hall');
    await adminCall(server.url, 'PUT', `/v1/admin/queues/${concert.id}`, { maxActive: 1 });
    expect((await enter(concert.id, 'stream-first')).status).toBe('ACTIVE');
    const waiting = await enter(concert.id, 'stream-second');
    expect(waiting.status).toBe('WAITING');

    const response = await fetch(
      `${server.url}/v1/queue/stream?queueToken=${encodeURIComponent(waiting.queueToken)}`,
      { headers: { 'x-request-id': 'stream-test-1', origin: 'https://tickets.example' } },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-request-id')).toBe('stream-test-1');
    expect(response.headers.get('access-control-allow-origin')).toBe('https://tickets.example');
    const stream = eventsOf(response.body!);
    expect(await stream.take(1)).toEqual([
      { event: 'status', data: expect.objectContaining({ status: 'WAITING', position: 1 }) },
    ]);

    // A slot more: the admission step admits the waiter, the stream says so and ends.
    await adminCall(server.url, 'PUT', `/v1/admin/queues/${concert.id}`, { maxActive: 2 });
    expect(await stream.take(10)).toEqual([
      {
        event: 'status',
        data: expect.objectContaining({ status: 'ACTIVE', accessToken: expect.any(String) }),
      },
    ]);
    expect(stream.ended()).toBe(true);
    // Streams without an Origin header (the CORS middleware then adds Vary after the route) work alike.
    const plain = await fetch(
      `${server.url}/v1/queue/stream?queueToken=${encodeURIComponent(waiting.queueToken)}`,
    );
    expect(await eventsOf(plain.body!).take(10)).toEqual([
      { event: 'status', data: expect.objectContaining({ status: 'ACTIVE' }) },
    ]);
    expect(server.stdout() + server.stderr()).not.toMatch(/ERR_HTTP_HEADERS_SENT|Cannot write headers/);
  });
});
