// Statements that change rows: UPDATE, MERGE, INSERT … SELECT, DELETE, TRUNCATE (row locks for the whole transaction).
import { asList, asNode, child, location, rangeVarName, str, type Node } from '../ast.js';
import { duplicateColumns, type Handler, type HandlerTable } from './context.js';

/** A column named twice in an UPDATE's SET list or an INSERT's column list (Postgres refuses the statement). */
function duplicateTargets(list: unknown, what: string) {
  const targets = asList(list)
    .map((r) => child(r, 'ResTarget'))
    .filter((r): r is Node => r !== undefined);
  return duplicateColumns(
    targets.map((r) => [str(r.name), location(r)]),
    what,
  );
}

// UPDATE and MERGE: row locks on every row they touch, held to the end of the transaction.
const rowChanges: Handler<'UpdateStmt' | 'MergeStmt'> = (node, f, ctx, type) => {
  const t = rangeVarName(node.relation);
  f.touch(t, 'ROW EXCLUSIVE');
  f.scansTable = true;
  f.findings.push(...duplicateTargets(node.targetList, 'assigned'));
  if (!(t && ctx.isNewTable(t)))
    f.hit('data-backfill', {
      table: t,
      message: `${type === 'UpdateStmt' ? 'UPDATE' : 'MERGE INTO'} ${t ?? ''}${type === 'UpdateStmt' && !node.whereClause ? ' (every row)' : ''}: row locks held for the whole transaction`,
    });
};

export const dataHandlers: HandlerTable = {
  TruncateStmt: (node, f, ctx) => {
    const rels = asList(node.relations)
      .map((r) => rangeVarName(asNode(r)?.RangeVar))
      .filter((n): n is string => Boolean(n));
    for (const r of rels) f.touch(r, 'ACCESS EXCLUSIVE');
    const existing = rels.filter((r) => !ctx.isNewTable(r));
    if (existing.length) {
      f.destructive = true;
      if (node.behavior === 'DROP_CASCADE')
        f.hit('ban-truncate-cascade', {
          table: existing[0],
          message: `TRUNCATE ${existing.join(', ')} CASCADE also empties every table referencing them`,
        });
      else f.hit('ban-truncate', { table: existing[0], message: `TRUNCATE ${existing.join(', ')} deletes every row` });
    }
  },
  UpdateStmt: rowChanges,
  MergeStmt: rowChanges,
  InsertStmt: (node, f, ctx) => {
    const t = rangeVarName(node.relation);
    f.touch(t, 'ROW EXCLUSIVE');
    f.findings.push(...duplicateTargets(node.cols, 'listed'));
    const select = child(node.selectStmt, 'SelectStmt');
    const isValues = select !== undefined && asList(select.valuesLists).length > 0;
    if (!isValues && !(t && ctx.isNewTable(t)))
      f.hit('data-backfill', { table: t, message: `INSERT INTO ${t ?? ''} … SELECT copies data; its size is unknown` });
  },
  DeleteStmt: (node, f, ctx) => {
    const t = rangeVarName(node.relation);
    f.touch(t, 'ROW EXCLUSIVE');
    f.scansTable = true;
    if (!(t && ctx.isNewTable(t))) {
      f.destructive = true;
      f.hit('data-deletion', { table: t, message: `DELETE FROM ${t ?? ''}${node.whereClause ? '' : ' (every row)'}` });
    }
  },
};
