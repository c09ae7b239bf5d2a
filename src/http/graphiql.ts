import { createHash } from "node:crypto";
import type { GraphiQLOptions } from "graphql-yoga";

/** Mints a bearer token for a seeded user, or says why not (the dev issuer's /dev/token logic). */
export type DevTokenMinter = (email: string) => Promise<{ token: string } | { error: string }>;

/** Who GraphiQL signs in as when the address names nobody (`/graphql?as=<email>` picks another). */
export const graphiqlDefaultUser = "admin@fabrikam.com";

/** As long as `npm run token`'s default: a GraphiQL tab stays usable for a working day. */
export const graphiqlTokenSeconds = 12 * 3600;

const plainAddress = /^[\w.+-]+@[\w.-]+$/;

const starterQuery = `# Signed in as ?as=<email> from the address, e.g.
# /graphql?as=requester@fabrikam.com (default: ${graphiqlDefaultUser}).
# An authorization header in Headers below wins:
# {"authorization": "Bearer <token>"}, the token from
# npm run --silent token -- --as <email>
{
  me { email displayName roles }
}
`;

/**
 * GraphiQL's options per page load. With the dev issuer on, every operation the page
 * sends (subscriptions too) carries a bearer token for the user named by `?as=` (or the
 * demo admin), so the first query works without a trip to the terminal; an
 * authorization header typed into the Headers editor overrides it.
 */
export function graphiqlOptions(mintToken: DevTokenMinter | null) {
  return async (request: Request): Promise<GraphiQLOptions> => {
    const options: GraphiQLOptions = {
      title: "Elevate GraphiQL",
      // Over SSE a subscription is an HTTP request with the same headers as any query
      // (graphql-ws would send the token only in its connection_init payload).
      subscriptionsProtocol: "SSE",
      defaultQuery: starterQuery,
    };
    if (!mintToken) return options;
    const as = new URL(request.url).searchParams.get("as") || graphiqlDefaultUser;
    const minted = await mintToken(as);
    // The package writes the title into the page and the options into a script unescaped,
    // so nothing from the address goes into either unless it is plainly an address.
    if ("error" in minted) return { ...options, title: "Elevate GraphiQL (not signed in: no such user)" };
    return {
      ...options,
      title: plainAddress.test(as) ? `Elevate GraphiQL as ${as}` : options.title,
      // Not the editor's `headers`: the token stays out of the tabs GraphiQL keeps in the
      // browser's storage, so every tab follows the page's ?as= and never holds an old token.
      additionalHeaders: { authorization: `Bearer ${minted.token}` },
    };
  };
}

/**
 * GraphiQL with every script, style sheet, font and worker inlined from the npm package
 * `@graphql-yoga/render-graphiql` (Yoga's default page loads them from a CDN, which a
 * closed network never reaches). The page's Content-Security-Policy allows its own inline
 * script by hash and nothing from any other host. The package weighs megabytes, so it
 * is loaded on the first page view only (never in production, where GraphiQL is off).
 */
export async function renderOfflineGraphiQL(options: GraphiQLOptions): Promise<string> {
  const { renderGraphiQL } = await import("@graphql-yoga/render-graphiql");
  const html = renderGraphiQL(options);
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
  if (scripts.length !== 1) throw new Error(`expected one inline script in GraphiQL's page, found ${scripts.length}`);
  const scriptHash = createHash("sha256").update(scripts[0]![1]!).digest("base64");
  const policy = [
    "default-src 'none'",
    `script-src 'sha256-${scriptHash}'`,
    // The editor's language workers are made from blobs of inlined code.
    "worker-src blob:",
    // Monaco adds <style> elements and style attributes as it lays out the editor.
    "style-src 'unsafe-inline'",
    "font-src data:",
    "img-src data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  // A <meta> policy, since Yoga writes the response headers; it applies to everything after it.
  return html.replace(
    '<meta charset="utf-8" />',
    `<meta charset="utf-8" />\n<meta http-equiv="Content-Security-Policy" content="${policy}" />`,
  );
}
