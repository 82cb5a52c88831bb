import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../shared/db/connect.ts';
import { createRedis } from '../../shared/redis/client.ts';
import { call, startTestServer } from '../support/embedded-server.ts';
import { bearer } from '../support/harness.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const asRoot = process.getuid?.() === 0;

/**
 * The links production uses: RDS Proxy accepts only TLS, ElastiCache with in-transit encryption only TLS
 * plus its auth token. A MariaDB and a Redis of this file's own, with a CA made here, stand in for them,
 * and refuse plain connections as those do, so a client that silently skipped TLS could not pass.
 */
describe('TLS to the database and Redis', () => {
  const parent = process.env.SERVICES_DIR ?? join(root, '.services');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'tls-'));
  // Unix socket paths are short; the data stays in `dir`.
  const socket = join(tmpdir(), `concert-tls-${randomBytes(4).toString('hex')}.sock`);
  // With characters a template must percent-encode, as generated RDS passwords and AUTH tokens have.
  const password = `db-${randomBytes(12).toString('hex')}&#!`;
  const authToken = `token-${randomBytes(12).toString('hex')}&#!`;
  const inUrl = encodeURIComponent;
  const ca = join(dir, 'ca.pem');
  const children: ChildProcess[] = [];
  let dbPort = 0;
  let redisPort = 0;

  const databaseUrl = (host: string, query: string) =>
    `mysql://concert:${inUrl(password)}@${host}:${dbPort}/concert${query}`;
  const asRootSql = (statement: string) =>
    run(
      'mariadb',
      ['--no-defaults', `--socket=${socket}`, `--user=${userInfo().username}`, '-e', statement],
      {
        timeout: 10_000,
      },
    );

  beforeAll(async () => {
    await makeCertificates(dir);
    [dbPort, redisPort] = [await freePort(), await freePort()];

    const datadir = join(dir, 'mariadb');
    await run(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${datadir}`,
        '--auth-root-authentication-method=socket',
        `--auth-root-socket-user=${userInfo().username}`,
        '--skip-test-db',
        ...(asRoot ? ['--user=root'] : []),
      ],
      { timeout: 90_000 },
    );
    children.push(
      spawn(
        'mariadbd',
        [
          '--no-defaults',
          ...(asRoot ? ['--user=root'] : []),
          `--datadir=${datadir}`,
          `--socket=${socket}`,
          `--port=${dbPort}`,
          '--bind-address=127.0.0.1',
          `--log-error=${join(dir, 'mariadb.log')}`,
          `--pid-file=${join(dir, 'mariadb.pid')}`,
          '--skip-name-resolve',
          '--skip-log-bin',
          '--performance-schema=OFF',
          '--innodb-buffer-pool-size=32M',
          `--ssl-ca=${ca}`,
          `--ssl-cert=${join(dir, 'server.pem')}`,
          `--ssl-key=${join(dir, 'server.key')}`,
          '--require-secure-transport=ON',
          // As the RDS parameter group and scripts/services set it.
          '--transaction-isolation=READ-COMMITTED',
        ],
        { stdio: 'ignore' },
      ),
      spawn(
        'redis-server',
        [
          '--port',
          '0',
          '--tls-port',
          String(redisPort),
          '--bind',
          '127.0.0.1',
          '--tls-cert-file',
          join(dir, 'server.pem'),
          '--tls-key-file',
          join(dir, 'server.key'),
          '--tls-ca-cert-file',
          ca,
          '--tls-auth-clients',
          'no',
          '--requirepass',
          authToken,
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
        ],
        { stdio: 'ignore' },
      ),
    );
    await until(() => asRootSql('select 1'), 60_000);
    await asRootSql(
      `create database concert character set utf8mb4 collate utf8mb4_bin;
       create user 'concert'@'%' identified by '${password}';
       grant all privileges on concert.* to 'concert'@'%';`,
    );
    await until(async () => {
      const probe = new Redis({
        port: redisPort,
        host: 'localhost',
        password: authToken,
        tls: { ca: readFileSync(ca) },
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      try {
        await probe.connect();
        await probe.ping();
      } finally {
        probe.disconnect();
      }
    }, 30_000);
  }, 150_000);

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(socket, { force: true });
  }, 40_000);

  it('serves a request through the URL forms an ExternalSecret templates, over TLS, without SET per connection', async () => {
    const server = await startTestServer({
      DATABASE_URL: databaseUrl('localhost', '?ssl-mode=VERIFY_IDENTITY'),
      DATABASE_READ_URL: databaseUrl('localhost', '?ssl-mode=VERIFY_IDENTITY'),
      DATABASE_CA_FILE: ca,
      DB_POOL_SIZE: '2',
      REDIS_URL: `rediss://:${inUrl(authToken)}@localhost:${redisPort}`,
      REDIS_CA_FILE: ca,
    });
    try {
      // Redis listens on TLS alone (`--port 0`), so every Redis answer below came over it.
      expect((await call(server, 'GET', '/readyz')).status).toBe(200);
      const user = await bearer(`tls-${randomBytes(4).toString('hex')}`);
      const charge = await call(server, 'POST', '/v1/points/charges', {
        headers: { ...user, 'idempotency-key': 'tls-charge' },
        body: { amount: 700 },
      });
      expect(charge.status).toBe(201);
      expect((await call(server, 'GET', '/v1/points', { headers: user })).body).toMatchObject({
        balance: 700,
      });

      for (const db of [server.runtime.database.db, server.runtime.database.read]) {
        const session = await sql<{ cipher: string; isolation: string; sets: string }>`
          select
            (select variable_value from information_schema.session_status where variable_name = 'SSL_CIPHER') as cipher,
            @@session.tx_isolation as isolation,
            (select variable_value from information_schema.session_status where variable_name = 'COM_SET_OPTION') as sets`.execute(
          db,
        );
        // A SET on a connection pins it to its client in RDS Proxy: the server's default must do.
        expect(session.rows[0]).toMatchObject({ isolation: 'READ-COMMITTED', sets: '0' });
        expect(session.rows[0]?.cipher).not.toBe('');
      }
    } finally {
      await server.close();
    }
  });

  it('is refused without TLS, with an unknown CA, or with a wrong auth token', async () => {
    const connect = async (url: string, caFile?: string) => {
      const database = await connectDatabase({
        url,
        caFile,
        driver: 'mysql2',
        poolSize: 1,
        connectTimeoutMs: 3000,
        dataDir: '/nonexistent',
      });
      try {
        await database.ping();
        return 'connected';
      } catch (error) {
        return `${(error as { code?: string }).code} ${(error as Error).message}`;
      } finally {
        await database.close();
      }
    };
    // MariaDB answers a plain login with "access denied" (MySQL names the transport); the same account
    // logs in over TLS above, so the transport is what is refused.
    expect(await connect(databaseUrl('localhost', ''))).toMatch(
      /^(ER_ACCESS_DENIED_ERROR|ER_SECURE_TRANSPORT_REQUIRED) /,
    );
    expect(await connect(databaseUrl('localhost', '?ssl-mode=VERIFY_IDENTITY'))).toMatch(/SELF_SIGNED|CERT/i);
    // The RDS bundle replaces Node's roots rather than adding a CA that signed anything here.
    expect(await connect(databaseUrl('localhost', '?ssl-mode=VERIFY_IDENTITY'), 'aws-rds')).toMatch(
      /SELF_SIGNED|CERT/i,
    );
    // By IP address the host name cannot be checked (config refuses VERIFY_IDENTITY there); the chain still is.
    expect(await connect(databaseUrl('127.0.0.1', '?ssl-mode=VERIFY_CA'))).toMatch(/SELF_SIGNED|CERT/i);
    expect(await connect(databaseUrl('127.0.0.1', '?ssl-mode=VERIFY_CA'), ca)).toBe('connected');

    const redisAnswer = async (url: string, caFile?: string) => {
      const redis = createRedis({ url, caFile, commandTimeoutMs: 1000 });
      // ioredis rejects with "Connection is closed"; the cause comes as an error event.
      let cause = '';
      redis.on('error', (error: Error) => {
        cause = error.message;
      });
      try {
        await redis.connect();
        return await redis.ping();
      } catch (error) {
        return `${String(error)} ${cause}`;
      } finally {
        redis.disconnect();
      }
    };
    expect(await redisAnswer(`redis://:${inUrl(authToken)}@localhost:${redisPort}`)).not.toBe('PONG');
    expect(await redisAnswer(`rediss://:${inUrl(authToken)}@localhost:${redisPort}`)).toMatch(
      /self-signed|certificate/i,
    );
    expect(await redisAnswer(`rediss://:wrong-token@localhost:${redisPort}`, ca)).toMatch(
      /WRONGPASS|invalid/i,
    );
    expect(await redisAnswer(`rediss://:${inUrl(authToken)}@localhost:${redisPort}`, ca)).toBe('PONG');
  });

  it('sets READ COMMITTED on each connection, and says so, where the server has another default', async () => {
    await asRootSql("set global tx_isolation = 'REPEATABLE-READ'");
    const told: string[] = [];
    const database = await connectDatabase({
      url: databaseUrl('localhost', '?ssl-mode=VERIFY_IDENTITY'),
      caFile: ca,
      driver: 'mysql2',
      poolSize: 2,
      connectTimeoutMs: 3000,
      dataDir: '/nonexistent',
      onIsolationFallback: (level) => told.push(level),
    });
    try {
      const levels = await Promise.all(
        [1, 2].map(() =>
          database.db.transaction().execute(async (trx) => {
            const { rows } = await sql<{ level: string }>`select @@session.tx_isolation as level`.execute(
              trx,
            );
            await sql`select sleep(0.05)`.execute(trx);
            return rows[0]?.level;
          }),
        ),
      );
      expect(levels).toEqual(['READ-COMMITTED', 'READ-COMMITTED']);
      expect(told).toEqual(['REPEATABLE-READ']);
    } finally {
      await database.close();
      await asRootSql("set global tx_isolation = 'READ-COMMITTED'");
    }
  });
});

async function makeCertificates(dir: string): Promise<void> {
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir, timeout: 30_000 });
  const key = ['-newkey', 'rsa:2048', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...key,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=concert test CA',
  ]);
  await openssl(['req', ...key, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  // Only the DNS name: a client that reaches the server by IP must fail the host name check.
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost\n');
  await openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

async function until(attempt: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((done) => setTimeout(done, 200));
    }
  }
}
