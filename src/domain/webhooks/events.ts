import type { WebhookEventType } from "../../db/client.ts";
import type { AccessRequestEventType } from "../context.ts";

/** The webhook event of each accessRequestChanged type. */
export const webhookEventOf: Record<AccessRequestEventType, WebhookEventType> = {
  CREATED: "ACCESS_REQUEST_CREATED",
  DECISION_RECORDED: "ACCESS_REQUEST_DECISION_RECORDED",
  APPROVED: "ACCESS_REQUEST_APPROVED",
  DENIED: "ACCESS_REQUEST_DENIED",
  EXPIRED: "ACCESS_REQUEST_EXPIRED",
  CANCELED: "ACCESS_REQUEST_CANCELED",
  REVOKED: "ACCESS_REQUEST_REVOKED",
  ENDED: "ACCESS_REQUEST_ENDED",
  STAGE_COMPLETED: "ACCESS_REQUEST_STAGE_COMPLETED",
  ESCALATED: "ACCESS_REQUEST_ESCALATED",
};

/** The `type` of a payload, full-stop delimited as Standard Webhooks suggests: `access_request.approved`. */
export function webhookTypeName(type: WebhookEventType): string {
  return type.toLowerCase().replace(/^access_request_/, "access_request.");
}
