import { api, complain } from './api.ts';
import { announce, byId, data, dateTime, done, duration, sleep, tr } from './core.ts';
import { access, queueStart } from './store.ts';
import type { QueueAnswer } from './types.ts';

/**
 * Enter the line, then follow it: Server-Sent Events while the stream holds, polling at the server's
 * `pollAfterSeconds` when it does not. Every answer says whether the line is paused.
 */
export async function waitingRoomPage(): Promise<void> {
  const concertId = data.params.concertId ?? '';
  const scheduleId = data.params.scheduleId;
  const seatsUrl = scheduleId
    ? `/concerts/${concertId}/schedules/${scheduleId}/seats`
    : `/concerts/${concertId}`;
  byId<HTMLAnchorElement>('queue-go').href = seatsUrl;

  const entered = await api<QueueAnswer>('/v1/queue/tokens', { method: 'POST', body: { concertId } });
  done('queue');
  if (!entered.ok) {
    complain(entered);
    return;
  }
  let finished = false;
  const showPause = pauseNotice();
  const show = (answer: QueueAnswer) => {
    if (finished) return;
    showPause(answer.paused);
    if (answer.status === 'ACTIVE' && answer.accessToken && answer.activeUntil) {
      finished = true;
      access.set(concertId, { accessToken: answer.accessToken, activeUntil: answer.activeUntil });
      byId('queue-position').textContent = '0';
      byId('queue-eta').textContent = duration(0);
      byId<HTMLProgressElement>('queue-progress').value = 100;
      byId('queue-turn').hidden = false;
      announce(tr('yourTurn'));
      setTimeout(() => location.assign(seatsUrl), 1500);
      return;
    }
    const start = Math.max(queueStart.get(concertId) ?? 0, answer.position);
    queueStart.set(concertId, start);
    byId('queue-position').textContent = String(answer.position);
    byId('queue-eta').textContent = tr('etaValue', { time: duration(answer.etaSeconds) });
    byId<HTMLProgressElement>('queue-progress').value =
      start > 1 ? Math.round(((start - answer.position) / (start - 1)) * 100) : 0;
    const opens = byId('queue-opens');
    opens.hidden = answer.opensAt === undefined;
    if (answer.opensAt) opens.textContent = tr('opensAt', { time: dateTime(answer.opensAt) });
  };
  show(entered.body);
  if (finished) return;
  follow(entered.body, show, () => finished);
}

function follow(first: QueueAnswer, show: (a: QueueAnswer) => void, finished: () => boolean): void {
  const mode = byId('queue-mode');
  const poll = async (after: number) => {
    mode.textContent = tr('pollingUpdates', { seconds: after });
    let wait = after;
    while (!finished()) {
      await sleep(wait * 1000);
      try {
        const answer = await api<QueueAnswer>('/v1/queue/status', {
          headers: { 'x-queue-token': first.queueToken },
        });
        if (answer.ok) {
          show(answer.body);
          wait = answer.body.pollAfterSeconds;
          mode.textContent = tr('pollingUpdates', { seconds: wait });
        } else if (answer.status === 429) {
          wait = Math.max(wait, 2);
        } else {
          complain(answer);
          return;
        }
      } catch {
        // Offline for a moment: keep the place by trying again at the same pace.
      }
    }
  };
  if (typeof EventSource === 'undefined') {
    void poll(first.pollAfterSeconds);
    return;
  }
  const stream = new EventSource(`/v1/queue/stream?queueToken=${encodeURIComponent(first.queueToken)}`);
  mode.textContent = tr('liveUpdates');
  stream.addEventListener('status', (event) => {
    const answer = JSON.parse((event as MessageEvent<string>).data) as QueueAnswer;
    show(answer);
    if (answer.status === 'ACTIVE') stream.close();
  });
  let failures = 0;
  stream.addEventListener('open', () => {
    failures = 0;
  });
  stream.addEventListener('error', (event) => {
    // The server's own `error` event, a refused stream, or one that keeps dropping (a proxy that does not
    // pass streams): poll instead. A stream that drops once reconnects by itself.
    const fromServer = event instanceof MessageEvent;
    failures += 1;
    if (finished() || (!fromServer && stream.readyState !== EventSource.CLOSED && failures < 3)) return;
    stream.close();
    void poll(first.pollAfterSeconds);
  });
}

/** The pause notice: shown while paused, and once more when the line moves again; each change announced. */
function pauseNotice(): (paused: boolean) => void {
  const notice = byId('queue-paused');
  let shown: boolean | undefined;
  return (paused) => {
    if (paused === shown) return;
    const first = shown === undefined;
    shown = paused;
    notice.dataset.paused = String(paused);
    notice.textContent = paused ? tr('paused') : tr('moving');
    notice.hidden = first && !paused;
    if (!first || paused) announce(notice.textContent);
  };
}
