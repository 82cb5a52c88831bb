import type { CloudEvent } from 'cloudevents';
import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.ts';
import type { DB } from '../../shared/db/schema.ts';
import { DependencyUnavailableError } from '../../shared/errors.ts';
import { type ProcessedLog, processedLog } from '../../shared/events/dedupe.ts';
import { type Post, postTo } from '../../shared/events/http-post.ts';
import type { Logger } from '../../shared/logger.ts';
import { signatureHeader, signWebhook } from './webhook-signature.ts';

export interface NotifyDeps {
  db: Kysely<DB>;
  clock: Clock;
  logger: Logger;
  webhookUrl?: string | undefined;
  webhookSecret?: string | undefined;
  timeoutMs: number;
  /** Quick retries inside one delivery; beyond them the answer is 503 and the delivery is retried later. */
  attempts?: number;
  backoffMs?: number;
  /** How the webhook is POSTed (default: `node:http` with kept-alive connections, `timeoutMs` per try). */
  post?: Post;
  onResult?(result: 'sent' | 'failed' | 'skipped'): void;
}

export const notifyConsumer = 'notify';

export type Notify = (event: CloudEvent<unknown>) => Promise<'sent' | 'duplicate' | 'skipped'>;

/**
 * Delivers one event to the configured webhook, signed, at most once per CloudEvent id as far as this
 * side can tell: the id is recorded after the receiver answered 2xx (a crash in between can repeat it,
 * which is why the id travels in `X-Concert-Event-Id` for the receiver to deduplicate too). Made once per
 * app: the deliveries share one dedupe batcher (their lookups and records go to the database together)
 * and one poster with kept-alive connections.
 */
export function createNotify(deps: NotifyDeps): Notify {
  const processed = processedLog(deps.db, notifyConsumer);
  const post = deps.webhookUrl ? (deps.post ?? postTo(deps.webhookUrl, deps.timeoutMs)) : undefined;
  return (event) => notify(deps, processed, post, event);
}

async function notify(
  deps: NotifyDeps,
  processed: ProcessedLog,
  post: Post | undefined,
  event: CloudEvent<unknown>,
): Promise<'sent' | 'duplicate' | 'skipped'> {
  if (!post) {
    deps.logger.info(
      { ceId: event.id, ceType: event.type },
      'notification (no NOTIFY_WEBHOOK_URL configured)',
    );
    deps.onResult?.('skipped');
    return 'skipped';
  }
  if (await processed.has(event.id)) return 'duplicate';
  const body = JSON.stringify({ id: event.id, type: event.type, time: event.time, data: event.data });
  const attempts = deps.attempts ?? 3;
  let lastError = 'no attempt';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-concert-event-id': event.id,
        'x-concert-event-type': event.type,
      };
      if (deps.webhookSecret)
        headers[signatureHeader] = signWebhook(deps.webhookSecret, body, deps.clock.now());
      const res = await post(headers, body);
      if (res.status >= 200 && res.status < 300) {
        await processed.add(event.id, deps.clock.now());
        deps.onResult?.('sent');
        return 'sent';
      }
      lastError = `HTTP ${res.status}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (attempt < attempts)
      await new Promise((r) => setTimeout(r, (deps.backoffMs ?? 100) * 2 ** (attempt - 1)));
  }
  deps.onResult?.('failed');
  deps.logger.warn({ ceId: event.id, error: lastError }, 'webhook delivery failed; will be retried');
  throw new DependencyUnavailableError('notification webhook', new Error(lastError), 5);
}
