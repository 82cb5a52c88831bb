import { bearerOf, json } from '../lib/context.ts';
import { type Scenario, sentOf, settled, statusCount } from './scenario.ts';

const enterUsers = 20_000;
const statusUsers = 5_000;
/** The line's own default (QUEUE_MAX_ACTIVE): at an opening most of the crowd waits. */
const openingMaxActive = 500;

/**
 * An opening: 20,000 users enter one line that admits 500, so almost every answer is a WAITING place
 * (the bench server's QUEUE_MAX_ACTIVE is set high for the other scenarios; this concert's is set back).
 */
export const enterQueueOpening: Scenario = {
  name: 'enter-opening',
  about: `${enterUsers} users enter one queue at an opening (maxActive ${openingMaxActive}: most WAITING)`,
  async run(ctx) {
    const users = await ctx.users('o', enterUsers);
    const { concertId } = await ctx.createConcert(1, 1);
    const admin = await ctx.adminHeaders();
    await ctx.http.expect(200, 'PUT', `/v1/admin/queues/${concertId}`, {
      headers: admin,
      json: { maxActive: openingMaxActive },
    });
    const body = JSON.stringify({ concertId });
    const measured = await ctx.load(
      'enter-opening',
      users.map(bearerOf),
      users.map((_, i) => ({ method: 'POST', path: '/v1/queue/tokens', user: i, body, headers: json })),
    );
    const view = await settled(() =>
      ctx.http.expect<{ active: number; waiting: number }>(200, 'GET', `/v1/admin/queues/${concertId}`, {
        headers: admin,
      }),
    );
    const entered = sentOf(measured);
    const inLine = view.active + view.waiting;
    const ok =
      view.active <= openingMaxActive &&
      inLine <= entered + ctx.options.connections &&
      entered - inLine <= ctx.options.connections;
    return [
      {
        id: 'enter-queue-opening',
        title: 'enter queue at an opening',
        variant: '',
        endpoint: 'POST /v1/queue/tokens',
        counted: { label: '201', count: statusCount(measured.run, 201) },
        measured,
        correctness: {
          ok,
          text: `${view.active} ACTIVE (at most ${openingMaxActive}) + ${view.waiting} waiting / ${entered} users entered`,
        },
      },
    ];
  },
};

/** Many users entering one concert's line: POST /v1/queue/tokens (each list entry a different user). */
export const enterQueue: Scenario = {
  name: 'enter-queue',
  about: `${enterUsers} users enter one queue (list cycles: later passes re-enter, same place)`,
  async run(ctx) {
    const users = await ctx.users('e', enterUsers);
    const { concertId } = await ctx.createConcert(1, 1);
    const body = JSON.stringify({ concertId });
    const measured = await ctx.load(
      'enter-queue',
      users.map(bearerOf),
      users.map((_, i) => ({ method: 'POST', path: '/v1/queue/tokens', user: i, body, headers: json })),
    );
    const admin = await ctx.adminHeaders();
    const view = await settled(() =>
      ctx.http.expect<{ active: number; waiting: number }>(200, 'GET', `/v1/admin/queues/${concertId}`, {
        headers: admin,
      }),
    );
    const entered = sentOf(measured);
    const ok = view.waiting === 0 && Math.abs(view.active - entered) <= ctx.options.connections;
    return [
      {
        id: 'enter-queue',
        title: 'enter queue, admitted (ACTIVE, queue.activated)',
        variant: '',
        endpoint: 'POST /v1/queue/tokens',
        counted: { label: '201', count: statusCount(measured.run, 201) },
        measured,
        correctness: {
          ok,
          text: `${view.active} ACTIVE / ${entered} users entered, ${view.waiting} waiting`,
        },
      },
    ];
  },
};

/** Polling: GET /v1/queue/status with each user's queue token (ACTIVE users: re-issues the access token). */
export const queueStatus: Scenario = {
  name: 'queue-status',
  about: `${statusUsers} users poll their place`,
  async run(ctx) {
    const users = await ctx.users('s', statusUsers);
    const { concertId } = await ctx.createConcert(1, 1);
    await ctx.enterQueue(users, concertId);
    const measured = await ctx.load(
      'queue-status',
      users.map((u) => ({ ...bearerOf(u), 'X-Queue-Token': u.queue.get(concertId)!.queueToken })),
      users.map((_, i) => ({ method: 'GET', path: '/v1/queue/status', user: i })),
    );
    const ok = statusCount(measured.run, 200) === measured.run.requests;
    return [
      {
        id: 'queue-status',
        title: 'queue status',
        variant: '',
        endpoint: 'GET /v1/queue/status',
        counted: { label: '200', count: statusCount(measured.run, 200) },
        measured,
        correctness: { ok, text: ok ? 'every poll 200' : 'polls refused (see statuses)' },
      },
    ];
  },
};
