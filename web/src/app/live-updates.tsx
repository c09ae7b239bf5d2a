import { VisuallyHidden } from "@mantine/core";
import { useEffect } from "react";
import { useSubscription } from "urql";
import { graphql } from "../gql/index.ts";
import { statusLabels } from "./format.tsx";

const RequestChanged = graphql(`
  subscription RequestChanged {
    accessRequestChanged {
      type
      at
      request {
        id
        target
        status
      }
    }
  }
`);

/** Every type an access request event can change: open queries holding one refetch on each event. */
const liveContext = { additionalTypenames: ["AccessRequest", "AccessAuthorization", "AuditEvent", "TaskExecution"] };

/**
 * One subscription for the whole console: every event the signed-in person may see
 * (the API filters per subscriber) makes the document cache refetch the open queries
 * it touches, so lists and the request page change without a reload. Screen readers
 * hear the latest change.
 */
export function LiveUpdates() {
  const [{ data, error }, resubscribe] = useSubscription({ query: RequestChanged, context: liveContext });

  // The stream ends when a token expires before it was renewed: subscribe again.
  useEffect(() => {
    if (!error) return;
    const timer = setTimeout(() => resubscribe(), 2000);
    return () => clearTimeout(timer);
  }, [error, resubscribe]);

  const event = data?.accessRequestChanged;
  return (
    <VisuallyHidden role="status" aria-live="polite">
      {event ? `Request for ${event.request.target} is ${statusLabels[event.request.status].toLowerCase()}` : ""}
    </VisuallyHidden>
  );
}
