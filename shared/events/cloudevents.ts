import { CloudEvent, HTTP } from 'cloudevents';
import type { EventRecord } from './bus.ts';

export const eventSource = '/concert-reservations';

/** A binary-mode CloudEvent over HTTP: attributes in `ce-*` headers, the data as the body. */
export interface BinaryMessage {
  headers: Record<string, string>;
  body: string;
}

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

/**
 * A Kafka binary-mode record straight to an HTTP binary-mode message, as KafkaSource relays it: `ce_x`
 * headers become `ce-x`, the value is the body unchanged. Nothing is parsed or re-serialised: building a
 * CloudEvent and encoding it again is paid on every record, mostly in the SDK constructing errors it never throws.
 * Attributes a record lacks get the values `fromKafkaRecord` gives them.
 */
export function kafkaToHttpBinary(record: EventRecord): BinaryMessage {
  const h = record.headers ?? {};
  const headers: Record<string, string> = {
    'ce-specversion': '1.0',
    'ce-id': h.ce_id ?? `${record.topic}:${record.key}`,
    'ce-type': h.ce_type ?? record.topic,
    'ce-source': h.ce_source ?? eventSource,
    'ce-partitionkey': record.key,
    'content-type': 'application/json',
  };
  for (const name in h) {
    if (name.startsWith('ce_') && name !== 'ce_specversion') headers[`ce-${name.slice(3)}`] = h[name]!;
  }
  return { headers, body: record.value === '' ? 'null' : record.value };
}

/** Binary-mode HTTP request parts, as Knative delivers a CloudEvent to a service. */
export function toHttpBinary(event: CloudEvent<unknown>): BinaryMessage {
  const message = HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) headers[k] = String(v);
  return {
    headers,
    body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body ?? null),
  };
}

const attributeName = /^[a-z0-9]+$/;
const known = new Set([
  'ce-specversion',
  'ce-id',
  'ce-type',
  'ce-source',
  'ce-time',
  'ce-subject',
  'ce-dataschema',
]);

/**
 * The common case of `HTTP.toEvent`, without its cost: a binary-mode CloudEvent 1.0 with a JSON object or
 * array as data, from lower-case headers. Anything else (structured or batched mode, another spec version
 * or content type, a missing attribute, an unreadable time or body) is `undefined`, and the caller asks
 * the SDK, which accepts or refuses it exactly as before. The event is the same the SDK would build; it is
 * built unvalidated as the SDK's own binary parser does, after the checks below (required attributes
 * present, attribute names the spec allows).
 */
export function parseBinaryHttp(
  headers: Record<string, string>,
  body: string,
): CloudEvent<unknown> | undefined {
  const id = headers['ce-id'];
  const type = headers['ce-type'];
  const source = headers['ce-source'];
  if (headers['ce-specversion'] !== '1.0' || !id || !type || !source) return undefined;
  if (headers['content-type'] !== 'application/json') return undefined;
  const first = body.charCodeAt(0);
  if (first !== 0x7b && first !== 0x5b) return undefined; // '{' or '['
  const attributes: Record<string, unknown> = {
    specversion: '1.0',
    id,
    type,
    source,
    datacontenttype: 'application/json',
  };
  const time = headers['ce-time'];
  if (time !== undefined) {
    const at = Date.parse(time);
    if (Number.isNaN(at)) return undefined;
    attributes.time = new Date(at).toISOString();
  }
  if (headers['ce-subject'] !== undefined) attributes.subject = headers['ce-subject'];
  if (headers['ce-dataschema'] !== undefined) attributes.dataschema = headers['ce-dataschema'];
  for (const name in headers) {
    if (!name.startsWith('ce-') || known.has(name)) continue;
    const attribute = name.slice(3);
    if (!attributeName.test(attribute)) return undefined;
    attributes[attribute] = headers[name];
  }
  try {
    attributes.data = JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
  return new CloudEvent<unknown>(attributes as never, false);
}

/** `HTTP.toEvent` for one event: the fast path above, else the SDK. */
export function httpToEvent(headers: Record<string, string>, body: string): CloudEvent<unknown> {
  const fast = parseBinaryHttp(headers, body);
  if (fast) return fast;
  const event = HTTP.toEvent({ headers, body });
  if (Array.isArray(event)) throw new Error('batched events are not accepted');
  return event as CloudEvent<unknown>;
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
