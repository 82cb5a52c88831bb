import { createRoute, z } from '@hono/zod-openapi';
import type { UserTokens } from '../../shared/auth/user-tokens.ts';
import { AppError } from '../../shared/errors.ts';
import { authenticate } from '../../shared/http/authenticate.ts';
import { createHttpApp, type HttpAppOptions } from '../../shared/http/create-http-app.ts';
import {
  bearerSecurity,
  errorResponses,
  idString,
  optionalHeader,
} from '../../shared/http/openapi-common.ts';
import { preserializedJson } from '../../shared/http/preserialized-json.ts';
import { rateLimitPerUser } from '../../shared/http/rate-limit.ts';
import { type QueueAccessCheck, queueTokenHeader } from '../../shared/http/require-queue-access.ts';
import { createRouter } from '../../shared/http/router.ts';
import type { RecentEvent } from '../../shared/outbox/recent-events.ts';
import type { RateLimiter } from '../../shared/rate-limit/rate-limiter.ts';
import { orThrow } from '../../shared/result.ts';
import type { SeatStore } from '../../shared/seats/seat-store.ts';
import { cacheable, catalogueCacheControl } from './http-cache.ts';
import {
  type CatalogDeps,
  concertCursorPattern,
  concertListInput,
  concerts,
  createSeatMapReader,
  schedules,
} from './use-cases.ts';

export interface ListSeatsDeps extends CatalogDeps {
  userTokens: UserTokens;
  rateLimiter: RateLimiter;
  queueAccess: QueueAccessCheck;
  concertOfSchedule(scheduleId: number): Promise<number | null>;
  /** The console's reads: sales per schedule and the concert's latest events. */
  sales: Pick<SeatStore, 'salesOf'>;
  recentEvents(concertId: number, limit: number): Promise<RecentEvent[]>;
}

const concertSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    venue: z.string(),
    firstStartsAt: z.string().nullable(),
    lastStartsAt: z.string().nullable(),
    minPrice: z.number().int().nullable(),
    maxPrice: z.number().int().nullable(),
  })
  .openapi('Concert');
const concertPageSchema = z
  .object({ items: z.array(concertSchema), nextCursor: z.string().nullable() })
  .openapi('ConcertPage');

const flag = (description: string) => z.enum(['true', 'false']).optional().openapi({ description });
const price = z.coerce.number().int().min(0).max(100_000_000).optional();
const concertQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z
      .string()
      .regex(concertCursorPattern, 'must be the nextCursor of a previous page')
      .optional()
      .openapi({
        description: 'The `nextCursor` of the previous page, as it was given, with the same filters',
      }),
    upcoming: flag('`true`: only concerts with a schedule that has not started'),
    onSale: flag('`true`: only concerts with an upcoming schedule that has a seat left'),
    from: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: 'Only concerts with a schedule starting at or after this time' }),
    to: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: 'Only concerts with a schedule starting before this time' }),
    minPrice: price.openapi({ description: 'Only concerts with a schedule priced at least this (KRW)' }),
    maxPrice: price.openapi({ description: 'Only concerts with a schedule priced at most this (KRW)' }),
  })
  // A range whose ends cross is refused, naming its upper end, rather than answered with an empty page the
  // caller would take for "nothing on".
  .superRefine((q, ctx) => {
    if (q.from !== undefined && q.to !== undefined && Date.parse(q.to) < Date.parse(q.from))
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'is before from' });
    if (q.minPrice !== undefined && q.maxPrice !== undefined && q.maxPrice < q.minPrice)
      ctx.addIssue({ code: 'custom', path: ['maxPrice'], message: 'is below minPrice' });
  });

const conditionalHeaders = z.object({
  'if-none-match': z
    .string()
    .optional()
    .openapi({ description: 'The `ETag` of a copy the client has; a match answers `304`' }),
});
const cacheHeaders = {
  ETag: { description: 'Strong validator of the body', schema: { type: 'string' as const } },
  'Cache-Control': {
    description: `\`${catalogueCacheControl}\`: the same for every caller, so shared caches may keep it`,
    schema: { type: 'string' as const },
  },
};
const scheduleSchema = z
  .object({ id: z.string(), concertId: z.string(), startsAt: z.string(), availableSeats: z.number().int() })
  .openapi('Schedule');
const seatMapSchema = z
  .object({
    scheduleId: z.string(),
    items: z.array(
      z.object({
        id: z.string(),
        number: z.number().int(),
        price: z.number().int(),
        status: z.enum(['AVAILABLE', 'HELD', 'SOLD']),
      }),
    ),
  })
  .openapi('SeatMap');

