/**
 * Commands in flight, so long work can show that it is working. A command that answers within
 * `showAfterMs` shows nothing (no flicker on the fast path); one that takes longer shows its label
 * until it answers. Only commands given a label are shown: the rest are quick by design.
 */
export class Pending {
  private jobs = new Map<number, { label: string; since: number }>();
  private next = 1;

  constructor(private readonly showAfterMs = 300) {}

  start(label: string, now: number): number {
    const id = this.next++;
    this.jobs.set(id, { label, since: now });
    return id;
  }

  end(id: number): void {
    this.jobs.delete(id);
  }

  /** The oldest job running for at least `showAfterMs`, or null. */
  showing(now: number): string | null {
    let oldest: { label: string; since: number } | null = null;
    for (const job of this.jobs.values()) {
      if (now - job.since >= this.showAfterMs && (!oldest || job.since < oldest.since)) oldest = job;
    }
    return oldest?.label ?? null;
  }

  get delayMs(): number {
    return this.showAfterMs;
  }
}
