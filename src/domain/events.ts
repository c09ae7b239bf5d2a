import type { AccessRequestEventType } from "./context.ts";

/** A request's transition as subscribers receive it; published only after commit. */
export interface AccessRequestEventMessage {
  type: AccessRequestEventType;
  requestId: string;
  organizationId: string;
  /** ISO time of the transition. */
  at: string;
}

/** Publishes and delivers events across every process of the deployment. */
export interface EventBus {
  publishRequestEvent(message: AccessRequestEventMessage): void;
  requestEvents(organizationId: string): AsyncIterableIterator<AccessRequestEventMessage>;
  publishCoverageChanged(organizationId: string): void;
  coverageChanges(): AsyncIterableIterator<{ organizationId: string }>;
  publishActorsChanged(organizationId: string): void;
  actorsChanges(): AsyncIterableIterator<{ organizationId: string }>;
}
