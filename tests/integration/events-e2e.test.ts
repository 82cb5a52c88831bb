import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeader, verifyWebhook } from '../../triggers/notify/webhook-signature.ts';
import { waitFor } from '../support/events-fixture.ts';
import { bearer, testSecret } from '../support/harness.ts';
import { freshMysqlDatabase, serviceUrls, uniqueSuffix } from '../support/real-services.ts';
import { type ServerProcess, startServerProcess } from '../support/server-process.ts';

interface Hook {
  type: string;
  id: string;
  signature: string | undefined;
  body: string;
}

/**
 * The whole chain on real services, in a real server process: a hold with HOLD_TTL_SECONDS=2 lapses, the
 * sweeper writes reservation.expired, the relay publishes it to Kafka, the dispatcher delivers it to
 * release-seat and notify, and a real HTTP receiver gets signed webhooks.
 */
describe('events end to end (MariaDB, Redis, Kafka, HTTP webhook receiver)', () => {
  const secret = 'webhook-secret-0123456789';
  const hooks: Hook[] = [];
  let receiver: Server;
  let server: ServerProcess;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        hooks.push({
          type: String(req.headers['x-concert-event-type']),
          id: String(req.headers['x-concert-event-id']),
          signature: req.headers[signatureHeader] as string | undefined,
          body,
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const fresh = await freshMysqlDatabase();
    await fresh.database.close();
    drop = fresh.drop;
    server = await startServerProcess({
      DATABASE_URL: fresh.url,
      REDIS_URL: serviceUrls().redisUrl,
      REDIS_KEY_PREFIX: `e2e-${uniqueSuffix()}:`,
      KAFKA_BROKERS: serviceUrls().kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `e2e${uniqueSuffix()}.`,
      KAFKA_TOPIC_PARTITIONS: '2',
      AUTH_JWT_SECRET: testSecret,
      QUEUE_TOKEN_SECRET: 'queue-secret-that-is-long-enough-0123456789',
      HOLD_TTL_SECONDS: '2',
      EXPIRE_HOLDS_INTERVAL_SECONDS: '1',
      NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      NOTIFY_WEBHOOK_SECRET: secret,
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await new Promise((r) => receiver.close(r));
    await drop?.();
  });

  const json = async (res: Response) => (await res.json()) as Record<string, unknown>;

  it('hold → lapse → reservation.expired → seat free again, and signed notifications arrive', async () => {
    const admin = await bearer('root', 'admin');
    const created = await json(
      await fetch(`${server.url}/v1/admin/concerts`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({
          title: 'E2E',
          venue: 'Hall',
          schedules: [{ startsAt: '2030-01-01T19:00:00Z', seatCount: 3, price: 1000 }],
        }),
      }),
    );
    const scheduleId = (created.schedules as { id: string }[])[0]!.id;
    const enter = async (userId: string) => {
      const auth = await bearer(userId);
      const answer = await json(
        await fetch(`${server.url}/v1/queue/tokens`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ concertId: created.id }),
        }),
      );
      return { ...auth, 'x-queue-token': String(answer.accessToken), 'content-type': 'application/json' };
    };
    const alice = await enter('alice');
    const seats = await json(
      await fetch(`${server.url}/v1/schedules/${scheduleId}/seats`, { headers: alice }),
    );
    const seatId = (seats.items as { id: string }[])[0]!.id;
    const held = await fetch(`${server.url}/v1/reservations`, {
      method: 'POST',
      headers: alice,
      body: JSON.stringify({ scheduleId, seatId }),
    });
    expect(held.status).toBe(201);
    const reservation = await json(held);

    await waitFor(
      () => hooks.some((h) => h.type === 'reservation.expired'),
      60_000,
      'the reservation.expired webhook',
    );
    const byType = (type: string) => hooks.filter((h) => h.type === type);
    expect(byType('queue.activated')).toHaveLength(1);
    expect(byType('reservation.created')).toHaveLength(1);
    expect(byType('reservation.expired')).toHaveLength(1);
    const expired = byType('reservation.expired')[0]!;
    expect(expired.id).toBe(`reservation.expired:${reservation.id as string}`);
    expect(JSON.parse(expired.body)).toMatchObject({
      type: 'reservation.expired',
      data: { reservationId: reservation.id, seatId },
    });
    for (const hook of hooks) expect(verifyWebhook(secret, hook.signature, hook.body, Date.now())).toBe(true);
    expect(
      verifyWebhook(secret, expired.signature, expired.body.replace('expired', 'EXPIRED'), Date.now()),
    ).toBe(false);
    expect(verifyWebhook(secret, expired.signature, expired.body, Date.now() + 600_000)).toBe(false);

    const after = await json(
      await fetch(`${server.url}/v1/reservations/${reservation.id as string}`, { headers: alice }),
    );
    expect(after.status).toBe('EXPIRED');
    const bob = await enter('bob');
    const map = await json(await fetch(`${server.url}/v1/schedules/${scheduleId}/seats`, { headers: bob }));
    expect((map.items as { id: string; status: string }[]).find((s) => s.id === seatId)?.status).toBe(
      'AVAILABLE',
    );
    const retake = await fetch(`${server.url}/v1/reservations`, {
      method: 'POST',
      headers: bob,
      body: JSON.stringify({ scheduleId, seatId }),
    });
    expect(retake.status).toBe(201);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/event_deliveries_total\{target="release-seat",result="ok"\} [1-9]/);
    expect(metrics).toMatch(/outbox_published_total [3-9]/);
  });
});
