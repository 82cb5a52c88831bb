import { describe, expect, it } from 'vitest';
import { RunStop } from './fan.ts';

describe('RunStop', () => {
  it('wakes every pausing fan when the run stops, and pauses after the stop return at once', async () => {
    const stop = new RunStop();
    const woken: number[] = [];
    const sleepers = [0, 1, 2].map((i) => stop.pause(3_600_000).then(() => woken.push(i)));
    expect(stop.stopped).toBe(false);
    stop.stop();
    await Promise.all(sleepers);
    expect(woken.sort()).toEqual([0, 1, 2]);
    await stop.pause(3_600_000);
    expect(stop.stopped).toBe(true);
  });

  it('aborts requests in flight when the run stops, not as timed out', () => {
    const stop = new RunStop();
    const request = stop.controller(3_600_000);
    stop.stop();
    expect(request.signal.aborted).toBe(true);
    expect(request.timedOut()).toBe(false);
    request.release();
    // A request begun after the stop starts aborted.
    expect(stop.controller(3_600_000).signal.aborted).toBe(true);
  });

  it('aborts a request at its timeout unless it was answered first', async () => {
    const stop = new RunStop();
    const late = stop.controller(1);
    await new Promise((resolve) => late.signal.addEventListener('abort', resolve));
    expect(late.timedOut()).toBe(true);
    late.release();
    const answered = stop.controller(1);
    answered.answered();
    answered.abort();
    expect(answered.signal.aborted).toBe(true);
    expect(answered.timedOut()).toBe(false);
    answered.release();
  });
});
