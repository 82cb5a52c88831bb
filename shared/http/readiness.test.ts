import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.ts';
import { createHttpApp, type ReadinessCheck } from './create-http-app.ts';

const up = async () => {};
const down = async () => {
  throw new Error('connect ECONNREFUSED');
};

function readyz(readiness: ReadinessCheck[]) {
  const app = createHttpApp({
    name: 'test',
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    maxBodyBytes: 1024,
    readiness,
    routes: [],
  });
  return app.request('/readyz');
}

describe('/readyz', () => {
  it('stays 200 and says degraded when only a dependency the process can serve without is down', async () => {
    const res = await readyz([
      { name: 'database', check: up },
      { name: 'kafka', check: down, whenDown: 'degraded' },
    ]);
    expect(res.status).toBe(200);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await res.json()).toEqual({
      status: 'degraded',
      checks: [
        { name: 'database', ok: true, status: 'ok' },
        { name: 'kafka', ok: false, status: 'degraded', error: 'connect ECONNREFUSED' },
      ],
    });
  });

  it('answers 503 with Retry-After when a dependency it needs is down, degraded ones or not', async () => {
    const res = await readyz([
      { name: 'database', check: down },
      { name: 'kafka', check: down, whenDown: 'degraded' },
    ]);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await res.json()) as { status: string; checks: { name: string; status: string }[] };
    expect(body.status).toBe('unavailable');
    expect(body.checks.map((c) => `${c.name} ${c.status}`)).toEqual([
      'database unavailable',
      'kafka degraded',
    ]);
  });

  it('says ready when everything answers', async () => {
    const res = await readyz([{ name: 'kafka', check: up, whenDown: 'unavailable' }]);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('ready');
  });
});
