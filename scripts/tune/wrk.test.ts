import { describe, expect, it } from 'vitest';
import { isLoopback, parseWrkOutput, requestLine } from './wrk.ts';

describe('request file lines', () => {
  it('are METHOD, PATH, headers, BODY, tab-separated', () => {
    expect(
      requestLine({
        method: 'POST',
        path: '/v1/points/charges',
        headers: { Authorization: 'Bearer x', 'Idempotency-Key': 'k-{n}' },
        body: '{"amount":1000}',
      }),
    ).toBe('POST\t/v1/points/charges\tAuthorization: Bearer x\tIdempotency-Key: k-{n}\t{"amount":1000}');
    expect(requestLine({ method: 'GET', path: '/v1/x', headers: {} })).toBe('GET\t/v1/x\t');
  });

  it('refuse tabs and newlines in a field', () => {
    expect(() => requestLine({ method: 'GET', path: '/a\tb', headers: {} })).toThrow('tab or newline');
    expect(() => requestLine({ method: 'GET', path: '/', headers: {}, body: 'a\nb' })).toThrow(
      'tab or newline',
    );
  });
});

describe('parseWrkOutput', () => {
  it('reads the TUNE_JSON line of requests.lua', () => {
    const out = [
      'Running 3s test @ http://127.0.0.1:1234',
      'TUNE_JSON {"durationUs":3000000,"requests":1500,"latencyUs":{"mean":2000.5,"p50":1800,"p90":3000,"p99":9000,"max":20000},' +
        '"errors":{"connect":0,"read":1,"write":0,"timeout":2},"statuses":{"201":1490,"409":10},"codes":{"SEAT_TAKEN":10},' +
        '"nextStart":1510,"issued":1510,"repeated":0,"listSize":5000}',
    ].join('\n');
    const r = parseWrkOutput(out);
    expect(r.durationSeconds).toBe(3);
    expect(r.answers).toBe(1500);
    expect(r.latencyMs).toEqual({ mean: 2.0005, p50: 1.8, p90: 3, p99: 9, max: 20 });
    expect(r.socketErrors).toEqual({ connect: 0, read: 1, write: 0, timeout: 2 });
    expect(r.statuses).toEqual({ 201: 1490, 409: 10 });
    expect(r.codes).toEqual({ SEAT_TAKEN: 10 });
    expect(r.nextStart).toBe(1510);
    expect(() => parseWrkOutput('no json')).toThrow('no TUNE_JSON');
  });
});

describe('isLoopback', () => {
  it('accepts only loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', '::1']) expect(isLoopback(h)).toBe(true);
    for (const h of ['10.0.0.1', 'db.example.com', '0.0.0.0', '128.0.0.1']) expect(isLoopback(h)).toBe(false);
  });
});
