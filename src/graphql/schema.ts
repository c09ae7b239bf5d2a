import { builder } from "./builder.ts";
import "./modules/common/root.ts";
import "./modules/common/scalars.ts";
import "./modules/common/errors.ts";
import "./modules/users/user.node.ts";

export const schema = builder.toSchema({ sortSchema: false });
