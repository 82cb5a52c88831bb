import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.ts';
import { dialectOf } from '../../shared/db/dialect.ts';
import type { DB } from '../../shared/db/schema.ts';
import type { EventBus } from '../../shared/events/bus.ts';
import { toKafkaRecord } from '../../shared/events/cloudevents.ts';

export interface RelayDeps {
  db: Kysely<DB>;
  bus: EventBus;
  clock: Clock;
  batch: number;
  onPublished?(count: number): void;
}

/**
 * Shards one relay claims per run. All of them: a run then publishes everything pending at once (claiming a
 * quarter of them left most of the backlog to later runs and multiplied the latency). Other
 * relays skip the claimed shards and take those that turn pending meanwhile; they are standbys more than
 * parallel workers, which the single-partition-per-key ordering makes the safe default.
 */
const shardsPerClaim = 64;

/**
 * Publishes one batch of pending outbox rows to Kafka and marks them sent, in one transaction. If the
 * publish fails nothing is marked and the rows wait (Kafka outage: the outbox grows, nothing is lost); if
 * the process dies after publishing and before committing, the rows are published again and consumers
 * drop the duplicates by CloudEvent id. On MySQL the relay first claims shards of the outbox with
 * `FOR UPDATE SKIP LOCKED`, so several relays share the work while one key stays with one relay.
 */
export async function relayOnce(deps: RelayDeps): Promise<number> {
  const published = await deps.db.transaction().execute(async (trx) => {
    let shards: number[] | undefined;
    if (dialectOf(trx) === 'mysql') {
      const candidates = await trx
        .selectFrom('outbox')
        .select((eb) => ['shard', eb.fn.min('id').as('first')])
        .where('sent_at', 'is', null)
        .groupBy('shard')
        .orderBy('first')
        .limit(shardsPerClaim)
        .execute();
      if (candidates.length === 0) return 0;
      const claimed = await trx
        .selectFrom('outbox_shards')
        .select('shard')
        .where(
          'shard',
          'in',
          candidates.map((c) => c.shard),
        )
        .forUpdate()
        .skipLocked()
        .execute();
      shards = claimed.map((c) => c.shard);
      if (shards.length === 0) return 0;
    }
    let query = trx
      .selectFrom('outbox')
      .select(['id', 'event_id', 'topic', 'event_key', 'type', 'payload', 'created_at'])
      .where('sent_at', 'is', null);
    if (shards) query = query.where('shard', 'in', shards);
    const rows = await query.orderBy('id').limit(deps.batch).execute();
    if (rows.length === 0) return 0;
    await deps.bus.publish(rows.map(toKafkaRecord));
    await trx
      .updateTable('outbox')
      .set({ sent_at: deps.clock.now() })
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    return rows.length;
  });
  if (published > 0) deps.onPublished?.(published);
  return published;
}

/** Drains what is pending now (several batches), bounded so one call never runs away. */
export async function drainOutbox(deps: RelayDeps, maxBatches = 50): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxBatches; i++) {
    const n = await relayOnce(deps);
    total += n;
    if (n < deps.batch) break;
  }
  return total;
}

export async function outboxBacklog(
  db: Kysely<DB>,
  now: number,
): Promise<{ pending: number; oldestAgeSeconds: number }> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => [eb.fn.countAll<number>().as('pending'), eb.fn.min('created_at').as('oldest')])
    .where('sent_at', 'is', null)
    .executeTakeFirst();
  const pending = Number(row?.pending ?? 0);
  const oldest = row?.oldest === null || row?.oldest === undefined ? now : Number(row.oldest);
  return { pending, oldestAgeSeconds: pending > 0 ? Math.max(0, (now - oldest) / 1000) : 0 };
}
