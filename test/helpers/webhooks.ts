import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { webhookSender } from "../../src/webhooks/sender.ts";

/** Webhooks as tests send them: to the receiver on 127.0.0.1, so private addresses are allowed. */
export const testWebhooks = {
  settings: { allowPrivateAddresses: true, failuresToDisable: 5 },
  send: webhookSender({ allowPrivateAddresses: true, timeoutMs: 5000 }),
};

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The HTTP status the receiver answered with. */
  answered: number;
}

/**
 * A webhook receiver on 127.0.0.1 that records every request and answers what the
 * test tells it to (`answer`), as an integrator's endpoint would.
 */
export async function startWebhookReceiver() {
  const received: ReceivedWebhook[] = [];
  let answer: (request: { headers: IncomingHttpHeaders; body: string }) => number = () => 204;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const status = answer({ headers: req.headers, body });
      received.push({ headers: req.headers, body, answered: status });
      res.writeHead(status, status >= 300 && status < 400 ? { location: "http://127.0.0.1:1/elsewhere" } : {});
      res.end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/elevate`,
    received,
    /** What to answer from now on (default 204). */
    answerWith(next: typeof answer) {
      answer = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/** Verifies a received webhook with the Standard Webhooks reference verifier; returns its payload. */
export function verifyWebhook(secret: string, webhook: Pick<ReceivedWebhook, "headers" | "body">): unknown {
  const { headers } = webhook;
  return new Webhook(secret).verify(webhook.body, {
    "webhook-id": String(headers["webhook-id"]),
    "webhook-timestamp": String(headers["webhook-timestamp"]),
    "webhook-signature": String(headers["webhook-signature"]),
  });
}
