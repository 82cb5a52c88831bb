import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLoopback, parseWrkOutput, readRequestFile, writeRequestFile } from './wrk.ts';

describe('request files', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tune-wrk-')), 'requests.tsv');

  it('are written in the bench format the shared replay script reads, headers on each request', () => {
    writeRequestFile(
      file,
      [],
      [
        {
          method: 'POST',
          path: '/v1/points/charges',
          headers: { Authorization: 'Bearer x', 'Idempotency-Key': 'k-{n}' },
          body: '{"amount":1000}',
        },
        { method: 'GET', path: '/v1/x', headers: {} },
      ],
    );
    expect(readFileSync(file, 'utf8')).toBe(
      'R\tPOST\t/v1/points/charges\t0\t{"amount":1000}\tAuthorization: Bearer x\tIdempotency-Key: k-{n}\n' +
        'R\tGET\t/v1/x\t0\t\n',
    );
    expect(readRequestFile(file).requests).toEqual([
      {
        method: 'POST',
        path: '/v1/points/charges',
        user: 0,
        body: '{"amount":1000}',
        headers: { Authorization: 'Bearer x', 'Idempotency-Key': 'k-{n}' },
      },
      { method: 'GET', path: '/v1/x', user: 0, body: '', headers: {} },
    ]);
  });

  it('refuse tabs and newlines in a field, and empty lists', () => {
    expect(() => writeRequestFile(file, [], [{ method: 'GET', path: '/a\tb', headers: {} }])).toThrow(
      'tab or newline',
    );
    expect(() =>
      writeRequestFile(file, [], [{ method: 'GET', path: '/', headers: {}, body: 'a\nb' }]),
    ).toThrow('tab or newline');
    expect(() => writeRequestFile(file, [], [])).toThrow('no requests');
  });
});

describe('parseWrkOutput', () => {
  it('reads the BENCH_JSON line of the replay script', () => {
    const out = [
      'Running 3s test @ http://127.0.0.1:1234',
      'BENCH_JSON {"durationUs":3000000,"requests":1500,"bytes":9000,"latencyUs":{"mean":2000.5,"p50":1800,"p90":3000,"p99":9000,"p999":15000,"max":20000},' +
        '"errors":{"connect":0,"read":1,"write":0,"status":10,"timeout":2},"statuses":{"201":1490,"409":10},"codes":{"SEAT_TAKEN":10},' +
        '"nextStart":1510,"issued":1510,"repeated":0,"listSize":5000}',
    ].join('\n');
    const r = parseWrkOutput(out);
    expect(r.durationSeconds).toBe(3);
    expect(r.requests).toBe(1500);
    expect(r.latencyMs).toEqual({ mean: 2.0005, p50: 1.8, p90: 3, p99: 9, p999: 15, max: 20 });
    expect(r.errors).toEqual({ connect: 0, read: 1, write: 0, timeout: 2 });
    expect(r.statuses).toEqual({ 201: 1490, 409: 10 });
    expect(r.codes).toEqual({ SEAT_TAKEN: 10 });
    expect(r.nextStart).toBe(1510);
    // A line without per-thread starts (an older script) goes on from the one number.
    expect(r.threadStarts).toBe('1510');
    expect(() => parseWrkOutput('no json')).toThrow('no BENCH_JSON');
  });
});

describe('isLoopback', () => {
  it('accepts only loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', '::1']) expect(isLoopback(h)).toBe(true);
    for (const h of ['10.0.0.1', 'db.example.com', '0.0.0.0', '128.0.0.1']) expect(isLoopback(h)).toBe(false);
  });
});
