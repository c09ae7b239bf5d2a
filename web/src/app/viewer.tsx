import { Center, Loader } from "@mantine/core";
import { createContext, type ReactNode, use } from "react";
import { useQuery } from "urql";
import type { ViewerQuery } from "../gql/graphql.ts";
import { graphql } from "../gql/index.ts";
import { isForbidden } from "../graphql/results.ts";
import { ErrorAlert } from "./ui.tsx";

const Viewer = graphql(`
  query Viewer {
    me {
      id
      email
      displayName
      kind
      roles
    }
  }
`);

// The API has no "am I an approver?" field: reading approval policies is what admins,
// auditors and approvers may do, so its answer tells whether to show their screens.
const ApprovalReaderProbe = graphql(`
  query ApprovalReaderProbe {
    approvalPolicies(first: 1) {
      totalCount
    }
  }
`);

export interface ViewerInfo {
  me: ViewerQuery["me"];
  isAdmin: boolean;
  /** Admins and auditors read everything in the organization. */
  isReader: boolean;
  /** Admins, auditors and approvers read policies, approver groups and system accounts. */
  readsApprovals: boolean;
}

const ViewerContext = createContext<ViewerInfo | null>(null);

export function useViewer(): ViewerInfo {
  const viewer = use(ViewerContext);
  if (!viewer) throw new Error("useViewer outside ViewerProvider");
  return viewer;
}

/** Who is signed in and what the API lets them read, for screens and navigation to follow. */
export function ViewerProvider({ children }: { children: ReactNode }) {
  const [viewer] = useQuery({ query: Viewer });
  const [probe] = useQuery({ query: ApprovalReaderProbe });
  const failure = viewer.error ?? (isForbidden(probe.error) ? undefined : probe.error);
  if (failure) return <ErrorAlert title="Cannot load your account">{failure.message}</ErrorAlert>;
  if (!viewer.data || (probe.fetching && !probe.data))
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  const me = viewer.data.me;
  const roles = me.roles ?? [];
  const value: ViewerInfo = {
    me,
    isAdmin: roles.includes("ADMIN"),
    isReader: roles.includes("ADMIN") || roles.includes("AUDITOR"),
    readsApprovals: Boolean(probe.data),
  };
  return <ViewerContext value={value}>{children}</ViewerContext>;
}
