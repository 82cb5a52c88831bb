import { expect } from 'vitest';
import { call, type TestServer } from './embedded-server.ts';
import { bearer } from './harness.ts';

/**
 * Setup over the public HTTP API, as a client does it: an admin creates a concert, a user enters its queue
 * and is admitted at once. Each step asserts it went through, so a broken setup fails where it broke.
 */

export interface ConcertSpec {
  title: string;
  seatCount: number;
  price: number;
  /** One schedule a day from 2030-01-01 19:00Z, each with `seatCount` seats at `price`. Default 1. */
  schedules?: number;
}

/** A concert created through POST /v1/admin/concerts with an admin bearer. */
export async function createConcertOverHttp(server: TestServer, spec: ConcertSpec) {
  const { title, seatCount, price, schedules = 1 } = spec;
  const created = await call(server, 'POST', '/v1/admin/concerts', {
    headers: await bearer('root', 'admin'),
    body: {
      title,
      venue: 'Hall',
      schedules: Array.from({ length: schedules }, (_, day) => ({
        startsAt: `2030-01-${String(day + 1).padStart(2, '0')}T19:00:00Z`,
        seatCount,
        price,
      })),
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const scheduleIds = (created.body.schedules as { id: string }[]).map((schedule) => schedule.id);
  return { concertId: created.body.id as string, scheduleId: scheduleIds[0]!, scheduleIds };
}

/** Bearer plus the `x-queue-token` of a user who entered the concert's queue and was admitted at once. */
export async function admittedUser(
  server: TestServer,
  userId: string,
  concertId: string,
): Promise<{ authorization: string; 'x-queue-token': string }> {
  const auth = await bearer(userId);
  const entered = await call(server, 'POST', '/v1/queue/tokens', { headers: auth, body: { concertId } });
  expect(`${entered.status} ${entered.body.status}`).toBe('201 ACTIVE');
  return { authorization: auth.authorization!, 'x-queue-token': String(entered.body.accessToken) };
}

/** The seat ids of a schedule as its seat map lists them, read with an admitted user's headers. */
export async function seatIdsOf(
  server: TestServer,
  headers: Record<string, string>,
  scheduleId: string,
): Promise<string[]> {
  const map = await call(server, 'GET', `/v1/schedules/${scheduleId}/seats`, { headers });
  expect(map.status, JSON.stringify(map.body)).toBe(200);
  return (map.body.items as { id: string }[]).map((seat) => seat.id);
}
