import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

/**
 * The request id of the HTTP request (or the job it caused) being handled. Kept in
 * async-local storage so that every log line written on its behalf, deep in Yoga,
 * Prisma or BullMQ callbacks too, carries it without passing a logger around.
 */
const storage = new AsyncLocalStorage<{ requestId: string }>();

/** What a request id may look like: log-safe and header-safe, whoever sent it. */
const requestIdPattern = /^[A-Za-z0-9._-]{1,128}$/;

export function isRequestId(value: unknown): value is string {
  return typeof value === "string" && requestIdPattern.test(value);
}

/** The caller's `x-request-id` when it is acceptable, else a new one. */
export function requestIdFrom(header: string | string[] | undefined | null): string {
  const value = Array.isArray(header) ? header[0] : header;
  return isRequestId(value) ? value : randomUUID();
}

/** Runs `work` with `requestId` as the current request id (nothing changes when it is absent). */
export function withRequestId<T>(requestId: string | null | undefined, work: () => T): T {
  return requestId ? storage.run({ requestId }, work) : work();
}

export function currentRequestId(): string | null {
  return storage.getStore()?.requestId ?? null;
}

/** pino's mixin: the current request id on every line written while it is set. */
export function requestLogFields(): { requestId?: string } {
  const requestId = currentRequestId();
  return requestId ? { requestId } : {};
}
