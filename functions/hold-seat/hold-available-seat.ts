import { type Kysely, sql } from 'kysely';
import { dialectOf } from '../../shared/db/dialect.ts';
import { isUniqueViolation, retryOnConflict } from '../../shared/db/errors.ts';
import { outboxShards } from '../../shared/db/migrations/0002_outbox_shards.ts';
import type { DB } from '../../shared/db/schema.ts';
import { partitionFor } from '../../shared/events/bus.ts';
import type { ReservationRow } from './reservation-view.ts';

/** MySQL's "no such procedure": a schema not migrated to 0003, or a server without stored procedures. */
const noSuchProcedure = 1305;

export interface OneTripHold {
  /** The new reservation, or null when the seat was not AVAILABLE (the caller then takes the long way). */
  hold(input: {
    userId: string;
    scheduleId: number;
    seatId: number;
    now: number;
    expiresAt: number;
  }): Promise<ReservationRow | null>;
}

/**
 * Holds an AVAILABLE seat in one round trip through the hold_available_seat procedure (migration 0003),
 * on MySQL; null elsewhere, and the code path decides alone. A duplicate on the live-reservation index
 * (a lapsed hold not yet tidied) answers null too: the code path knows how to take that over.
 */
export function oneTripHoldFor(db: Kysely<DB>): OneTripHold | null {
  if (!byDatabase.has(db)) byDatabase.set(db, dialectOf(db) === 'mysql' ? procedureHold(db) : null);
  return byDatabase.get(db) ?? null;
}

const byDatabase = new WeakMap<Kysely<DB>, OneTripHold | null>();

function procedureHold(db: Kysely<DB>): OneTripHold {
  let available = true;
  return {
    async hold(input) {
      if (!available) return null;
      try {
        const result = await retryOnConflict(() =>
          sql<{
            reservation_id: number | null;
            price: number | null;
          }>`call hold_available_seat(${input.userId}, ${input.scheduleId}, ${input.seatId}, ${input.now}, ${input.expiresAt}, ${new Date(input.expiresAt).toISOString()}, ${partitionFor(String(input.seatId), outboxShards)})`.execute(
            db,
          ),
        );
        // CALL answers its result set, then the status of the call itself.
        const rows = result.rows as unknown as unknown[];
        const first = (Array.isArray(rows[0]) ? rows[0][0] : rows[0]) as
          | { reservation_id: number | null; price: number | null }
          | undefined;
        if (!first || first.reservation_id === null || first.price === null) return null;
        return {
          id: Number(first.reservation_id),
          user_id: input.userId,
          schedule_id: input.scheduleId,
          seat_id: input.seatId,
          price: Number(first.price),
          status: 'HELD',
          expires_at: input.expiresAt,
        };
      } catch (error) {
        if (isUniqueViolation(error)) return null;
        if ((error as { errno?: number }).errno === noSuchProcedure) {
          available = false;
          return null;
        }
        throw error;
      }
    },
  };
}
