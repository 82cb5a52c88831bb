import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { DeliveredRecord, EventBus, Subscription } from './bus.ts';
import { type BinaryMessage, kafkaToHttpBinary } from './cloudevents.ts';
import { postTo } from './http-post.ts';

/** The receiver's answer to one delivery: its status, and its body when it refused (for the dead letter). */
export interface DeliveryAnswer {
  status: number;
  body?: string;
}

/** Where a subscription delivers: a URL (the trigger's own process) or an in-process app. */
export type Deliver = (message: BinaryMessage) => Promise<DeliveryAnswer>;

export interface DeliveryTarget {
  name: string;
  topics: string[];
  deliver: Deliver;
  /** KafkaSource `ordering`: ordered (one record of a partition at a time) or unordered (several). */
  ordering?: 'ordered' | 'unordered';
}

/** In-flight deliveries per partition for an unordered target (KafkaSource's unordered mode does the same). */
export const unorderedConcurrency = 32;

export interface DispatcherOptions {
  bus: EventBus;
  logger: Logger;
  metrics?: Metrics;
  maxAttempts: number;
  backoffMs: number;
  deadLetterTopic?: string;
  sleep?: (ms: number) => Promise<void>;
}

export const deadLetterTopic = 'dead-letter';

/** What KafkaSource retries: the receiver may succeed later. Other 4xx answers will not change. */
const retryable = (status: number) =>
  status === 404 || status === 408 || status === 409 || status === 429 || status >= 500;

/** A trigger in its own process: a binary-mode POST over a kept-alive connection, 30 s to answer. */
export function urlTarget(url: string, timeoutMs = 30_000): Deliver {
  const post = postTo(url, timeoutMs);
  return ({ headers, body }) => post(headers, body);
}

/**
 * A trigger app in this process (the all-in-one server): the same HTTP request, handed to its `fetch`.
 * The body's length goes in `content-length`, as on the wire, so a body-limit check reads the header
 * instead of streaming the body through a reader and rebuilding the request on every delivery.
 */
export function appTarget(app: { fetch(request: Request): Response | Promise<Response> }): Deliver {
  return async ({ headers, body }) => {
    const res = await app.fetch(
      new Request('http://trigger.local/', {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        body,
      }),
    );
    // A 2xx body is not read: nothing needs it, and touching it would build a stream for nothing.
    return res.ok ? { status: res.status } : { status: res.status, body: await res.text() };
  };
}

/**
 * The local stand-in for KafkaSource: one consumer group per target, each record POSTed as a binary-mode
 * CloudEvent, in order per partition (the next record of a partition waits for this one). A failed
 * delivery is retried with exponential backoff; when the attempts run out the record goes to the
 * dead-letter topic with the error, and the partition moves on, so a poison message cannot block it.
 */
export async function startDispatcher(
  options: DispatcherOptions,
  targets: DeliveryTarget[],
): Promise<() => Promise<void>> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const subscriptions: Subscription[] = [];
  for (const target of targets) {
    const handler = async (record: DeliveredRecord) => {
      const message = kafkaToHttpBinary(record);
      let lastError = '';
      for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
        const outcome = await deliverOnce(target.deliver, message);
        if (outcome.ok) {
          options.metrics?.deliveries.inc({ target: target.name, result: 'ok' });
          return;
        }
        lastError = outcome.error;
        if (!outcome.retry) break;
        options.metrics?.deliveries.inc({ target: target.name, result: 'retry' });
        if (attempt < options.maxAttempts)
          await sleep(Math.min(options.backoffMs * 2 ** (attempt - 1), 60_000));
      }
      options.metrics?.deliveries.inc({ target: target.name, result: 'dead_letter' });
      options.metrics?.deadLetters.inc({ target: target.name, topic: record.topic });
      options.logger.error(
        {
          target: target.name,
          ceId: message.headers['ce-id'],
          ceType: message.headers['ce-type'],
          error: lastError,
        },
        'event dead-lettered after its retries',
      );
      await options.bus.publish([
        {
          topic: options.deadLetterTopic ?? deadLetterTopic,
          key: record.key,
          value: record.value,
          headers: {
            ...record.headers,
            'dispatch-target': target.name,
            'dispatch-error': lastError.slice(0, 500),
            'dispatch-source-topic': record.topic,
            'dispatch-source-offset': `${record.partition}/${record.offset}`,
          },
        },
      ]);
    };
    subscriptions.push(
      await options.bus.subscribe({
        groupId: `dispatcher-${target.name}`,
        topics: target.topics,
        fromBeginning: true,
        concurrency: target.ordering === 'unordered' ? unorderedConcurrency : 1,
        handler,
      }),
    );
  }
  return async () => {
    await Promise.all(subscriptions.map((s) => s.stop()));
  };
}

async function deliverOnce(
  deliver: Deliver,
  message: BinaryMessage,
): Promise<{ ok: true } | { ok: false; retry: boolean; error: string }> {
  try {
    const answer = await deliver(message);
    if (answer.status >= 200 && answer.status < 300) return { ok: true };
    const text = (answer.body ?? '').slice(0, 300);
    return { ok: false, retry: retryable(answer.status), error: `HTTP ${answer.status} ${text}` };
  } catch (error) {
    return { ok: false, retry: true, error: error instanceof Error ? error.message : String(error) };
  }
}
