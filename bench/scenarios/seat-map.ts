import { accessHeaders } from '../lib/context.ts';
import type { Scenario } from './scenario.ts';
import { statusCount } from './scenario.ts';

const users = 2_000;
const schedules = 20;

/** GET /v1/schedules/{id}/seats [queue]: 50-seat maps served from the Redis cache (warmed by the warm-up). */
export const seatMap: Scenario = {
  name: 'seat-map',
  about: `${users} users read the 50-seat maps of ${schedules} schedules (cached)`,
  async run(ctx) {
    const people = await ctx.users('m', users);
    const concert = await ctx.createConcert(schedules, 50);
    await ctx.enterQueue(people, concert.concertId);
    const measured = await ctx.load(
      'seat-map',
      people.map((u) => accessHeaders(u, concert.concertId)),
      people.map((_, i) => ({
        method: 'GET',
        path: `/v1/schedules/${concert.scheduleIds[i % schedules]}/seats`,
        user: i,
      })),
    );
    const sample = await ctx.http.expect<{ items: unknown[] }>(
      200,
      'GET',
      `/v1/schedules/${concert.scheduleIds[0]}/seats`,
      { headers: accessHeaders(people[0]!, concert.concertId) },
    );
    const ok = statusCount(measured.run, 200) === measured.run.requests && sample.items.length === 50;
    return [
      {
        id: 'seat-map',
        title: 'seat map (cached)',
        variant: '',
        endpoint: 'GET /v1/schedules/{id}/seats',
        counted: { label: '200', count: statusCount(measured.run, 200) },
        measured,
        correctness: { ok, text: `every answer 200, ${sample.items.length} seats per map` },
      },
    ];
  },
};
