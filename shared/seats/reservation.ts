import type { ReservationStatus } from '../db/schema.ts';

export interface ReservationRow {
  id: number;
  user_id: string;
  schedule_id: number;
  seat_id: number;
  price: number;
  status: ReservationStatus;
  expires_at: number;
}

export const reservationColumns = [
  'id',
  'user_id',
  'schedule_id',
  'seat_id',
  'price',
  'status',
  'expires_at',
] as const;

/** API shape; a HELD reservation past its expiry reads as EXPIRED even before the sweeper marks it. */
export function reservationView(row: ReservationRow, now: number) {
  const status = row.status === 'HELD' && Number(row.expires_at) <= now ? 'EXPIRED' : row.status;
  return {
    id: String(row.id),
    scheduleId: String(row.schedule_id),
    seatId: String(row.seat_id),
    status,
    price: Number(row.price),
    expiresAt: new Date(Number(row.expires_at)).toISOString(),
  };
}

export type ReservationView = ReturnType<typeof reservationView>;
