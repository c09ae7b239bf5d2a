import { ApiError, AuthenticationError, CliError, exitCodes, isApiErrorCode, UnavailableError } from "./errors.ts";
import type { TypedDocumentString } from "./graphql/graphql.ts";

/** Where a bearer token comes from; `renew` (when it can) gets a fresh one after a 401. */
export interface TokenSource {
  token(): Promise<string>;
  renew?(): Promise<string>;
}

export interface Api {
  url: string;
  request<Result, Variables>(
    document: TypedDocumentString<Result, Variables>,
    // Optional when every variable is: queries without variables, or with defaults.
    ...variables: Record<string, never> extends Variables ? [Variables?] : [Variables]
  ): Promise<Result>;
}

interface GraphQLResponse {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: unknown } }[];
}

export function describeFetchFailure(url: string, error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return `cannot reach ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`;
}

/** GraphQL over HTTP: one POST per operation with the caller's bearer token. */
export function createApi(url: string, tokens: TokenSource): Api {
  const endpoint = new URL("/graphql", url);

  async function post(query: string, variables: unknown, token: string): Promise<Response> {
    try {
      return await fetch(endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query, variables }),
      });
    } catch (error) {
      throw new UnavailableError(describeFetchFailure(url, error));
    }
  }

  return {
    url,
    async request(document, ...[variables]) {
      const query = document.toString();
      let response = await post(query, variables ?? {}, await tokens.token());
      if (response.status === 401 && tokens.renew) response = await post(query, variables ?? {}, await tokens.renew());
      if (response.status >= 500) throw new UnavailableError(`${endpoint} answered HTTP ${response.status}`);
      const body = (await response.json().catch(() => null)) as GraphQLResponse | null;
      if (!body || typeof body !== "object") {
        throw new CliError(
          "UNEXPECTED",
          `${endpoint} answered HTTP ${response.status} without GraphQL`,
          exitCodes.unexpected,
        );
      }
      const error = body.errors?.[0];
      if (error) {
        const code = error.extensions?.code;
        if (code === "UNAUTHENTICATED" || response.status === 401) {
          throw new AuthenticationError(`${error.message} (sign in with: elevate login)`);
        }
        if (isApiErrorCode(code)) throw new ApiError(code, error.message);
        throw new CliError(typeof code === "string" ? code : "GRAPHQL_ERROR", error.message, exitCodes.unexpected);
      }
      // biome-ignore lint/suspicious/noExplicitAny: the document's type describes the data it asked for
      return body.data as any;
    },
  };
}

type Typed = { __typename?: string };
type ErrorResult = { __typename?: string; code: string; message: string; field?: string };

/** The union member a mutation answered, or its typed error thrown as an ApiError. */
export function expectType<T extends Typed, N extends string>(result: T, typename: N): Extract<T, { __typename?: N }> {
  if (result.__typename === typename) return result as Extract<T, { __typename?: N }>;
  const error = result as unknown as ErrorResult;
  if (isApiErrorCode(error.code)) throw new ApiError(error.code, error.message, error.field);
  throw new CliError("UNEXPECTED", `expected ${typename}, the API answered ${result.__typename}`, exitCodes.unexpected);
}

interface Connection<Node> {
  edges: { node: Node }[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

/** Follows a connection's pages until it ends or `limit` nodes are in. */
export async function collect<Node>(
  limit: number,
  page: (first: number, after: string | null) => Promise<Connection<Node>>,
): Promise<Node[]> {
  const nodes: Node[] = [];
  let after: string | null = null;
  for (;;) {
    const connection = await page(Math.min(100, limit - nodes.length), after);
    nodes.push(...connection.edges.map((edge) => edge.node));
    if (!connection.pageInfo.hasNextPage || nodes.length >= limit) return nodes;
    after = connection.pageInfo.endCursor ?? null;
  }
}
