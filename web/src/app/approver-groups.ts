import { useQuery } from "urql";
import { graphql } from "../gql/index.ts";

const ApproverGroupOptions = graphql(`
  query ApproverGroupOptions {
    approverGroups(first: 100) {
      edges {
        node {
          id
          name
          email
        }
      }
    }
    elevatedAccessControl {
      defaultApproverGroup {
        id
        email
      }
    }
  }
`);

const groupContext = { additionalTypenames: ["ApproverGroup"] };

/** Approver groups as select options (by email, which the API's inputs accept), and the default one. */
export function useApproverGroupOptions() {
  const [{ data }] = useQuery({ query: ApproverGroupOptions, context: groupContext });
  return {
    options: (data?.approverGroups.edges ?? []).map(({ node }) => ({
      value: node.email,
      label: `${node.name} (${node.email})`,
    })),
    defaultGroup: data?.elevatedAccessControl.defaultApproverGroup?.email ?? null,
  };
}
