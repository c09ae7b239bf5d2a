import { useQuery } from "urql";
import type { PolicyScope, PolicyType } from "../gql/graphql.ts";
import { graphql } from "../gql/index.ts";

const CatalogEntries = graphql(`
  query CatalogEntries($type: PolicyType!) {
    catalog(type: $type, first: 100) {
      edges {
        node {
          id
          name
          scope
          description
        }
      }
    }
  }
`);

/**
 * The catalog's entries of one type and scope, as options of a searchable select.
 * The API's page limit is 100 and the catalog has no search argument: the Exchange
 * catalog has 44 tasks, so one page covers it and the select searches in the browser.
 */
export function useCatalogOptions(type: PolicyType, scope: PolicyScope) {
  const [{ data, fetching, error }] = useQuery({ query: CatalogEntries, variables: { type } });
  const options = (data?.catalog.edges ?? [])
    .map(({ node }) => node)
    .filter((entry) => entry.scope === scope)
    .map((entry) => ({ value: entry.name, label: entry.name }));
  return { options, fetching, error };
}
