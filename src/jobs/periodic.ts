import type { Logger } from "pino";

/** A task run at start and then `intervalSeconds` after each run ends, until stopped. */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalSeconds: number,
    private readonly run: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  get stopping(): boolean {
    return this.stopped;
  }

  start(): void {
    const tick = () => {
      this.current = this.run()
        .catch((error: unknown) => this.logger.error({ err: error }, `${this.name} run failed`))
        .finally(() => {
          this.current = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.intervalSeconds * 1000);
        });
    };
    tick();
  }

  /** Stops scheduling runs and waits for the one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }
}
