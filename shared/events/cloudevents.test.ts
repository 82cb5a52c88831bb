import { CloudEvent, HTTP } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import {
  fromKafkaRecord,
  httpToEvent,
  kafkaToHttpBinary,
  parseBinaryHttp,
  toHttpBinary,
  toKafkaRecord,
} from './cloudevents.ts';

const row = {
  event_id: 'reservation.created:7',
  topic: 'reservation.created',
  event_key: 'seat-3',
  type: 'reservation.created',
  payload: JSON.stringify({ reservationId: '7', seatId: '3', price: 1000, tags: ['a'] }),
  created_at: 1_800_000_000_123,
};

/** The event as plain attributes, for comparing what two parsers built. */
const attributes = (event: CloudEvent<unknown>) =>
  JSON.parse(JSON.stringify(event)) as Record<string, unknown>;

describe('Kafka record → HTTP binary mode → CloudEvent', () => {
  it('relays the record as KafkaSource does: the same event the SDK path built, body unchanged', () => {
    const record = toKafkaRecord(row);
    const message = kafkaToHttpBinary(record);
    expect(message.body).toBe(row.payload);
    expect(message.headers).toMatchObject({
      'ce-specversion': '1.0',
      'ce-id': 'reservation.created:7',
      'ce-type': 'reservation.created',
      'ce-partitionkey': 'seat-3',
      'content-type': 'application/json',
    });
    const viaSdk = toHttpBinary(fromKafkaRecord(record));
    expect(attributes(httpToEvent(message.headers, message.body))).toEqual(
      attributes(HTTP.toEvent(viaSdk) as CloudEvent<unknown>),
    );
  });

  it('fills in what a bare record lacks, as fromKafkaRecord does', () => {
    const record = { topic: 'payment.completed', key: 'user-1', value: '{"a":1}' };
    const event = httpToEvent(kafkaToHttpBinary(record).headers, kafkaToHttpBinary(record).body);
    const sdk = fromKafkaRecord(record);
    expect({ id: event.id, type: event.type, source: event.source, data: event.data }).toEqual({
      id: sdk.id,
      type: sdk.type,
      source: sdk.source,
      data: sdk.data,
    });
  });
});

describe('parseBinaryHttp (fast path of HTTP.toEvent)', () => {
  const sdkEvent = new CloudEvent<unknown>({
    id: 'payment.completed:5',
    type: 'payment.completed',
    source: '/test',
    subject: 'pay',
    time: '2027-01-15T08:00:00.000Z',
    datacontenttype: 'application/json',
    data: { paymentId: '5', amount: 100 },
    partitionkey: 'user-9',
  });

  it('builds the event the SDK builds from the same request', () => {
    const { headers, body } = toHttpBinary(sdkEvent);
    const fast = parseBinaryHttp(headers, body);
    expect(fast).toBeDefined();
    expect(attributes(fast!)).toEqual(attributes(HTTP.toEvent({ headers, body }) as CloudEvent<unknown>));
  });

  it('leaves everything but a plain binary-mode JSON event to the SDK', () => {
    const { headers, body } = toHttpBinary(sdkEvent);
    const without = (name: string) => Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
    expect(parseBinaryHttp(without('ce-id'), body)).toBeUndefined();
    expect(parseBinaryHttp(without('ce-source'), body)).toBeUndefined();
    expect(parseBinaryHttp({ ...headers, 'ce-specversion': '0.3' }, body)).toBeUndefined();
    expect(parseBinaryHttp({ ...headers, 'content-type': 'text/plain' }, body)).toBeUndefined();
    expect(parseBinaryHttp({ ...headers, 'ce-time': 'yesterday' }, body)).toBeUndefined();
    expect(parseBinaryHttp({ ...headers, 'ce-Bad_Name': 'x' }, body)).toBeUndefined();
    expect(parseBinaryHttp(headers, '{not json')).toBeUndefined();
    expect(parseBinaryHttp(headers, '42')).toBeUndefined();
    const structured = HTTP.structured(sdkEvent);
    expect(
      parseBinaryHttp(structured.headers as Record<string, string>, structured.body as string),
    ).toBeUndefined();
    // ... which the SDK then accepts (structured mode) or refuses, as it did before the fast path.
    expect(httpToEvent(structured.headers as Record<string, string>, structured.body as string).id).toBe(
      'payment.completed:5',
    );
    expect(() => httpToEvent({ 'content-type': 'application/json' }, body)).toThrow();
  });
});
