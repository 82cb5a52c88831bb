import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testSecret } from '../support/harness.ts';
import { freshMysqlDatabase, serviceUrls, uniqueSuffix } from '../support/real-services.ts';
import { type ServerProcess, startServerProcess } from '../support/server-process.ts';

/**
 * Two server processes on one MariaDB and one Redis, as two Knative pods would be, and many HTTP clients
 * racing for seats through both: the database must still let exactly one hold per seat through.
 */
describe('hold race across two server processes (real MariaDB + Redis, HTTP)', () => {
  let servers: ServerProcess[] = [];
  let drop: () => Promise<void>;
  let concertId: string;
  let scheduleId: string;
  let seatIds: string[];

  beforeAll(async () => {
    const fresh = await freshMysqlDatabase();
    await fresh.database.close();
    drop = fresh.drop;
    const env = {
      DATABASE_URL: fresh.url,
      REDIS_URL: serviceUrls().redisUrl,
      REDIS_KEY_PREFIX: `race-${uniqueSuffix()}:`,
      AUTH_JWT_SECRET: testSecret,
      QUEUE_TOKEN_SECRET: 'queue-secret-that-is-long-enough-0123456789',
      RATE_LIMIT_PER_SECOND: '1000',
      RATE_LIMIT_BURST: '1000',
      QUEUE_MAX_ACTIVE: '10000',
      DB_POOL_SIZE: '20',
    };
    // Started one after the other: the first applies the migrations, the second finds them applied.
    servers = [await startServerProcess(env), await startServerProcess(env)];
    const res = await fetch(`${servers[0]!.url}/v1/admin/concerts`, {
      method: 'POST',
      headers: { ...(await bearer('root', 'admin')), 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Race',
        venue: 'Hall',
        schedules: [{ startsAt: '2030-01-01T19:00:00Z', seatCount: 10, price: 1000 }],
      }),
    });
    const created = (await res.json()) as { id: string; schedules: { id: string }[] };
    concertId = created.id;
    scheduleId = created.schedules[0]!.id;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await drop?.();
  });

  async function activeUser(userId: string, server: ServerProcess) {
    const auth = await bearer(userId);
    const res = await fetch(`${server.url}/v1/queue/tokens`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ concertId }),
    });
    const body = (await res.json()) as { status: string; accessToken: string };
    expect(body.status).toBe('ACTIVE');
    return { ...auth, 'x-queue-token': body.accessToken, 'content-type': 'application/json' };
  }

  async function holdThrough(server: ServerProcess, headers: Record<string, string>, seatId: string) {
    const res = await fetch(`${server.url}/v1/reservations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ scheduleId, seatId }),
    });
    return { status: res.status, body: (await res.json()) as { seatId?: string; error?: { code: string } } };
  }

  it('N users on one seat through both processes: exactly one 201, every other answer SEAT_TAKEN', async () => {
    const first = servers[0]!;
    const headers = await activeUser('seed', first);
    const map = await fetch(`${first.url}/v1/schedules/${scheduleId}/seats`, { headers });
    seatIds = ((await map.json()) as { items: { id: string }[] }).items.map((s) => s.id);

    const users = await Promise.all(
      Array.from({ length: 120 }, (_, i) => activeUser(`one${i}`, servers[i % 2]!)),
    );
    const answers = await Promise.all(users.map((h, i) => holdThrough(servers[i % 2]!, h, seatIds[0]!)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409 && a.body.error?.code === 'SEAT_TAKEN')).toHaveLength(119);
  });

  it('N users on K seats through both processes: exactly K holds on K distinct seats', async () => {
    const free = seatIds.slice(1);
    const users = await Promise.all(
      Array.from({ length: 180 }, (_, i) => activeUser(`k${i}`, servers[i % 2]!)),
    );
    const answers = await Promise.all(
      users.map((h, i) => holdThrough(servers[(i + 1) % 2]!, h, free[i % free.length]!)),
    );
    const won = answers.filter((a) => a.status === 201);
    expect(won).toHaveLength(free.length);
    expect(new Set(won.map((a) => a.body.seatId))).toEqual(new Set(free));
    expect(answers.filter((a) => a.status !== 201).every((a) => a.body.error?.code === 'SEAT_TAKEN')).toBe(
      true,
    );

    const seed = await activeUser('seed2', servers[1]!);
    const map = await fetch(`${servers[1]!.url}/v1/schedules/${scheduleId}/seats`, { headers: seed });
    const statuses = ((await map.json()) as { items: { status: string }[] }).items.map((s) => s.status);
    expect(statuses.every((s) => s === 'HELD')).toBe(true);
  });
});
