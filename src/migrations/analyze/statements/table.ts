// Tables: CREATE TABLE, ALTER TABLE (dispatched again by subcommand), renames, and the statements that lock a table
// for a catalog change (COMMENT, triggers, policies, statistics, LOCK). Lock facts: sql-altertable.html and
// explicit-locking.html.
import { asList, asNode, child, location, names, rangeVarName, str, type Node } from '../ast.js';
import { LOCK_ORDER, type LockMode } from '../types.js';
import { constraintSubcommands, setNotNull } from './constraint.js';
import {
  bareName,
  constraintsOf,
  duplicateColumns,
  type AlterTableScope,
  type Facts,
  type Handler,
  type HandlerTable,
  type StatementContext,
  type SubcommandTable,
} from './context.js';
import { defaultVolatility } from './function.js';
import { partitionSubcommands } from './partition.js';
import {
  formatSpec,
  isBinaryCoercible,
  parseFormatType,
  SERIAL_TYPES,
  typeFindings,
  typeInfo,
  typeSpec,
} from './type.js';

function lockFromMode(mode: unknown): LockMode {
  // PostgreSQL numbers the lock modes 1 (AccessShareLock) to 8 (AccessExclusiveLock) in LOCK_ORDER's order
  // (src/include/storage/lockdefs.h).
  return typeof mode === 'number' && mode >= 1 && mode <= 8
    ? (LOCK_ORDER[mode - 1] ?? 'ACCESS EXCLUSIVE')
    : 'ACCESS EXCLUSIVE';
}

// ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (sql-altertable.html); everything else takes it.
const ALTER_LOCKS: Record<string, LockMode> = {
  AT_SetStatistics: 'SHARE UPDATE EXCLUSIVE',
  AT_SetOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ResetOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ClusterOn: 'SHARE UPDATE EXCLUSIVE',
  AT_DropCluster: 'SHARE UPDATE EXCLUSIVE',
  AT_SetRelOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ResetRelOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ValidateConstraint: 'SHARE UPDATE EXCLUSIVE',
  AT_AttachPartition: 'SHARE UPDATE EXCLUSIVE',
  AT_EnableTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableAlwaysTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableReplicaTrig: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableTrigAll: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrigAll: 'SHARE ROW EXCLUSIVE',
  AT_EnableTrigUser: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrigUser: 'SHARE ROW EXCLUSIVE',
};
const REWRITING_SUBTYPES = new Set(['AT_SetTableSpace', 'AT_SetLogged', 'AT_SetUnLogged', 'AT_SetAccessMethod']);

