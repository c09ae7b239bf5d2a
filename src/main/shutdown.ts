import type { Logger } from "pino";

/** Past this, shutdown gives up on active work (another worker retries stalled jobs) and exits 1. */
const shutdownGraceMs = 30_000;

/**
 * On SIGTERM or SIGINT runs `close` once, then exits 0; exits 1 when it fails or takes
 * longer than the grace period. A second signal while closing is only logged.
 */
export function onShutdownSignal(logger: Logger, close: () => Promise<void>): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, "already shutting down");
      return;
    }
    closing = true;
    logger.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      logger.error({ graceMs: shutdownGraceMs }, "shutdown took too long; exiting");
      process.exit(1);
    }, shutdownGraceMs);
    close().then(
      () => {
        clearTimeout(deadline);
        logger.info("shut down");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}
