// What a statement creates: for "re-created later in the set" and "new table" checks across statements.
import { asList, asNode, child, names, rangeVarName, str, type Node } from '../ast.js';
import { bareName } from './context.js';

/** Object kinds and names a statement creates (for "re-created later in the set" and "new table" checks). */
export function createdObjects(type: string, node: Node): Array<{ kind: string; name: string }> {
  const out: Array<{ kind: string; name: string }> = [];
  const add = (kind: string, name: string | undefined) => {
    if (name) out.push({ kind, name: bareName(name) });
  };
  switch (type) {
    case 'CreateStmt': {
      const table = rangeVarName(node.relation);
      add('table', table);
      for (const elt of asList(node.tableElts)) {
        const c = child(elt, 'Constraint');
        if (c && table) add('constraint', `${bareName(table)}|${str(c.conname) ?? ''}`);
      }
      break;
    }
    case 'CreateTableAsStmt':
      add(str(node.objtype) === 'OBJECT_MATVIEW' ? 'view' : 'table', rangeVarName(asNode(node.into)?.rel));
      break;
    case 'ViewStmt':
      add('view', rangeVarName(node.view));
      break;
    case 'CreateEnumStmt':
    case 'CreateRangeStmt':
      add('type', names(node.typeName).join('.'));
      break;
    case 'CompositeTypeStmt':
      add('type', rangeVarName(node.typevar));
      break;
    case 'CreateDomainStmt':
      add('type', names(node.domainname).join('.'));
      break;
    case 'CreateSeqStmt':
      add('sequence', rangeVarName(node.sequence));
      break;
    case 'CreateExtensionStmt':
      add('extension', str(node.extname));
      break;
    case 'CreateFunctionStmt':
      add('function', names(node.funcname).join('.'));
      break;
    case 'AlterTableStmt': {
      const table = rangeVarName(node.relation);
      for (const c of asList(node.cmds)) {
        const cmd = child(c, 'AlterTableCmd');
        const con = child(cmd?.def, 'Constraint');
        if (cmd?.subtype === 'AT_AddConstraint' && con && table)
          add('constraint', `${bareName(table)}|${str(con.conname) ?? ''}`);
      }
      break;
    }
  }
  return out;
}
