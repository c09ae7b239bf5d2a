import { authExchange } from "@urql/exchange-auth";
import { createClient as createSocketClient } from "graphql-ws";
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "urql";
import type { Session } from "../auth/session.ts";

/** Close code for "reconnect with the new token" (graphql-ws retries every code outside its fatal list). */
const tokenRenewedCloseCode = 4205;

/**
 * One GraphQL client per signed-in session: queries and mutations over HTTP with the
 * bearer token (renewed ahead of expiry or after a 401), subscriptions over graphql-ws
 * on the same origin with the token in connection_init. The document cache refetches
 * every open query whose result holds a type that a mutation answered or that a live
 * event names (see live-updates.tsx).
 */
export function createGraphQLClient(session: Session): { client: Client; dispose(): void } {
  let openSocket: WebSocket | null = null;
  const socketClient = createSocketClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    lazy: true,
    connectionParams: () => ({ authorization: `Bearer ${session.accessToken()}` }),
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    on: {
      opened: (socket) => {
        openSocket = socket as WebSocket;
      },
      closed: () => {
        openSocket = null;
      },
    },
  });
  // The server closes a socket when the token it opened with expires: reopen with the new one first.
  const stopListening = session.onRenew(() => {
    if (openSocket?.readyState === WebSocket.OPEN) openSocket.close(tokenRenewedCloseCode, "token renewed");
  });

  const client = new Client({
    url: "/graphql",
    exchanges: [
      cacheExchange,
      authExchange(async (utils) => ({
        addAuthToOperation: (operation) =>
          utils.appendHeaders(operation, { authorization: `Bearer ${session.accessToken()}` }),
        willAuthError: () => session.expiresAt() - Date.now() < 30_000,
        didAuthError: (error) =>
          error.response?.status === 401 ||
          error.graphQLErrors.some((graphQLError) => graphQLError.extensions.code === "UNAUTHENTICATED"),
        refreshAuth: () => session.renew().catch(() => session.signOut()),
      })),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: socketClient.subscribe({ ...request, query: request.query ?? "" }, sink),
          }),
        }),
      }),
    ],
  });
  return {
    client,
    dispose() {
      stopListening();
      void socketClient.dispose();
    },
  };
}
