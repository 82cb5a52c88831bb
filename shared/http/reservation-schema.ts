import { z } from '@hono/zod-openapi';

export const reservationSchema = z
  .object({
    id: z.string(),
    scheduleId: z.string(),
    seatId: z.string(),
    status: z.enum(['HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED']),
    price: z.number().int(),
    expiresAt: z.string(),
  })
  .openapi('Reservation');
