/** The API answers the pages read (API.md). */
export interface Concert {
  id: string;
  title: string;
  venue: string;
}
export interface Schedule {
  id: string;
  concertId: string;
  startsAt: string;
  availableSeats: number;
}
export interface Seat {
  id: string;
  number: number;
  price: number;
  status: 'AVAILABLE' | 'HELD' | 'SOLD';
}
export interface QueueAnswer {
  queueToken: string;
  status: 'WAITING' | 'ACTIVE';
  position: number;
  etaSeconds: number;
  pollAfterSeconds: number;
  paused: boolean;
  accessToken?: string;
  activeUntil?: string;
  opensAt?: string;
}
export interface Reservation {
  id: string;
  scheduleId: string;
  seatId: string;
  status: 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED';
  price: number;
  expiresAt: string;
}
export interface QueueAdminView {
  concertId: string;
  waiting: number;
  preRegistered: number;
  active: number;
  admittedTotal: number;
  admissionRatePerSecond: number;
  maxActive: number;
  admitPerSecond: number;
  paused: boolean;
  opensAt: string | null;
  admission: 'fixed' | 'adaptive';
  minAdmitPerSecond: number | null;
  maxAdmitPerSecond: number | null;
  admissionReason: string | null;
  admissionChangedAt: string | null;
}
export interface ScheduleSales {
  scheduleId: string;
  startsAt: string;
  available: number;
  held: number;
  sold: number;
}
export interface ConcertEvent {
  id: string;
  topic: string;
  key: string;
  time: string;
  publishedAt: string | null;
  data: unknown;
}
