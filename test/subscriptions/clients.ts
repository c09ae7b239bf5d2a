import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { WebSocket } from "ws";
import type { EventBus } from "../../src/domain/events.ts";
import { createEventBus, eventEffectHandlers } from "../../src/events/event-bus.ts";
import { createEffectSink } from "../../src/jobs/effects.ts";
import { graphql } from "../graphql/index.ts";
import { startTestApp } from "../helpers/app.ts";
import { silentLogger } from "../helpers/jobs.ts";
import { waitFor } from "../helpers/processes.ts";

// Subscription clients for the tests of `accessRequestChanged`: SSE through fetch and
// graphql-ws over a real WebSocket, both against a listening server.

export const AccessRequestChanged = graphql(`
  subscription AccessRequestChanged($requestId: ID) {
    accessRequestChanged(requestId: $requestId) {
      type
      at
      request {
        id
        requester {
          email
        }
      }
    }
  }
`);

export interface ReceivedEvent {
  type: string;
  requestId: string;
  at: string;
  requester: string;
  /** When this client read it (Date.now()). */
  receivedAt: number;
}

export interface Subscriber {
  transport: "sse" | "ws";
  events: ReceivedEvent[];
  /** GraphQL errors and transport failures, in order. */
  errors: unknown[];
  /** Settles when the stream ends: completed by the server, closed, or failed. */
  ended: Promise<{ closeCode?: number; reason?: string }>;
  isEnded(): boolean;
  close(): Promise<void>;
}

type Variables = { requestId?: string | null };
type Result = {
  accessRequestChanged: { type: string; at: string; request: { id: string; requester: { email: string } } };
};

function toEvent(result: Result): ReceivedEvent {
  const { type, at, request } = result.accessRequestChanged;
  return { type, at, requestId: request.id, requester: request.requester.email, receivedAt: Date.now() };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

export interface SseRefusal {
  status: number;
  body: string;
}

/**
 * POSTs the subscription with `Accept: text/event-stream` and reads the stream in
 * the background. A response other than 200 comes back as a refusal with its body.
 */
export async function subscribeSse(
  baseUrl: string,
  token: string | null,
  variables: Variables = {},
): Promise<Subscriber | SseRefusal> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: {
      accept: "text/event-stream",
      "content-type": "application/json",
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query: print(AccessRequestChanged), variables }),
    signal: controller.signal,
  });
  if (response.status !== 200 || !response.body) return { status: response.status, body: await response.text() };

  const events: ReceivedEvent[] = [];
  const errors: unknown[] = [];
  const end = deferred<{ closeCode?: number; reason?: string }>();
  let ended = false;
  const finish = (reason: string) => {
    ended = true;
    end.resolve({ reason });
  };
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return finish("stream closed");
        buffer += value;
        for (let split = buffer.indexOf("\n\n"); split >= 0; split = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const lines = block.split("\n");
          const name = lines
            .find((line) => line.startsWith("event:"))
            ?.slice(6)
            .trim();
          const data = lines
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trim())
            .join("\n");
          if (name === "complete") return finish("complete");
          if (name !== "next") continue; // a ping
          const payload = JSON.parse(data) as { data?: Result; errors?: unknown[] };
          if (payload.errors) errors.push(...payload.errors);
          if (payload.data) events.push(toEvent(payload.data));
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) errors.push(error);
      finish(controller.signal.aborted ? "aborted" : "failed");
    }
  })();
  return {
    transport: "sse",
    events,
    errors,
    ended: end.promise,
    isEnded: () => ended,
    async close() {
      controller.abort();
      await reader.cancel().catch(() => {});
      await end.promise;
    },
  };
}

export function isRefusal(value: Subscriber | SseRefusal): value is SseRefusal {
  return "status" in value;
}