/** Column subcommands of ALTER TABLE. */
const columnSubcommands: SubcommandTable = {
  AT_AddColumn: (cmd, s) => {
    const { ctx, f, table, existing, addedColumns } = s;
    const def = child(cmd.def, 'ColumnDef');
    if (!def) return;
    const name = str(def.colname);
    const loc = location(def);
    addedColumns.push([name, loc]);
    f.findings.push(...typeFindings(def.typeName, loc, name));
    const cons = constraintsOf(def);
    const typeName = typeInfo(def.typeName)?.name ?? '';
    const defaultCon = cons.find(([t]) => t === 'CONSTR_DEFAULT')?.[1];
    const generatedStored = cons.some(([t, c]) => t === 'CONSTR_GENERATED' && str(c.generated_kind) !== 'v');
    const identity = cons.some(([t]) => t === 'CONSTR_IDENTITY');
    const serial = SERIAL_TYPES.has(typeName);
    const notNull = cons.some(([t]) => t === 'CONSTR_NOTNULL' || t === 'CONSTR_PRIMARY');
    const hasDefault = defaultCon !== undefined || identity || serial || generatedStored;
    const volatility =
      defaultCon !== undefined && existing
        ? defaultVolatility(defaultCon.raw_expr, ctx.catalog)
        : { volatile: false, facts: [] };
    const volatileDefault = defaultCon !== undefined && (ctx.pgMajor < 11 || volatility.volatile);
    // A domain with constraints has no "missing value" fast path: every row is rewritten (and checked) even without
    // a default (tablecmds.c ATExecAddColumn: has_domain_constraints; verified in the gate corpus).
    const typeWritten = names(asNode(def.typeName)?.names).join('.');
    const domainCons = existing && !SERIAL_TYPES.has(typeName) ? ctx.catalog.domainConstraints(typeWritten) : undefined;
    const domainRewrite = domainCons !== undefined && domainCons.length > 0;
    if (existing && defaultCon !== undefined && ctx.pgMajor >= 11)
      f.decidedBy.push(
        ...volatility.facts.map(
          (x) =>
            `${x}: ${volatility.volatile ? 'every row gets its own value, so the table is rewritten' : 'the default is stored once as the missing value, no rewrite (PG 11+)'}`,
        ),
      );
    if (domainCons !== undefined)
      f.decidedBy.push(
        domainRewrite
          ? `${typeWritten} is a domain with constraint(s) ${domainCons.join(', ')}: the table is rewritten to check every row`
          : `${typeWritten} is a domain without constraints: no rewrite`,
      );
    if (existing && (volatileDefault || identity || serial || generatedStored || domainRewrite)) {
      f.rewritesTable = true;
      const what = generatedStored
        ? 'a stored generated column'
        : identity
          ? 'an identity column'
          : serial
            ? `a ${typeName} column`
            : domainRewrite
              ? `domain type ${typeWritten} (constraints ${domainCons.join(', ')})`
              : ctx.pgMajor < 11
                ? 'a default (PostgreSQL < 11)'
                : 'a volatile default';
      f.hit('adding-field-with-default', {
        table,
        loc,
        message: `ADD COLUMN ${name ?? ''} with ${what} rewrites ${table ?? ''} under ACCESS EXCLUSIVE`,
      });
    }
    if (existing && notNull && !hasDefault) {
      f.breaking = true;
      f.hit('adding-required-field', {
        table,
        loc,
        message: `ADD COLUMN ${name ?? ''} NOT NULL without a default fails if ${table ?? ''} has rows and breaks INSERTs of the running app version`,
      });
    }
    for (const [t, con] of cons) {
      const cloc = location(con) ?? loc;
      if (!existing) break;
      if (t === 'CONSTR_PRIMARY') {
        f.scansTable = true;
        f.hit('adding-serial-primary-key-field', {
          table,
          loc: cloc,
          message: `ADD COLUMN ${name ?? ''} … PRIMARY KEY builds a unique index on ${table ?? ''} under ACCESS EXCLUSIVE`,
        });
      } else if (t === 'CONSTR_UNIQUE') {
        f.scansTable = true;
        f.hit('disallowed-unique-constraint', {
          table,
          loc: cloc,
          message: `ADD COLUMN ${name ?? ''} … UNIQUE builds a unique index on ${table ?? ''} under ACCESS EXCLUSIVE`,
        });
      } else if (t === 'CONSTR_FOREIGN') {
        const pk = rangeVarName(con.pktable);
        f.touch(pk, 'SHARE ROW EXCLUSIVE');
        if (!hasDefault) {
          // A column that is NULL in every row references nothing: PostgreSQL marks the key valid without a
          // check (parse_utilcmd.c transformFKConstraints; verified in the gate corpus).
          f.decidedBy.push(
            `no scan: the new column ${name ?? ''} is NULL in every row, so REFERENCES ${pk ?? ''} is valid without a check`,
          );
          continue;
        }
        f.scansTable = true;
        f.hit('adding-foreign-key-constraint', {
          table,
          loc: cloc,
          message: `ADD COLUMN ${name ?? ''} … DEFAULT … REFERENCES ${pk ?? ''} validates every row of ${table ?? ''} while holding ACCESS EXCLUSIVE (SHARE ROW EXCLUSIVE on ${pk ?? ''})`,
        });
      } else if (t === 'CONSTR_CHECK' && !con.skip_validation) {
        f.scansTable = true;
        f.hit('constraint-missing-not-valid', {
          table,
          loc: cloc,
          message: `ADD COLUMN ${name ?? ''} … CHECK validates every row of ${table ?? ''} under ACCESS EXCLUSIVE`,
        });
      }
    }
    f.robust(cmd.missing_ok === true, `ADD COLUMN ${name ?? ''}`, loc);
  },
  AT_DropColumn: (cmd, s) => {
    const { f, table, existing } = s;
    const col = str(cmd.name);
    if (existing) {
      f.destructive = true;
      f.breaking = true;
      f.hit('ban-drop-column', {
        table,
        message: `DROP COLUMN ${table ?? ''}.${col ?? ''} loses its data; the running app version may still use it`,
      });
    }
    f.robust(cmd.missing_ok === true, `DROP COLUMN ${col ?? ''}`);
  },
  AT_DropNotNull: (cmd, s) => {
    const { f, table, existing } = s;
    const col = str(cmd.name);
    if (existing) {
      f.breaking = true;
      f.hit('ban-drop-not-null', {
        table,
        message: `DROP NOT NULL on ${table ?? ''}.${col ?? ''}: readers that assume NOT NULL may break`,
      });
    }
  },
  AT_SetNotNull: (cmd, s) => {
    const { ctx, f, table, tkey, existing } = s;
    const col = str(cmd.name);
    setNotNull(ctx, f, table, tkey, col, existing);
  },
  AT_AlterColumnType: (cmd, s) => {
    const { ctx, f, table, existing } = s;
    const col = str(cmd.name);
    const def = child(cmd.def, 'ColumnDef');
    const loc = location(def);
    f.findings.push(...typeFindings(def?.typeName, loc, col));
    if (existing) {
      const using = def?.raw_default !== undefined;
      const target = typeSpec(def?.typeName);
      const live = table && col ? ctx.catalog.column(table, col) : undefined;
      const current = live?.type ?? (table && col ? ctx.columnType(table, col) : undefined);
      if (!using && target && current && isBinaryCoercible(parseFormatType(current), target)) {
        // sql-altertable.html, Notes: no rewrite when the old type is binary coercible to the new one, but "if
        // the collation for a column has been changed, an index rebuild is always required".
        const collClause = names(asNode(def?.collClause)?.collname).pop();
        const newCollation = collClause ?? live?.collation ?? undefined;
        const collationChanges =
          live !== undefined && collClause !== undefined && live.collation !== null && collClause !== live.collation;
        f.decidedBy.push(
          `${table ?? ''}.${col ?? ''} is ${current} in the live database; ${current} → ${formatSpec(target)} is binary-coercible: no table rewrite`,
        );
        if (collationChanges && live.indexes.length > 0) {
          f.scansTable = true;
          f.decidedBy.push(
            `the collation changes from "${live.collation ?? ''}" to "${newCollation ?? ''}" and index(es) ${live.indexes.join(', ')} depend on the column: they are rebuilt (table scan) under ACCESS EXCLUSIVE`,
          );
          f.hit('alter-column-rebuilds-index', {
            table,
            columnName: col,
            loc,
            message: `ALTER COLUMN ${col ?? ''} COLLATE "${newCollation ?? ''}" rebuilds index(es) ${live.indexes.join(', ')} of ${table ?? ''} under ACCESS EXCLUSIVE (each rebuild scans the table)`,
          });
          return;
        }
        if (collationChanges)
          f.decidedBy.push(
            `the collation changes from "${live.collation ?? ''}" to "${newCollation ?? ''}" and no index depends on the column: catalog-only`,
          );
        f.note = `${table ?? ''}.${col ?? ''}: ${current} → ${formatSpec(target)} is binary-coercible: no rewrite, only a brief ACCESS EXCLUSIVE lock`;
        return;
      }
      f.rewritesTable = true;
      f.breaking = true;
      const from = current ? ` from ${current}` : '';
      f.hit('changing-column-type', {
        table,
        columnName: col,
        loc,
        message: `ALTER COLUMN ${col ?? ''} TYPE ${target ? formatSpec(target) : ''}${from}${using ? ' with USING' : ''} rewrites ${table ?? ''} and its indexes under ACCESS EXCLUSIVE${current ? '' : ' (unless binary-coercible)'} and may break the running app version`,
      });
    }
  },
};

