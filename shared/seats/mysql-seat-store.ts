import { type Kysely, sql } from 'kysely';
import { isUniqueViolation } from '../db/errors.ts';
import { callProcedure, missingProcedures } from '../db/procedures.ts';
import type { DB } from '../db/schema.ts';
import { partitionFor } from '../events/bus.ts';
import { replayAfterDuplicate, requestHash } from '../idempotency/idempotency.ts';
import { outboxShards } from '../outbox/outbox-writer.ts';
import type { PaymentBody } from './seat-events.ts';
import { seatStatements } from './seat-statements.ts';
import type { HoldOutcome, PayOutcome, PayRefusal, SeatStore } from './seat-store.ts';

interface HoldRow {
  outcome: HoldOutcome['outcome'];
  reservation_id: number | string | null;
  price: number | string | null;
  expires_at: number | string | null;
  holder: string | null;
}

interface PayRow {
  outcome: 'PAID' | PayRefusal;
  body: string | null;
  price: number | string | null;
}

/**
 * The MySQL adapter: a hold and a payment are each one stored procedure (shared/db/sql/), one round trip
 * whatever the outcome; the procedure builds the event rows itself. The rest is the shared statements.
 */
export function createMysqlSeatStore(db: Kysely<DB>): SeatStore {
  return {
    ...seatStatements(db),

    async hold(a) {
      const shard = partitionFor(String(a.seatId), outboxShards);
      const row = await callProcedure(
        'hold_seat',
        db,
        // biome-ignore format: one argument per parameter of the procedure reads best on one line
        sql<HoldRow>`call hold_seat(${a.userId}, ${a.scheduleId}, ${a.seatId}, ${a.now}, ${a.expiresAt}, ${new Date(a.expiresAt).toISOString()}, ${shard})`,
      );
      const num = (value: number | string | null) => (value === null ? null : Number(value));
      switch (row.outcome) {
        case 'HELD':
        case 'MINE':
          // MINE without its reservation row cannot be handed back: it answers as taken.
          if (row.reservation_id === null || row.price === null) break;
          return {
            outcome: row.outcome,
            reservation: {
              id: Number(row.reservation_id),
              user_id: a.userId,
              schedule_id: a.scheduleId,
              seat_id: a.seatId,
              price: Number(row.price),
              status: 'HELD',
              expires_at: Number(row.expires_at),
            },
          };
        case 'SOLD':
        case 'NOT_FOUND':
          return { outcome: row.outcome };
      }
      return { outcome: 'TAKEN', holder: row.holder, until: num(row.expires_at) };
    },

    async pay({ request, reservationId, now }): Promise<PayOutcome> {
      const shard = partitionFor(String(reservationId), outboxShards);
      const hash = requestHash(request.fingerprint);
      const row = await callProcedure(
        'pay_reservation',
        db,
        // biome-ignore format: one argument per parameter of the procedure reads best on one line
        sql<PayRow>`call pay_reservation(${request.userId}, ${reservationId}, ${request.key}, ${hash}, ${now}, ${shard})`,
      ).catch(async (error: unknown) => {
        // The key's record exists: a retry, or a concurrent duplicate that waited for it.
        if (!isUniqueViolation(error)) throw error;
        return { replay: await replayAfterDuplicate<PaymentBody>(db, request, error) };
      });
      if ('replay' in row) {
        return row.replay.ok
          ? { outcome: 'PAID', response: row.replay.value }
          : { outcome: 'KEY_REFUSED', refusal: row.replay };
      }
      if (row.outcome !== 'PAID') return { outcome: row.outcome, price: Number(row.price ?? 0) };
      if (row.body === null) throw new Error('pay_reservation answered PAID without a body');
      return {
        outcome: 'PAID',
        response: { status: 201, body: JSON.parse(row.body) as PaymentBody, replayed: false },
      };
    },

    missingProcedures: () => missingProcedures(db),
  };
}
