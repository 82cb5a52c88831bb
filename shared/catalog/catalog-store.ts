import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { concertExists, concertPage, listSchedules, loadSeatMap } from './catalog-queries.ts';
import { type CreatedConcert, createConcert, type NewConcert } from './create-concert.ts';

/**
 * The catalogue function's port on concerts, schedules and seat maps: its use cases hold this, not a
 * database handle. Lists read the replica (they tolerate replication lag); the seat map and writes go to
 * the primary, where holds are decided.
 */
export interface CatalogStore {
  concertPage(input: Parameters<typeof concertPage>[1]): ReturnType<typeof concertPage>;
  concertExists(concertId: number): Promise<boolean>;
  schedules(concertId: number, now: number): ReturnType<typeof listSchedules>;
  seatMap(scheduleId: number, now: number): ReturnType<typeof loadSeatMap>;
  createConcert(input: NewConcert, now: number): Promise<CreatedConcert>;
}

export function catalogStoreFor(databases: { primary: Kysely<DB>; read: Kysely<DB> }): CatalogStore {
  const { primary, read } = databases;
  return {
    concertPage: (input) => concertPage(read, input),
    concertExists: (concertId) => concertExists(read, concertId),
    schedules: (concertId, now) => listSchedules(read, concertId, now),
    seatMap: (scheduleId, now) => loadSeatMap(primary, scheduleId, now),
    createConcert: (input, now) => createConcert(primary, input, now),
  };
}
