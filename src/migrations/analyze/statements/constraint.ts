// Constraint subcommands of ALTER TABLE (ADD / VALIDATE / DROP CONSTRAINT, SET NOT NULL) and the NOT NULL proofs that
// let SET NOT NULL and PRIMARY KEY USING INDEX skip their scan. NOT VALID constraints and validated NOT NULL checks are
// remembered across statements in the StatementContext.
import { child, location, names, rangeVarName, str, type Node } from '../ast.js';
import type { Facts, NotNullProof, StatementContext, SubcommandTable } from './context.js';

/** `CHECK (col IS NOT NULL)` → col. */
function notNullCheckColumn(constraint: Node): string | undefined {
  const test = child(constraint.raw_expr, 'NullTest');
  if (!test || str(test.nulltesttype) !== 'IS_NOT_NULL') return undefined;
  return names(child(test.arg, 'ColumnRef')?.fields).pop();
}

export const constraintSubcommands: SubcommandTable = {
  AT_AddConstraint: (cmd, s) => {
    const { ctx, f, table, tkey, existing } = s;
    const con = child(cmd.def, 'Constraint');
    if (!con) return;
    const contype = str(con.contype) ?? '';
    const conname = str(con.conname);
    const loc = location(con);
    f.robust(
      false,
      `ADD CONSTRAINT ${conname ?? ''} (fails if it already exists; DROP CONSTRAINT IF EXISTS first)`,
      loc,
    );
    const notValid = con.skip_validation === true;
    if (notValid && conname) {
      const nn = contype === 'CONSTR_CHECK' ? notNullCheckColumn(con) : undefined;
      ctx.notValidConstraints.set(`${tkey}|${conname}`, {
        transactionId: ctx.transactionId,
        ...(nn ? { notNullColumn: nn } : {}),
      });
    }
    if (!existing) {
      if (contype === 'CONSTR_FOREIGN') f.touch(rangeVarName(con.pktable), 'SHARE ROW EXCLUSIVE');
      return;
    }
    if (contype === 'CONSTR_FOREIGN') {
      const pk = rangeVarName(con.pktable);
      f.touch(pk, 'SHARE ROW EXCLUSIVE');
      if (!notValid) {
        f.scansTable = true;
        f.hit('adding-foreign-key-constraint', {
          table,
          loc,
          message: `ADD FOREIGN KEY ${conname ?? ''} on ${table ?? ''} → ${pk ?? ''} without NOT VALID scans ${table ?? ''} under SHARE ROW EXCLUSIVE on both tables`,
        });
        // squawk reports this twice too, so `-- squawk-ignore constraint-missing-not-valid` means the same here.
        f.hit('constraint-missing-not-valid', {
          table,
          loc,
          message: `FOREIGN KEY ${conname ?? ''} is added validated: the scan of ${table ?? ''} runs while the lock is held`,
        });
      }
    } else if (contype === 'CONSTR_CHECK') {
      if (!notValid) {
        f.scansTable = true;
        f.hit('constraint-missing-not-valid', {
          table,
          loc,
          message: `ADD CHECK ${conname ?? ''} without NOT VALID scans ${table ?? ''} under ACCESS EXCLUSIVE`,
        });
      }
    } else if (contype === 'CONSTR_UNIQUE') {
      if (!con.indexname) {
        f.scansTable = true;
        f.hit('disallowed-unique-constraint', {
          table,
          loc,
          message: `ADD UNIQUE ${conname ?? ''} builds its index on ${table ?? ''} under ACCESS EXCLUSIVE and fails on duplicates`,
        });
      }
    } else if (contype === 'CONSTR_PRIMARY') {
      if (!con.indexname) {
        f.scansTable = true;
        f.hit('adding-serial-primary-key-field', {
          table,
          loc,
          message: `ADD PRIMARY KEY on ${table ?? ''} builds its index under ACCESS EXCLUSIVE`,
        });
      } else {
        primaryKeyUsingIndex(ctx, f, table, str(con.indexname) ?? '', loc);
      }
    } else if (contype === 'CONSTR_EXCLUSION') {
      f.scansTable = true;
      f.hit('adding-exclusion-constraint', {
        table,
        loc,
        message: `ADD EXCLUDE ${conname ?? ''} on ${table ?? ''} scans under ACCESS EXCLUSIVE and cannot be NOT VALID`,
      });
    } else if (contype === 'CONSTR_NOTNULL' && !notValid) {
      setNotNull(ctx, f, table, tkey, names(con.keys)[0], existing);
    }
  },
  AT_ValidateConstraint: (cmd, s) => {
    const { ctx, f, table, tkey, existing } = s;
    const col = str(cmd.name);
    f.scansTable = true;
    const key = `${tkey}|${col ?? ''}`;
    const added = ctx.notValidConstraints.get(key);
    if (added?.notNullColumn) ctx.validatedNotNull.add(`${tkey}|${added.notNullColumn}`);
    if (added && added.transactionId === ctx.transactionId && existing) {
      f.hit('constraint-missing-not-valid', {
        table,
        message: `VALIDATE CONSTRAINT ${col ?? ''} runs in the same transaction that added it NOT VALID: the ACCESS EXCLUSIVE lock is held through the scan`,
      });
    }
  },
  AT_DropConstraint: (cmd, s) => {
    const { ctx, f, table, tkey, existing } = s;
    const col = str(cmd.name);
    if (existing && !ctx.recreatedLater('constraint', `${tkey}|${col ?? ''}`)) {
      f.breaking = true;
      f.hit('ban-drop-constraint', { table, message: `DROP CONSTRAINT ${col ?? ''} on ${table ?? ''}` });
    }
    f.robust(cmd.missing_ok === true, `DROP CONSTRAINT ${col ?? ''}`);
  },
};

