import { getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";
import { type Metrics, operationLabeler } from "../observability/metrics.ts";

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/**
 * Counts and times every GraphQL operation by name, type and outcome, and keeps the
 * number of open subscription streams, for HTTP, SSE and WebSocket alike.
 */
export function useOperationMetrics(metrics: Metrics): Plugin {
  const label = operationLabeler();
  const describe = (args: { document: Parameters<typeof getOperationAST>[0]; operationName?: string | null }) => {
    const operation = getOperationAST(args.document, args.operationName);
    return { operation: label(operation?.name?.value ?? args.operationName), type: operation?.operation ?? "unknown" };
  };
  return {
    onExecute({ args }) {
      const labels = describe(args);
      const started = performance.now();
      return {
        onExecuteDone({ result }) {
          const failed = !isAsyncIterable(result) && Boolean(result.errors?.length);
          metrics.graphqlOperations.inc({ ...labels, outcome: failed ? "error" : "ok" });
          metrics.graphqlDuration.observe(labels, (performance.now() - started) / 1000);
        },
      };
    },
    onSubscribe({ args }) {
      const labels = describe(args);
      const started = performance.now();
      return {
        onSubscribeResult({ result }) {
          metrics.graphqlDuration.observe(labels, (performance.now() - started) / 1000);
          if (!isAsyncIterable(result)) {
            metrics.graphqlOperations.inc({ ...labels, outcome: "error" });
            return;
          }
          metrics.graphqlOperations.inc({ ...labels, outcome: "ok" });
          metrics.openSubscriptions.inc();
          return { onEnd: () => metrics.openSubscriptions.dec() };
        },
      };
    },
  };
}