const newConcertSchema = z
  .object({
    title: z.string().trim().min(1).max(200),
    venue: z.string().trim().min(1).max(200),
    schedules: z
      .array(
        z
          .object({
            startsAt: z.iso.datetime({ offset: true }),
            seatCount: z.number().int().min(1).max(1000).default(50),
            price: z.number().int().min(0).max(100_000_000),
          })
          .strict(),
      )
      .min(1)
      .max(100),
  })
  .strict()
  .openapi('NewConcert');
const createdConcertSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    venue: z.string(),
    schedules: z.array(
      z.object({ id: z.string(), startsAt: z.string(), seatCount: z.number(), price: z.number() }),
    ),
  })
  .openapi('CreatedConcert');

const salesSchema = z
  .object({
    concertId: z.string(),
    items: z.array(
      z.object({
        scheduleId: z.string(),
        startsAt: z.string(),
        available: z.number().int().openapi({ description: 'Free, or held by a hold that lapsed' }),
        held: z.number().int().openapi({ description: 'Held by a hold still live' }),
        sold: z.number().int(),
      }),
    ),
  })
  .openapi('ConcertSales');
const eventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const eventsSchema = z
  .object({
    concertId: z.string(),
    items: z.array(
      z.object({
        id: z.string(),
        topic: z.string(),
        key: z.string(),
        time: z.string(),
        publishedAt: z
          .string()
          .nullable()
          .openapi({ description: 'When the relay published it to Kafka; null while it waits' }),
        data: z.unknown().openapi({ description: 'The event data as published (docs/api.md, Events)' }),
      }),
    ),
  })
  .openapi('ConcertEvents');
const adminReadErrors = errorResponses({
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  503: 'DEPENDENCY_UNAVAILABLE',
});
const iso = (ms: number) => new Date(ms).toISOString();

const common = errorResponses({ 401: 'UNAUTHENTICATED', 429: 'RATE_LIMITED', 503: 'DEPENDENCY_UNAVAILABLE' });

