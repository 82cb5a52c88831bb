/**
 * Redis updates that follow a committed database write (seat guard, seat-map cache, queue slot). The
 * database is the authority and has already said yes: a Redis failure here must not turn a done hold or
 * payment into an error that the client would take for "not done". What stays stale is bounded by its
 * TTL (guard, seat map) or by the slot's activeUntil.
 */
export async function afterCommit(
  effects: Promise<unknown>[],
  onFailure: (error: unknown) => void = () => {},
): Promise<void> {
  for (const result of await Promise.allSettled(effects)) {
    if (result.status === 'rejected') onFailure(result.reason);
  }
}
