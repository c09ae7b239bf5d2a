import { type ReactNode, useEffect, useMemo } from "react";
import { Provider } from "urql";
import type { Session } from "../auth/session.ts";
import { createGraphQLClient } from "./client.ts";

/** A fresh client (and cache) for each session, so nothing one person saw outlives their sign-out. */
export function GraphQLProvider({ session, children }: { session: Session; children: ReactNode }) {
  const graphql = useMemo(() => createGraphQLClient(session), [session]);
  useEffect(() => () => graphql.dispose(), [graphql]);
  return <Provider value={graphql.client}>{children}</Provider>;
}