const SUBCOMMANDS: SubcommandTable = { ...columnSubcommands, ...constraintSubcommands, ...partitionSubcommands };

function alterTable(node: Node, f: Facts, ctx: StatementContext): void {
  const table = rangeVarName(node.relation);
  const objtype = str(node.objtype) ?? 'OBJECT_TABLE';
  const isNew = table !== undefined && ctx.isNewTable(table);
  const scope: AlterTableScope = {
    ctx,
    f,
    table,
    tkey: table ? bareName(table) : '?',
    existing: !isNew,
    addedColumns: [],
  };

  for (const c of asList(node.cmds)) {
    const cmd = child(c, 'AlterTableCmd');
    if (!cmd) continue;
    const subtype = str(cmd.subtype) ?? '';
    // ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE (on both tables); every other ADD CONSTRAINT takes ACCESS EXCLUSIVE.
    const isFk = subtype === 'AT_AddConstraint' && child(cmd.def, 'Constraint')?.contype === 'CONSTR_FOREIGN';
    f.touch(table, isFk ? 'SHARE ROW EXCLUSIVE' : (ALTER_LOCKS[subtype] ?? 'ACCESS EXCLUSIVE'));
    if (objtype !== 'OBJECT_TABLE' && objtype !== 'OBJECT_FOREIGN_TABLE') continue;

    const handler = SUBCOMMANDS[subtype as keyof SubcommandTable];
    if (handler) handler(cmd, scope);
    else if (REWRITING_SUBTYPES.has(subtype) && scope.existing) {
      f.rewritesTable = true;
      f.hit('prefer-repack', {
        table,
        message: `${subtype.replace('AT_', '')} rewrites ${table ?? ''} under ACCESS EXCLUSIVE`,
      });
    }
  }
  f.findings.push(...duplicateColumns(scope.addedColumns, 'added'));
}

