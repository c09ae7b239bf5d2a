import {
  AccessRequestKind,
  AccessRequestStatus,
  ApprovalType,
  AuthorizationStatus,
  AuthorizeReason,
  DecisionChannel,
  PolicyScope,
  PolicyType,
  PrincipalKind,
  UnknownTaskAction,
  UserRole,
} from "../../../db/client.ts";
import { builder } from "../../builder.ts";

// The API's enums are the data model's: one list of values each, in prisma/schema.prisma.
export const PrincipalKindEnum = builder.enumType(PrincipalKind, { name: "PrincipalKind" });
export const UserRoleEnum = builder.enumType(UserRole, { name: "UserRole" });
export const PolicyTypeEnum = builder.enumType(PolicyType, { name: "PolicyType" });
export const PolicyScopeEnum = builder.enumType(PolicyScope, { name: "PolicyScope" });
export const ApprovalTypeEnum = builder.enumType(ApprovalType, { name: "ApprovalType" });
export const AccessRequestKindEnum = builder.enumType(AccessRequestKind, {
  name: "AccessRequestKind",
  description:
    "STANDARD: filed under a policy. CUSTOMER_LOCKBOX: a vendor's request under the Customer Lockbox settings",
});
export const AccessRequestStatusEnum = builder.enumType(AccessRequestStatus, { name: "AccessRequestStatus" });
export const AuthorizationStatusEnum = builder.enumType(AuthorizationStatus, { name: "AuthorizationStatus" });
export const DecisionChannelEnum = builder.enumType(DecisionChannel, { name: "DecisionChannel" });
export const AuthorizeReasonEnum = builder.enumType(AuthorizeReason, {
  name: "AuthorizeReason",
  description:
    "Allowed: CONTROL_DISABLED, NOT_GOVERNED, SYSTEM_ACCOUNT, ACTIVE_AUTHORIZATION. Denied: NO_AUTHORIZATION. UNKNOWN_TASK: the catalog does not know the task; allowed or denied by the organization's unknownTasks setting",
});
export const UnknownTaskActionEnum = builder.enumType(UnknownTaskAction, { name: "UnknownTaskAction" });
