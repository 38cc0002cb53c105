// DROP of tables, indexes, schemas and other objects, and DROP DATABASE.
import { asList, asNode, names, str } from '../ast.js';
import { bareName, type HandlerTable } from './context.js';

const DROP_OBJECT_KINDS: Record<string, string> = {
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'view',
  OBJECT_TYPE: 'type',
  OBJECT_DOMAIN: 'type',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_EXTENSION: 'extension',
  OBJECT_FUNCTION: 'function',
  OBJECT_PROCEDURE: 'function',
  OBJECT_ROUTINE: 'function',
  OBJECT_AGGREGATE: 'function',
};

/** Name of one object in DropStmt.objects (List of String, TypeName, ObjectWithArgs or String). */
function dropObjectName(obj: unknown): string | undefined {
  const n = asNode(obj);
  if (!n) return undefined;
  if (n.List) return names(asNode(n.List)?.items).join('.');
  if (n.TypeName) return names(asNode(n.TypeName)?.names).join('.');
  if (n.ObjectWithArgs) return names(asNode(n.ObjectWithArgs)?.objname).join('.');
  if (n.String) return str(asNode(n.String)?.sval);
  return undefined;
}

export const dropHandlers: HandlerTable = {
  DropStmt: (node, f, ctx) => {
    const removeType = str(node.removeType) ?? '';
    const objects = asList(node.objects)
      .map(dropObjectName)
      .filter((n): n is string => Boolean(n));
    const ifExists = node.missing_ok === true;
    if (removeType === 'OBJECT_TABLE' || removeType === 'OBJECT_FOREIGN_TABLE') {
      for (const t of objects) {
        f.touch(t, 'ACCESS EXCLUSIVE');
        if (ctx.isNewTable(t)) continue;
        f.destructive = true;
        f.breaking = true;
        f.hit('ban-drop-table', {
          table: t,
          message: `DROP TABLE ${t}${node.behavior === 'DROP_CASCADE' ? ' CASCADE' : ''} loses its data and breaks the running app version if it still uses it`,
        });
      }
      f.robust(ifExists, 'DROP TABLE');
    } else if (removeType === 'OBJECT_INDEX') {
      const concurrent = node.concurrent === true;
      for (const i of objects) {
        f.touch(i, concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE');
        if (!concurrent)
          f.hit('require-concurrent-index-deletion', {
            table: i,
            message: `DROP INDEX ${i} without CONCURRENTLY takes ACCESS EXCLUSIVE on its table`,
          });
      }
      if (concurrent && ctx.inExplicitTransaction) {
        f.hit('ban-concurrent-index-creation-in-transaction', {
          message: 'DROP INDEX CONCURRENTLY is inside BEGIN … COMMIT: Postgres rejects it (25001)',
        });
      }
      f.robust(ifExists, 'DROP INDEX');
    } else if (removeType === 'OBJECT_SCHEMA') {
      f.destructive = true;
      f.breaking = true;
      for (const s of objects)
        f.hit('ban-drop-schema', {
          message: `DROP SCHEMA ${s}${node.behavior === 'DROP_CASCADE' ? ' CASCADE' : ''} loses every object in it`,
        });
    } else if (DROP_OBJECT_KINDS[removeType]) {
      const kind = DROP_OBJECT_KINDS[removeType];
      for (const o of objects) {
        if (removeType === 'OBJECT_VIEW' || removeType === 'OBJECT_MATVIEW') f.touch(o, 'ACCESS EXCLUSIVE');
        if (ctx.recreatedLater(kind, bareName(o))) continue;
        if (kind === 'function') continue; // functions are dropped and re-created with new signatures all the time
        if (kind === 'view' && ctx.isNewTable(o)) continue;
        f.breaking = true;
        f.hit('ban-drop-object', {
          message: `DROP ${removeType.replace('OBJECT_', '')} ${o}: the running app version may use it`,
        });
      }
      f.robust(ifExists, `DROP ${removeType.replace('OBJECT_', '')}`);
    }
  },
  DropdbStmt: (node, f) => {
    f.destructive = true;
    f.hit('ban-drop-database', { message: `DROP DATABASE ${str(node.dbname) ?? ''}` });
  },
};
