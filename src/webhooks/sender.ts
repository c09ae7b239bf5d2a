import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { Webhook } from "standardwebhooks";
import { bareHost, isPublicAddress } from "../domain/webhooks/addresses.ts";

/** The address a webhook's host resolved to is not on the public internet, and the operator did not allow it. */
export class WebhookAddressRefusedError extends Error {
  override name = "WebhookAddressRefusedError";
}

export interface WebhookMessage {
  url: string;
  /** The webhook-id: the same for every attempt and replay of one delivery. */
  messageId: string;
  body: string;
  /** Every secret that signs now: one signature each in webhook-signature. */
  secrets: string[];
  /** The request id behind the event, sent as X-Request-Id. */
  requestId: string | null;
}

/** Sends one signed message; resolves the HTTP status, or rejects when there was no answer. */
export type WebhookSend = (message: WebhookMessage) => Promise<number>;

export interface WebhookSenderOptions {
  /** WEBHOOKS_ALLOW_PRIVATE: deliveries may go to this host and private networks. */
  allowPrivateAddresses: boolean;
  timeoutMs: number;
}

/** The Standard Webhooks headers of one attempt, signed at `at` with each secret. */
export function signedHeaders(message: WebhookMessage, at: Date): Record<string, string> {
  const signatures = message.secrets.map((secret) => new Webhook(secret).sign(message.messageId, at, message.body));
  return {
    "webhook-id": message.messageId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signatures.join(" "),
  };
}

/**
 * Resolves as the system does, then refuses when any address is not public: the
 * connection is made to an address checked here, so a name that resolves to a public
 * address for a check and a private one for the connection (DNS rebinding) gains nothing.
 */
function guardedLookup(allowPrivateAddresses: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 0);
      const refused = allowPrivateAddresses ? undefined : addresses.find((entry) => !isPublicAddress(entry.address));
      if (refused) {
        return callback(
          new WebhookAddressRefusedError(`${hostname} resolves to ${refused.address}, which is not a public address`),
          "",
          0,
        );
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), "", 0);
      callback(null, first.address, first.family);
    });
  };
}

/**
 * Posts webhooks over node's own HTTP client: no redirects are followed (a 3xx is an
 * answer like any other, which the caller counts as a failure), the answer's body is
 * read and dropped, and an attempt that takes longer than the timeout is abandoned.
 */
export function webhookSender(options: WebhookSenderOptions): WebhookSend {
  const lookup = guardedLookup(options.allowPrivateAddresses);
  return (message) =>
    new Promise<number>((resolve, reject) => {
      const url = new URL(message.url);
      const host = bareHost(url);
      if (!options.allowPrivateAddresses && isIP(host) && !isPublicAddress(host)) {
        reject(new WebhookAddressRefusedError(`${host} is not a public address`));
        return;
      }
      const request = url.protocol === "https:" ? httpsRequest : httpRequest;
      const req = request(
        url,
        {
          method: "POST",
          lookup,
          headers: {
            "content-type": "application/json",
            "user-agent": "Elevate-Webhooks/1",
            ...signedHeaders(message, new Date()),
            ...(message.requestId ? { "x-request-id": message.requestId } : {}),
          },
          timeout: options.timeoutMs,
        },
        (res: IncomingMessage) => {
          res.resume();
          res.once("end", () => resolve(res.statusCode ?? 0));
          res.once("error", reject);
        },
      );
      req.once("timeout", () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      req.once("error", reject);
      req.end(message.body);
    });
}
