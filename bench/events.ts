import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { connectDatabase } from '../shared/db/connect.ts';
import { appendToOutbox } from '../shared/outbox/outbox-writer.ts';
import { ensureServices } from '../tests/setup/services.ts';
import { startServerProcess } from '../tests/support/server-process.ts';

/**
 * `npm run bench -- events`: end-to-end latency from commit to webhook delivery, and relay throughput.
 * The all-in-one server runs on real MariaDB, Redis and Kafka (relay loop → Kafka → dispatcher → notify →
 * signed webhook); this process commits outbox rows at a fixed rate, each stamped with its commit time,
 * and a local HTTP receiver notes when each webhook arrives. Then a burst measures how fast the relay drains.
 */
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '10' },
    burst: { type: 'string', default: '20000' },
    /** A directory: the server writes a CPU profile there when it stops. */
    profile: { type: 'string' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.duration);
const burst = Number(values.burst);
const log = (line: string) => process.stdout.write(`[events] ${line}\n`);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function main() {
  const services = await ensureServices((line) => log(line));
  const suffix = Date.now().toString(36);
  const base = new URL(services.databaseUrl);
  const dbName = `concert_bench_events_${suffix}`;
  const { createConnection } = await import('mysql2/promise');
  const admin = await createConnection({ uri: base.toString() });
  await admin.query(`CREATE DATABASE \`${dbName}\``);
  const url = new URL(base);
  url.pathname = `/${dbName}`;

  const arrivals = new Map<string, number>();
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrivals.set(String(req.headers['x-concert-event-id']), performance.timeOrigin + performance.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const server = await startServerProcess(
    {
      DATABASE_URL: url.toString(),
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: `bench-events-${suffix}:`,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `benchev${suffix}.`,
      NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      NOTIFY_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
      AUTH_JWT_SECRET: 'bench-events-secret-0123456789-0123456789',
      QUEUE_TOKEN_SECRET: 'bench-events-queue-0123456789-0123456789',
      OUTBOX_RELAY_INTERVAL_MS: '20',
      LOG_LEVEL: 'warn',
    },
    values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [],
  );
  const database = await connectDatabase({
    url: url.toString(),
    driver: 'mysql2',
    poolSize: 4,
    connectTimeoutMs: 3000,
    dataDir: '/nonexistent',
  });
  try {
    const commitTimes = new Map<string, number>();
    let n = 0;
    const commit = async (count: number, record: boolean) => {
      await database.db.transaction().execute(async (trx) => {
        for (let i = 0; i < count; i++) {
          const id = `bench-${n++}`;
          await appendToOutbox(
            trx,
            { topic: 'reservation.created', key: `seat-${n % 500}`, factId: id, data: { bench: true } },
            Date.now(),
          );
        }
      });
      if (record) {
        const at = performance.timeOrigin + performance.now();
        for (let i = n - count; i < n; i++) commitTimes.set(`reservation.created:bench-${i}`, at);
      }
    };

    log(`warming up (Kafka topics, consumer groups)`);
    await commit(10, false);
    const warm = Date.now() + 30_000;
    while (arrivals.size < 10 && Date.now() < warm) await new Promise((r) => setTimeout(r, 50));

    log(`committing ${rate} events/s for ${seconds} s (batches every 10 ms)`);
    const perTick = rate / 100;
    let owed = 0;
    const start = performance.now();
    for (let tick = 0; tick < seconds * 100; tick++) {
      owed += perTick;
      const count = Math.floor(owed);
      owed -= count;
      if (count > 0) await commit(count, true);
      const next = start + (tick + 1) * 10;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const committed = commitTimes.size;
    const achieved = committed / ((performance.now() - start) / 1000);
    const deadline = Date.now() + 60_000;
    while ([...commitTimes.keys()].some((id) => !arrivals.has(id)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const relayLag = await database.db
      .selectFrom('outbox')
      .select(['created_at', 'sent_at'])
      .where('event_id', 'like', 'reservation.created:bench-%')
      .execute();
    const relayMs = relayLag.map((r) => Number(r.sent_at) - Number(r.created_at)).sort((a, b) => a - b);
    log(`relay (commit → published): p50 ${percentile(relayMs, 50)} ms, p99 ${percentile(relayMs, 99)} ms`);
    const latencies = [...commitTimes]
      .flatMap(([id, at]) => (arrivals.has(id) ? [arrivals.get(id)! - at] : []))
      .sort((a, b) => a - b);

    log(`relay throughput: ${burst} events committed at once, then drained`);
    const burstStart = performance.now();
    for (let left = burst; left > 0; left -= 1000) await commit(Math.min(1000, left), false);
    const committedAt = performance.now();
    // Bounded, so a server that died (or a relay that stopped) ends the run instead of holding the bench lock.
    const drainDeadline = Date.now() + 120_000;
    for (;;) {
      const row = await database.db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('sent_at', 'is', null)
        .executeTakeFirst();
      if (Number(row?.n ?? 0) === 0) break;
      if (Date.now() > drainDeadline) throw new Error(`${row?.n} outbox rows still unsent after 120 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const drainSeconds = (performance.now() - burstStart) / 1000;

    // Retries hide in the tail: a delivery or webhook that failed once costs a backoff, and the Kafka
    // consumer fetches the next records only when every record of the last fetch is done.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const counted = (name: string) =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith(name))
        .map((l) => `${/result="(\w+)"/.exec(l)?.[1] ?? '?'} ${Number(l.split(' ').at(-1))}`)
        .join(', ');

    const cpu = cpus();
    const lines = [
      '',
      `Machine: ${cpu[0]?.model ?? 'unknown'} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`,
      `Commit → webhook (relay loop, Kafka, dispatcher, notify, HTTP receiver), ${achieved.toFixed(0)} events/s for ${seconds} s:`,
      `  delivered ${latencies.length}/${committed}   p50 ${percentile(latencies, 50).toFixed(0)} ms   p99 ${percentile(latencies, 99).toFixed(0)} ms   max ${(latencies.at(-1) ?? Number.NaN).toFixed(0)} ms   (target p99 ≤ 500 ms at 1,000 events/s: ${percentile(latencies, 99) <= 500 && latencies.length === committed ? 'met' : 'missed'})`,
      `  notify deliveries so far: ${counted('event_deliveries_total{target="notify"')}; webhooks: ${counted('notifications_total')}`,
      `Relay throughput: ${burst} events published in ${drainSeconds.toFixed(1)} s = ${(burst / drainSeconds).toFixed(0)} events/s (commit of the burst took ${((committedAt - burstStart) / 1000).toFixed(1)} s of it)`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    await database.close();
    await server.stop();
    receiver.close();
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
    await services.stop();
  }
}

await main();