export function setNotNull(
  ctx: StatementContext,
  f: Facts,
  table: string | undefined,
  tkey: string,
  col: string | undefined,
  existing: boolean,
): void {
  if (!existing) return;
  // sql-altertable.html, SET/DROP NOT NULL: "Ordinarily this is checked during the ALTER TABLE by scanning the entire
  // table; however, if a valid CHECK constraint is found which proves no NULL can exist, then the table scan is
  // skipped" (PG 12+). The proof may come from earlier in this set or from the live database.
  if (ctx.pgMajor >= 12 && col && ctx.validatedNotNull.has(`${tkey}|${col}`)) {
    f.note = `${table ?? ''}.${col}: a CHECK (${col} IS NOT NULL) is validated earlier in this migration set, so SET NOT NULL skips the scan`;
    f.decidedBy.push(
      `no scan: NOT NULL proven by a CHECK (${col} IS NOT NULL) validated earlier in this migration set`,
    );
    return;
  }
  const proof = table && col ? liveProof(ctx, table, col) : undefined;
  if (proof?.by === 'not-null') {
    f.note = `${table ?? ''}.${col ?? ''} is already NOT NULL in the live database: nothing to scan`;
    f.decidedBy.push(`no scan: ${table ?? ''}.${col ?? ''} is already NOT NULL (pg_attribute.attnotnull)`);
    return;
  }
  if (proof?.by === 'check' && ctx.pgMajor >= 12) {
    f.note = `${table ?? ''}.${col ?? ''} has a validated CHECK (${col ?? ''} IS NOT NULL) in the live database, so SET NOT NULL skips the scan`;
    f.decidedBy.push(`no scan: NOT NULL proven by valid CHECK constraint ${proof.constraint}`);
    return;
  }
  if (proof?.by === 'none')
    f.decidedBy.push(
      `scan: ${table ?? ''}.${col ?? ''} is nullable and no valid CHECK (${col ?? ''} IS NOT NULL) exists on ${table ?? ''}`,
    );
  f.scansTable = true;
  f.hit('adding-not-nullable-field', {
    table,
    columnName: col,
    message: `SET NOT NULL on ${table ?? ''}.${col ?? ''} scans the whole table under ACCESS EXCLUSIVE and fails if a NULL exists`,
  });
}

/** The live NOT NULL proof from the catalog, else from the older columnTypes/notNullProofs options. */
function liveProof(ctx: StatementContext, table: string, col: string): NotNullProof | undefined {
  const fromCatalog = ctx.catalog.notNullProof(table, col);
  if (fromCatalog && fromCatalog.by !== 'none') return fromCatalog;
  const legacy = ctx.liveNotNull(table, col);
  if (legacy === 'not-null') return { by: 'not-null' };
  if (legacy === 'check') return { by: 'check', constraint: `CHECK (${col} IS NOT NULL)` };
  return fromCatalog;
}

/**
 * ADD PRIMARY KEY USING INDEX: no index build, but every index column that is not NOT NULL yet gets SET NOT NULL,
 * which scans the table under ACCESS EXCLUSIVE unless a valid CHECK proves it (sql-altertable.html, ADD
 * table_constraint_using_index; verified in the gate corpus).
 */
function primaryKeyUsingIndex(
  ctx: StatementContext,
  f: Facts,
  table: string | undefined,
  index: string,
  loc: number | undefined,
): void {
  const columns = table ? ctx.catalog.indexColumns(table, index) : undefined;
  if (!columns) {
    f.scansTable = true;
    f.hit('adding-not-nullable-field', {
      table,
      loc,
      message: `ADD PRIMARY KEY USING INDEX ${index} sets NOT NULL on the index columns: a full scan of ${table ?? ''} under ACCESS EXCLUSIVE unless they are NOT NULL already (the live catalog was not read)`,
    });
    return;
  }
  const unproven: string[] = [];
  for (const c of columns) {
    if (c.proof.by === 'not-null')
      f.decidedBy.push(`no scan for ${c.name}: already NOT NULL (pg_attribute.attnotnull)`);
    else if (c.proof.by === 'check' && ctx.pgMajor >= 12)
      f.decidedBy.push(`no scan for ${c.name}: NOT NULL proven by valid CHECK constraint ${c.proof.constraint}`);
    else unproven.push(c.name);
  }
  if (unproven.length === 0) return;
  f.scansTable = true;
  f.decidedBy.push(
    `scan: index ${index} column(s) ${unproven.join(', ')} are nullable with no valid CHECK (… IS NOT NULL)`,
  );
  f.hit('adding-not-nullable-field', {
    table,
    columnName: unproven[0],
    loc,
    message: `ADD PRIMARY KEY USING INDEX ${index} sets NOT NULL on ${unproven.join(', ')}: a full scan of ${table ?? ''} under ACCESS EXCLUSIVE`,
  });
}
