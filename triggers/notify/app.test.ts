import { CloudEvent } from 'cloudevents';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { toHttpBinary } from '../../shared/events/cloudevents.ts';
import { embeddedDatabase, httpOptions, manualClock } from '../../tests/support/harness.ts';
import { createApp } from './app.ts';
import type { NotifyDeps } from './notify.ts';
import { signWebhook, verifyWebhook } from './webhook-signature.ts';

const event = new CloudEvent<unknown>({
  id: 'payment.completed:5',
  type: 'payment.completed',
  source: '/test',
  datacontenttype: 'application/json',
  data: { paymentId: '5' },
});

async function appWith(over: Partial<NotifyDeps>) {
  const database = await embeddedDatabase();
  const deps: NotifyDeps = {
    db: database.db,
    clock: manualClock(),
    logger: pino({ level: 'silent' }),
    timeoutMs: 1000,
    backoffMs: 1,
    ...over,
  };
  const app = createApp(deps, httpOptions());
  return (e: CloudEvent<unknown>) => {
    const { headers, body } = toHttpBinary(e);
    return app.request('/', { method: 'POST', headers, body });
  };
}

describe('notify trigger', () => {
  it('logs and answers 200 when no webhook is configured', async () => {
    const post = await appWith({});
    expect(await (await post(event)).json()).toEqual({ result: 'skipped' });
  });

  it('sends once per event id, signed, and answers 503 (to be retried) while the receiver fails', async () => {
    const calls: { headers: Record<string, string>; body: string }[] = [];
    let failing = true;
    const post = await appWith({
      webhookUrl: 'http://receiver.test/hook',
      webhookSecret: 'secret-0123456789abcdef',
      post: async (headers, body) => {
        calls.push({ headers, body });
        return { status: failing ? 502 : 204, body: '' };
      },
    });
    const failed = await post(event);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('5');
    expect(calls).toHaveLength(3);
    failing = false;
    expect(await (await post(event)).json()).toEqual({ result: 'sent' });
    expect(await (await post(event)).json()).toEqual({ result: 'duplicate' });
    expect(calls).toHaveLength(4);
    const sent = calls[3]!;
    expect(sent.headers['x-concert-event-id']).toBe('payment.completed:5');
    expect(JSON.parse(sent.body)).toMatchObject({ id: 'payment.completed:5', data: { paymentId: '5' } });
    expect(
      verifyWebhook(
        'secret-0123456789abcdef',
        sent.headers['x-concert-signature'],
        sent.body,
        manualClock().now(),
      ),
    ).toBe(true);
  });
});

describe('webhook signature', () => {
  it('binds the body and the time, and refuses a replay outside the tolerance', () => {
    const now = 1_800_000_000_000;
    const header = signWebhook('k'.repeat(16), '{"a":1}', now);
    expect(verifyWebhook('k'.repeat(16), header, '{"a":1}', now + 60_000)).toBe(true);
    expect(verifyWebhook('k'.repeat(16), header, '{"a":2}', now)).toBe(false);
    expect(verifyWebhook('x'.repeat(16), header, '{"a":1}', now)).toBe(false);
    expect(verifyWebhook('k'.repeat(16), header, '{"a":1}', now + 301_000)).toBe(false);
    expect(verifyWebhook('k'.repeat(16), undefined, '{"a":1}', now)).toBe(false);
  });
});
