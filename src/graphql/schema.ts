import { builder } from "./builder.ts";
import "./modules/common/root.ts";
import "./modules/common/scalars.ts";
import "./modules/common/enums.ts";
import "./modules/common/errors.ts";
import "./modules/users/user.node.ts";
import "./modules/approver-groups/approver-group.node.ts";
import "./modules/control/elevated-access-control.ts";
import "./modules/catalog/catalog-entry.node.ts";
import "./modules/policies/approval-policy.node.ts";
import "./modules/requests/access-request.node.ts";
import "./modules/requests/access-request-changed.subscription.ts";
import "./modules/authorizations/access-authorization.node.ts";
import "./modules/audit/audit-event.node.ts";
import "./modules/webhooks/webhook-endpoint.node.ts";

export const schema = builder.toSchema({ sortSchema: false });
