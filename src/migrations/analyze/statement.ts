// Classifies one parsed statement: the lock it takes, whether it rewrites/scans, whether it can run in a transaction,
// and which rules it hits. One table maps each libpg-query node type to its handler; the handlers live in
// statements/<family>.ts. Lock facts: https://www.postgresql.org/docs/15/explicit-locking.html and
// https://www.postgresql.org/docs/15/sql-altertable.html (the rows of decisions.ts quote them).
import { nonTransactionalReason } from '../runner/split.js';
import type { Node } from './ast.js';
import {
  Facts,
  type HandlerTable,
  type NodeType,
  type StatementContext,
  type StatementFacts,
} from './statements/context.js';
import { dataHandlers } from './statements/data.js';
import { dropHandlers } from './statements/drop.js';
import { functionHandlers } from './statements/function.js';
import { indexHandlers } from './statements/indexes.js';
import { maintenanceHandlers } from './statements/maintenance.js';
import { KNOWN_SAFE, miscHandlers } from './statements/misc.js';
import { tableHandlers } from './statements/table.js';
import { typeHandlers } from './statements/type.js';

export {
  bareName,
  NO_CATALOG,
  type CatalogView,
  type NotNullProof,
  type RawFinding,
  type StatementContext,
  type StatementFacts,
} from './statements/context.js';
export { defaultVolatility, isVolatileDefault } from './statements/function.js';
export { createdObjects } from './statements/objects.js';
export {
  formatSpec,
  isBinaryCoercible,
  parseFormatType,
  typeFindings,
  typeInfo,
  typeSpec,
  type TypeInfo,
  type TypeSpec,
} from './statements/type.js';

const handlers: HandlerTable = {
  ...tableHandlers,
  ...indexHandlers,
  ...dropHandlers,
  ...dataHandlers,
  ...maintenanceHandlers,
  ...typeHandlers,
  ...functionHandlers,
  ...miscHandlers,
};

export function classifyStatement(type: string, node: Node, ctx: StatementContext): StatementFacts {
  const f = new Facts(ctx);
  const reason = nonTransactionalReason(type, node);
  if (reason) f.nonTransactional = reason;
  const handler = handlers[type as NodeType] as
    ((node: Node, f: Facts, ctx: StatementContext, type: string) => void) | undefined;
  if (handler) handler(node, f, ctx, type);
  else if (!KNOWN_SAFE.has(type) && !reason)
    f.hit('unrecognized-statement', { message: `${type} is not classified by the gate` });
  return f;
}