export function catalogRoutes(deps: ListSeatsDeps) {
  const app = createRouter();
  const user = [authenticate(deps.userTokens), rateLimitPerUser(deps.rateLimiter, deps.clock)];
  const seatMaps = createSeatMapReader(deps);
  const admin = [authenticate(deps.userTokens, { role: 'admin' })];
  const knownConcert = async (concertId: number) => {
    if (!(await deps.catalog.concertExists(concertId))) throw new AppError('NOT_FOUND', 'No such concert');
  };

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/concerts',
      summary: 'Concerts, newest first, a page at a time (public, cacheable)',
      request: { query: concertQuery, headers: conditionalHeaders },
      responses: {
        200: {
          description: 'A page of concerts',
          headers: cacheHeaders,
          content: { 'application/json': { schema: concertPageSchema } },
        },
        304: { description: 'Not modified: the `If-None-Match` ETag is current', headers: cacheHeaders },
        ...errorResponses({ 400: 'VALIDATION_FAILED', 503: 'DEPENDENCY_UNAVAILABLE' }),
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const input = concertListInput(query);
      const page = cacheable(c, await concerts(deps, input));
      if (page.notModified) return c.body(null, 304);
      return c.json(page.body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/concerts/{concertId}/schedules',
      summary: 'Schedules of a concert with their available seat counts (public, cacheable)',
      request: { params: z.object({ concertId: idString }), headers: conditionalHeaders },
      responses: {
        200: {
          description: 'Schedules',
          headers: cacheHeaders,
          content: { 'application/json': { schema: z.object({ items: z.array(scheduleSchema) }) } },
        },
        304: { description: 'Not modified: the `If-None-Match` ETag is current', headers: cacheHeaders },
        ...errorResponses({ 400: 'VALIDATION_FAILED', 404: 'NOT_FOUND', 503: 'DEPENDENCY_UNAVAILABLE' }),
      },
    }),
    async (c) => {
      const concertId = Number(c.req.valid('param').concertId);
      const items = await schedules(deps, concertId);
      // An empty list is an answer only for a concert that exists.
      if (items.length === 0 && !(await deps.catalog.concertExists(concertId))) {
        // As public as the list it stands for: a CDN keeps floods of unknown ids off the database too.
        c.header('Cache-Control', catalogueCacheControl);
        throw new AppError('NOT_FOUND', 'No such concert');
      }
      const answer = cacheable(c, { items });
      if (answer.notModified) return c.body(null, 304);
      return c.json(answer.body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/schedules/{scheduleId}/seats',
      summary: 'Seat map of a schedule [queue]',
      security: bearerSecurity,
      middleware: user,
      parameters: [optionalHeader(queueTokenHeader)],
      request: {
        params: z.object({ scheduleId: idString }),
      },
      responses: {
        200: { description: 'Seat map', content: { 'application/json': { schema: seatMapSchema } } },
        ...errorResponses({
          400: 'VALIDATION_FAILED',
          403: 'QUEUE_TOKEN_REQUIRED, QUEUE_TOKEN_INVALID, QUEUE_NOT_ACTIVE',
          404: 'NOT_FOUND',
        }),
        ...common,
      },
    }),
    async (c) => {
      const scheduleId = Number(c.req.valid('param').scheduleId);
      const concertId = await deps.concertOfSchedule(scheduleId);
      if (concertId === null) throw new AppError('NOT_FOUND', 'No such schedule');
      // Not the requireQueueAccess middleware: the cache read goes out with the access check (one Redis
      // pipeline), and its answer is used only once access is granted.
      const [access, cached] = await Promise.all([
        deps.queueAccess.check(c.req.header(queueTokenHeader), c.get('user').id, String(concertId)),
        seatMaps.cached(scheduleId),
      ]);
      orThrow(access);
      const json = cached ?? (await seatMaps.load(scheduleId));
      if (json === null) throw new AppError('NOT_FOUND', 'No such schedule');
      return preserializedJson<z.infer<typeof seatMapSchema>>(json);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/concerts',
      summary: 'Create a concert with schedules and seats (admin)',
      security: bearerSecurity,
      middleware: admin,
      request: { body: { required: true, content: { 'application/json': { schema: newConcertSchema } } } },
      responses: {
        201: { description: 'Created', content: { 'application/json': { schema: createdConcertSchema } } },
        // Admin calls are not rate limited, so no 429 here.
        ...errorResponses({
          400: 'VALIDATION_FAILED, MALFORMED_JSON',
          401: 'UNAUTHENTICATED',
          403: 'FORBIDDEN',
          503: 'DEPENDENCY_UNAVAILABLE',
        }),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const created = await deps.catalog.createConcert(
        {
          title: body.title,
          venue: body.venue,
          schedules: body.schedules.map((s) => ({ ...s, startsAt: Date.parse(s.startsAt) })),
        },
        deps.clock.now(),
      );
      return c.json(created, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/concerts/{concertId}/sales',
      summary: 'Seats available, held and sold per schedule of a concert (admin)',
      security: bearerSecurity,
      middleware: admin,
      request: { params: z.object({ concertId: idString }) },
      responses: {
        200: {
          description: 'Per schedule, by start time',
          content: { 'application/json': { schema: salesSchema } },
        },
        ...adminReadErrors,
      },
    }),
    async (c) => {
      const concertId = Number(c.req.valid('param').concertId);
      const items = await deps.sales.salesOf(concertId, deps.clock.now());
      if (items.length === 0) await knownConcert(concertId);
      c.header('Cache-Control', 'no-store');
      return c.json(
        {
          concertId: String(concertId),
          items: items.map((s) => ({ ...s, scheduleId: String(s.scheduleId), startsAt: iso(s.startsAt) })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/concerts/{concertId}/events',
      summary: "A concert's latest events from the outbox, newest first (admin)",
      security: bearerSecurity,
      middleware: admin,
      request: { params: z.object({ concertId: idString }), query: eventsQuery },
      responses: {
        200: { description: 'Newest first', content: { 'application/json': { schema: eventsSchema } } },
        ...adminReadErrors,
      },
    }),
    async (c) => {
      const concertId = Number(c.req.valid('param').concertId);
      const events = await deps.recentEvents(concertId, c.req.valid('query').limit);
      if (events.length === 0) await knownConcert(concertId);
      c.header('Cache-Control', 'no-store');
      return c.json(
        {
          concertId: String(concertId),
          items: events.map((e) => ({
            id: String(e.id),
            topic: e.topic,
            key: e.key,
            time: iso(e.createdAt),
            publishedAt: e.sentAt === null ? null : iso(e.sentAt),
            data: e.data,
          })),
        },
        200,
      );
    },
  );
  return app;
}

export function createApp(deps: ListSeatsDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'list-seats', routes: [catalogRoutes(deps)] });
}
