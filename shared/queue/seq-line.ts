/**
 * The embedded waiting line: users ordered by an ever-increasing sequence number. Appends go to the end
 * and admissions take from the head, both O(1); a rank is a binary search. Removing from the middle
 * (idle drop-out) is O(n), which is rare next to polls.
 */
export class SeqLine {
  private users: string[] = [];
  private seqs: number[] = [];
  private head = 0;
  private readonly seqOf = new Map<string, number>();

  get size(): number {
    return this.seqOf.size;
  }

  seq(userId: string): number | undefined {
    return this.seqOf.get(userId);
  }

  /** `seq` must be larger than every sequence in the line (it comes from one counter). */
  push(userId: string, seq: number): void {
    this.users.push(userId);
    this.seqs.push(seq);
    this.seqOf.set(userId, seq);
  }

  /**
   * A place restored in the middle of the line (O(n), rare). Equal numbers are ordered by user id, as a
   * Redis sorted set orders equal scores. The user must not be in the line.
   */
  insert(userId: string, seq: number): void {
    let index = this.indexOf(seq);
    while (index < this.seqs.length && this.seqs[index] === seq && this.users[index]! < userId) index++;
    this.users.splice(index, 0, userId);
    this.seqs.splice(index, 0, seq);
    this.seqOf.set(userId, seq);
  }

  /** 0-based number of users ahead, or -1. */
  rank(userId: string): number {
    const seq = this.seqOf.get(userId);
    return seq === undefined ? -1 : this.indexOfUser(userId, seq) - this.head;
  }

  remove(userId: string): boolean {
    const seq = this.seqOf.get(userId);
    if (seq === undefined) return false;
    this.seqOf.delete(userId);
    const index = this.indexOfUser(userId, seq);
    if (index === this.head) {
      this.head++;
      this.compact();
    } else {
      this.users.splice(index, 1);
      this.seqs.splice(index, 1);
    }
    return true;
  }

  /** The first user's sequence number, or 0 when the line is empty. */
  headSeq(): number {
    return this.seqs[this.head] ?? 0;
  }

  /** Sequence numbers above `seq`, in line order, at most `cap`. */
  seqsAfter(seq: number, cap: number): number[] {
    const from = this.indexOf(seq + 1);
    return this.seqs.slice(from, Math.min(from + cap, this.seqs.length));
  }

  shift(count: number): string[] {
    const n = Math.min(count, this.size);
    const taken = this.users.slice(this.head, this.head + n);
    for (const user of taken) this.seqOf.delete(user);
    this.head += n;
    this.compact();
    return taken;
  }

  private indexOfUser(userId: string, seq: number): number {
    let index = this.indexOf(seq);
    while (this.users[index] !== userId && index < this.users.length) index++;
    return index;
  }

  /** The first index at or after the head whose number is not below `seq`. */
  private indexOf(seq: number): number {
    let lo = this.head;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private compact(): void {
    if (this.head === this.seqs.length) {
      this.users = [];
      this.seqs = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.seqs.length) {
      this.users = this.users.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
  }
}
