/**
 * What the pages hand each other in this tab: the queue's access token per concert, the hold per schedule,
 * the payment's idempotency key per reservation.
 */
export interface Access {
  accessToken: string;
  activeUntil: string;
}
export interface Hold {
  reservationId: string;
  seatNumber: number;
  expiresAt: string;
}

const read = <T>(storage: Storage, key: string): T | null => {
  const raw = storage.getItem(key);
  if (raw === null) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
};
const write = (storage: Storage, key: string, value: unknown) =>
  value === null ? storage.removeItem(key) : storage.setItem(key, JSON.stringify(value));

export const access = {
  get: (concertId: string) => read<Access>(sessionStorage, `access:${concertId}`),
  set: (concertId: string, value: Access | null) => write(sessionStorage, `access:${concertId}`, value),
};
export const holds = {
  get: (scheduleId: string) => read<Hold>(sessionStorage, `hold:${scheduleId}`),
  set: (scheduleId: string, value: Hold | null) => write(sessionStorage, `hold:${scheduleId}`, value),
};
export const seatNumbers = {
  get: (reservationId: string) => read<number>(localStorage, `seat:${reservationId}`),
  set: (reservationId: string, value: number) => write(localStorage, `seat:${reservationId}`, value),
};
export const queueStart = {
  get: (concertId: string) => read<number>(sessionStorage, `queue-start:${concertId}`),
  set: (concertId: string, value: number) => write(sessionStorage, `queue-start:${concertId}`, value),
};

/** One key per payment attempt of a reservation: a retry after a lost answer is charged once. */
export function paymentKey(reservationId: string): string {
  const name = `pay-key:${reservationId}`;
  let key = sessionStorage.getItem(name);
  if (!key) {
    key = crypto.randomUUID();
    sessionStorage.setItem(name, key);
  }
  return key;
}
