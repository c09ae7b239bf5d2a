/**
 * Lets deadline jobs (an expiry, the end of a grant) go before the follow-up work they
 * cause (mail, webhooks) in one worker process. The two share the process's CPU: in a
 * burst of 10,000 expiries the mail they cause, sent while the rest were still due,
 * was half the worker's work and made the expiries late. Follow-up work waits while
 * deadline jobs are running here, and never longer than `maxWaitMs`, so a worker kept
 * busy by deadlines still sends its mail.
 */
export class DeadlinesFirst {
  private running = 0;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly maxWaitMs: number) {}

  /** Runs a deadline job's work; follow-up work waits until none is running. */
  async deadline<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      if (this.running === 0) for (const wake of this.waiting) wake();
    }
  }

  /** Resolves once no deadline job is running, or after `maxWaitMs`. */
  async followUp(): Promise<void> {
    if (this.running === 0) return;
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, this.maxWaitMs);
      this.waiting.add(wake);
    });
  }
}
