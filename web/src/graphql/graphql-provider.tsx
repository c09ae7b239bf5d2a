import { type ReactNode, useEffect, useState } from "react";
import { Provider } from "urql";
import type { Session } from "../auth/session.ts";
import { createGraphQLClient } from "./client.ts";

/**
 * A fresh client (and cache) for each session, so nothing one person saw outlives their
 * sign-out. Made in an effect, not during render: a render React discards must not leave
 * a client with an open socket behind.
 */
export function GraphQLProvider({ session, children }: { session: Session; children: ReactNode }) {
  const [graphql, setGraphql] = useState<ReturnType<typeof createGraphQLClient> | null>(null);
  useEffect(() => {
    const created = createGraphQLClient(session);
    setGraphql(created);
    return () => created.dispose();
  }, [session]);
  if (!graphql) return null;
  return <Provider value={graphql.client}>{children}</Provider>;
}
