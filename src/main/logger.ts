import { pino } from "pino";
import type { Config } from "../config/env.ts";
import { requestLogFields } from "../observability/request-context.ts";

/** The process's logger: every line written while handling a request (or a job it caused) names the request id. */
export async function createLogger({ logLevel }: Config["operations"]) {
  // A person at a terminal reads lines; a pipe (log collectors, the tests) gets one JSON object per line.
  // Synchronous, so the last lines before process.exit reach the terminal.
  const stream = process.stdout.isTTY
    ? (await import("pino-pretty")).default({
        sync: true,
        translateTime: "SYS:HH:MM:ss.l",
        ignore: "pid,hostname,service",
      })
    : undefined;
  return pino({ level: logLevel, base: { service: "elevate" }, mixin: requestLogFields }, stream);
}
