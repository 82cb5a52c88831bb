import { holdSeat } from '../../functions/hold-seat/hold-seat.ts';
import { createConcert } from '../../shared/catalog/create-concert.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Database } from '../../shared/db/connect.ts';
import { credit } from '../../shared/points/wallet-store.ts';
import { createMemoryHoldGuard, type HoldGuard } from '../../shared/seats/hold-guard.ts';
import { createMemorySeatCache } from '../../shared/seats/seat-cache.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';

/** A fresh schedule with `seats` seats at `price`: tests isolate by new ids, not by cleaning tables. */
export async function freshSchedule(database: Database, clock: Clock, seats = 5, price = 80_000) {
  const created = await createConcert(
    database.db,
    {
      title: 'Fixture',
      venue: 'Hall',
      schedules: [{ startsAt: clock.now() + 86_400_000, seatCount: seats, price }],
    },
    clock.now(),
  );
  const scheduleId = Number(created.schedules[0]!.id);
  const rows = await database.db
    .selectFrom('seats')
    .select('id')
    .where('schedule_id', '=', scheduleId)
    .orderBy('number')
    .execute();
  return { concertId: Number(created.id), scheduleId, seatIds: rows.map((r) => Number(r.id)) };
}

export function holdDeps(
  database: Database,
  clock: Clock,
  options: { ttlMs?: number; guard?: HoldGuard } = {},
) {
  return {
    seats: seatStoreFor(database.db),
    clock,
    holdTtlMs: options.ttlMs ?? 300_000,
    guard: options.guard ?? createMemoryHoldGuard(() => clock.now()),
    seatCache: createMemorySeatCache(() => clock.now()),
  };
}

export async function hold(
  database: Database,
  clock: Clock,
  userId: string,
  scheduleId: number,
  seatId: number,
  options: { ttlMs?: number; guard?: HoldGuard } = {},
) {
  return holdSeat(holdDeps(database, clock, options), { userId, scheduleId, seatId });
}

export async function charge(database: Database, userId: string, amount: number, now: number) {
  await database.db.transaction().execute((trx) => credit(trx, { userId, amount, type: 'CHARGE', now }));
}

export async function outboxFor(database: Database, key: string) {
  return database.db
    .selectFrom('outbox')
    .select(['event_id', 'topic', 'event_key', 'payload'])
    .where('event_key', '=', key)
    .orderBy('id')
    .execute();
}
