/** The columns of a seat given back to sale: what a cancel, a release and the sweeper all write. */
export function freedSeat(now: number) {
  return {
    status: 'AVAILABLE',
    held_by: null,
    hold_expires_at: null,
    reservation_id: null,
    updated_at: now,
  } as const;
}
