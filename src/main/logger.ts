import { pino } from "pino";
import { env } from "../config/env.ts";
import { requestLogFields } from "../observability/request-context.ts";

// A person at a terminal reads lines; a pipe (log collectors, the tests) gets one JSON object per line.
// Synchronous, so the last lines before process.exit reach the terminal.
const stream = process.stdout.isTTY
  ? (await import("pino-pretty")).default({
      sync: true,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname,service",
    })
  : undefined;

// Every line written while handling a request (or a job it caused) names the request id.
export const logger = pino({ level: env().LOG_LEVEL, base: { service: "elevate" }, mixin: requestLogFields }, stream);
