import type { AccessRequestStatus } from "../../db/client.ts";

/** The request state machine: PENDING moves once, terminal states never change. */
export const requestTransitions: Record<AccessRequestStatus, readonly AccessRequestStatus[]> = {
  PENDING: ["APPROVED", "DENIED", "EXPIRED", "CANCELED"],
  APPROVED: [],
  DENIED: [],
  EXPIRED: [],
  CANCELED: [],
};

export function assertTransition<S extends string>(table: Record<S, readonly S[]>, from: S, to: S): void {
  if (!table[from].includes(to)) throw new Error(`illegal transition ${from} -> ${to}`);
}