/** One graphql-ws client (one WebSocket) per subscriber; `connectionParams` as the client sends them. */
export function subscribeWs(
  baseUrl: string,
  connectionParams: Record<string, unknown> | undefined,
  variables: Variables = {},
) {
  const events: ReceivedEvent[] = [];
  const errors: unknown[] = [];
  const end = deferred<{ closeCode?: number; reason?: string }>();
  let ended = false;
  const finish = (outcome: { closeCode?: number; reason?: string }) => {
    ended = true;
    end.resolve(outcome);
  };
  let closeCode: number | undefined;
  let closeReason: string | undefined;
  const socketClosed = deferred<{ code?: number; reason?: string }>();
  const client: Client = createClient({
    url: `${baseUrl.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    // Closed sockets are reported, not retried or kept open for reuse: lazy, as graphql-ws
    // clients are by default, it closes its socket itself (1000) once its last subscription completes.
    lazy: true,
    lazyCloseTimeout: 0,
    on: {
      closed: (event) => {
        const close = event as { code?: number; reason?: string };
        closeCode = close.code;
        closeReason = close.reason;
        socketClosed.resolve({ code: close.code, reason: close.reason });
      },
    },
  });
  const unsubscribe = client.subscribe<Result>(
    { query: print(AccessRequestChanged), variables },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        if (result.data) events.push(toEvent(result.data));
      },
      error: (error) => {
        const close = error as { code?: number; reason?: string };
        if (typeof close?.code !== "number") errors.push(error);
        finish({ closeCode: close?.code ?? closeCode, reason: close?.reason ?? closeReason });
      },
      complete: () => finish({ closeCode, reason: closeReason ?? "complete" }),
    },
  );
  /** Another operation on the same socket; resolves with its first result (or its errors). */
  const execute = (query: string, variables?: Record<string, unknown>) =>
    new Promise<{ data?: unknown; errors?: readonly unknown[] }>((resolve) => {
      // A query or mutation completes by itself after its result.
      client.subscribe(
        { query, variables },
        {
          next: (result) => resolve(result),
          error: (error) => resolve({ errors: Array.isArray(error) ? error : [error] }),
          complete: () => {},
        },
      );
    });
  const subscriber: Subscriber & {
    socketClosed: Promise<{ code?: number; reason?: string }>;
    execute: typeof execute;
  } = {
    transport: "ws",
    socketClosed: socketClosed.promise,
    execute,
    events,
    errors,
    ended: end.promise,
    isEnded: () => ended,
    async close() {
      unsubscribe();
      await client.dispose();
      if (!ended) finish({ closeCode, reason: "closed by the test" });
    },
  };
  return subscriber;
}

/**
 * The in-process event bus with a count of the subscriptions listening on it, so a
 * test can start publishing once every subscriber is in place. A subscription
 * listens from its first `next()` (the pub/sub adds its listener synchronously there).
 */
export function countingEventBus(bus: EventBus): { bus: EventBus; listening(): number; started(): number } {
  let listening = 0;
  // Subscriptions that ever started listening: never goes down, so a test can wait for
  // its own subscriber (a closed stream stops being counted as listening only when the
  // server's iterator returns, which may be at the next event).
  let started = 0;
  return {
    listening: () => listening,
    started: () => started,
    bus: {
      ...bus,
      requestEvents(organizationId) {
        const source = bus.requestEvents(organizationId);
        let counted = false;
        const uncount = () => {
          if (counted) listening--;
          counted = false;
        };
        const iterator: AsyncIterableIterator<Awaited<ReturnType<typeof source.next>>["value"]> = {
          next: (...args) => {
            if (!counted) {
              listening++;
              started++;
            }
            counted = true;
            return source.next(...args);
          },
          return: (value) => {
            uncount();
            return source.return ? source.return(value) : Promise.resolve({ done: true, value });
          },
          throw: (error) => {
            uncount();
            return source.throw ? source.throw(error) : Promise.reject(error);
          },
          [Symbol.asyncIterator]() {
            return iterator;
          },
        };
        return iterator;
      },
    },
  };
}

/** Waits until `count` subscriptions listen on the counting bus. */
export async function untilListening(counting: { listening(): number }, count: number, timeoutMs = 15_000) {
  await waitFor(`${count} subscriptions to listen`, async () => counting.listening() >= count, { timeoutMs });
  // The listener is in place once next() ran; let the microtasks of that call settle.
  await sleep(20);
}

/** Runs `subscribe` and waits until the subscription it opens listens on the counting bus. */
export async function listeningAfter<T>(counting: { started(): number }, subscribe: () => T | Promise<T>): Promise<T> {
  const before = counting.started();
  const subscriber = await subscribe();
  await waitFor("the subscription to listen", async () => counting.started() > before, { timeoutMs: 15_000 });
  // The listener is in place once next() ran; let the microtasks of that call settle.
  await new Promise((resolve) => setTimeout(resolve, 20));
  return subscriber;
}

/** One GraphQL operation over HTTP against a listening server. */
export async function post<TResult, TVariables>(
  baseUrl: string,
  token: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables?: TVariables,
): Promise<TResult> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: TResult; errors?: unknown[] };
  if (response.status !== 200 || body.errors?.length || !body.data) {
    throw new Error(`GraphQL request failed (${response.status}): ${JSON.stringify(body)}`);
  }
  return body.data;
}

/** The typename-checked payload of a mutation that answers a union. */
export function expectType<T extends { __typename: string }, N extends T["__typename"]>(
  value: T,
  typename: N,
): Extract<T, { __typename: N }> {
  if (value.__typename !== typename) throw new Error(`expected ${typename}, got ${JSON.stringify(value)}`);
  return value as Extract<T, { __typename: N }>;
}

/** The (type, request) pairs a subscriber got, in order, for comparison. */
export function received(subscriber: Subscriber, requestIds?: Set<string>): string[] {
  return subscriber.events
    .filter((event) => !requestIds || requestIds.has(event.requestId))
    .map((event) => `${event.type} ${event.requestId}`);
}

/**
 * The app on a listening port whose transitions publish on an in-process bus that
 * counts listeners, so a test can wait until every subscriber is ready.
 */
export async function startPublishingApp() {
  const counting = countingEventBus(createEventBus());
  const t = await startTestApp({
    events: counting.bus,
    effects: createEffectSink([eventEffectHandlers(counting.bus)], silentLogger),
  });
  t.app.server.listen(0, "127.0.0.1");
  await once(t.app.server, "listening");
  const baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  return { t, counting, baseUrl };
}
