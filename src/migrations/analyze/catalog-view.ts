// The live-catalog side of an analysis: the questions the parsed statements raise (one catalog read per set) and the
// synchronous view of the answers the statement rules read.
import { asList, asNode, child, collectNodes, names, rangeVarName, str, type Node } from './ast.js';
import {
  checkConjuncts,
  comparisonWith,
  emptyQuestions,
  provesNotNull,
  type CatalogFacts,
  type CatalogQuestions,
  type LiveCheck,
} from './catalog.js';
import type { ParsedFile } from './parse.js';
import { bareName, type CatalogView, type NotNullProof } from './statement.js';

/**
 * What the live catalog must answer for these statements: functions called by ADD COLUMN defaults, non-built-in column
 * types, columns whose type or NOT NULL changes, CHECK constraints of tables that get SET NOT NULL / PRIMARY KEY USING
 * INDEX / ATTACH PARTITION, the index of USING INDEX, and partitioned parents.
 */
export function catalogQuestions(files: ParsedFile[]): CatalogQuestions {
  const q = emptyQuestions();
  for (const pf of files) {
    for (const st of pf.statements) {
      if (st.type !== 'AlterTableStmt') continue;
      const table = rangeVarName(st.node.relation);
      if (!table) continue;
      for (const c of asList(st.node.cmds)) {
        const cmd = child(c, 'AlterTableCmd');
        const subtype = str(cmd?.subtype) ?? '';
        const col = str(cmd?.name);
        const def = child(cmd?.def, 'ColumnDef');
        if (subtype === 'AT_AddColumn' && def) {
          for (const fc of collectNodes(def.constraints, 'FuncCall')) q.functions.push(names(fc.funcname).join('.'));
          const typeName = names(asNode(def.typeName)?.names);
          if (
            typeName.length &&
            typeName[0] !== 'pg_catalog' &&
            !BUILTIN_TYPES.has(typeName[typeName.length - 1] ?? '')
          )
            q.types.push(typeName.join('.'));
        } else if ((subtype === 'AT_AlterColumnType' || subtype === 'AT_SetNotNull') && col) {
          q.columns.push({ table, column: col });
          if (subtype === 'AT_SetNotNull') q.tables.push(table);
        } else if (subtype === 'AT_AddConstraint') {
          const con = child(cmd?.def, 'Constraint');
          const index = str(con?.indexname);
          if (con && str(con.contype) === 'CONSTR_PRIMARY' && index) {
            q.indexes.push({ table, index });
            q.tables.push(table);
          }
          // PG 18's ADD CONSTRAINT … NOT NULL col is SET NOT NULL by another name.
          const nnColumn = con && str(con.contype) === 'CONSTR_NOTNULL' ? names(con.keys)[0] : undefined;
          if (nnColumn) {
            q.columns.push({ table, column: nnColumn });
            q.tables.push(table);
          }
        } else if (subtype === 'AT_AttachPartition') {
          const part = rangeVarName(child(cmd?.def, 'PartitionCmd')?.name);
          q.partitionParents.push(table);
          if (part) q.tables.push(part);
        }
      }
    }
  }
  return q;
}

// Types a domain can never be (pg_catalog base types): not worth a catalog question.
const BUILTIN_TYPES = new Set([
  'int2',
  'int4',
  'int8',
  'smallint',
  'integer',
  'int',
  'bigint',
  'serial',
  'serial4',
  'bigserial',
  'serial8',
  'smallserial',
  'serial2',
  'numeric',
  'decimal',
  'float4',
  'float8',
  'real',
  'text',
  'varchar',
  'bpchar',
  'char',
  'bool',
  'boolean',
  'date',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'interval',
  'uuid',
  'json',
  'jsonb',
  'bytea',
  'inet',
  'cidr',
  'macaddr',
  'money',
  'bit',
  'varbit',
  'xml',
  'tsvector',
  'tsquery',
  'oid',
  'name',
]);

/** Precomputes the catalog lookups (CHECK expressions are read with the real parser) into the sync view the rules use. */
export async function catalogView(facts: CatalogFacts, pgMajor: number): Promise<CatalogView> {
  const conjuncts = new Map<LiveCheck, Node[]>();
  for (const list of facts.checks.values()) for (const c of list) conjuncts.set(c, await checkConjuncts(c.expression));
  const lookup = <T>(m: Map<string, T>, table: string, suffix = ''): T | undefined =>
    m.get(`${table}${suffix}`) ?? m.get(`${bareName(table)}${suffix}`) ?? m.get(`public.${table}${suffix}`);
  const checkProof = (table: string, column: string): string | undefined => {
    if (pgMajor < 12) return undefined;
    return lookup(facts.checks, table)?.find((c) => (conjuncts.get(c) ?? []).some((x) => provesNotNull(x, column)))
      ?.name;
  };
  const notNullProof = (table: string, column: string): NotNullProof | undefined => {
    const live = lookup(facts.columns, table, `.${column}`);
    if (live?.notNull) return { by: 'not-null' };
    const checks = lookup(facts.checks, table);
    if (!checks) return undefined;
    const name = checkProof(table, column);
    return name ? { by: 'check', constraint: name } : { by: 'none' };
  };
  return {
    volatility: (fn) => facts.functions.get(fn),
    domainConstraints: (type) => facts.domains.get(type),
    column: (table, column) => lookup(facts.columns, table, `.${column}`),
    notNullProof,
    indexColumns: (table, index) => {
      const idx = lookup(facts.indexes, table, `|${index}`);
      if (!idx) return undefined;
      return idx.columns.map((c) => ({
        name: c.name,
        proof: c.notNull
          ? { by: 'not-null' }
          : checkProof(table, c.name)
            ? { by: 'check', constraint: checkProof(table, c.name) ?? '' }
            : { by: 'none' },
      }));
    },
    partitioned: (table) => lookup(facts.partitioned, table),
    // The partition constraint of a RANGE bound is key IS NOT NULL AND key >= lower AND key < upper; a CHECK with
    // those three conjuncts implies it (the server's proof, PartConstraintImpliedByRelConstraint, is more general).
    rangeBoundProof: (table, key, lower, upper) =>
      lookup(facts.checks, table)?.find((c) => {
        const xs = conjuncts.get(c) ?? [];
        return (
          xs.some((x) => provesNotNull(x, key)) &&
          xs.some((x) => comparisonWith(x, key, '>=') === lower) &&
          xs.some((x) => comparisonWith(x, key, '<') === upper)
        );
      })?.name,
  };
}
