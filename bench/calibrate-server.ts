import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { createPool } from 'mysql2/promise';

/**
 * The machine's own reference points, measured in the same run as the real server: a bare Hono handler,
 * one Redis round trip per request, one MariaDB primary-key read per request (pool of 10, as the server).
 * PORT, DATABASE_URL and REDIS_URL come from the bench.
 */
const port = Number(process.env.PORT);
const redis = new Redis(process.env.REDIS_URL ?? '', { enableAutoPipelining: true });
const pool = createPool({ uri: process.env.DATABASE_URL ?? '', connectionLimit: 10 });
await pool.query('create table if not exists calibrate (id int primary key, v varchar(16))');
await pool.query("insert ignore into calibrate values (1, 'one')");

const app = new Hono();
app.get('/bare', (c) => c.text('ok'));
app.get('/redis', async (c) => c.text((await redis.get('calibrate:missing')) ?? 'none'));
app.get('/db', async (c) => {
  const [rows] = await pool.query('select id, v from calibrate where id = ?', [1]);
  return c.json(rows);
});
app.get('/readyz', (c) => c.text('ok'));

const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
process.on('SIGTERM', () => {
  server.close();
  redis.disconnect();
  void pool.end().finally(() => process.exit(0));
});
