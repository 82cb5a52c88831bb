import { CloudEvent, HTTP } from 'cloudevents';
import type { EventRecord } from './bus.ts';

export const eventSource = '/concert-reservations';

/** One outbox row as a CloudEvent 1.0 in Kafka binary mode: attributes in `ce_*` headers, JSON data as value. */
export function toKafkaRecord(row: {
  event_id: string;
  topic: string;
  event_key: string;
  type: string;
  payload: string;
  created_at: number;
}): EventRecord {
  return {
    topic: row.topic,
    key: row.event_key,
    value: row.payload,
    headers: {
      ce_specversion: '1.0',
      ce_id: row.event_id,
      ce_type: row.type,
      ce_source: eventSource,
      ce_time: new Date(Number(row.created_at)).toISOString(),
      ce_partitionkey: row.event_key,
      'content-type': 'application/json',
    },
  };
}

/** A Kafka record back to a CloudEvent (what KafkaSource does before delivering it over HTTP). */
export function fromKafkaRecord(record: EventRecord): CloudEvent<unknown> {
  const h = record.headers ?? {};
  return new CloudEvent<unknown>({
    specversion: '1.0',
    id: h.ce_id ?? `${record.topic}:${record.key}`,
    type: h.ce_type ?? record.topic,
    source: h.ce_source ?? eventSource,
    ...(h.ce_time ? { time: h.ce_time } : {}),
    datacontenttype: 'application/json',
    data: record.value ? (JSON.parse(record.value) as unknown) : null,
    partitionkey: record.key,
  });
}

/** Binary-mode HTTP request parts, as Knative delivers a CloudEvent to a service. */
export function toHttpBinary(event: CloudEvent<unknown>): { headers: Record<string, string>; body: string } {
  const message = HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) headers[k] = String(v);
  return {
    headers,
    body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body ?? null),
  };
}

export function pingEvent(source: string, now: number): CloudEvent<unknown> {
  return new CloudEvent<unknown>({
    id: `${source}:${now}`,
    type: 'dev.knative.sources.ping',
    source,
    time: new Date(now).toISOString(),
    datacontenttype: 'application/json',
    data: {},
  });
}
