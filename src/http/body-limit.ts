import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * A GraphQL request body here is small: variables are refused past 256 KB
 * (graphql/input-guard.ts) and a document past 3,000 tokens (graphql-armor).
 */
export const maxGraphQLBodyBytes = 1_000_000;

/**
 * Refuses a GraphQL request body over `limit` bytes (413). In place of Yoga's own limit
 * (`maxRequestBodySize`, off in app.ts), which pipes every body through a counting
 * stream: about a tenth of the API's time on a small request went to that stream and the
 * AbortController and DOMException its pipeline makes. A declared Content-Length is exact
 * behind Node's HTTP parser (it delivers that many bytes, and refuses a malformed one or
 * one beside Transfer-Encoding), so only a body without one (chunked, or a request made
 * in process) is counted as it streams.
 */
export function useBodyLimit(limit = maxGraphQLBodyBytes): Plugin {
  const tooLarge = () =>
    new GraphQLError(`Request body too large: at most ${limit} bytes`, {
      extensions: { code: "REQUEST_ENTITY_TOO_LARGE", http: { status: 413 } },
    });
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get("content-length");
      if (declared !== null && /^\d+$/.test(declared)) {
        if (Number(declared) > limit) throw tooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      setRequestParser((streamed) => {
        let read = 0;
        // The runtime's own TransformStream for its own (native) body stream, as Yoga does.
        const Transform =
          streamed.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        const counted = streamed.body!.pipeThrough(
          new Transform({
            transform(chunk: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) {
              read += chunk.byteLength;
              if (read > limit) controller.error(tooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        return requestParser(
          new fetchAPI.Request(streamed.url, {
            method: streamed.method,
            headers: streamed.headers,
            signal: streamed.signal,
            body: counted,
            // @ts-expect-error a streamed request body needs it; the DOM typings do not know it
            duplex: "half",
          }),
        );
      });
    },
  };
}