const policy: Handler<'CreatePolicyStmt' | 'AlterPolicyStmt'> = (node, f) => {
  f.touch(rangeVarName(node.table), 'ACCESS EXCLUSIVE');
};

export const tableHandlers: HandlerTable = {
  AlterTableStmt: alterTable,
  CreateStmt: (node, f) => {
    const table = rangeVarName(node.relation);
    const cols: Array<[string | undefined, number | undefined]> = [];
    for (const elt of asList(node.tableElts)) {
      const col = child(elt, 'ColumnDef');
      if (col) {
        const name = str(col.colname);
        cols.push([name, location(col)]);
        f.findings.push(...typeFindings(col.typeName, location(col), name));
        for (const [, c] of constraintsOf(col)) {
          const pk = rangeVarName(c.pktable);
          if (pk) f.touch(pk, 'SHARE ROW EXCLUSIVE');
        }
      }
      const con = child(elt, 'Constraint');
      if (con) {
        const pk = rangeVarName(con.pktable);
        if (pk) f.touch(pk, 'SHARE ROW EXCLUSIVE');
      }
    }
    // Partitions attach to their parent: SHARE UPDATE EXCLUSIVE on it (PG 12+).
    for (const parent of asList(node.inhRelations)) {
      if (node.partbound) f.touch(rangeVarName(asNode(parent)?.RangeVar), 'SHARE UPDATE EXCLUSIVE');
    }
    f.findings.push(...duplicateColumns(cols, 'declared'));
    f.robust(node.if_not_exists === true, `CREATE TABLE ${table ?? ''}`);
  },
  RenameStmt: (node, f, ctx) => {
    const renameType = str(node.renameType) ?? '';
    const table = rangeVarName(node.relation);
    f.robust(false, 'RENAME (fails on a second run: the old name is gone)');
    if (table) f.touch(table, renameType === 'OBJECT_INDEX' ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE');
    const isNew = table !== undefined && ctx.isNewTable(table);
    if (['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE'].includes(renameType) && !isNew) {
      f.breaking = true;
      f.hit('renaming-table', {
        table,
        message: `RENAME ${table ?? ''} TO ${str(node.newname) ?? ''}: the running app version still uses the old name`,
      });
    } else if (renameType === 'OBJECT_COLUMN' && !isNew) {
      f.breaking = true;
      f.hit('renaming-column', {
        table,
        message: `RENAME COLUMN ${table ?? ''}.${str(node.subname) ?? ''} TO ${str(node.newname) ?? ''}: the running app version still uses the old name`,
      });
    } else if (renameType === 'OBJECT_SCHEMA') {
      f.breaking = true;
      f.hit('renaming-schema', { message: `RENAME SCHEMA ${str(node.subname) ?? ''} TO ${str(node.newname) ?? ''}` });
    }
  },
  AlterObjectSchemaStmt: (node, f, ctx) => {
    // Moving a table/view to another schema is a rename as far as the running app is concerned.
    const objectType = str(node.objectType) ?? '';
    const table = rangeVarName(node.relation);
    if (table) f.touch(table, 'ACCESS EXCLUSIVE');
    if (
      ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE'].includes(objectType) &&
      table &&
      !ctx.isNewTable(table)
    ) {
      f.breaking = true;
      f.hit('renaming-table', {
        table,
        message: `SET SCHEMA moves ${table} to ${str(node.newschema) ?? ''}: the running app version still uses the old qualified name`,
      });
    }
  },
  CommentStmt: (node, f) => {
    // COMMENT ON TABLE/COLUMN/VIEW takes SHARE UPDATE EXCLUSIVE on the relation (checked against pg_locks).
    const objtype = str(node.objtype) ?? '';
    const parts = names(asNode(node.object)?.List ? asNode(asNode(node.object)?.List)?.items : undefined);
    const rel =
      objtype === 'OBJECT_COLUMN'
        ? parts.slice(0, -1)
        : ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE'].includes(objtype)
          ? parts
          : [];
    if (rel.length) f.touch(rel.join('.'), 'SHARE UPDATE EXCLUSIVE');
  },
  CreateTrigStmt: (node, f) => {
    f.touch(rangeVarName(node.relation), 'SHARE ROW EXCLUSIVE');
  },
  CreatePolicyStmt: policy,
  AlterPolicyStmt: policy,
  CreateStatsStmt: (node, f) => {
    for (const r of asList(node.relations)) f.touch(rangeVarName(asNode(r)?.RangeVar), 'SHARE UPDATE EXCLUSIVE');
  },
  LockStmt: (node, f) => {
    for (const r of asList(node.relations)) f.touch(rangeVarName(asNode(r)?.RangeVar), lockFromMode(node.mode));
  },
};
