// What a migration statement destroys, read from its AST (libpg-query, the parser the runner and the gate use). The
// kinds follow the gate's destructive rules (src/migrations/analyze/statement.ts: ban-drop-table, ban-drop-column,
// ban-truncate, data-deletion) plus the two that lose values without dropping anything: UPDATE (rewrites values) and a
// column type change that is not binary-coercible (narrowing or a USING expression can change every value).
import { parse } from 'libpg-query';
import { asList, asNode, child, str, unwrap } from '../migrations/analyze/ast.js';
import type { RelationRef } from '../migrations/runner/split.js';

export type TargetKind =
  /** DROP TABLE: the whole table (structure + rows). */
  | 'drop-table'
  /** ALTER TABLE … DROP COLUMN: the column's values, by key. */
  | 'drop-column'
  /** TRUNCATE / DELETE: the table's rows. */
  | 'rows'
  /** UPDATE: the written columns' values, by key. */
  | 'values'
  /** ALTER COLUMN … TYPE: the column's values in their old type, by key. */
  | 'column-type';

export interface Target {
  kind: TargetKind;
  table: RelationRef;
  /** drop-column / column-type: the one column; values: the columns written. */
  columns: string[];
  /** column-type: the target type as written (for the binary-coercible check). */
  newType?: unknown;
  /** column-type: a USING expression rewrites the values whatever the types. */
  using?: boolean;
  /** rows: which statement removes them (a DELETE fires ON DELETE actions of foreign keys pointing at the table). */
  via?: 'truncate' | 'delete';
  /** TRUNCATE … CASCADE / DROP TABLE … CASCADE: said in the manifest, since other tables lose rows or keys with it. */
  cascade?: boolean;
  /** What a foreign-key cascade from this table destroys along with the statement's own target (cascadeTargets). */
  cascadeOf?: string;
}

function relation(rv: unknown): RelationRef | undefined {
  const r = asNode(rv);
  const name = str(r?.relname);
  if (!name) return undefined;
  const schema = str(r?.schemaname);
  return schema ? { schema, name } : { name };
}

/** DROP TABLE objects are lists of String nodes: ['public', 'users'] or ['users']. */
function dropObject(v: unknown): RelationRef | undefined {
  const parts = asList(child(v, 'List')?.items)
    .map((n) => str(child(n, 'String')?.sval))
    .filter((s): s is string => s !== undefined);
  if (parts.length === 1) return { name: parts[0] as string };
  if (parts.length === 2) return { schema: parts[0] as string, name: parts[1] as string };
  return undefined;
}

/** The targets of one parsed statement (its node type and node). */
export function targetsOfNode(type: string, node: Record<string, unknown>): Target[] {
  const out: Target[] = [];
  switch (type) {
    case 'DropStmt': {
      if (str(node.removeType) !== 'OBJECT_TABLE') break;
      for (const o of asList(node.objects)) {
        const table = dropObject(o);
        if (table)
          out.push({
            kind: 'drop-table',
            table,
            columns: [],
            ...(node.behavior === 'DROP_CASCADE' ? { cascade: true } : {}),
          });
      }
      break;
    }
    case 'TruncateStmt':
      for (const r of asList(node.relations)) {
        const table = relation(child(r, 'RangeVar'));
        if (table)
          out.push({
            kind: 'rows',
            table,
            columns: [],
            via: 'truncate',
            ...(node.behavior === 'DROP_CASCADE' ? { cascade: true } : {}),
          });
      }
      break;
    case 'DeleteStmt': {
      const table = relation(node.relation);
      if (table) out.push({ kind: 'rows', table, columns: [], via: 'delete' });
      break;
    }
    case 'UpdateStmt': {
      const table = relation(node.relation);
      const columns = [
        ...new Set(
          asList(node.targetList)
            .map((t) => str(child(t, 'ResTarget')?.name))
            .filter((c): c is string => c !== undefined),
        ),
      ];
      if (table && columns.length) out.push({ kind: 'values', table, columns });
      break;
    }
    case 'AlterTableStmt': {
      if ((str(node.objtype) ?? 'OBJECT_TABLE') !== 'OBJECT_TABLE') break;
      const table = relation(node.relation);
      if (!table) break;
      for (const c of asList(node.cmds)) {
        const cmd = child(c, 'AlterTableCmd');
        const col = str(cmd?.name);
        if (!cmd || !col) continue;
        if (cmd.subtype === 'AT_DropColumn') out.push({ kind: 'drop-column', table, columns: [col] });
        if (cmd.subtype === 'AT_AlterColumnType') {
          const def = child(cmd.def, 'ColumnDef');
          out.push({
            kind: 'column-type',
            table,
            columns: [col],
            newType: def?.typeName,
            using: def?.raw_default !== undefined,
          });
        }
      }
      break;
    }
  }
  return out;
}

/** The targets of one statement's SQL; a statement the parser refuses destroys nothing we can name (it will fail). */
export async function targetsOf(sql: string): Promise<Target[]> {
  let stmts: unknown[];
  try {
    stmts = asList((await parse(sql)).stmts);
  } catch {
    return [];
  }
  const out: Target[] = [];
  for (const s of stmts) {
    const u = unwrap(asNode(s)?.stmt);
    if (u) out.push(...targetsOfNode(u[0], u[1]));
  }
  return out;
}
