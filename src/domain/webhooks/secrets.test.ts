import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, openWebhookSecret, sealWebhookSecret } from "./secrets.ts";

const keys = { macKey: randomBytes(32) };
const endpointId = "0192f0c0-0000-7000-8000-000000000001";

describe("webhook secrets", () => {
  it("are Standard Webhooks secrets the reference library signs and verifies with", () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const payload = '{"type":"access_request.created"}';
    const at = new Date();
    const signature = new Webhook(secret).sign("msg_1", at, payload);
    const headers = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signature,
    };
    expect(new Webhook(secret).verify(payload, headers)).toEqual({ type: "access_request.created" });
  });

  it("are stored sealed: opened with the same key and endpoint, and by nothing else", () => {
    const secret = newWebhookSecret();
    const sealed = sealWebhookSecret(keys, endpointId, secret);
    expect(sealed).not.toContain(secret.slice(6, 20));
    expect(sealWebhookSecret(keys, endpointId, secret)).not.toBe(sealed);
    expect(openWebhookSecret(keys, endpointId, sealed)).toBe(secret);
    expect(() => openWebhookSecret({ macKey: randomBytes(32) }, endpointId, sealed)).toThrow();
    expect(() => openWebhookSecret(keys, "0192f0c0-0000-7000-8000-000000000002", sealed)).toThrow();
    const [tag, iv, ciphertext, authTag] = sealed.split(".");
    const flipped = Buffer.from(ciphertext!, "base64url");
    flipped[0]! ^= 1;
    expect(() =>
      openWebhookSecret(keys, endpointId, [tag, iv, flipped.toString("base64url"), authTag].join(".")),
    ).toThrow();
  });
});
